/*
 * h7sim: a strict, datasheet-timed model of the STM32H745 embedded FLASH
 * controller (both banks, registers, write buffers, queues, array with ECC
 * state, CRC unit, option bytes, clock, fault injection).
 *
 * No globals: all state lives in one struct h7sim; instances are independent.
 * Facts: RM0399 and docs/H7_FLASH.md; rules enforced: docs/FLASH_MODEL.md.
 *
 * Addresses given to the API are CPU (logical) addresses unless stated: with
 * SWAP_BANK in force, 0x08000000 shows physical bank 2 (RM0399 4.3.13).
 * "bank" parameters are register-set numbers 1 or 2: set 1 drives the bank
 * mapped at 0x08000000 (inferred, docs/H7_FLASH.md 5.2).
 *
 * Time: the model owns a clock in nanoseconds. Front ends tell it how much
 * time passed (h7sim_advance); operations complete when their time is due.
 * A bus access to a bank with an operation in progress stalls: the model
 * advances its own clock to the end of that operation and reports the stall.
 */
#ifndef H7SIM_H
#define H7SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stm32h7/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

struct h7sim;

/* ---- configuration -------------------------------------------------- */

enum h7sim_timing {
    H7SIM_TIMING_TYP = 0, /* datasheet typical (default) */
    H7SIM_TIMING_MAX = 1, /* datasheet maximum */
};

/* What programming a non-virgin flash word does (docs/H7_FLASH.md 3.1). */
enum h7sim_reprogram {
    H7SIM_REPROGRAM_DOUBLE_ECC = 0, /* word becomes double-ECC (default) */
    H7SIM_REPROGRAM_SINGLE_ECC = 1, /* word reads old & new, SNECCERR on read */
};

struct h7sim_config {
    enum h7sim_timing timing;
    enum h7sim_reprogram reprogram;
    bool strict;   /* record violations in the log (default true) */
    uint64_t seed; /* for torn words and other random fault results */
};

void h7sim_config_default(struct h7sim_config *cfg);

/* New model, flash erased (factory state), option bytes at factory values,
 * clock at 0. cfg may be NULL for defaults. Returns NULL on allocation failure. */
struct h7sim *h7sim_new(const struct h7sim_config *cfg);
void h7sim_free(struct h7sim *sim);

/* ---- bus -------------------------------------------------------------- */

/* Result of a bus access. */
enum h7sim_resp {
    H7SIM_OK = 0,
    H7SIM_BUSERR = 1, /* the hardware answers with a bus error */
};

/* Who reads: a CPU read of a double-ECC word is a bus error; a DMA read only
 * latches DBECCERR (docs/H7_FLASH.md 3.8). */
enum h7sim_master {
    H7SIM_MASTER_CPU = 0,
    H7SIM_MASTER_DMA = 1,
};

/*
 * 8/16/32/64-bit accesses at any address of the FLASH register block
 * (H7_FLASH_R_BASE .. +H7_FLASH_R_SIZE) or of the flash array
 * (H7_FLASH_BASE .. H7_FLASH_END). Any other address: H7SIM_BUSERR.
 * *stall_ns (may be NULL) receives how long the access was held (busy bank,
 * START acknowledge); the model's clock has already advanced by that much.
 * Reads of unused bytes return 0.
 */
enum h7sim_resp h7sim_read(struct h7sim *sim, uint32_t addr, unsigned size, uint64_t *val,
                           uint64_t *stall_ns);
enum h7sim_resp h7sim_read_ex(struct h7sim *sim, enum h7sim_master m, uint32_t addr, unsigned size,
                              uint64_t *val, uint64_t *stall_ns);
enum h7sim_resp h7sim_write(struct h7sim *sim, uint32_t addr, unsigned size, uint64_t val,
                            uint64_t *stall_ns);

/* An instruction fetch from addr (flash): returns the stall it causes (and
 * advances the clock), 0 when the bank is idle. No data is returned. */
uint64_t h7sim_fetch_stall(struct h7sim *sim, uint32_t addr);

/* ---- time ------------------------------------------------------------- */

uint64_t h7sim_now(const struct h7sim *sim);
/* Time passes: run the clock forward by ns, completing whatever is due. */
void h7sim_advance(struct h7sim *sim, uint64_t ns);
/* Absolute time of the next scheduled completion, UINT64_MAX if idle. */
uint64_t h7sim_next_event(const struct h7sim *sim);
/* True while the bank mapped at addr has an array operation running. */
bool h7sim_bank_busy(const struct h7sim *sim, uint32_t addr);
/* Level of the FLASH interrupt line (OR over both banks of flag & enable). */
bool h7sim_irq_level(const struct h7sim *sim);
/* Current bank mapping (OPTCR.SWAP_BANK, fixed between resets). */
bool h7sim_swapped(const struct h7sim *sim);

/* Durations the model uses (ns) for a PSIZE (0..3 = x8..x64), for the
 * configured timing. Benchmarks compute the physical limit from these. */
struct h7sim_durations {
    uint64_t program_word;  /* one 256-bit flash word */
    uint64_t sector_erase;  /* one 128 KB sector */
    uint64_t bank_erase;    /* BER: one bank */
    uint64_t mass_erase;    /* MER: both banks */
    uint64_t option_change; /* OPTSTART to OPT_BUSY=0 */
    uint64_t crc_per_word;  /* CRC unit, per flash word read */
    uint64_t crc_per_burst; /* CRC unit, once per CRC_BURST burst */
};
void h7sim_durations(const struct h7sim *sim, unsigned psize, struct h7sim_durations *d);

/* ---- observers (for front ends) --------------------------------------- */

enum h7sim_event_kind {
    H7SIM_EV_OP_START,    /* array operation starts running */
    H7SIM_EV_OP_DONE,     /* array operation completed */
    H7SIM_EV_OP_ERROR,    /* operation refused (WRPERR ...) */
    H7SIM_EV_OPTION_DONE, /* option byte change completed */
    H7SIM_EV_POWER_CUT,   /* an injected power cut happened */
};
enum h7sim_op_kind {
    H7SIM_OP_PROGRAM,
    H7SIM_OP_SECTOR_ERASE,
    H7SIM_OP_BANK_ERASE,
    H7SIM_OP_MASS_ERASE,
    H7SIM_OP_OPTION,
    H7SIM_OP_CRC,
};
struct h7sim_event {
    enum h7sim_event_kind kind;
    enum h7sim_op_kind op;
    unsigned bank; /* physical bank 1 or 2 (0 for option and power cut;
                             * a mass erase reports one event per bank) */
    uint32_t addr; /* logical address of the word or sector start */
    uint32_t len;  /* bytes affected */
    uint64_t time_ns;
    uint32_t sr; /* SR after the event */
};

struct h7sim_observer {
    /* Array data visible at logical [addr, addr+len) changed (program done,
     * erase done, fault injection, load, reset with swap change). */
    void (*array_changed)(void *ctx, uint32_t addr, uint32_t len);
    /* The FLASH IRQ line changed level. */
    void (*irq_changed)(void *ctx, bool level);
    /* Operation trace. */
    void (*event)(void *ctx, const struct h7sim_event *ev);
    void *ctx;
};
void h7sim_set_observer(struct h7sim *sim, const struct h7sim_observer *obs);

/* ---- array inspection and back door ----------------------------------- */

enum h7sim_word_state {
    H7SIM_WORD_VIRGIN = 0,     /* erased, reads 0xFF, may be programmed once */
    H7SIM_WORD_PROGRAMMED = 1, /* programmed once, ECC consistent */
    H7SIM_WORD_ECC_SINGLE = 2, /* returns stored data, SNECCERR on read */
    H7SIM_WORD_ECC_DOUBLE = 3, /* bus error on CPU read, DBECCERR */
};
enum h7sim_word_state h7sim_word_state(const struct h7sim *sim, uint32_t addr);

/* Raw contents as the CPU would read them, without ECC side effects, flags
 * or timing (ECC_DOUBLE words give their stored bits). */
void h7sim_peek(const struct h7sim *sim, uint32_t addr, void *out, size_t len);

/* Program like an external programmer (st-flash) would: no timing, no
 * flags; whole flash words, the tail padded with 0xFF. Every target word
 * must be virgin. Returns 0, or -1 (range, not virgin). */
int h7sim_backdoor_program(struct h7sim *sim, uint32_t addr, const void *data, size_t len);
/* Erase everything like a factory-fresh part (backdoor). */
void h7sim_backdoor_erase_all(struct h7sim *sim);

/* ---- violations (strict mode) ------------------------------------------ */

struct h7sim_violation {
    uint64_t time_ns;
    uint32_t addr;       /* flash or register address concerned */
    const char *rule;    /* short name, e.g. "program-non-virgin" */
    const char *section; /* docs/H7_FLASH.md section, e.g. "3.1" */
    char detail[96];
};
size_t h7sim_violation_count(const struct h7sim *sim);
const struct h7sim_violation *h7sim_violation_get(const struct h7sim *sim, size_t i);
void h7sim_violations_clear(struct h7sim *sim);
void h7sim_violations_print(const struct h7sim *sim, FILE *out);

/* ---- statistics -------------------------------------------------------- */

struct h7sim_stats {
    uint64_t programs[2]; /* per physical bank */
    uint64_t bytes_programmed[2];
    uint64_t sector_erases[2];
    uint64_t bank_erases[2];
    uint64_t erase_count[2][H7_SECTORS_PER_BANK]; /* per physical sector */
    uint64_t busy_ns[2];                          /* time with an array operation running */
    uint64_t stall_ns[2];                         /* time accesses were held per bank */
    uint64_t crc_runs;
    uint64_t option_changes;
};
void h7sim_get_stats(const struct h7sim *sim, struct h7sim_stats *st);

/* ---- faults (deterministic from cfg.seed) ------------------------------ */

/* Power cut during the (n+1)-th operation started from now on (n = 0: the
 * next one): array operations and option byte changes, at a point chosen
 * from the seed within it. A cut during an option change leaves the old
 * option bytes or the new ones, whole (the seed picks). */
void h7sim_fault_power_cut_after_ops(struct h7sim *sim, uint64_t n);
/* Power cut at absolute time t_ns. */
void h7sim_fault_power_cut_at(struct h7sim *sim, uint64_t t_ns);
/* True once a power cut happened: the part is off, every bus access
 * returns H7SIM_BUSERR until h7sim_reset(). The word or sector in flight is
 * left torn (random bits, some double-ECC words). */
bool h7sim_powered_off(const struct h7sim *sim);
/* Cut power now (same effect as an injected cut). */
void h7sim_power_cut(struct h7sim *sim);

/* Power-on / system reset: array and option bytes kept; registers,
 * buffers, queues, key state cleared; _CUR option registers (and
 * SWAP_BANK) loaded from the option bytes. The clock keeps running. */
void h7sim_reset(struct h7sim *sim);

/* Debugger interventions (docs/H7_FLASH.md 8.2). bank = register set 1 or 2. */
void h7sim_dbg_relock(struct h7sim *sim, unsigned bank); /* CR = LOCK, as OpenOCD */
void h7sim_dbg_set_flags(struct h7sim *sim, unsigned bank, uint32_t sr_flags);
void h7sim_dbg_clear_pg(struct h7sim *sim, unsigned bank);
/* Leave n (1..31) bytes in the write buffer of the flash word at addr
 * (PG is set if needed, as a halted flash loader would leave it). */
void h7sim_dbg_abandon_buffer(struct h7sim *sim, uint32_t addr, unsigned n);

/* Flip nbits (1 => single-ECC word, >= 2 => double-ECC word) in the flash
 * word at addr. */
void h7sim_flip_bits(struct h7sim *sim, uint32_t addr, unsigned nbits);

/* The next array operation started on register set bank (1 or 2) is
 * refused with OPERR (no EOP, array unchanged). */
void h7sim_fault_operr_next(struct h7sim *sim, unsigned bank);
/* The next option byte change ends with OPTCHANGEERR (option bytes kept). */
void h7sim_fault_optchangeerr_next(struct h7sim *sim);
/* Cancel scheduled faults (power cuts, OPERR, OPTCHANGEERR) not yet fired. */
void h7sim_fault_clear(struct h7sim *sim);

/* ---- option bytes (back door) -------------------------------------------- */

/* The option bytes as stored (the values _CUR registers show after reset).
 * optsr bit 31 is SWAP_BANK_OPT: the mapping it selects acts at reset. */
struct h7sim_option_bytes {
    uint32_t optsr;
    uint32_t prar[2]; /* physical bank 1, 2 */
    uint32_t scar[2];
    uint32_t wpsn[2];
    uint32_t boot7;
    uint32_t boot4;
};
void h7sim_get_option_bytes(const struct h7sim *sim, struct h7sim_option_bytes *ob);
/* Set the stored option bytes like an external programmer; the _CUR
 * registers, the _PRG registers and SWAP_BANK follow at the next reset. */
void h7sim_set_option_bytes(struct h7sim *sim, const struct h7sim_option_bytes *ob);

/* ---- persistence ------------------------------------------------------- */

/* Save / load the array (data and word states) and option bytes. A file
 * that does not exist on load gives -1 and leaves the model as it was. */
int h7sim_save(const struct h7sim *sim, const char *path);
int h7sim_load(struct h7sim *sim, const char *path);
/* As h7sim_load; on failure *why (may be NULL) names the reason. A
 * successful load is a power-on: registers reset, swap from the loaded
 * option bytes, array_changed for the whole array. */
int h7sim_load_ex(struct h7sim *sim, const char *path, const char **why);

#ifdef __cplusplus
}
#endif

#endif /* H7SIM_H */
