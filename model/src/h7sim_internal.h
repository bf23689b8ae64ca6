/*
 * h7sim internals shared by the model's source files. Not a public API.
 *
 * Naming: "pb" is a physical bank index (0 = physical bank 1, 1 = physical
 * bank 2). "set" is a register-set index (0 = CR1/SR1..., 1 = CR2/SR2...).
 * A register set and a logical 1 MB window map to a physical bank through
 * pb = set ^ swap (inferred, docs/H7_FLASH.md 5.2).
 */
#ifndef H7SIM_INTERNAL_H
#define H7SIM_INTERNAL_H

#include "h7sim.h"

#include <stdarg.h>

/* Key state machine (docs/H7_FLASH.md 2.4). */
enum h7sim_key_state {
    KEY_LOCKED0 = 0, /* locked, expecting KEY1 */
    KEY_LOCKED1,     /* locked, KEY1 seen, expecting KEY2 */
    KEY_UNLOCKED,
    KEY_DISABLED, /* wrong sequence: locked until reset */
};

/* One array operation, queued or running. */
struct h7sim_op {
    bool valid;
    enum h7sim_op_kind kind;
    unsigned psize;  /* CR.PSIZE when queued */
    unsigned sector; /* SECTOR_ERASE */
    uint32_t word;   /* PROGRAM: flash-word index within the bank */
    uint64_t dur;    /* ns */
    uint64_t start;  /* running: start time */
    uint64_t end;    /* running: completion time */
    uint8_t data[H7_FLASH_WORD];
};

/* CRC selection captured at START_CRC (h7sim_crc.c). */
struct h7sim_crc {
    bool busy;
    uint64_t end;
    uint32_t first_word;  /* by address: inclusive flash-word range, */
    uint32_t last_word;   /* whole bursts (first > last: empty) */
    uint32_t burst_words; /* CRC_BURST at START_CRC: 4, 16, 64 or 256 */
    uint8_t sect_mask;    /* by sector / whole bank: sectors to read */
    bool by_sector;
    uint32_t acc;  /* CRC register (CLEAN_CRC: 0) */
    uint8_t added; /* sectors added with ADD_SECT */
};

struct h7sim_bank {
    enum h7sim_key_state key;
    uint32_t cr;    /* without LOCK (derived from key) */
    uint32_t sr;    /* sticky flags only; BSY/QW/WBNE/CRC_BUSY derived */
    uint32_t crccr; /* configuration bits (actions read 0) */
    uint32_t crcsadd, crceadd, crcdata;
    uint32_t ecc_fa;
    struct h7sim_crc crc;
    /* Write buffer (RM0399 4.3.9). */
    bool wb_active;
    bool wb_foreign; /* filled by a debugger (h7sim_dbg_abandon_buffer) */
    uint32_t wb_word;
    uint32_t wb_mask; /* bit i: byte i written */
    uint8_t wb_data[H7_FLASH_WORD];
    /* Queue: one running, one pending (docs/H7_FLASH.md 9). */
    struct h7sim_op run;
    struct h7sim_op pend;
};

/* Option bytes: the values the _CUR registers show (RM0399 4.4,
 * docs/H7_FLASH.md 2.9, 2.10). */
struct h7sim_ob {
    uint32_t optsr;
    uint32_t prar[2];
    uint32_t scar[2];
    uint32_t wpsn[2];
    uint32_t boot7;
    uint32_t boot4;
};

#define H7SIM_VIOL_CAP 4096u

struct h7sim {
    struct h7sim_config cfg;
    uint64_t now;
    uint64_t next_ev; /* cached min over all scheduled completions */
    bool swap;        /* mapping in force (SWAP_BANK at last reset) */
    bool off;         /* powered off after a cut */
    bool irq;         /* last reported IRQ level */

    struct h7sim_bank bank[2]; /* indexed by physical bank */

    uint32_t acr;
    enum h7sim_key_state optkey;
    uint32_t optcr_ie;   /* OPTCHANGEERRIE */
    struct h7sim_ob ob;  /* option bytes (= _CUR) */
    struct h7sim_ob prg; /* _PRG registers */
    bool optchangeerr;
    bool opt_busy;
    uint64_t opt_end;
    bool opt_fail_next;    /* injected OPTCHANGEERR */
    uint32_t crcdata_last; /* CRCDATA at 0x05C: last completed CRC (HAL reads it) */

    /* Faults. */
    uint64_t cut_at; /* UINT64_MAX: none */
    bool cut_ops_armed;
    uint64_t cut_ops_left;
    uint64_t rng;
    unsigned operr_next[2]; /* injected OPERR on the next op of a physical bank */

    struct h7sim_observer obs;
    struct h7sim_stats stats;

    struct h7sim_violation *viol;
    size_t nviol;
    size_t viol_dropped;

    uint8_t state[2][H7_WORDS_PER_BANK];
    uint8_t data[2][H7_BANK_SIZE];
};

/* h7sim.c: core. */
void h7sim_i_violation(struct h7sim *sim, uint32_t addr, const char *rule, const char *section,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
uint32_t h7sim_i_logical(const struct h7sim *sim, unsigned pb, uint32_t off);
unsigned h7sim_i_pb_of_addr(const struct h7sim *sim, uint32_t addr);
bool h7sim_i_pcrop(const struct h7sim *sim, unsigned pb, uint32_t lo, uint32_t hi);
bool h7sim_i_secure(const struct h7sim *sim, unsigned pb, uint32_t lo, uint32_t hi);
uint32_t h7sim_i_sr(const struct h7sim *sim, unsigned pb);
void h7sim_i_irq_update(struct h7sim *sim);
void h7sim_i_schedule(struct h7sim *sim);
void h7sim_i_run_to(struct h7sim *sim, uint64_t t);
uint64_t h7sim_i_stall_bank_idle(struct h7sim *sim, unsigned pb);
void h7sim_i_enqueue(struct h7sim *sim, unsigned pb, struct h7sim_op *op, uint64_t *stall);
void h7sim_i_push_buffer(struct h7sim *sim, unsigned pb, uint64_t *stall);
void h7sim_i_discard_buffer(struct h7sim *sim, unsigned pb);
uint64_t h7sim_i_duration(const struct h7sim *sim, enum h7sim_op_kind kind, unsigned psize);
void h7sim_i_array_changed(struct h7sim *sim, unsigned pb, uint32_t off, uint32_t len);
void h7sim_i_event(struct h7sim *sim, enum h7sim_event_kind k, enum h7sim_op_kind op, unsigned pb,
                   uint32_t off, uint32_t len);
void h7sim_i_crc_start(struct h7sim *sim, unsigned pb);
void h7sim_i_option_start(struct h7sim *sim);
/* The option bytes take the _PRG values (a completed change). */
void h7sim_i_option_commit(struct h7sim *sim);
/* An operation of dur ns starts: counted for h7sim_fault_power_cut_after_ops. */
void h7sim_i_count_op(struct h7sim *sim, uint64_t dur);
void h7sim_i_ob_factory(struct h7sim_ob *ob);
void h7sim_i_power_on(struct h7sim *sim);

/* h7sim_fault.c */
uint64_t h7sim_i_rand(struct h7sim *sim);
void h7sim_i_cut_now(struct h7sim *sim);
void h7sim_i_tear(struct h7sim *sim, unsigned pb, const struct h7sim_op *op);

/* h7sim_crc.c */
uint32_t h7sim_i_crc32_words(uint32_t crc, const uint8_t *p, size_t len);
void h7sim_i_crc_complete(struct h7sim *sim, unsigned pb);

#endif /* H7SIM_INTERNAL_H */
