/*
 * vboard internals: one struct vb holds the whole board. The files:
 *   vb_core.c    Unicorn set-up, memory map, virtual time, the device table
 *                (struct vb_device: each device's window, reset and events),
 *                the block hook, the run loop, reset
 *   vb_flash.c   the glue to the FLASH model (view, protections, hooks)
 *   vb_elf.c     ELF loading
 *   vb_semihost.c  semihosting
 *   vb_exc.c     NVIC/SCB/SysTick/DWT registers, exception entry and return
 *   vb_periph.c  RCC, PWR, SYSCFG, IWDG, HSEM, GPIO and the rest of the
 *                peripheral window
 *   vb_usart.c   USART3 and the host timing
 *   vb_link.c    the host link (pty, stdio, TCP, file descriptors)
 *   vb_cache.c   the L1 caches and the MPU
 *   vb_poll.c    loops whose time may be skipped
 *   vb_gdb.c     the GDB remote protocol server (--gdb)
 */
#ifndef VB_INTERNAL_H
#define VB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>

#include <unicorn/unicorn.h>

#include "h7sim.h"
#include "stm32h7/dcb.h"
#include "stm32h7/dwt.h"
#include "stm32h7/flash.h"
#include "stm32h7/memorymap.h"
#include "stm32h7/mpu.h"
#include "stm32h7/nvic.h"
#include "stm32h7/scb.h"
#include "stm32h7/systick.h"
#include "vboard.h"

#define VB_NS_PER_S 1000000000ull
#define VB_NEVER    UINT64_MAX

/* a * b / c, rounded down or up; 64-bit arithmetic unless a * b overflows
 * (a 128-bit division is a library call: this runs at every bus access). */
static inline uint64_t vb_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t p;
    if (!__builtin_mul_overflow(a, b, &p))
        return p / c;
    return (uint64_t)((unsigned __int128)a * b / c);
}

static inline uint64_t vb_muldiv_up(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t p;
    if (!__builtin_mul_overflow(a, b, &p) && p <= UINT64_MAX - (c - 1))
        return (p + c - 1) / c;
    return (uint64_t)(((unsigned __int128)a * b + c - 1) / c);
}

/* The NVIC of the Cortex-M7 has 160 lines (ICTR: 5 x 32); the STM32H745
 * wires H7_NUM_IRQ of them. */
#define VB_NUM_IRQ 160
#define VB_NUM_EXC (16 + VB_NUM_IRQ)
/* SRAM1, SRAM2 and SRAM3 are contiguous: one mapping. */
#define VB_SRAM123_SIZE (H7_SRAM3_BASE + H7_SRAM3_SIZE - H7_SRAM1_BASE)

/* The L1 caches and the MPU (vb_cache.c). */
#define VB_DC_SETS 128 /* 16 KB, 4 ways, 32-byte lines */
#define VB_DC_WAYS 4
#define VB_IC_SETS 256 /* 16 KB, 2 ways */
#define VB_IC_WAYS 2
struct vb_dline {
    uint32_t tag;             /* line address */
    bool valid, dirty, stale; /* stale: a flash line the flash changed under */
    uint64_t age;
    uint8_t data[32]; /* stale: the cached bytes; dirty: memory's */
};
struct vb_iline {
    uint32_t tag;
    bool valid, stale; /* stale: its old code is kept */
    uint64_t age;
};
struct vb_cache {
    bool used; /* enabled once: the flash view checks it */
    bool hooked, hook_pending;
    uc_hook hook;
    uint64_t clock;      /* LRU ages */
    uint64_t lost_lines; /* dirty lines invalidated without a clean */
    struct vb_dline d[VB_DC_SETS][VB_DC_WAYS];
    struct vb_iline i[VB_IC_SETS][VB_IC_WAYS];
    uint32_t mpu_ctrl, mpu_rnr, mpu_rbar[16], mpu_rasr[16];
};

/* Sparse register storage for peripherals that are accepted, not modelled. */
#define VB_STORE_SLOTS 4096
struct vb_store {
    uint32_t addr[VB_STORE_SLOTS];
    uint32_t val[VB_STORE_SLOTS];
    bool used[VB_STORE_SLOTS];
};

/* Instruction-count cache, per translation block start. */
#define VB_ICACHE_SLOTS 16384
struct vb_icache_ent {
    uint32_t addr;
    uint16_t size;
    uint16_t n;
    uint32_t gen;   /* flash page generations when filled */
    uint32_t flags; /* VB_INSN_* of the block */
};

/* Loops whose time may be skipped (vb_poll.c). */
#define VB_INSN_STORE       1u
#define VB_INSN_CP          2u
#define VB_POLL_SITES       8
#define VB_POLL_TRAIL       64  /* blocks per turn at most */
#define VB_POLL_STORES      256 /* store log of a watched loop */
#define VB_TURN_STORES      48  /* stores per turn at most */
#define VB_POLL_NREGS       16
#define VB_POLL_MAX_BACKOFF 6
#define VB_TIMED_TURNS      4      /* turns compared for a timed wait */
#define VB_TIMED_STEP_NS    20000u /* a timed wait's turn lasts at most this */
struct vb_turn {
    uint32_t regs[VB_POLL_NREGS]; /* r0-r12, SP, LR, xPSR at the read */
    uint64_t value, next_event;
    uint32_t time_val; /* last time-source value read */
    uint32_t path;     /* blocks run */
    bool timed, wdg;   /* read a time source; refreshed IWDG1 */
    unsigned nst;
    uint32_t st_addr[VB_TURN_STORES], st_val[VB_TURN_STORES];
    uint8_t st_size[VB_TURN_STORES];
};
#define VB_POLL_KNOWN  8
#define VB_KNOWN_PURE  1
#define VB_KNOWN_TIMED 2
struct vb_poll_known {
    uint32_t block, addr, path, code; /* site, blocks, hash of their code */
    unsigned kind;
};
struct vb_poll_site {
    bool used;
    uint64_t wdg_refreshes;
    uint32_t block, addr; /* translation block and register read */
    uint64_t side, exceptions, stores, time_reads, nblocks, nstores; /* at the last read */
    uint32_t path;
    unsigned backoff, countdown, watch_backoff, watch_countdown;
    unsigned nturns, known;
    struct vb_turn turn[VB_TIMED_TURNS];
};
struct vb_poll {
    struct vb_poll_site site[VB_POLL_SITES];
    unsigned next_site;
    struct vb_poll_known known[VB_POLL_KNOWN];
    unsigned next_known;
    uint64_t wdg_refreshes; /* IWDG1 reloads written */
    uint64_t side;          /* side-effect reads, exceptions, FP blocks */
    uint64_t store_blocks;  /* blocks with a store run */
    uint64_t time_reads;
    uint32_t time_val;
    uint64_t nblocks; /* blocks run */
    uint32_t trail_addr[VB_POLL_TRAIL];
    uint16_t trail_size[VB_POLL_TRAIL];
    /* the store watch */
    struct vb_poll_site *watching;
    uc_hook watch_hook;
    unsigned nloop;
    uint32_t loop_addr[VB_POLL_TRAIL];
    uint16_t loop_size[VB_POLL_TRAIL];
    uint64_t nstores;
    uint32_t st_addr[VB_POLL_STORES];
    uint8_t st_size[VB_POLL_STORES];
    uint64_t st_val[VB_POLL_STORES];
    uint64_t skips, skipped_ns;
};

#define VB_HOSTQ_SIZE  65536
#define VB_OUTBUF_SIZE 4096

struct vb_usart {
    uint32_t cr1, cr2, cr3, brr, gtpr, rtor, presc;
    uint32_t isr; /* PE FE NE ORE IDLE flags kept here */
    uint8_t rxfifo[16];
    unsigned rx_head, rx_count;
    /* TX: TDR (one byte, or the 16-byte TX FIFO) and the shift register. */
    uint8_t txq[16];
    unsigned tx_head, tx_count;
    bool tx_shifting;
    uint64_t tx_end;      /* end of the byte in the shift register */
    uint64_t last_tx_end; /* end of the last byte the board sent */
    /* RX from the host. */
    bool rx_inflight;
    uint8_t rx_byte;
    uint64_t rx_end; /* end of the byte on the wire */
    uint64_t prev_rx_end;
    uint64_t horizon;      /* earliest stamp of the next host byte */
    bool reaction_started; /* bytes of the current host reaction seen */
    bool host_silent;      /* host gave no byte at the horizon */
    unsigned empty_polls;
    bool tc_cleared; /* ICR.TCCF since the last TDR write */
    bool first_wait; /* first contact armed */
};

struct vb_link_state {
    enum vb_link kind;
    int fd_in, fd_out;
    int listen_fd;
    int pty_slave;
    bool in_eof;
    bool nonblock_out;
    uint8_t q[VB_HOSTQ_SIZE]; /* bytes from the host, not yet stamped */
    unsigned q_head, q_count;
    uint8_t out[VB_OUTBUF_SIZE];
    unsigned out_count;
    uint64_t dropped_out;
    double last_host_byte_wall; /* CLOCK_MONOTONIC seconds, 0 = never */
    double last_poll_wall;
    double last_flush_wall;
    bool seen_host;
    bool gave_up;    /* --wait-host: no host came within the first wait */
    int host_parity; /* pty termios of the client: 0 none, 1 even, 2 odd */
    int host_bits;   /* data bits incl. none */
};

struct vb_systick {
    uint32_t csr, rvr, cvr_at_t0;
    uint64_t t0;     /* time at which the counter held cvr_at_t0 */
    uint64_t next;   /* next time the counter reaches 0 */
    uint64_t k_next; /* its tick index after t0 */
    bool countflag;
};

struct vb_iwdg {
    bool running, unlocked;
    uint32_t pr, rlr, winr;
    uint64_t expiry;
};

struct vb_rcc {
    uint32_t reg[0x200 / 4]; /* 0x58024400 .. +0x200 */
};

/* A bus window of devices (the peripherals, the PPB). */
struct vb_window {
    uint32_t base;
    struct vb *b;
};

/* A gap in the address space: MMIO that answers with a bus error. */
struct vb_hole {
    uint32_t base;
    struct vb *b;
};

struct vb {
    struct vb_config cfg;
    uc_engine *uc;
    struct h7sim *sim;

    /* ---- time ---- */
    uint64_t cyc;              /* instructions (= core cycles) executed */
    uint64_t cyc_base, t_base; /* now = t_base + (cyc - cyc_base) / hz */
    uint32_t hz;               /* core clock */
    uint64_t deadline_cyc;     /* slow path at this cycle count */
    uint64_t stall_ns, idle_ns;
    bool check_irq;    /* slow path at the next block */
    unsigned rx_polls; /* empty-receiver ISR reads since the last write */
    struct vb_poll poll;

    /* ---- run control ---- */
    volatile sig_atomic_t sig_stop, sig_cut;
    enum vb_stop stop;
    bool stopping; /* uc_emu_stop issued */
    bool resume;   /* ... only to return to the run loop */
    bool reset_req;
    bool wdg_reset_req;
    bool fault_pending; /* a bus error seen in a callback */
    uint32_t fault_cfsr, fault_bfar;
    uint32_t last_block;
    uint32_t boot_addr;
    uint32_t stop_r0;

    /* ---- flash glue ---- */
    bool flash_active;      /* the model has something scheduled */
    uint64_t model_next;    /* its next completion when last looked at */
    bool bank_protected[2]; /* logical bank window made fetch-only (busy) */
    bool long_op[2];        /* an erase / option change runs in logical window w */
    bool in_flash_hook;     /* inside the flash store or read hook */
    bool prot_pending;      /* bank protection to update at the next block */
    bool ecc_dirty;         /* the list of double-ECC pages changed */
    bool retrap;            /* a fetch-only page was read: protect it again */
    uint32_t retrap_page;
    uint32_t ecc_pages[64]; /* pages holding double-ECC words (fetch-only) */
    unsigned n_ecc_pages;
    uint8_t *flash_view;      /* what the CPU reads: Unicorn maps this buffer */
    uint32_t dirty_words[32]; /* flash words a CPU store wrote into flash_view */
    unsigned n_dirty;
    bool dirty_overflow;

    /* ---- instruction counts ---- */
    struct vb_icache_ent *icache;
    uint32_t page_gen[H7_FLASH_SIZE / 0x1000]; /* bumped when a flash page changes */

    /* ---- NVIC / SCB ---- */
    uint8_t prio[VB_NUM_EXC]; /* configured priority (top 4 bits used) */
    bool enabled[VB_NUM_EXC];
    bool pending[VB_NUM_EXC];
    bool active[VB_NUM_EXC];
    bool irq_level[VB_NUM_IRQ]; /* level of peripheral lines */
    uint32_t vtor, aircr_prigroup, scr, ccr, shcsr, cfsr, hfsr, mmfar, bfar, cpacr;
    uint32_t csselr, fpccr, fpcar, fpdscr, actlr, demcr;
    struct vb_cache cache;
    struct vb_hole holes[16];
    struct vb_window windows[2];
    struct vb_systick st;
    /* DWT */
    uint32_t dwt_ctrl;
    uint32_t cyccnt_at_t0;
    uint64_t cyccnt_t0;
    bool cyccnt_running;
    /* cache maintenance */
    uint64_t cache_ops[10];
    FILE *cache_log;

    /* ---- peripherals ---- */
    struct vb_rcc rcc;
    uint32_t pwr[0x40 / 4];
    uint32_t syscfg_pwrcr;
    uint32_t hsem[32];
    struct vb_iwdg iwdg;
    uint32_t rsr; /* RCC_RSR reset flags */
    struct vb_store store;
    struct vb_usart u;
    struct vb_link_state link;

    /* ---- debugger (vb_gdb.c) ---- */
    struct vb_gdb *gdb; /* NULL: no --gdb */
    bool halt_req;      /* halt at the top of the run loop */
    bool step;          /* run one instruction, then halt */
    int halt_sig;       /* signal of the stop reply (5 trap, 2 interrupt) */
    unsigned n_bp;      /* breakpoints set */
    uint32_t until;     /* run up to this breakpoint inside a block (0: none) */

    /* ---- statistics ---- */
    uint64_t flash_ops, uart_rx, uart_tx, uart_ore, exceptions, resets, wdg_resets;
    uint64_t rx_wire_ns, tx_wire_ns, first_rx_ns;
    double wall_start, wall_s, cpu_start, cpu_s;
};

/* vb_core.c */
uint64_t vb_now(const struct vb *b);
void vb_time_jump(struct vb *b, uint64_t to_ns);
void vb_set_hz(struct vb *b, uint32_t hz);
void vb_schedule(struct vb *b); /* recompute the slow-path deadline */
void vb_stop_run(struct vb *b, enum vb_stop why);
void vb_trace(struct vb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t vb_rreg(struct vb *b, int reg);
void vb_wreg(struct vb *b, int reg, uint32_t v);
double vb_wall(void);
void vb_bus_error(struct vb *b, uint32_t addr, bool is_write, bool fetch);
void vb_dump(struct vb *b, FILE *out, const char *why);
uint64_t vb_next_event(struct vb *b);
/* The same, leaving out the watchdog's expiry when skip_wdg. */
uint64_t vb_next_event_ex(struct vb *b, bool skip_wdg);

/* A device of the board: a bus window and the events it schedules. The
 * core dispatches loads and stores in the window (absolute addresses; the
 * first device of the table whose window holds the address), resets the
 * devices in table order, and asks each for its next event and processes
 * it there. process returns false when it stopped the board (the devices
 * after it wait for the next round). */
struct vb_device {
    const char *name;
    uint32_t base, size;
    uint64_t (*read)(struct vb *b, uint32_t addr, unsigned size);
    void (*write)(struct vb *b, uint32_t addr, unsigned size, uint64_t v);
    void (*reset)(struct vb *b, bool power_on);
    uint64_t (*next_event)(struct vb *b); /* absolute ns, VB_NEVER: none */
    bool (*process)(struct vb *b, uint64_t now);
    bool watchdog; /* its event is the watchdog's (vb_next_event_ex) */
};
extern const struct vb_device vb_dev_flash;  /* vb_flash.c: the FLASH registers and the model */
extern const struct vb_device vb_dev_scs;    /* vb_exc.c: NVIC, SCB, SysTick, DWT, MPU */
extern const struct vb_device vb_dev_usart3; /* vb_usart.c */
extern const struct vb_device vb_dev_periph; /* vb_periph.c: the rest of the window, IWDG */

/* vb_core.c: the model's clock brought to the board's before a model call,
 * and after it the stall taken over, protections and schedule refreshed. */
void vb_model_sync(struct vb *b);
void vb_model_after(struct vb *b);
void vb_system_reset(struct vb *b, bool power_on);

/* vb_gdb.c: the GDB remote serial protocol server (--gdb PORT). */
int vb_gdb_open(struct vb *b, int port);
void vb_gdb_close(struct vb *b);
/* Halted (halt_req): serve the debugger until it resumes, steps, detaches
 * or kills. */
void vb_gdb_halted(struct vb *b);
/* Running: a Ctrl-C from the debugger requests a halt. */
void vb_gdb_poll(struct vb *b);
/* A BKPT instruction other than the semihosting and exit ones: true when a
 * debugger takes it (halt), false when it escalates to HardFault. */
bool vb_gdb_bkpt(struct vb *b);
bool vb_gdb_attached(const struct vb *b);
bool vb_gdb_block(struct vb *b, uint32_t addr, uint32_t size);
/* The board stopped for good: tell the debugger (exit status). */
void vb_gdb_exit(struct vb *b);

/* vb_poll.c: pure polls (see there). */
unsigned vb_insn_flags(const uint8_t *code, uint32_t size, unsigned *count);
/* A peripheral register read that may be the poll of a loop. */
void vb_poll_read(struct vb *b, uint32_t addr, uint64_t value);
/* Something a skippable loop cannot have: a read with side effects, an
 * exception. */
void vb_poll_dirty(struct vb *b);
/* A watchdog reload (KR = 0xAAAA). */
void vb_poll_wdg_refresh(struct vb *b);
/* A read of the cycle counter or of SysTick's current value. */
void vb_poll_time_read(struct vb *b, uint32_t value);
void vb_poll_block(struct vb *b, uint32_t addr, uint32_t size, unsigned flags);
void vb_poll_reset(struct vb *b);

/* vb_cache.c */
void vb_cache_reset(struct vb *b);
void vb_cache_op(struct vb *b, unsigned op, uint32_t v);
void vb_cache_ccr(struct vb *b, uint32_t old_ccr);
/* Outside the hooks (run loop): the memory hook follows CCR.DC. */
void vb_cache_sync(struct vb *b);
/* A translation block about to run: its lines through the I-cache. */
void vb_cache_fetch(struct vb *b, uint32_t addr, uint32_t size);
/* The flash word (= line) at line changes: true if the CPU's view must
 * keep showing the D-cache's bytes; vb_cache_keep_code: true if its
 * translated code must stay (I-cache). */
bool vb_cache_keep_view(struct vb *b, uint32_t line);
bool vb_cache_keep_code(struct vb *b, uint32_t line);
uint32_t vb_mpu_read(struct vb *b, uint32_t off);
void vb_mpu_write(struct vb *b, uint32_t off, uint32_t v);

/* vb_flash.c: the FLASH model glue. The model's bytes into the CPU's view
 * of the flash, caches ignored (_raw) or minus what they keep. */
void vb_flash_publish_raw(struct vb *b, uint32_t addr, uint32_t len);
void vb_flash_publish(struct vb *b, uint32_t addr, uint32_t len);
/* Undo what CPU stores wrote into the view (the model has them). */
void vb_flash_restore_dirty(struct vb *b);
/* Busy banks and double-ECC pages fetch-only (outside the flash hooks). */
void vb_update_bank_prot(struct vb *b);
void vb_protect_fetch_only(struct vb *b, uint32_t addr, uint32_t len);
void vb_flash_observe(struct vb *b);
void vb_flash_fetch_stall(struct vb *b, uint32_t addr);
bool vb_hook_flash_write(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud);
bool vb_hook_flash_read(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud);

/* vb_semihost.c: a BKPT 0xAB at the PC. */
void vb_semihost(struct vb *b);

/* vb_unicorn.c */
void vb_unicorn_workarounds(void);

/* vb_exc.c */
void vb_exc_reset(struct vb *b);
uint64_t vb_ppb_read(struct vb *b, uint32_t addr, unsigned size);
void vb_ppb_write(struct vb *b, uint32_t addr, unsigned size, uint64_t v);
void vb_set_pending(struct vb *b, int exc);
void vb_irq_set_level(struct vb *b, int irq, bool level);
/* Take the highest-priority pending exception that may preempt; returns
 * true when one was taken (PC written). ret_pc: address to return to. */
bool vb_deliver(struct vb *b, uint32_t ret_pc);
bool vb_wakeup_pending(struct vb *b);
void vb_take_exception(struct vb *b, int exc, uint32_t ret_pc);
void vb_exception_return(struct vb *b, uint32_t exc_return);
/* A synchronous fault: escalates to HardFault when needed; stops the board
 * when no handler can run. */
void vb_fault(struct vb *b, int exc, uint32_t cfsr_bits, uint32_t ret_pc, const char *what);
uint64_t vb_systick_next(struct vb *b);
void vb_systick_process(struct vb *b, uint64_t now);
void vb_systick_rebase(struct vb *b, uint64_t now, uint32_t old_hz);
void vb_dwt_rebase(struct vb *b, uint64_t now, uint32_t old_hz);
int vb_exec_priority(struct vb *b);

/* vb_periph.c */
void vb_periph_reset(struct vb *b, bool power_on);
uint64_t vb_periph_read(struct vb *b, uint32_t addr, unsigned size);
void vb_periph_write(struct vb *b, uint32_t addr, unsigned size, uint64_t v);
uint32_t vb_rcc_core_hz(struct vb *b);
uint32_t vb_rcc_usart3_hz(struct vb *b);
uint32_t vb_rcc_hclk_hz(struct vb *b);
uint64_t vb_iwdg_next(struct vb *b);
void vb_iwdg_process(struct vb *b, uint64_t now);
void vb_iwdg_refresh(struct vb *b);

/* vb_link.c */
int vb_link_open(struct vb *b);
void vb_link_close(struct vb *b);
void vb_link_flush(struct vb *b);
/* Idle with nothing scheduled: wait for host input up to ms (wall). */
bool vb_link_wait(struct vb *b, int ms);
void vb_link_poll(struct vb *b);

/* vb_usart.c */
void vb_usart_reset(struct vb *b);
uint32_t vb_usart_read(struct vb *b, uint32_t off, unsigned size);
void vb_usart_write(struct vb *b, uint32_t off, unsigned size, uint32_t v);
uint64_t vb_usart_next(struct vb *b);
void vb_usart_process(struct vb *b, uint64_t now);
/* The firmware waits for input (WFI, or polling an empty receiver) before
 * any exchange: hold virtual time here for the host's first byte. */
void vb_usart_first_contact(struct vb *b);

#endif /* VB_INTERNAL_H */
