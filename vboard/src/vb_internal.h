/*
 * vboard internals: one struct vb holds the whole board. The files:
 *   vb_core.c    Unicorn set-up, memory map, hooks, virtual time, run loop,
 *                reset, ELF loading, FLASH model glue
 *   vb_exc.c     NVIC/SCB/SysTick/DWT registers, exception entry and return
 *   vb_periph.c  RCC, PWR, SYSCFG, IWDG, HSEM, GPIO and the rest of the
 *                peripheral window
 *   vb_usart.c   USART3 and its host link (pty, stdio, TCP), host timing
 */
#ifndef VB_INTERNAL_H
#define VB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>

#include <unicorn/unicorn.h>

#include "h7sim.h"
#include "vboard.h"

#define VB_NS_PER_S 1000000000ull
#define VB_NEVER    UINT64_MAX

/* Memory map of the STM32H745 Cortex-M7 (RM0399 table 7). */
#define VB_ITCM_BASE   0x00000000u
#define VB_ITCM_SIZE   0x00010000u
#define VB_DTCM_BASE   0x20000000u
#define VB_DTCM_SIZE   0x00020000u
#define VB_AXI_BASE    0x24000000u
#define VB_AXI_SIZE    0x00080000u
#define VB_SRAM1_BASE  0x30000000u
#define VB_SRAM1_SIZE  0x00048000u
#define VB_SRAM4_BASE  0x38000000u
#define VB_SRAM4_SIZE  0x00010000u
#define VB_BKP_BASE    0x38800000u
#define VB_BKP_SIZE    0x00001000u
#define VB_SYSMEM_BASE 0x1FF00000u
#define VB_SYSMEM_SIZE 0x00020000u
#define VB_PERIPH_BASE 0x40000000u
#define VB_PERIPH_SIZE 0x20000000u
#define VB_PPB_BASE    0xE0000000u
#define VB_PPB_SIZE    0x00100000u

/* Exception numbers. */
#define VB_EXC_RESET     1
#define VB_EXC_NMI       2
#define VB_EXC_HARDFAULT 3
#define VB_EXC_MEMMANAGE 4
#define VB_EXC_BUSFAULT  5
#define VB_EXC_USAGE     6
#define VB_EXC_SVCALL    11
#define VB_EXC_DEBUGMON  12
#define VB_EXC_PENDSV    14
#define VB_EXC_SYSTICK   15
#define VB_NUM_IRQ       160
#define VB_NUM_EXC       (16 + VB_NUM_IRQ)
#define VB_IRQ_FLASH     4
#define VB_IRQ_USART3    39

/* CFSR bits. */
#define VB_CFSR_IBUSERR     (1u << 8)
#define VB_CFSR_PRECISERR   (1u << 9)
#define VB_CFSR_IMPRECISERR (1u << 10)
#define VB_CFSR_BFARVALID   (1u << 15)
#define VB_CFSR_UNDEFINSTR  (1u << 16)
#define VB_CFSR_INVSTATE    (1u << 17)
#define VB_CFSR_INVPC       (1u << 18)
#define VB_CFSR_NOCP        (1u << 19)
#define VB_CFSR_UNALIGNED   (1u << 24)
#define VB_CFSR_DIVBYZERO   (1u << 25)
#define VB_HFSR_VECTTBL     (1u << 1)
#define VB_HFSR_FORCED      (1u << 30)

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
    uint32_t gen;                   /* flash page generations when filled */
};

#define VB_HOSTQ_SIZE 65536
#define VB_OUTBUF_SIZE 4096

struct vb_usart {
    uint32_t cr1, cr2, cr3, brr, gtpr, rtor, presc;
    uint32_t isr;                   /* PE FE NE ORE IDLE flags kept here */
    uint8_t rxfifo[16];
    unsigned rx_head, rx_count;
    /* TX: TDR (one byte, or the 16-byte TX FIFO) and the shift register. */
    uint8_t txq[16];
    unsigned tx_head, tx_count;
    bool tx_shifting;
    uint64_t tx_end;                /* end of the byte in the shift register */
    uint64_t last_tx_end;           /* end of the last byte the board sent */
    /* RX from the host. */
    bool rx_inflight;
    uint8_t rx_byte;
    uint64_t rx_end;                /* end of the byte on the wire */
    uint64_t prev_rx_end;
    uint64_t horizon;               /* earliest stamp of the next host byte */
    bool reaction_started;          /* bytes of the current host reaction seen */
    bool host_silent;               /* host gave no byte at the horizon */
    unsigned empty_polls;
    bool tc_cleared;                /* ICR.TCCF since the last TDR write */
    bool first_wait;                /* first contact armed */
};

struct vb_link_state {
    enum vb_link kind;
    int fd_in, fd_out;
    int listen_fd;
    int pty_slave;
    bool in_eof;
    bool nonblock_out;
    uint8_t q[VB_HOSTQ_SIZE];       /* bytes from the host, not yet stamped */
    unsigned q_head, q_count;
    uint8_t out[VB_OUTBUF_SIZE];
    unsigned out_count;
    uint64_t dropped_out;
    double last_host_byte_wall;     /* CLOCK_MONOTONIC seconds, 0 = never */
    double last_poll_wall;
    double last_flush_wall;
    bool seen_host;
    bool gave_up;                   /* --wait-host: no host came within the first wait */
    int host_parity;                /* pty termios of the client: 0 none, 1 even, 2 odd */
    int host_bits;                  /* data bits incl. none */
};

struct vb_systick {
    uint32_t csr, rvr, cvr_at_t0;
    uint64_t t0;                    /* time at which the counter held cvr_at_t0 */
    uint64_t next;                  /* next time the counter reaches 0 */
    uint64_t k_next;                /* its tick index after t0 */
    bool countflag;
};

struct vb_iwdg {
    bool running, unlocked;
    uint32_t pr, rlr, winr;
    uint64_t expiry;
};

struct vb_rcc {
    uint32_t reg[0x200 / 4];        /* 0x58024400 .. +0x200 */
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
    uint64_t cyc;                   /* instructions (= core cycles) executed */
    uint64_t cyc_base, t_base;      /* now = t_base + (cyc - cyc_base) / hz */
    uint32_t hz;                    /* core clock */
    uint64_t deadline_cyc;          /* slow path at this cycle count */
    uint64_t stall_ns, idle_ns;
    bool check_irq;                 /* slow path at the next block */
    unsigned spin_polls;            /* status reads since the last write */

    /* ---- run control ---- */
    volatile sig_atomic_t sig_stop, sig_cut;
    enum vb_stop stop;
    bool stopping;                  /* uc_emu_stop issued */
    bool reset_req;
    bool wdg_reset_req;
    bool fault_pending;             /* a bus error seen in a callback */
    uint32_t fault_cfsr, fault_bfar;
    uint32_t last_block;
    uint32_t boot_addr;
    uint32_t stop_r0;

    /* ---- flash glue ---- */
    bool flash_active;              /* the model has something scheduled */
    bool bank_protected[2];         /* logical bank window made fetch-only (busy) */
    bool long_op[2];                /* an erase / option change runs in logical window w */
    bool in_flash_hook;             /* inside the flash store or read hook */
    bool prot_pending;              /* bank protection to update at the next block */
    bool ecc_dirty;                 /* the list of double-ECC pages changed */
    bool retrap;                    /* a fetch-only page was read: protect it again */
    uint32_t retrap_page;
    uint32_t ecc_pages[64];         /* pages holding double-ECC words (fetch-only) */
    unsigned n_ecc_pages;
    uint8_t *flash_view;            /* what the CPU reads: Unicorn maps this buffer */
    uint32_t dirty_words[32];       /* flash words a CPU store wrote into flash_view */
    unsigned n_dirty;
    bool dirty_overflow;

    /* ---- instruction counts ---- */
    struct vb_icache_ent *icache;
    uint32_t page_gen[H7_FLASH_SIZE / 0x1000];   /* bumped when a flash page changes */

    /* ---- NVIC / SCB ---- */
    uint8_t prio[VB_NUM_EXC];       /* configured priority (top 4 bits used) */
    bool enabled[VB_NUM_EXC];
    bool pending[VB_NUM_EXC];
    bool active[VB_NUM_EXC];
    bool irq_level[VB_NUM_IRQ];     /* level of peripheral lines */
    uint32_t vtor, aircr_prigroup, scr, ccr, shcsr, cfsr, hfsr, mmfar, bfar, cpacr;
    uint32_t csselr, fpccr, fpcar, fpdscr, actlr, demcr;
    uint32_t mpu[16];
    struct vb_hole holes[16];
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
    uint32_t rsr;                   /* RCC_RSR reset flags */
    struct vb_store store;
    struct vb_usart u;
    struct vb_link_state link;

    /* ---- statistics ---- */
    uint64_t flash_ops, uart_rx, uart_tx, uart_ore, exceptions, resets, wdg_resets;
    uint64_t rx_wire_ns, tx_wire_ns, first_rx_ns;
    double wall_start, wall_s, cpu_start, cpu_s;
};

/* vb_core.c */
uint64_t vb_now(const struct vb *b);
void vb_time_jump(struct vb *b, uint64_t to_ns);
void vb_set_hz(struct vb *b, uint32_t hz);
void vb_schedule(struct vb *b);     /* recompute the slow-path deadline */
void vb_stop_run(struct vb *b, enum vb_stop why);
void vb_trace(struct vb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t vb_rreg(struct vb *b, int reg);
void vb_wreg(struct vb *b, int reg, uint32_t v);
double vb_wall(void);
void vb_bus_error(struct vb *b, uint32_t addr, bool is_write, bool fetch);
void vb_dump(struct vb *b, FILE *out, const char *why);
uint64_t vb_next_event(struct vb *b);
/* A status-register read in a polling loop: after 64 of them with no write
 * in between, virtual time moves on by up to cap_ns (never past the next
 * event) instead of the host spinning. */
void vb_spin_poll(struct vb *b, uint64_t cap_ns);

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

/* vb_usart.c */
int vb_link_open(struct vb *b);
void vb_link_close(struct vb *b);
void vb_link_flush(struct vb *b);
void vb_usart_reset(struct vb *b);
uint32_t vb_usart_read(struct vb *b, uint32_t off, unsigned size);
void vb_usart_write(struct vb *b, uint32_t off, unsigned size, uint32_t v);
uint64_t vb_usart_next(struct vb *b);
void vb_usart_process(struct vb *b, uint64_t now);
/* Idle with nothing scheduled: wait for host input up to ms (wall). */
bool vb_link_wait(struct vb *b, int ms);
void vb_link_poll(struct vb *b);
/* The firmware waits for input (WFI, or polling an empty receiver) before
 * any exchange: hold virtual time here for the host's first byte. */
void vb_usart_first_contact(struct vb *b);

#endif /* VB_INTERNAL_H */
