/*
 * h7bench: the measuring instruments of `make bench` (bench/run.sh).
 *
 *   h7bench limit --size S --baud B [--addr A] [--frame-bits 10|11]
 *                 [--psize 0..3] [--timing-max]
 *       The physical limit of an update of S bytes at A (default
 *       BOOT_APP_START, proto/h7_layout.h) over a B baud link, from the h7sim model's own
 *       durations: wire = frame_bits * S / B; per bank, the erase of the
 *       sectors the image touches + one program time per 32-byte flash word
 *       at the PSIZE in force; the banks work in parallel:
 *       limit = max(wire, bank 1, bank 2). Prints key=value lines.
 *
 *   h7bench board [options] BOOT.elf
 *       The virtual board (libvboard) running the bootloader, USART3 on a
 *       pty, with an observer on the board's trace that takes the figures
 *       of one update at the exact virtual instants they happen:
 *         t0      the firmware waits for the host's first byte (first
 *                 contact: with --wait-host the host's first byte is
 *                 stamped at that instant);
 *         t_app   the application sets VTOR to --app-vtor (BOOT_APP_START);
 *         t_ban   the application enables its USART to print the banner.
 *       The duration is taken from the board's stamp of the host's first
 *       byte (vb_stats.first_rx_ns) to t_ban.
 *       Between t0 and t_ban: bytes and frame times each way, CPU stall,
 *       instructions, the instants of the first erase, first program and
 *       last program, erase and program time per bank (from the model's
 *       operation events), the PSIZE of the first program operation, and the
 *       driver's CPU cycles per flash word (instructions between the end of
 *       one program operation and the start of the next in the same bank,
 *       when that gap is under 50 us: the driver streaming a block). The
 *       board runs on (the banner goes out on the pty) until SIGTERM or
 *       --max-time-ms; the figures are then written to --result FILE.
 *       Host turnarounds: received bytes that follow board output (each
 *       one held a turnaround by the board's host model), counted from the
 *       RX interrupt entries in the trace; host bytes stamped late (the
 *       client answered after the board stopped waiting for it).
 *       --ready FILE is created at first contact: start the client then;
 *       --banner FILE when the application starts its banner.
 *       --expect-baud B stops the board at the first array operation when
 *       the bootloader's USART3 does not run at B (+-3 %); --host-baud B
 *       gives the host its own line rate (vboard: the bootloader follows it
 *       by USART auto-baud on the host's first byte).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "h7_layout.h"
#include "h7sim.h"
#include "vboard.h"

#define GAP_MAX_NS 50000u

static unsigned long long num(const char *s, const char *opt)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*s == 0 || *end != 0) {
        fprintf(stderr, "h7bench: %s: bad number '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

/* ---- limit ------------------------------------------------------------------ */

static int cmd_limit(int argc, char **argv)
{
    unsigned long long size = 0, baud = 0, addr = BOOT_APP_START, bits = 10, psize = 3;
    bool tmax = false;
    static const struct option opts[] = {
        { "size", required_argument, 0, 's' },
        { "baud", required_argument, 0, 'b' },
        { "addr", required_argument, 0, 'a' },
        { "frame-bits", required_argument, 0, 'f' },
        { "psize", required_argument, 0, 'p' },
        { "timing-max", no_argument, 0, 'm' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': size = num(optarg, "--size"); break;
        case 'b': baud = num(optarg, "--baud"); break;
        case 'a': addr = num(optarg, "--addr"); break;
        case 'f': bits = num(optarg, "--frame-bits"); break;
        case 'p': psize = num(optarg, "--psize"); break;
        case 'm': tmax = true; break;
        default: return 2;
        }
    }
    if (size == 0 || baud == 0 || psize > 3 || addr < H7_FLASH_BASE ||
        addr + size > (unsigned long long)H7_FLASH_BASE + 2 * H7_BANK_SIZE) {
        fprintf(stderr,
                "h7bench limit: need --size S --baud B, psize 0..3, image inside the flash\n");
        return 2;
    }
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.timing = tmax ? H7SIM_TIMING_MAX : H7SIM_TIMING_TYP;
    struct h7sim *sim = h7sim_new(&cfg);
    if (!sim)
        return 1;
    struct h7sim_durations d;
    h7sim_durations(sim, (unsigned)psize, &d);
    h7sim_free(sim);

    uint64_t wire = (uint64_t)(((unsigned __int128)bits * size * 1000000000ull + baud - 1) / baud);
    uint64_t sectors[2] = { 0, 0 }, words[2] = { 0, 0 }, bank_ns[2];
    uint64_t end = addr + size;
    for (unsigned bk = 0; bk < 2; bk++) {
        uint64_t lo = H7_FLASH_BASE + (uint64_t)bk * H7_BANK_SIZE, hi = lo + H7_BANK_SIZE;
        uint64_t a = addr > lo ? addr : lo, e = end < hi ? end : hi;
        if (a >= e)
            continue;
        sectors[bk] = (e - 1) / H7_SECTOR_SIZE - a / H7_SECTOR_SIZE + 1;
        words[bk] = (e + H7_FLASH_WORD - 1) / H7_FLASH_WORD - a / H7_FLASH_WORD;
    }
    uint64_t limit = wire;
    for (unsigned bk = 0; bk < 2; bk++) {
        bank_ns[bk] = sectors[bk] * d.sector_erase + words[bk] * d.program_word;
        if (bank_ns[bk] > limit)
            limit = bank_ns[bk];
    }
    printf("size=%llu\naddr=0x%08llx\nbaud=%llu\nframe_bits=%llu\npsize=%llu\ntiming=%s\n", size,
           addr, baud, bits, psize, tmax ? "max" : "typ");
    printf("program_word_ns=%llu\nsector_erase_ns=%llu\n", (unsigned long long)d.program_word,
           (unsigned long long)d.sector_erase);
    printf("wire_ns=%llu\n", (unsigned long long)wire);
    for (unsigned bk = 0; bk < 2; bk++)
        printf("bank%u_sectors=%llu\nbank%u_words=%llu\nbank%u_ns=%llu\n", bk + 1,
               (unsigned long long)sectors[bk], bk + 1, (unsigned long long)words[bk], bk + 1,
               (unsigned long long)bank_ns[bk]);
    printf("limit_ns=%llu\nbound=%s\n", (unsigned long long)limit,
           limit == wire         ? "wire"
           : limit == bank_ns[0] ? "bank1"
                                 : "bank2");
    return 0;
}

/* ---- board --------------------------------------------------------------------- */

struct snap {
    bool taken;
    struct vb_stats st;
};

struct obs {
    struct vb *b;
    uint32_t app_vtor;
    const char *ready, *banner;
    char line[512];
    size_t n;

    struct snap s0, s_app, s_ban;
    bool app;             /* the application set its VTOR */
    uint32_t link_baud;   /* bootloader's USART3 rate, last seen */
    unsigned link_bits;   /* bits per frame: 10 (8N1), 11 (8E1, 8N2), last seen */
    int psize;            /* PSIZE of the first program operation (-1: none) */
    uint32_t boot_hz;     /* bootloader's core clock, last seen */
    uint32_t expect_baud; /* stop when the link runs at another rate (0: any) */
    char error[160];

    /* per physical bank: running operation */
    bool running[2];
    uint64_t op_start[2];
    int op_kind[2];      /* 0 program, 1 erase, 2 other */
    uint64_t busy[2][3]; /* program / erase / other, in [t0, t_ban] */
    uint64_t count[2][3];
    bool have_done[2];
    uint64_t done_t[2], done_insns[2];
    uint64_t *gaps;
    size_t ngaps, capgaps;

    /* Phases (0: not seen): first erase start, first program start, last
     * program done, inside the window. */
    uint64_t t_erase0, t_prog0, t_prog_end;

    /* Host bytes that came after the board had given up waiting for them
     * (the client was slower than --host-wait-ms of wall time): stamped at
     * the board's present time, so the figures depend on the host. */
    uint64_t late, late_first_ns;

    /* Host turnarounds: host bytes that follow board output. */
    uint64_t turnaround_ns;
    uint64_t last_rx, tx_at_last_rx, turns;

    /* Receive line idle inside the window: the time between two received
     * bytes beyond one frame each, summed, and the largest such gaps. */
    uint64_t rx_at_ns, rx_idle_ns, rx_idle_n;
    struct {
        uint64_t at, len;
    } idle_top[8];
};

static struct obs O;
static struct vb *the_board;

static void on_signal(int sig)
{
    (void)sig;
    if (the_board)
        vb_request_stop(the_board, VB_STOP_SIGNAL);
    else
        _exit(6);
}

static void mark(const char *path, uint64_t t)
{
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%llu\n", (unsigned long long)t);
        fclose(f);
    }
}

static void snap(struct snap *s)
{
    vb_get_stats(O.b, &s->st);
    s->taken = true;
}

static bool in_window(void)
{
    return O.s0.taken && !O.s_ban.taken;
}

static void flash_event(const char *p, uint64_t now, uint64_t insns)
{
    /* "flash <op> start|done|refused bank N 0x... +len ..." */
    char op[32], what[16];
    unsigned bank;
    if (sscanf(p, "flash %31s %15s bank %u", op, what, &bank) != 3 || bank < 1 || bank > 2)
        return;
    unsigned bk = bank - 1;
    int kind = strcmp(op, "program") == 0 ? 0 : strstr(op, "erase") ? 1 : 2;
    if (strcmp(what, "start") == 0) {
        /* The first array operation of the update: the link rate is settled. */
        if (O.expect_baud && in_window() && !O.error[0] &&
            (O.link_baud * 100ull < O.expect_baud * 97ull ||
             O.link_baud * 100ull > O.expect_baud * 103ull)) {
            snprintf(O.error, sizeof O.error, "link ran at %u baud, not the host's %u", O.link_baud,
                     O.expect_baud);
            vb_request_stop(O.b, VB_STOP_FW_FAIL);
        }
        if (kind == 0 && O.have_done[bk] && in_window() && now - O.done_t[bk] < GAP_MAX_NS) {
            if (O.ngaps == O.capgaps) {
                O.capgaps = O.capgaps ? 2 * O.capgaps : 4096;
                O.gaps = realloc(O.gaps, O.capgaps * sizeof *O.gaps);
                if (!O.gaps) {
                    perror("h7bench");
                    exit(1);
                }
            }
            O.gaps[O.ngaps++] = insns - O.done_insns[bk];
        }
        if (kind == 0 && O.psize < 0 && in_window()) {
            uint64_t cr = 0;
            uint32_t reg = H7_FLASH_R_BASE + (bank == 2 ? 0x100u : 0u) + FLASH_CR;
            if (h7sim_read(vb_model(O.b), reg, 4, &cr, NULL) == H7SIM_OK)
                O.psize = (int)((cr & FLASH_CR_PSIZE_Msk) >> FLASH_CR_PSIZE_Pos);
        }
        if (in_window()) {
            if (kind == 1 && !O.t_erase0)
                O.t_erase0 = now;
            if (kind == 0 && !O.t_prog0)
                O.t_prog0 = now;
        }
        O.running[bk] = true;
        O.op_start[bk] = now;
        O.op_kind[bk] = kind;
    } else if (strcmp(what, "done") == 0) {
        if (O.running[bk] && in_window()) {
            uint64_t from = O.op_start[bk] > O.s0.st.time_ns ? O.op_start[bk] : O.s0.st.time_ns;
            O.busy[bk][O.op_kind[bk]] += now - from;
            O.count[bk][O.op_kind[bk]]++;
            if (O.op_kind[bk] == 0)
                O.t_prog_end = now;
        }
        O.running[bk] = false;
        O.have_done[bk] = kind == 0;
        O.done_t[bk] = now;
        O.done_insns[bk] = insns;
    }
}

/* H7BENCH_DUMP=FROM_NS:TO_NS:FILE copies the trace lines of that window
 * of virtual time into FILE (to see what the firmware did in a gap). */
static void dump_line(const char *l, const struct vb_stats *st)
{
    static int state; /* 0 unparsed, 1 off, 2 on */
    static unsigned long long from, to;
    static FILE *f;
    if (state == 0) {
        const char *e = getenv("H7BENCH_DUMP");
        char path[256];
        state = 1;
        if (e && sscanf(e, "%llu:%llu:%255s", &from, &to, path) == 3 && (f = fopen(path, "w")))
            state = 2;
    }
    if (state == 2 && st->time_ns >= from && st->time_ns <= to &&
        !(getenv("H7BENCH_DUMP_SKIP") && strstr(l, getenv("H7BENCH_DUMP_SKIP"))))
        fprintf(f, "%s uart_rx=%llu uart_tx=%llu pc=0x%x insns=%llu\n", l,
                (unsigned long long)st->uart_rx, (unsigned long long)st->uart_tx, st->pc,
                (unsigned long long)st->insns);
    if (state == 2 && st->time_ns > to) {
        fclose(f);
        state = 1;
    }
}

static void rx_idle(const struct vb_stats *st)
{
    uint64_t frame = st->baud ? 10000000000ull / st->baud : 0, at = O.rx_at_ns;
    O.rx_at_ns = st->time_ns;
    if (!in_window() || !at || !frame || st->time_ns - at <= 2 * frame)
        return;
    uint64_t len = st->time_ns - at - frame;
    O.rx_idle_ns += len;
    O.rx_idle_n++;
    unsigned k = 8;
    while (k > 0 && O.idle_top[k - 1].len < len) {
        if (k < 8)
            O.idle_top[k] = O.idle_top[k - 1];
        k--;
    }
    if (k < 8) {
        O.idle_top[k].at = at;
        O.idle_top[k].len = len;
    }
}

static void trace_line(char *l)
{
    struct vb_stats st;
    if (!O.b)
        return; /* vb_new() traces ("flash loaded from FILE") before it returns */
    vb_get_stats(O.b, &st);
    dump_line(l, &st);
    /* Every received byte enters the bootloader's RX interrupt, which
     * traces: a host byte with board output since the previous one is a
     * host reaction, held for one turnaround by the board's host model. */
    if (st.uart_rx != O.last_rx) {
        if (in_window() && st.uart_tx != O.tx_at_last_rx)
            O.turns++;
        rx_idle(&st);
        O.last_rx = st.uart_rx;
        O.tx_at_last_rx = st.uart_tx;
    }
    char *p = strstr(l, "] ");
    p = p ? p + 2 : l;
    if (strncmp(p, "flash ", 6) == 0) {
        flash_event(p, st.time_ns, st.insns);
        return;
    }
    if (strncmp(p, "host byte arrived late", 22) == 0 && in_window()) {
        if (!O.late++)
            O.late_first_ns = st.time_ns;
        return;
    }
    if (!O.s0.taken) {
        if (strstr(p, "first contact with the host")) {
            snap(&O.s0);
            mark(O.ready, st.time_ns);
        }
    }
    unsigned v;
    if (!O.app) {
        if (sscanf(p, "VTOR = 0x%x", &v) == 1 && v == O.app_vtor && O.s0.taken) {
            O.app = true;
            snap(&O.s_app);
            return;
        }
        if (strncmp(p, "core clock", 10) != 0 && st.baud) {
            O.link_baud = st.baud;
            O.boot_hz = st.core_hz;
        }
        /* "USART3 CR1 = 0x... (8E1, FIFO)": start + data + parity + stop bits. */
        unsigned data, stop;
        char par;
        const char *fmt = strchr(p, '(');
        if (strncmp(p, "USART3 CR1 = ", 13) == 0 && sscanf(p + 13, "0x%x", &v) == 1 && (v & 1u) &&
            fmt && sscanf(fmt, "(%1u%c%1u", &data, &par, &stop) == 3)
            O.link_bits = 1 + data + (par != 'N') + stop;
        return;
    }
    if (!O.s_ban.taken && strncmp(p, "USART3 CR1 = ", 13) == 0 && sscanf(p + 13, "0x%x", &v) == 1 &&
        (v & 1u) && (v & 8u)) {
        snap(&O.s_ban);
        mark(O.banner, st.time_ns);
    }
}

static ssize_t trace_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    for (size_t i = 0; i < size; i++) {
        if (buf[i] == '\n') {
            O.line[O.n] = 0;
            trace_line(O.line);
            O.n = 0;
        } else if (O.n < sizeof O.line - 1) {
            O.line[O.n++] = buf[i];
        }
    }
    return (ssize_t)size;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void write_result(FILE *f, enum vb_stop why)
{
    struct vb_stats end;
    vb_get_stats(O.b, &end);
    fprintf(f, "stop=%s\n", vb_stop_name(why));
    fprintf(f, "wall_s=%.6f\ncpu_s=%.6f\ninsns_total=%llu\n", end.wall_s, end.cpu_s,
            (unsigned long long)end.insns);
    fprintf(f, "uart_ore=%llu\n", (unsigned long long)end.uart_ore);
    if (O.error[0]) {
        fprintf(f, "error=%s\n", O.error);
        return;
    }
    if (!O.s0.taken) {
        fprintf(f, "error=the firmware never waited for the host\n");
        return;
    }
    fprintf(f, "t0_ns=%llu\n", (unsigned long long)O.s0.st.time_ns);
    fprintf(f, "link_baud=%u\nlink_frame_bits=%u\n", O.link_baud, O.link_bits);
    fprintf(f, "psize=%d\n", O.psize);
    if (O.s_app.taken)
        fprintf(f, "t_app_ns=%llu\n", (unsigned long long)O.s_app.st.time_ns);
    if (!O.s_ban.taken) {
        fprintf(f, "error=the application did not start its banner\n");
        return;
    }
    const struct vb_stats *a = &O.s0.st, *z = &O.s_ban.st;
    fprintf(f, "t_banner_ns=%llu\n", (unsigned long long)z->time_ns);
    /* The start of the host's first byte, as the board stamped it (the
     * same instant as first contact when the client is prompt). */
    if (z->first_rx_ns != UINT64_MAX)
        fprintf(f, "t_first_rx_ns=%llu\n", (unsigned long long)z->first_rx_ns);
    fprintf(f, "t_erase0_ns=%llu\nt_prog0_ns=%llu\nt_prog_end_ns=%llu\n",
            (unsigned long long)O.t_erase0, (unsigned long long)O.t_prog0,
            (unsigned long long)O.t_prog_end);
    fprintf(f, "rx_bytes=%llu\ntx_bytes=%llu\n", (unsigned long long)(z->uart_rx - a->uart_rx),
            (unsigned long long)(z->uart_tx - a->uart_tx));
    fprintf(f, "rx_wire_ns=%llu\ntx_wire_ns=%llu\n",
            (unsigned long long)(z->rx_wire_ns - a->rx_wire_ns),
            (unsigned long long)(z->tx_wire_ns - a->tx_wire_ns));
    fprintf(f, "stall_ns=%llu\nidle_ns=%llu\ninsns=%llu\n",
            (unsigned long long)(z->stall_ns - a->stall_ns),
            (unsigned long long)(z->idle_ns - a->idle_ns),
            (unsigned long long)(z->insns - a->insns));
    fprintf(f, "boot_core_hz=%u\n", O.boot_hz);
    fprintf(f, "late_host_bytes=%llu\n", (unsigned long long)O.late);
    if (O.late)
        fprintf(f, "late_first_ns=%llu\n", (unsigned long long)O.late_first_ns);
    fprintf(f, "turnarounds=%llu\nturnaround_ns=%llu\n", (unsigned long long)O.turns,
            (unsigned long long)(O.turns * O.turnaround_ns));
    fprintf(f, "rx_idle_ns=%llu\nrx_idle_gaps=%llu\n", (unsigned long long)O.rx_idle_ns,
            (unsigned long long)O.rx_idle_n);
    for (unsigned k = 0; k < 8 && O.idle_top[k].len; k++)
        fprintf(f, "rx_idle_%u=%llu+%llu\n", k, (unsigned long long)O.idle_top[k].at,
                (unsigned long long)O.idle_top[k].len);
    static const char *const kn[3] = { "program", "erase", "other" };
    for (unsigned bk = 0; bk < 2; bk++)
        for (unsigned k = 0; k < 3; k++)
            fprintf(f, "bank%u_%s_ns=%llu\nbank%u_%s_ops=%llu\n", bk + 1, kn[k],
                    (unsigned long long)O.busy[bk][k], bk + 1, kn[k],
                    (unsigned long long)O.count[bk][k]);
    if (O.ngaps) {
        qsort(O.gaps, O.ngaps, sizeof *O.gaps, cmp_u64);
        fprintf(f, "driver_cycles_per_word=%llu\ndriver_cycles_samples=%zu\n",
                (unsigned long long)O.gaps[O.ngaps / 2], O.ngaps);
    }
}

static int cmd_board(int argc, char **argv)
{
    struct vb_config cfg;
    vb_config_default(&cfg);
    cfg.link = VB_LINK_PTY;
    cfg.wait_host = true;
    const char *result = NULL;
    O.app_vtor = BOOT_APP_START;
    O.psize = -1;
    O.link_bits = 10;
    static const struct option opts[] = {
        { "pty-link", required_argument, 0, 'l' },
        { "flash", required_argument, 0, 'f' },
        { "turnaround-us", required_argument, 0, 't' },
        { "host-wait-ms", required_argument, 0, 'w' },
        { "host-gap-ms", required_argument, 0, 'g' },
        { "host-idle-ms", required_argument, 0, 'i' },
        { "max-time-ms", required_argument, 0, 'x' },
        { "app-vtor", required_argument, 0, 'v' },
        { "ready", required_argument, 0, 'r' },
        { "banner", required_argument, 0, 'n' },
        { "result", required_argument, 0, 'o' },
        { "expect-baud", required_argument, 0, 'e' },
        { "host-baud", required_argument, 0, 'b' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': cfg.pty_link = optarg; break;
        case 'f': cfg.flash_file = optarg; break;
        case 't': cfg.turnaround_ns = num(optarg, "--turnaround-us") * 1000u; break;
        case 'w': cfg.host_wait_ms = (unsigned)num(optarg, "--host-wait-ms"); break;
        case 'g': cfg.host_gap_ms = (unsigned)num(optarg, "--host-gap-ms"); break;
        case 'i': cfg.host_idle_ms = (unsigned)num(optarg, "--host-idle-ms"); break;
        case 'x': cfg.max_time_ns = num(optarg, "--max-time-ms") * 1000000ull; break;
        case 'v': O.app_vtor = (uint32_t)num(optarg, "--app-vtor"); break;
        case 'r': O.ready = optarg; break;
        case 'n': O.banner = optarg; break;
        case 'o': result = optarg; break;
        case 'e': O.expect_baud = (uint32_t)num(optarg, "--expect-baud"); break;
        case 'b': cfg.host_baud = (uint32_t)num(optarg, "--host-baud"); break;
        default: return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr,
                "usage: h7bench board [--pty-link F] [--flash F] [--turnaround-us N]\n"
                "       [--host-wait-ms N] [--host-gap-ms N] [--host-idle-ms N] [--max-time-ms N]\n"
                "       [--app-vtor A] [--ready F] [--banner F] [--result F] [--expect-baud B]\n"
                "       [--host-baud B]\n"
                "       BOOT.elf\n");
        return 2;
    }
    O.turnaround_ns = cfg.turnaround_ns;
    static const cookie_io_functions_t io = { .write = trace_write };
    FILE *tr = fopencookie(NULL, "w", io);
    if (!tr)
        return 1;
    setvbuf(tr, NULL, _IOLBF, 0);
    cfg.trace = tr;
    struct vb *b = vb_new(&cfg);
    if (!b)
        return 1;
    O.b = b;
    if (vb_load_elf(b, argv[optind]) != 0) {
        vb_free(b);
        return 1;
    }
    the_board = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A board never outlives the harness that started it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    enum vb_stop why = vb_run(b);
    fflush(tr);
    vb_print_summary(b, stderr);
    FILE *f = result ? fopen(result, "w") : stdout;
    if (!f) {
        perror(result);
        f = stdout;
    }
    write_result(f, why);
    if (f != stdout)
        fclose(f);
    the_board = NULL;
    vb_free(b);
    fclose(tr);
    free(O.gaps);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "limit") == 0)
        return cmd_limit(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "board") == 0)
        return cmd_board(argc - 1, argv + 1);
    fprintf(stderr, "usage: h7bench limit --size S --baud B [...]\n"
                    "       h7bench board [...] BOOT.elf\n"
                    "(see the comment at the top of bench/h7bench.c, and docs/BENCHMARKS.md)\n");
    return 2;
}
