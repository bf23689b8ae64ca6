/*
 * h7relay: a fault-injecting relay between h7iap and a board, for testing
 * the fast protocol's recovery (docs/PROTOCOL.md "h7iap fast protocol").
 * It offers h7iap a pty (--link FILE: a symlink to it, for h7iap --port
 * FILE) and forwards every byte to the board's line (--board: a pty or
 * serial device, e.g. h7vboard's --pty-link, or tcp:PORT for h7vboard
 * --tcp). Bytes outside fast frames (AN3155, YMODEM) pass unchanged; each
 * fast frame (recognised by its start and header check, proto/fastp.h)
 * is, with the probabilities given, dropped, corrupted (one body bit
 * flipped), sent twice, held back behind the next frame, or followed by a
 * stall of the line; --baud-fail makes the first baud switch fail (after
 * BAUD_R nothing passes either way for 2.5 s, as when the new rate
 * garbles every byte). Random choices come from --seed: the same seed
 * gives the same faults for the same frames. Counts go to stderr at exit
 * (SIGTERM, SIGINT, or when either side closes).
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fastp.h"

#define BAUD_FAIL_MS    2500 /* longer than the device's FP_T_SILENCE_MS */
#define PARTIAL_WAIT_MS 20   /* bytes that may start a frame wait this long for the rest */
#define HOLD_MAX_MS     200  /* a frame held back for reordering goes out by then */

static volatile sig_atomic_t quit;

static void on_sig(int s)
{
    (void)s;
    quit = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: deterministic from the seed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

struct faults {
    double loss, corrupt, dup, reorder, stall;
    int stall_ms;
    bool baud_fail;
    int dirs; /* bit 0: host to board, bit 1: board to host */
};

struct counts {
    unsigned frames, lost, corrupted, duplicated, reordered, stalls, baud_fails;
};

/* One direction of the line. */
struct dir {
    const char *name;
    int in, out;
    int bit;
    uint8_t buf[2 * FP_FRAME_MAX];
    size_t n;
    long long partial_since; /* buf holds a possible frame start since then (0: no) */
    uint8_t held[FP_FRAME_MAX];
    size_t held_n;
    long long held_since;
    long long stalled_until;
    struct counts c;
};

static struct faults F;
static long long mute_until; /* --baud-fail: nothing passes before then */

static int xwrite(int fd, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                poll(&p, 1, 100);
                continue;
            }
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int emit(struct dir *d, const uint8_t *b, size_t n)
{
    if (now_ms() < mute_until)
        return 0; /* garbled at the wrong rate: lost */
    return xwrite(d->out, b, n);
}

static void drop_front(struct dir *d, size_t k)
{
    memmove(d->buf, d->buf + k, d->n - k);
    d->n -= k;
}

static int flush_held(struct dir *d)
{
    if (!d->held_n)
        return 0;
    int rc = emit(d, d->held, d->held_n);
    d->held_n = 0;
    return rc;
}

/* A whole frame of len bytes at the front of buf: faults, then out. */
static int frame(struct dir *d, size_t len)
{
    uint8_t f[FP_FRAME_MAX];
    memcpy(f, d->buf, len);
    drop_front(d, len);
    d->c.frames++;
    bool faulty = (F.dirs & d->bit) != 0;
    int rc = 0;
    if (F.baud_fail && f[2] == FP_BAUD_R) {
        rc = emit(d, f, len);
        mute_until = now_ms() + BAUD_FAIL_MS;
        F.baud_fail = false;
        d->c.baud_fails++;
        return rc;
    }
    if (faulty && rnd() < F.loss) {
        d->c.lost++;
        return 0;
    }
    if (faulty && rnd() < F.corrupt) {
        size_t at = FP_HDR_LEN + (size_t)(rnd() * (double)(len - FP_HDR_LEN));
        f[at < len ? at : len - 1] ^= (uint8_t)(1u << (unsigned)(rnd() * 8));
        d->c.corrupted++;
    }
    if (faulty && !d->held_n && rnd() < F.reorder) {
        memcpy(d->held, f, len);
        d->held_n = len;
        d->held_since = now_ms();
        d->c.reordered++;
        return 0;
    }
    rc = emit(d, f, len);
    if (!rc)
        rc = flush_held(d);
    if (!rc && faulty && rnd() < F.dup) {
        d->c.duplicated++;
        rc = emit(d, f, len);
    }
    if (faulty && rnd() < F.stall) {
        d->stalled_until = now_ms() + F.stall_ms;
        d->c.stalls++;
    }
    return rc;
}

/* Forward what buf holds: plain bytes at once, frames whole. */
static int pump(struct dir *d)
{
    long long now = now_ms();
    if (d->held_n && now - d->held_since > HOLD_MAX_MS && flush_held(d))
        return -1;
    while (d->n && now >= d->stalled_until) {
        /* plain bytes up to the next possible start of frame */
        size_t k = 0;
        while (k < d->n && d->buf[k] != FP_SOF0)
            k++;
        if (k) {
            if (emit(d, d->buf, k))
                return -1;
            drop_front(d, k);
            continue;
        }
        int h = fp_header(d->buf, d->n);
        if (h == FP_E_SHORT || (h > 0 && (size_t)h > d->n)) {
            if (!d->partial_since)
                d->partial_since = now;
            /* a frame takes its wire time; a lone 0xE7 of AN3155 data does not wait long */
            long long wait = h > 0 ? 1000 : PARTIAL_WAIT_MS;
            if (now - d->partial_since < wait)
                return 0;
            d->partial_since = 0;
            if (emit(d, d->buf, 1)) /* not a frame after all */
                return -1;
            drop_front(d, 1);
            continue;
        }
        d->partial_since = 0;
        if (h < 0) {
            if (emit(d, d->buf, 1))
                return -1;
            drop_front(d, 1);
            continue;
        }
        if (frame(d, (size_t)h))
            return -1;
    }
    return 0;
}

static int open_board(const char *spec)
{
    if (!strncmp(spec, "tcp:", 4)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)atoi(spec + 4)) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < 100; i++) {
            if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
                return fd;
            usleep(50000);
        }
        close(fd);
        return -1;
    }
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = open(spec, O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
            usleep(50000);
    }
    if (fd < 0)
        return -1;
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

static void usage(FILE *o)
{
    fputs("usage: h7relay --board DEV|tcp:PORT --link FILE [options]\n"
          "Relay between h7iap (--port FILE) and a board, injecting faults into the\n"
          "frames of the h7iap fast protocol (other bytes pass unchanged).\n"
          "  --board DEV       the board's line: pty or serial device, or tcp:PORT\n"
          "  --link FILE       symlink FILE to the relay's pty (h7iap --port FILE)\n"
          "  --seed N          random seed (default 1)\n"
          "  --loss P          probability a frame is dropped (0..1)\n"
          "  --corrupt P       ... that one bit of its body is flipped\n"
          "  --dup P           ... that it is sent twice\n"
          "  --reorder P       ... that it is held back behind the next frame\n"
          "  --stall P:MS      ... that the line stops MS ms after it\n"
          "  --baud-fail       after the first BAUD_R nothing passes for 2.5 s\n"
          "  --dir host|board|both  frames of which sender get faults (default both)\n",
          o);
}

int main(int argc, char **argv)
{
    const char *board = NULL, *link = NULL;
    F.dirs = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool val = true;
        if (!strcmp(a, "--board") && v)
            board = v;
        else if (!strcmp(a, "--link") && v)
            link = v;
        else if (!strcmp(a, "--seed") && v)
            rng_state ^= strtoull(v, NULL, 0) * 0xD1B54A32D192ED03ull;
        else if (!strcmp(a, "--loss") && v)
            F.loss = atof(v);
        else if (!strcmp(a, "--corrupt") && v)
            F.corrupt = atof(v);
        else if (!strcmp(a, "--dup") && v)
            F.dup = atof(v);
        else if (!strcmp(a, "--reorder") && v)
            F.reorder = atof(v);
        else if (!strcmp(a, "--stall") && v && strchr(v, ':')) {
            F.stall = atof(v);
            F.stall_ms = atoi(strchr(v, ':') + 1);
        } else if (!strcmp(a, "--dir") && v)
            F.dirs = !strcmp(v, "host") ? 1 : !strcmp(v, "board") ? 2 : 3;
        else if (!strcmp(a, "--baud-fail")) {
            F.baud_fail = true;
            val = false;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
        if (val)
            i++;
    }
    if (!board || !link) {
        usage(stderr);
        return 2;
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        perror("h7relay: pty");
        return 1;
    }
    const char *slave = ptsname(m);
    int hold = open(slave, O_RDWR | O_NOCTTY); /* keeps the pty usable between opens */
    struct termios t;
    tcgetattr(hold, &t);
    cfmakeraw(&t);
    tcsetattr(hold, TCSANOW, &t);
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    int b = open_board(board);
    if (b < 0) {
        fprintf(stderr, "h7relay: cannot open the board's line %s: %s\n", board, strerror(errno));
        return 1;
    }
    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
    unlink(link);
    if (symlink(slave, link)) {
        fprintf(stderr, "h7relay: symlink %s: %s\n", link, strerror(errno));
        return 1;
    }
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    signal(SIGPIPE, SIG_IGN);

    static struct dir up = { .name = "host->board", .bit = 1 },
                      down = { .name = "board->host", .bit = 2 };
    up.in = m;
    up.out = b;
    down.in = b;
    down.out = m;
    while (!quit) {
        struct pollfd p[2] = { { .fd = m, .events = POLLIN }, { .fd = b, .events = POLLIN } };
        int pr = poll(p, 2, 5);
        if (pr < 0 && errno != EINTR)
            break;
        struct dir *ds[2] = { &up, &down };
        bool gone = false;
        for (int k = 0; k < 2; k++) {
            struct dir *d = ds[k];
            if (p[k].revents & POLLIN && d->n < sizeof d->buf) {
                ssize_t r = read(d->in, d->buf + d->n, sizeof d->buf - d->n);
                if (r > 0)
                    d->n += (size_t)r;
                else if (r == 0 && k == 1)
                    gone = true; /* the board closed (tcp) */
            }
            if (pump(d))
                gone = k == 1;
        }
        if (gone)
            break;
    }
    struct dir *ds[2] = { &up, &down };
    for (int k = 0; k < 2; k++)
        fprintf(stderr,
                "h7relay: %s: %u frames, %u lost, %u corrupted, %u duplicated, %u reordered, %u "
                "stalls, %u baud switches failed\n",
                ds[k]->name, ds[k]->c.frames, ds[k]->c.lost, ds[k]->c.corrupted,
                ds[k]->c.duplicated, ds[k]->c.reordered, ds[k]->c.stalls, ds[k]->c.baud_fails);
    unlink(link);
    close(hold);
    close(m);
    close(b);
    return 0;
}
