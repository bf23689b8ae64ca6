/*
 * h7vboard: run a firmware ELF on the virtual STM32H745 board.
 * See --help and docs/VBOARD.md.
 */
#define _GNU_SOURCE
#include "vboard.h"
#include "stm32h7/memorymap.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct vb *volatile the_board;
static volatile sig_atomic_t early_signal;

static void on_signal(int sig)
{
    struct vb *b = the_board;
    if (!b)
        early_signal = sig; /* applied once the board exists */
    else if (sig == SIGUSR1)
        vb_request_power_cut(b);
    else
        vb_request_stop(b, VB_STOP_SIGNAL);
}

static void usage(FILE *out)
{
    fputs(
        "usage: h7vboard [options] FIRMWARE.elf [MORE.elf ...]\n"
        "       h7vboard [options] --flash FILE           (power on what FILE holds)\n"
        "\n"
        "Run Cortex-M7 firmware on the virtual STM32H745 board: Unicorn CPU, the h7sim\n"
        "FLASH model, NVIC/SCB/SysTick/DWT, RCC/PWR, IWDG, HSEM and USART3. Every ELF's\n"
        "PT_LOAD segments are loaded at their physical addresses (flash through the\n"
        "model's back door, like st-flash; RAM directly); the core boots from the\n"
        "BOOT7 ADD0 option byte address (0x08000000 on a fresh part).\n"
        "\n"
        "USART3 link (default: none, output discarded):\n"
        "  --pty                 on a pseudo-terminal; its path is printed on stderr\n"
        "  --pty-link FILE       same, and make FILE a symlink to the pty\n"
        "  --pty-file FILE       same, and write the pty path into FILE\n"
        "  --stdio               on stdin/stdout\n"
        "  --tcp PORT            on 127.0.0.1:PORT (one client at a time)\n"
        "\n"
        "Host timing (virtual time stays deterministic, see docs/VBOARD.md):\n"
        "  --turnaround-us N     host reaction latency after the board's last byte (1000)\n"
        "  --host-wait-ms N      wall time to wait for the first byte of a host reaction (1000)\n"
        "  --host-gap-ms N       wall time to wait for the rest of a host reaction (2)\n"
        "  --host-idle-ms N      the host counts as attached this long after its last byte (3000)\n"
        "  --wait-host           treat the host as attached before its first byte\n"
        "                        (waits up to 5 s for it at the first sync point)\n"
        "  --check-line-format   pty: read host bytes in the client's termios format\n"
        "  --host-baud N         the host sends and listens at N baud (default: at whatever\n"
        "                        rate the firmware programmed); bytes at a rate that differs\n"
        "                        by more than 3.5%% from BRR arrive garbled, unless USART\n"
        "                        auto-baud (CR2.ABREN) measured them\n"
        "                        (parity, size) and set PE/FE when USART3 differs\n"
        "\n"
        "Flash:\n"
        "  --flash FILE          keep the array and option bytes in FILE (created if missing)\n"
        "  --erase               start from an erased part (ignore FILE's contents)\n"
        "  --timing-max          datasheet maximum program/erase times (default typical)\n"
        "  --exact-read-stalls   data reads of a bank stall during word programs too\n"
        "                        (default: during erases; fetches always stall)\n"
        "  --cut-after-ops N     power cut during the (N+1)-th array operation\n"
        "  --cut-at-ns T         power cut at virtual time T ns (also: SIGUSR1 = cut now)\n"
        "  --boot ADDR           boot from ADDR instead of the BOOT7 option byte\n"
        "  --flip-bits ADDR:N    flip N bits of the flash word at ADDR at power-on\n"
        "                        (1: single-ECC, corrected; 2+: double-ECC, a bus\n"
        "                        error on read); up to 8 times\n"
        "\n"
        "Debugger:\n"
        "  --gdb PORT            GDB remote protocol on 127.0.0.1:PORT (gdb-multiarch:\n"
        "                        target remote :PORT); the core waits halted at reset\n"
        "\n"
        "Limits and output:\n"
        "  --max-time-ms N       stop after N ms of virtual time (exit 3)\n"
        "  --max-insns N         stop after N instructions (exit 3)\n"
        "  --stop-on-watchdog    a watchdog reset stops the board (exit 4)\n"
        "  --stop-on-reset       SYSRESETREQ stops the board (exit 0)\n"
        "  --hse-hz N            HSE frequency (8000000, the ST-LINK MCO)\n"
        "  --trace               flash operations, exceptions, unmodelled accesses on stderr\n"
        "  --trace-file FILE     same, into FILE\n"
        "  --cache-log FILE      one line per cache maintenance operation: NAME ADDR TIME_NS\n"
        "  --quiet               no summary line\n"
        "  -h, --help            this text\n"
        "\n"
        "The firmware stops the board with bkpt #0x42 (r0 = 0: success) or semihosting\n"
        "SYS_EXIT; semihosting SYS_WRITE0/SYS_WRITEC/SYS_WRITE print on stdout.\n"
        "\n"
        "Exit codes: 0 clean stop, 1 firmware-reported failure, 2 fault, 3 time or\n"
        "instruction limit, 4 watchdog (--stop-on-watchdog), 5 power cut, 6 signal,\n"
        "9 usage or load error.\n",
        out);
}

static unsigned long long num(const char *s, const char *opt)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*s == 0 || *end != 0) {
        fprintf(stderr, "h7vboard: %s: bad number '%s'\n", opt, s);
        exit(VB_EXIT_USAGE);
    }
    return v;
}

/* --flip-bits ADDR:N, ADDR inside the flash array. */
static void flip_arg(struct vb_config *cfg, const char *arg)
{
    char *end;
    unsigned long long addr = strtoull(arg, &end, 0), n;
    if (end == arg || *end != ':' || !end[1])
        goto bad;
    n = num(end + 1, "--flip-bits");
    if (addr < H7_FLASH_BASE || addr > H7_FLASH_END || n < 1 || n > 256)
        goto bad;
    if (cfg->n_flips == sizeof cfg->flips / sizeof cfg->flips[0]) {
        fprintf(stderr, "h7vboard: --flip-bits: at most %zu\n",
                sizeof cfg->flips / sizeof cfg->flips[0]);
        exit(VB_EXIT_USAGE);
    }
    cfg->flips[cfg->n_flips].addr = (uint32_t)addr;
    cfg->flips[cfg->n_flips++].nbits = (unsigned)n;
    return;
bad:
    fprintf(stderr,
            "h7vboard: --flip-bits: want ADDR:N with ADDR in the flash array "
            "(0x%08x-0x%08x) and N in 1..256, not '%s'\n",
            H7_FLASH_BASE, H7_FLASH_END, arg);
    exit(VB_EXIT_USAGE);
}

int main(int argc, char **argv)
{
    struct vb_config cfg;
    vb_config_default(&cfg);
    bool quiet = false;
    const char *trace_file = NULL;
    enum {
        O_PTY = 256,
        O_PTY_LINK,
        O_PTY_FILE,
        O_STDIO,
        O_TCP,
        O_TURN,
        O_HWAIT,
        O_HGAP,
        O_HIDLE,
        O_WAITHOST,
        O_LINEFMT,
        O_HBAUD,
        O_FLASH,
        O_ERASE,
        O_TMAX,
        O_CUTOPS,
        O_CUTNS,
        O_BOOT,
        O_MAXT,
        O_MAXI,
        O_FLIP,
        O_WDG,
        O_RST,
        O_HSE,
        O_EXACT,
        O_TRACE,
        O_TRACEF,
        O_CACHE,
        O_QUIET,
        O_GDB,
    };
    static const struct option opts[] = {
        { "pty", no_argument, 0, O_PTY },
        { "pty-link", required_argument, 0, O_PTY_LINK },
        { "pty-file", required_argument, 0, O_PTY_FILE },
        { "stdio", no_argument, 0, O_STDIO },
        { "tcp", required_argument, 0, O_TCP },
        { "turnaround-us", required_argument, 0, O_TURN },
        { "host-wait-ms", required_argument, 0, O_HWAIT },
        { "host-gap-ms", required_argument, 0, O_HGAP },
        { "host-idle-ms", required_argument, 0, O_HIDLE },
        { "wait-host", no_argument, 0, O_WAITHOST },
        { "check-line-format", no_argument, 0, O_LINEFMT },
        { "host-baud", required_argument, 0, O_HBAUD },
        { "flash", required_argument, 0, O_FLASH },
        { "erase", no_argument, 0, O_ERASE },
        { "timing-max", no_argument, 0, O_TMAX },
        { "exact-read-stalls", no_argument, 0, O_EXACT },
        { "cut-after-ops", required_argument, 0, O_CUTOPS },
        { "cut-at-ns", required_argument, 0, O_CUTNS },
        { "boot", required_argument, 0, O_BOOT },
        { "flip-bits", required_argument, 0, O_FLIP },
        { "max-time-ms", required_argument, 0, O_MAXT },
        { "max-insns", required_argument, 0, O_MAXI },
        { "stop-on-watchdog", no_argument, 0, O_WDG },
        { "stop-on-reset", no_argument, 0, O_RST },
        { "hse-hz", required_argument, 0, O_HSE },
        { "trace", no_argument, 0, O_TRACE },
        { "trace-file", required_argument, 0, O_TRACEF },
        { "cache-log", required_argument, 0, O_CACHE },
        { "quiet", no_argument, 0, O_QUIET },
        { "gdb", required_argument, 0, O_GDB },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_PTY: cfg.link = VB_LINK_PTY; break;
        case O_PTY_LINK:
            cfg.link = VB_LINK_PTY;
            cfg.pty_link = optarg;
            break;
        case O_PTY_FILE:
            cfg.link = VB_LINK_PTY;
            cfg.pty_file = optarg;
            break;
        case O_STDIO: cfg.link = VB_LINK_STDIO; break;
        case O_TCP:
            cfg.link = VB_LINK_TCP;
            cfg.tcp_port = (int)num(optarg, "--tcp");
            break;
        case O_TURN: cfg.turnaround_ns = num(optarg, "--turnaround-us") * 1000; break;
        case O_HWAIT: cfg.host_wait_ms = (unsigned)num(optarg, "--host-wait-ms"); break;
        case O_HGAP: cfg.host_gap_ms = (unsigned)num(optarg, "--host-gap-ms"); break;
        case O_HIDLE: cfg.host_idle_ms = (unsigned)num(optarg, "--host-idle-ms"); break;
        case O_WAITHOST: cfg.wait_host = true; break;
        case O_LINEFMT: cfg.check_line_format = true; break;
        case O_HBAUD: cfg.host_baud = (uint32_t)num(optarg, "--host-baud"); break;
        case O_FLASH: cfg.flash_file = optarg; break;
        case O_ERASE: cfg.erase = true; break;
        case O_TMAX: cfg.timing_max = true; break;
        case O_EXACT: cfg.exact_read_stalls = true; break;
        case O_CUTOPS:
            cfg.cut_after_ops_set = true;
            cfg.cut_after_ops = num(optarg, "--cut-after-ops");
            break;
        case O_CUTNS: cfg.cut_at_ns = num(optarg, "--cut-at-ns"); break;
        case O_FLIP: flip_arg(&cfg, optarg); break;
        case O_BOOT: cfg.boot_addr = (uint32_t)num(optarg, "--boot"); break;
        case O_MAXT: cfg.max_time_ns = num(optarg, "--max-time-ms") * 1000000ull; break;
        case O_MAXI: cfg.max_insns = num(optarg, "--max-insns"); break;
        case O_WDG: cfg.stop_on_watchdog = true; break;
        case O_RST: cfg.stop_on_reset = true; break;
        case O_HSE: cfg.hse_hz = (uint32_t)num(optarg, "--hse-hz"); break;
        case O_TRACE: cfg.trace = stderr; break;
        case O_TRACEF: trace_file = optarg; break;
        case O_CACHE: cfg.cache_log = optarg; break;
        case O_QUIET: quiet = true; break;
        case O_GDB: cfg.gdb_port = (int)num(optarg, "--gdb"); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return VB_EXIT_USAGE;
        }
    }
    if (optind >= argc && !cfg.flash_file) {
        usage(stderr);
        return VB_EXIT_USAGE;
    }
    if (trace_file) {
        cfg.trace = fopen(trace_file, "w");
        if (!cfg.trace) {
            perror(trace_file);
            return VB_EXIT_USAGE;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct vb *b = vb_new(&cfg);
    if (!b)
        return VB_EXIT_USAGE;
    for (int i = optind; i < argc; i++)
        if (vb_load_elf(b, argv[i]) != 0) {
            vb_free(b);
            return VB_EXIT_USAGE;
        }
    the_board = b;
    if (early_signal == SIGUSR1)
        vb_request_power_cut(b);
    else if (early_signal)
        vb_request_stop(b, VB_STOP_SIGNAL);
    enum vb_stop why = vb_run(b);
    if (!quiet)
        vb_print_summary(b, stderr);
    int rc = vb_exit_code(why);
    the_board = NULL;
    vb_free(b);
    if (trace_file && cfg.trace)
        fclose(cfg.trace);
    return rc;
}
