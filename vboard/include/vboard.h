/*
 * vboard: the virtual STM32H745 board. Runs a real Cortex-M7 firmware ELF on
 * Unicorn, with the h7sim FLASH model answering every FLASH register and
 * flash-array access, and models of the core peripherals the firmware needs
 * (SCS: NVIC, SCB, SysTick, DWT; RCC, PWR, SYSCFG, IWDG, HSEM, USART3).
 *
 * Time is virtual and deterministic: one instruction per core cycle at the
 * core frequency the firmware configured in RCC, plus the stalls the FLASH
 * model reports. docs/VBOARD.md describes what is and is not modelled.
 *
 * Usage (library, as h7vboard does):
 *   struct vb_config cfg; vb_config_default(&cfg); ...
 *   struct vb *b = vb_new(&cfg);
 *   vb_load_elf(b, "fw.elf");
 *   enum vb_stop why = vb_run(b);
 *   vb_print_summary(b, stderr);
 *   int rc = vb_exit_code(why);
 *   vb_free(b);
 */
#ifndef VBOARD_H
#define VBOARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vb;
struct h7sim;

/* Where USART3 goes. */
enum vb_link {
    VB_LINK_NONE = 0, /* TX bytes dropped, no RX */
    VB_LINK_PTY,      /* pseudo-terminal; slave path printed on stderr */
    VB_LINK_STDIO,    /* stdin / stdout */
    VB_LINK_TCP,      /* one client at a time on 127.0.0.1:tcp_port */
    VB_LINK_FDS,      /* caller-provided file descriptors (embedding) */
};

struct vb_config {
    enum vb_link link;
    int tcp_port;
    int fd_in, fd_out;    /* VB_LINK_FDS */
    const char *pty_link; /* symlink to the pty slave (may be NULL) */
    const char *pty_file; /* file receiving the pty slave path (may be NULL) */

    const char *flash_file; /* persistent array + option bytes (NULL: none) */
    bool erase;             /* start from an erased array, ignoring flash_file contents */
    uint32_t boot_addr;     /* 0: BOOT7_CUR ADD0 of the option bytes */
    /* Bit flips applied to the array after loading flash_file, before the
     * first instruction: 1 bit makes a single-ECC word, 2 or more a
     * double-ECC word (h7sim_flip_bits). */
    struct vb_flip {
        uint32_t addr;
        unsigned nbits;
    } flips[8];
    unsigned n_flips;

    uint64_t turnaround_ns; /* host reaction latency (default 1 ms) */
    unsigned host_wait_ms;  /* wait for the first byte of a host reaction (default 1000) */
    unsigned host_gap_ms;   /* wait for more bytes of a host reaction (default 2) */
    unsigned
        host_idle_ms; /* host counts as attached this long after its last byte (default 3000) */
    bool wait_host;   /* treat the host as attached before its first byte */
    bool check_line_format; /* pty: sample host bytes with the client's termios format */
    uint32_t host_baud;     /* the host's line rate; 0: always the firmware's (BRR) */

    uint64_t max_time_ns; /* 0: no limit */
    uint64_t max_insns;   /* 0: no limit */
    bool cut_after_ops_set;
    uint64_t cut_after_ops; /* power cut during the (n+1)-th array operation */
    uint64_t cut_at_ns;     /* 0: none */
    bool stop_on_watchdog;  /* a watchdog reset stops the board (exit code 4) */
    bool stop_on_reset;     /* SYSRESETREQ stops the board (clean stop) */

    uint32_t hse_hz;        /* HSE frequency (default 8 MHz, ST-LINK MCO bypass) */
    bool timing_max;        /* FLASH model uses datasheet maximum times */
    bool exact_read_stalls; /* data reads stall during word programs too (slower) */

    int gdb_port; /* GDB remote protocol on 127.0.0.1:gdb_port, halted at reset (0: none) */

    FILE *trace;           /* NULL: no trace */
    const char *cache_log; /* file receiving one line per cache maintenance op */
    FILE *semihost_out;    /* semihosting output (default stdout) */
};

void vb_config_default(struct vb_config *cfg);

/* Stop reasons. */
enum vb_stop {
    VB_STOP_NONE = 0,
    VB_STOP_OK,        /* bkpt #0x42 with r0 = 0, or semihosting exit success */
    VB_STOP_FW_FAIL,   /* bkpt #0x42 with r0 != 0, or semihosting exit failure */
    VB_STOP_FAULT,     /* unhandled fault, lockup, or emulation error */
    VB_STOP_TIMEOUT,   /* max time or max instructions reached */
    VB_STOP_WATCHDOG,  /* watchdog reset with stop_on_watchdog */
    VB_STOP_POWER_CUT, /* injected power cut (flash saved as torn) */
    VB_STOP_SIGNAL,    /* SIGINT / SIGTERM */
    VB_STOP_RESET,     /* SYSRESETREQ with stop_on_reset */
};

/* Exit codes of h7vboard. */
#define VB_EXIT_OK        0
#define VB_EXIT_FW_FAIL   1
#define VB_EXIT_FAULT     2
#define VB_EXIT_TIMEOUT   3
#define VB_EXIT_WATCHDOG  4
#define VB_EXIT_POWER_CUT 5
#define VB_EXIT_SIGNAL    6
#define VB_EXIT_USAGE     9

int vb_exit_code(enum vb_stop why);
const char *vb_stop_name(enum vb_stop why);

/* New board, powered on: model loaded from cfg->flash_file when it exists.
 * Returns NULL (message on stderr) on failure. */
struct vb *vb_new(const struct vb_config *cfg);
void vb_free(struct vb *b);

/* Load PT_LOAD segments at their physical addresses: flash through the
 * model's back door (like st-flash; words already holding the same bytes
 * are skipped), RAM directly. 0, or -1 with a message on stderr. */
int vb_load_elf(struct vb *b, const char *path);

/* Reset and run until a stop condition. Can be called once. */
enum vb_stop vb_run(struct vb *b);

/* Ask a running board to stop (signal handlers). */
void vb_request_stop(struct vb *b, enum vb_stop why);
/* Cut power now (signal handlers: SIGUSR1). */
void vb_request_power_cut(struct vb *b);

struct vb_stats {
    uint64_t time_ns;          /* virtual time */
    uint64_t insns;            /* guest instructions executed */
    uint64_t stall_ns;         /* CPU held by busy flash banks */
    uint64_t idle_ns;          /* WFI / spin-poll fast-forward */
    uint64_t flash_ops;        /* array operations completed */
    uint64_t uart_rx, uart_tx; /* bytes on USART3 */
    uint64_t uart_ore;         /* bytes lost to overrun */
    uint64_t rx_wire_ns;       /* sum of the host bytes' frame times */
    uint64_t tx_wire_ns;       /* sum of the board's bytes' frame times */
    uint64_t first_rx_ns;      /* start of the first host byte (UINT64_MAX: none) */
    uint64_t last_tx_end_ns;   /* end of the board's last byte (0: none) */
    uint64_t exceptions;       /* exception entries */
    uint64_t resets;           /* system resets after power-on */
    uint64_t wdg_resets;
    uint64_t cache_ops[10]; /* see VB_CACHE_* */
    double wall_s;          /* host seconds in vb_run */
    double cpu_s;           /* host CPU seconds in vb_run */
    uint32_t core_hz;       /* core clock at the end */
    uint32_t baud;          /* USART3 baud rate at the end */
    uint32_t pc;
};
void vb_get_stats(const struct vb *b, struct vb_stats *st);
/* One line: time, instructions, stalls, flash ops, UART bytes, stop reason. */
void vb_print_summary(const struct vb *b, FILE *out);

/* Cache maintenance operations counted (SCB at 0xE000EF50..0xE000EF78). */
enum {
    VB_CACHE_ICIALLU = 0,
    VB_CACHE_ICIMVAU,
    VB_CACHE_DCIMVAC,
    VB_CACHE_DCISW,
    VB_CACHE_DCCMVAU,
    VB_CACHE_DCCMVAC,
    VB_CACHE_DCCSW,
    VB_CACHE_DCCIMVAC,
    VB_CACHE_DCCISW,
    VB_CACHE_BPIALL,
};

/* The board's FLASH model (statistics, violations, peeks). */
struct h7sim *vb_model(struct vb *b);
uint64_t vb_now_ns(const struct vb *b);

#ifdef __cplusplus
}
#endif

#endif /* VBOARD_H */
