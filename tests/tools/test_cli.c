/*
 * The h7iap program itself against the fake AN3155 target on a pty: every
 * command, the three input formats, and every error with its exit code.
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "an3155.h"
#include "fake_an3155.h"
#include "fixtures.h"
#include "update_record.h"

struct rig {
    struct fake_target f;
    int master;
    int slave_hold; /* keeps the pty alive between runs */
    char slave[128];
    char out[65536], err[65536];
    int started;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);
    fake_init(&r->f);
    r->master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(r->master >= 0);
    assert_int_equal(grantpt(r->master), 0);
    assert_int_equal(unlockpt(r->master), 0);
    snprintf(r->slave, sizeof r->slave, "%s", ptsname(r->master));
    r->slave_hold = open(r->slave, O_RDWR | O_NOCTTY);
    assert_true(r->slave_hold >= 0);
    struct termios t;
    tcgetattr(r->slave_hold, &t);
    cfmakeraw(&t);
    tcsetattr(r->slave_hold, TCSANOW, &t);
    *state = r;
    return 0;
}

static void start(struct rig *r)
{
    assert_int_equal(fake_start(&r->f, r->master), 0);
    r->started = 1;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    if (r->started)
        fake_stop(&r->f);
    close(r->slave_hold);
    close(r->master);
    int dbl = r->f.double_programs;
    free(r);
    return dbl ? -1 : 0;
}

static void slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, n - 1, f) : 0;
    buf[len] = '\0';
    if (f)
        fclose(f);
}

/* Address-space limit for the next runs of h7iap (0: none). Not under
 * ASan, which reserves terabytes of shadow memory at start. */
static rlim_t child_as_limit;

/* Run h7iap with args (NULL-terminated); returns its exit status. */
static int run(struct rig *r, ...)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = H7IAP_BIN;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 39)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char op[256], ep[256];
    snprintf(op, sizeof op, "%s/stdout", fx_tmpdir());
    snprintf(ep, sizeof ep, "%s/stderr", fx_tmpdir());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        unsetenv("H7IAP_PORT");
        if (child_as_limit) {
            struct rlimit rl = { child_as_limit, child_as_limit };
            setrlimit(RLIMIT_AS, &rl);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    for (int i = 0; i < 6000; i++) { /* 60 s */
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        if (i == 5999) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("h7iap hung");
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    slurp(op, r->out, sizeof r->out);
    slurp(ep, r->err, sizeof r->err);
    if (!WIFEXITED(st))
        fail_msg("h7iap died: %s", r->err);
    return WEXITSTATUS(st);
}

#define CHECK_ERR(r, text)                                          \
    do {                                                            \
        if (!strstr((r)->err, (text)))                              \
            fail_msg("stderr lacks \"%s\":\n%s", (text), (r)->err); \
    } while (0)

static const char *file(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", fx_tmpdir(), name);
    return p[k];
}

static void test_help(void **state)
{
    struct rig *r = *state;
    assert_int_equal(run(r, "--help", NULL), 0);
    assert_non_null(strstr(r->out, "EXIT STATUS"));
    /* The documented exit statuses (docs/h7iap.1): scripts rely on them. */
    static const char *const status[] = {
        "     0  success\n",
        "     1  I/O or internal failure\n",
        "     2  bad command line\n",
        "     3  serial port missing, busy or unusable\n",
        "     4  no answer from the bootloader\n",
        "     5  the bootloader refused a command (NACK)\n",
        "     6  input file unreadable or malformed\n",
        "     7  image too large for the application area\n",
        "     8  address outside the application area\n",
        "     9  verify mismatch\n",
        "    10  protocol error (unexpected reply)\n",
        "    11  virtual board could not be started or stopped unexpectedly\n",
    };
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        if (!strstr(r->out, status[i]))
            fail_msg("--help lacks \"%s\"", status[i]);
    const char *cmds[] = { "info", "flash", "verify", "read", "erase", "go", "reset" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        assert_int_equal(run(r, cmds[i], "--help", NULL), 0);
        assert_non_null(strstr(r->out, "usage: h7iap"));
    }
    assert_int_equal(run(r, "help", "flash", NULL), 0);
    assert_non_null(strstr(r->out, "flash FILE"));
}

static void test_usage_errors(void **state)
{
    struct rig *r = *state;
    assert_int_equal(run(r, NULL), 2);
    CHECK_ERR(r, "no command");
    assert_int_equal(run(r, "frobnicate", NULL), 2);
    CHECK_ERR(r, "unknown command 'frobnicate'");
    assert_int_equal(run(r, "--bogus", "info", NULL), 2);
    CHECK_ERR(r, "unknown option --bogus");
    assert_int_equal(run(r, "flash", NULL), 2);
    assert_int_equal(run(r, "-m", "odd", "info", NULL), 2);
    assert_int_equal(run(r, "info", NULL), 2);
    CHECK_ERR(r, "no port");
    assert_int_equal(run(r, "-p", r->slave, "-b", "12345", "info", NULL), 2);
    CHECK_ERR(r, "baud rate 12345 is not supported");
}

static void test_port_missing_and_busy(void **state)
{
    struct rig *r = *state;
    assert_int_equal(run(r, "-p", "/dev/ttyNOPE0", "info", NULL), 3);
    CHECK_ERR(r, "port /dev/ttyNOPE0 not found");
    int busy = open(r->slave, O_RDWR | O_NOCTTY);
    assert_int_equal(flock(busy, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(run(r, "-p", r->slave, "info", NULL), 3);
    CHECK_ERR(r, "is busy");
    close(busy);
    assert_int_equal(run(r, "-p", "/dev/null", "info", NULL), 3);
    CHECK_ERR(r, "not a serial device");
    /* A pty drops PARENB: forcing 8E1 fails, auto degrades to 8N1. */
    assert_int_equal(run(r, "-p", r->slave, "-m", "even", "info", NULL), 3);
    CHECK_ERR(r, "refuses even parity");
}

static void test_no_answer(void **state)
{
    struct rig *r = *state;
    r->f.silent = true;
    start(r);
    assert_int_equal(run(r, "-p", r->slave, "--retries", "2", "info", NULL), 4);
    CHECK_ERR(r, "no answer from the bootloader");
    CHECK_ERR(r, "BOOT0");
}

static void test_info(void **state)
{
    struct rig *r = *state;
    r->f.banner = "h7boot fake\r\n";
    start(r);
    assert_int_equal(run(r, "-p", r->slave, "info", NULL), 0);
    assert_non_null(strstr(r->out, "0x450"));
    assert_non_null(strstr(r->out, "Extended Erase(0x44)"));
    assert_non_null(strstr(r->out, "image:       none"));
    assert_null(strstr(r->out, "record:")); /* no log without the extension */
}

static void test_info_record(void **state)
{
    struct rig *r = *state;
    r->f.offer_reason = true;
    start(r);
    assert_int_equal(run(r, "-p", r->slave, "info", NULL), 0);
    assert_non_null(strstr(r->out, "record:      none"));
    /* Log: 37 records, the newest COMPLETE, then a torn slot. */
    for (uint32_t i = 0; i < 37; i++) {
        struct ur_record rec = {
            .state = i == 36 ? UR_STATE_COMPLETE : UR_STATE_STARTED,
            .sequence = 100 + i,
            .start = 0x08040000u,
            .length = 4096,
            .image_crc = 0xCAFEF00Du,
        };
        ur_encode(&rec, r->f.flash + 0x20000 + 32 * i);
    }
    memset(r->f.flash + 0x20000 + 32 * 37, 0x55, 32);
    assert_int_equal(run(r, "-p", r->slave, "info", NULL), 0);
    if (!strstr(r->out, "update #136 COMPLETE: 0x08040000, 4096 bytes, CRC-32 0xcafef00d (log slot "
                        "36 of 4096; record v2: flash CRC unit)"))
        fail_msg("%s", r->out);
}

static uint8_t *make_image(size_t n, uint32_t seed)
{
    uint8_t *d = malloc(n);
    fx_fill(d, n, seed);
    /* A plausible vector table: SP in DTCM, Thumb reset handler. */
    const uint8_t vt[8] = { 0x00, 0x00, 0x02, 0x20, 0x01, 0x02, 0x04, 0x08 };
    memcpy(d, vt, 8);
    return d;
}

/* bin, HEX and ELF of one image give the same flash; read gives it back. */
static void test_formats_same_flash(void **state)
{
    struct rig *r = *state;
    start(r);
    const size_t n = 150000; /* pages 2 and 3, odd tail */
    uint8_t *d = make_image(n, 21);
    struct fx_seg s = { 0x08040000u, d, (uint32_t)n };
    char *hex = fx_hex(&s, 1);
    size_t elflen;
    uint8_t *elf = fx_elf(&s, 1, 0, &elflen);
    fx_write(file("app.bin"), d, n);
    fx_write(file("app.hex"), hex, strlen(hex));
    fx_write(file("app.elf"), elf, elflen);
    const char *names[3] = { "app.bin", "app.hex", "app.elf" };
    static uint8_t first[FAKE_FLASH_SIZE];
    for (int k = 0; k < 3; k++) {
        int rc = run(r, "-p", r->slave, "flash", file(names[k]), NULL);
        if (rc)
            fail_msg("flash %s: %d\n%s", names[k], rc, r->err);
        /* Not a terminal: plain progress lines per phase. */
        CHECK_ERR(r, "erase: 2 sector(s)");
        CHECK_ERR(r, "write: 150016 bytes from 0x08040000");
        CHECK_ERR(r, "verify: done");
        CHECK_ERR(r, "flashed 150000 bytes to 0x08040000-0x080649ef, verified");
        if (k == 0)
            memcpy(first, r->f.flash, FAKE_FLASH_SIZE);
        else
            assert_memory_equal(first, r->f.flash, FAKE_FLASH_SIZE);
    }
    assert_memory_equal(r->f.flash + 0x40000, d, n);
    /* Every flash ended with a reset into the new image ... */
    assert_int_equal(r->f.resets, 3);
    /* ... unless asked not to. */
    assert_int_equal(run(r, "-p", r->slave, "flash", "--no-reset", file("app.bin"), NULL), 0);
    CHECK_ERR(r, "the bootloader stays in charge");
    assert_int_equal(r->f.resets, 3);
    assert_int_equal(run(r, "-p", r->slave, "verify", file("app.hex"), NULL), 0);
    CHECK_ERR(r, "verify OK");
    assert_int_equal(
        run(r, "-p", r->slave, "-q", "read", "0x08040000", "150000", file("back.bin"), NULL), 0);
    assert_string_equal(r->err, "");
    FILE *f = fopen(file("back.bin"), "rb");
    uint8_t *back = malloc(n);
    assert_int_equal(fread(back, 1, n, f), n);
    fclose(f);
    assert_memory_equal(back, d, n);
    free(back);
    free(d);
    free(hex);
    free(elf);
}

static void test_nack(void **state)
{
    struct rig *r = *state;
    r->f.offer_reason = true;
    r->f.nack_write_at = 0x08040200u;
    start(r);
    uint8_t *d = make_image(4096, 22);
    fx_write(file("n.bin"), d, 4096);
    free(d);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("n.bin"), NULL), 5);
    CHECK_ERR(r, "Write Memory at 0x08040200 refused");
    CHECK_ERR(r, "flash controller error");
    assert_int_equal(r->f.writes, 2);
    assert_int_equal(run(r, "-p", r->slave, "erase", "app", NULL), 0);
    CHECK_ERR(r, "erased sector(s) app");
    assert_int_equal(r->f.erased_mask, 0xFFFCu);
}

static void test_too_large_and_outside(void **state)
{
    struct rig *r = *state;
    start(r);
    static uint8_t big[0x1C0000 + 32];
    fx_write(file("big.bin"), big, sizeof big);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("big.bin"), NULL), 7);
    CHECK_ERR(r, "image too large");
    fx_write(file("small.bin"), big, 64);
    assert_int_equal(run(r, "-p", r->slave, "-a", "0x08000000", "flash", file("small.bin"), NULL),
                     8);
    CHECK_ERR(r, "data at 0x08000000 is outside the application area 0x08040000-0x081fffff");
    assert_int_equal(run(r, "-p", r->slave, "go", "0x20000000", NULL), 8);
    CHECK_ERR(r, "go address 0x20000000 is outside");
    assert_int_equal(run(r, "-p", r->slave, "erase", "0,2", NULL), 8);
    CHECK_ERR(r, "holds the bootloader");
    /* Nothing reached the board: all refused before connecting. */
    assert_int_equal(r->f.writes + r->f.erases + r->f.gos, 0);
    fx_write(file("bad.hex"), ":0400000001020304F0\n", 20);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("bad.hex"), NULL), 6);
    CHECK_ERR(r, "checksum error on line 1");
    assert_int_equal(run(r, "-p", r->slave, "flash", file("missing.bin"), NULL), 6);
    CHECK_ERR(r, "cannot open");
}

/* Files that used to crash h7iap or exhaust memory: exit 6 at once. */
static void test_bad_images(void **state)
{
    struct rig *r = *state;
    start(r);
#if !defined(__SANITIZE_ADDRESS__)
    child_as_limit = 256u << 20;
#endif
    /* Out-of-order HEX records, the last two overlapping: was a double free. */
    const char *ovl = ":020000040804EE\n"
                      ":10001000101112131415161718191A1B1C1D1E1F68\n"
                      ":10000000000102030405060708090A0B0C0D0E0F78\n"
                      ":10010000000102030405060708090A0B0C0D0E0F77\n"
                      ":1001050005060708090A0B0C0D0E0F101112131422\n"
                      ":00000001FF\n";
    fx_write(file("ovl.hex"), ovl, strlen(ovl));
    assert_int_equal(run(r, "-p", r->slave, "flash", file("ovl.hex"), NULL), 6);
    CHECK_ERR(r, "ovl.hex: overlapping data at 0x08040105: 0x08040105-0x0804010f is given twice");
    /* 10000 PT_LOADs over the same 320 KB of file at consecutive
	 * addresses: 3 GB of image, was allocated before any check. */
    enum { NPH = 10000, FLEN = 320 * 1024 };
    uint8_t *e = calloc(1, FLEN);
    memcpy(e,
           "\x7f"
           "ELF\x01\x01\x01",
           7);
    e[16] = 2;
    e[18] = 40;
    e[20] = 1;
    e[28] = 52;
    e[40] = 52;
    e[42] = 32;
    e[44] = NPH & 0xFF;
    e[45] = NPH >> 8;
    for (uint32_t i = 0; i < NPH; i++) {
        uint8_t *ph = e + 52 + 32 * i;
        uint32_t a = 0x08040000u + i * FLEN;
        uint32_t f[8] = { 1, 0, a, a, FLEN, FLEN, 5, 4 };
        for (int k = 0; k < 8; k++)
            for (int j = 0; j < 4; j++)
                ph[4 * k + j] = (uint8_t)(f[k] >> (8 * j));
    }
    fx_write(file("shared.elf"), e, FLEN);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("shared.elf"), NULL), 6);
    CHECK_ERR(r, "shared.elf: ELF: segments 0 and 1 share file bytes");
    /* One PT_LOAD of 3 GB (file and memory size) in a 148-byte file. */
    memset(e + 52, 0, 32 * 2);
    e[44] = 1;
    e[45] = 0;
    uint32_t f[8] = { 1, 0x54, 0x08040000u, 0x08040000u, 0xC0000000u, 0xC0000000u, 5, 4 };
    for (int k = 0; k < 8; k++)
        for (int j = 0; j < 4; j++)
            e[52 + 4 * k + j] = (uint8_t)(f[k] >> (8 * j));
    fx_write(file("huge.elf"), e, 148);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("huge.elf"), NULL), 6);
    CHECK_ERR(r, "huge.elf: ELF: segment 0 at 0x08040000 runs past the end of the file");
    /* File bytes fit, memory size 3 GB. */
    f[4] = 64;
    for (int j = 0; j < 4; j++)
        e[52 + 16 + j] = (uint8_t)(f[4] >> (8 * j));
    fx_write(file("mem.elf"), e, 148);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("mem.elf"), NULL), 6);
    CHECK_ERR(r, "more than a Cortex-M memory region");
    free(e);
    child_as_limit = 0;
    assert_int_equal(r->f.writes + r->f.erases, 0);
    /* Out of order without overlap is fine: 0x10, 0x00, 0x100. */
    const char *unordered = ":020000040804EE\n"
                            ":10001000101112131415161718191A1B1C1D1E1F68\n"
                            ":10000000000102030405060708090A0B0C0D0E0F78\n"
                            ":10010000000102030405060708090A0B0C0D0E0F77\n"
                            ":00000001FF\n";
    fx_write(file("unordered.hex"), unordered, strlen(unordered));
    assert_int_equal(run(r, "-p", r->slave, "flash", file("unordered.hex"), NULL), 0);
    CHECK_ERR(r, "flashed 48 bytes to 0x08040000-0x0804010f, verified");
    for (int i = 0; i < 32; i++)
        assert_int_equal(r->f.flash[0x40000 + i], i);
    for (int i = 0; i < 16; i++)
        assert_int_equal(r->f.flash[0x40100 + i], i);
    assert_int_equal(r->f.flash[0x40020], 0xFF);
}

/* flash erases every sector from the image's first to its last: a gap
 * keeps nothing an older image left there. */
static void test_flash_erases_gaps(void **state)
{
    struct rig *r = *state;
    start(r);
    /* An older image all over sectors 2-15 (programmed words, not 0xFF). */
    memset(r->f.flash + 0x40000, 0x00, FAKE_FLASH_SIZE - 0x40000);
    memset(r->f.programmed + 0x40000 / 32, 1, (FAKE_FLASH_SIZE - 0x40000) / 32);
    uint8_t a[100], b[200];
    fx_fill(a, sizeof a, 31);
    fx_fill(b, sizeof b, 32);
    /* Sectors 2 and 9: 2..9 are erased, 10..15 are not. */
    struct fx_seg segs[2] = { { 0x08040000u, a, sizeof a }, { 0x08130010u, b, sizeof b } };
    char *hex = fx_hex(segs, 2);
    fx_write(file("gap.hex"), hex, strlen(hex));
    free(hex);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("gap.hex"), NULL), 0);
    CHECK_ERR(r, "erase: 8 sector(s) of 128 KB");
    assert_int_equal(r->f.erased_mask, 0x3FCu);
    assert_int_equal(r->f.erases, 1);
    assert_memory_equal(r->f.flash + 0x40000, a, sizeof a);
    assert_memory_equal(r->f.flash + 0x130010, b, sizeof b);
    /* The gap from the first segment's last word to the second's first
	 * word reads erased; sector 10 still holds the old image. */
    for (uint32_t o = 0x40000 + 128; o < 0x130000; o++)
        if (r->f.flash[o] != 0xFF)
            fail_msg("0x%08x is 0x%02x, not erased", 0x08000000u + o, r->f.flash[o]);
    assert_int_equal(r->f.flash[0x140000], 0x00);
    assert_int_equal(r->f.flash[0x13FFFF], 0xFF);
}

static void test_verify_mismatch(void **state)
{
    struct rig *r = *state;
    r->f.corrupt_at = 0x08040abcu;
    start(r);
    uint8_t *d = make_image(8192, 23);
    fx_write(file("v.bin"), d, 8192);
    free(d);
    assert_int_equal(run(r, "-p", r->slave, "flash", file("v.bin"), NULL), 9);
    CHECK_ERR(r, "verify failed: first difference at 0x08040abc");
    assert_int_equal(run(r, "-p", r->slave, "verify", file("v.bin"), NULL), 9);
    CHECK_ERR(r, "first difference at 0x08040abc");
}

static void test_go_reset(void **state)
{
    struct rig *r = *state;
    r->f.app_banner = "h7app 1.0 running\r\n";
    r->f.banner = "h7boot\r\n";
    start(r);
    assert_int_equal(run(r, "-p", r->slave, "go", "--expect", "h7app", NULL), 0);
    assert_non_null(strstr(r->out, "h7app 1.0 running"));
    assert_int_equal(r->f.gos, 1);
    /* The application runs now: it does not speak AN3155 ... */
    assert_int_equal(run(r, "-p", r->slave, "--retries", "2", "info", NULL), 4);
    CHECK_ERR(r, "--enter-bootloader");
    /* ... until asked to return to the bootloader. */
    assert_int_equal(run(r, "-p", r->slave, "-e", "reset", NULL), 0);
    assert_int_equal(r->f.resets, 1);
    assert_int_equal(run(r, "-p", r->slave, "reset", "--listen", "200", NULL), 0);
    assert_int_equal(r->f.resets, 2);
    assert_non_null(strstr(r->out, "h7boot"));
    assert_int_equal(run(r, "-p", r->slave, "reset", "--expect", "never", "--listen", "300", NULL),
                     4);
    CHECK_ERR(r, "did not print \"never\"");
    uint8_t *d = make_image(512, 24);
    fx_write(file("g.bin"), d, 512);
    free(d);
    assert_int_equal(
        run(r, "-p", r->slave, "flash", "--go", "--expect", "h7app", file("g.bin"), NULL), 0);
    assert_int_equal(r->f.gos, 2);
    assert_int_equal(r->f.go_addr, 0x08040000u);
}

static int cleanup(void **state)
{
    (void)state;
    fx_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_missing_and_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats_same_flash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_and_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_images, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_erases_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_go_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
