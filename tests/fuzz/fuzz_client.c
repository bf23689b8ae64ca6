/*
 * Fuzz harness: h7iap's AN3155 client (tools/iap_client.c, iap_ops.c)
 * against a fuzzed device. The client talks through the transport
 * interface (iap_transport.h) to a device whose replies are the fuzz input:
 *
 *   byte 0     flags: bit 0 verify by Get Checksum when it is offered,
 *              bit 1 send 'b' first (--enter-bootloader), bit 2 a line
 *              that may fall back from 8E1 to 8N1 (--parity auto), bit 3
 *              the second image (one segment across the bank boundary)
 *   then       bursts: 2-byte big-endian length L, then L bytes the
 *              device sends in one go; L = 0xFFFF: the line fails
 *              (IAP_PORT_ERR_CLOSED) at that read.
 *
 * A read takes bytes from the current burst; a read that wants more than
 * the burst has left gets the rest and has seen the silence after it (a
 * timeout), and a read at the end of a burst sees that silence: 0 bytes.
 * When the input is exhausted every read times out.
 *
 * The session is what `h7iap info`, `flash` and `read` do on one line:
 * connect; Read Memory of the vector table and, if Get Reason is offered,
 * the update log search; erase, write and verify of a small image; a read
 * of 300 bytes; reset. Invariants (abort() when one breaks):
 *
 *  - every call returns 0 or a code of the client's, the operations' or
 *    the line's enum (iap.h), never anything else;
 *  - a verify reports success only if the device's Get Checksum result for
 *    each block equals the image's CRC, or the bytes the device sent for
 *    Read Memory equal the image;
 *  - Read Memory, iap_do_read and the log search report what the device
 *    sent, nothing else;
 *  - the client sends Write Memory only inside the application area, in
 *    whole 32-byte flash words, with the image's bytes, each word at most
 *    once; Extended Erase only of application sectors, those of the image;
 *  - the session ends: at most 16 transport calls per input byte + 4096
 *    (a client that loops on timeouts is caught);
 *  - no memory error (ASan/UBSan).
 *
 * The device side is checked by a small shadow of the protocol that only
 * looks at the frames the client writes and the bytes handed to it.
 *
 * Seed corpus: recorded from tests/tools/fake_an3155.c by this file built
 * with -DFUZZ_CLIENT_RECORD (target h7iap-fuzz-client-seeds of tests/tools):
 *   build/host/tools/tests_cli/h7iap-fuzz-client-seeds tests/fuzz/corpus/client
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "h7_layout.h"
#include "crc32.h"
#include "iap.h"
#include "iap_client.h"
#include "iap_image.h"
#include "iap_ops.h"
#include "iap_progress.h"
#include "iap_transport.h"
#include "update_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "fuzz_client: invariant broken at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

#define F_CHECKSUM 0x01u
#define F_ENTER    0x02u
#define F_PARITY   0x04u
#define F_IMAGE2   0x08u

#define READ_LEN 300u

/* ---- what the device was asked and answered (protocol shadow) ----------- */

enum host_state { H_NONE, H_CMD, H_CMD_ACKED, H_ADDR, H_ADDR_ACKED };
enum dev_state { D_NONE, D_ACK, D_READ_ACK, D_READ_DATA, D_CK_ACK1, D_CK_ACK2, D_CK_RESULT };

struct rec_read {
    uint32_t addr, len, got; /* got: bytes of data that came */
    size_t off;              /* into obs.bytes */
};

struct rec_crc {
    uint32_t addr, len, crc;
};

struct obs {
    const struct iap_image *pad; /* the image being flashed */
    /* host side */
    enum host_state hs;
    uint8_t cmd;
    uint32_t addr;
    /* device side */
    enum dev_state ds;
    uint32_t want, got;
    uint8_t res[5];
    /* Read Memory data and Get Checksum results the device gave */
    struct rec_read *reads;
    size_t n_reads, cap_reads;
    uint8_t *bytes;
    size_t n_bytes, cap_bytes;
    struct rec_crc crcs[64];
    size_t n_crcs;
    /* words written (bitmap over the application area), erases */
    uint8_t written[(BOOT_APP_END - BOOT_APP_START) / 32 / 8];
    uint32_t erased_mask;
    int writes;
};

static void obs_clear_reads(struct obs *o)
{
    o->n_reads = o->n_bytes = o->n_crcs = 0;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    p = realloc(p, nc * elem);
    CHECK(p != NULL);
    *cap = nc;
    return p;
}

/* The newest byte the device sent for address a by Read Memory, or -1. */
static int lookup(const struct obs *o, uint32_t a)
{
    for (size_t i = o->n_reads; i-- > 0;) {
        const struct rec_read *r = &o->reads[i];
        if (a >= r->addr && (uint64_t)a < (uint64_t)r->addr + r->len) {
            uint32_t k = a - r->addr;
            return k < r->got ? o->bytes[r->off + k] : -1; /* -1: cut short */
        }
    }
    return -1;
}

/* The bytes the client writes, frame by frame (one write call each). */
static void host_frame(struct obs *o, const uint8_t *b, size_t n)
{
    if (n == 2 && (uint8_t)(b[0] ^ b[1]) == 0xFF && o->hs == H_ADDR_ACKED &&
        o->cmd == AN3155_CMD_READ) {
        /* Read Memory length: the device answers ACK, then the data. */
        o->reads = grow(o->reads, &o->cap_reads, o->n_reads + 1, sizeof *o->reads);
        o->reads[o->n_reads++] = (struct rec_read){ o->addr, (uint32_t)b[0] + 1, 0, o->n_bytes };
        o->want = (uint32_t)b[0] + 1;
        o->ds = D_READ_ACK;
        o->hs = H_NONE;
        return;
    }
    if (n == 5 && o->hs == H_ADDR_ACKED && o->cmd == AN3155_CMD_GET_CHECKSUM) {
        uint32_t len;
        CHECK(an3155_addr_decode(b, &len) == 0); /* the client's own frame */
        o->want = len;
        o->ds = D_CK_ACK1;
        o->hs = H_NONE;
        return;
    }
    if (n >= 3 && o->hs == H_ADDR_ACKED && o->cmd == AN3155_CMD_WRITE) {
        /* Write Memory data: N-1, N bytes, XOR. */
        uint32_t len = (uint32_t)b[0] + 1;
        CHECK(n == len + 2);
        CHECK(an3155_data_check(b[0], b + 1, b[n - 1]) == 0);
        CHECK(o->addr % 32 == 0 && len % 32 == 0);
        CHECK((uint64_t)o->addr + len <= BOOT_APP_END);
        /* The image's bytes, each flash word once. */
        const struct iap_image *p = o->pad;
        bool found = false;
        for (size_t i = 0; p && i < p->n; i++) {
            const struct iap_seg *s = &p->segs[i];
            if (o->addr >= s->addr && (uint64_t)o->addr + len <= (uint64_t)s->addr + s->len) {
                CHECK(memcmp(b + 1, s->data + (o->addr - s->addr), len) == 0);
                found = true;
            }
        }
        CHECK(found);
        for (uint32_t w = 0; w < len / 32; w++) {
            uint32_t k = (o->addr - BOOT_APP_START) / 32 + w;
            CHECK(!(o->written[k / 8] & (1u << (k % 8))));
            o->written[k / 8] |= (uint8_t)(1u << (k % 8));
        }
        o->writes++;
        o->ds = D_NONE;
        o->hs = H_NONE;
        return;
    }
    if (n == 5 && o->hs == H_CMD_ACKED &&
        (o->cmd == AN3155_CMD_READ || o->cmd == AN3155_CMD_WRITE || o->cmd == AN3155_CMD_GO ||
         o->cmd == AN3155_CMD_GET_CHECKSUM)) {
        CHECK(an3155_addr_decode(b, &o->addr) == 0);
        if (o->cmd == AN3155_CMD_WRITE)
            CHECK(o->addr >= BOOT_APP_START && o->addr < BOOT_APP_END);
        o->hs = H_ADDR;
        o->ds = D_ACK;
        return;
    }
    if (o->hs == H_CMD_ACKED && (o->cmd == AN3155_CMD_EXT_ERASE || o->cmd == AN3155_CMD_ERASE)) {
        uint16_t pages[BOOT_SECTORS + 1], special = 0;
        size_t count = 0;
        if (o->cmd == AN3155_CMD_EXT_ERASE) {
            CHECK(an3155_ext_erase_decode(b, n, pages, BOOT_SECTORS, &count, &special) == 0);
            CHECK(special == 0);
        } else {
            CHECK(n >= 2 && (size_t)b[0] + 1 <= BOOT_SECTORS && n == (size_t)b[0] + 3);
            count = (size_t)b[0] + 1;
            for (size_t i = 0; i < count; i++)
                pages[i] = b[1 + i];
        }
        for (size_t i = 0; i < count; i++) {
            CHECK(pages[i] >= BOOT_APP_FIRST_SECTOR && pages[i] < BOOT_SECTORS);
            o->erased_mask |= 1u << pages[i];
        }
        CHECK(o->pad && o->erased_mask == iap_image_pages(o->pad));
        /* A new erase: the words may be written again. */
        memset(o->written, 0, sizeof o->written);
        o->hs = H_NONE;
        o->ds = D_NONE;
        return;
    }
    if (n == 2 && (uint8_t)(b[0] ^ b[1]) == 0xFF) {
        o->cmd = b[0];
        o->hs = H_CMD;
        o->ds = D_ACK;
        return;
    }
    /* Sync bytes, the enter key, frames after a NACK: no shadow state. */
    o->hs = H_NONE;
    o->ds = D_NONE;
}

static void dev_byte(struct obs *o, uint8_t v)
{
    switch (o->ds) {
    case D_NONE: return;
    case D_ACK:
        o->ds = D_NONE;
        if (v != AN3155_ACK) {
            o->hs = H_NONE;
            return;
        }
        if (o->hs == H_CMD)
            o->hs = H_CMD_ACKED;
        else if (o->hs == H_ADDR)
            o->hs = H_ADDR_ACKED;
        return;
    case D_READ_ACK:
        if (v != AN3155_ACK) {
            o->ds = D_NONE;
            o->n_reads--; /* no data follows */
            return;
        }
        o->got = 0;
        o->ds = D_READ_DATA;
        return;
    case D_READ_DATA:
        o->bytes = grow(o->bytes, &o->cap_bytes, o->n_bytes + 1, 1);
        o->bytes[o->n_bytes++] = v;
        o->reads[o->n_reads - 1].got++;
        if (++o->got == o->want)
            o->ds = D_NONE;
        return;
    case D_CK_ACK1:
    case D_CK_ACK2:
        o->ds = v != AN3155_ACK ? D_NONE : o->ds == D_CK_ACK1 ? D_CK_ACK2 : D_CK_RESULT;
        o->got = 0;
        return;
    case D_CK_RESULT:
        o->res[o->got++] = v;
        if (o->got == 5) {
            uint32_t crc;
            if (an3155_addr_decode(o->res, &crc) == 0 &&
                o->n_crcs < sizeof o->crcs / sizeof o->crcs[0])
                o->crcs[o->n_crcs++] = (struct rec_crc){ o->addr, o->want, crc };
            o->ds = D_NONE;
        }
        return;
    }
}

/* ---- the fuzzed device -------------------------------------------------- */

struct fdev {
    struct iap_transport base;
    const uint8_t *in;
    size_t n, pos;
    bool have_burst, burst_fails;
    const uint8_t *burst;
    size_t blen, boff;
    unsigned long calls, max_calls;
    struct obs *obs;
};

static void count_call(struct fdev *d)
{
    d->calls++;
    CHECK(d->calls <= d->max_calls); /* the client does not stop */
}

static enum iap_port_err fd_write_(struct iap_transport *t, const uint8_t *b, size_t n)
{
    struct fdev *d = (struct fdev *)t;
    count_call(d);
    CHECK(n > 0);
    host_frame(d->obs, b, n);
    return IAP_PORT_OK;
}

static enum iap_port_err fd_read_(struct iap_transport *t, uint8_t *b, size_t n, int ms,
                                  size_t *got)
{
    struct fdev *d = (struct fdev *)t;
    (void)ms;
    count_call(d);
    *got = 0;
    if (!d->have_burst) {
        if (d->pos + 2 > d->n)
            return IAP_PORT_OK; /* input exhausted: silence */
        size_t l = (size_t)d->in[d->pos] << 8 | d->in[d->pos + 1];
        d->pos += 2;
        d->have_burst = true;
        d->burst_fails = l == 0xFFFF;
        if (d->burst_fails)
            l = 0;
        d->blen = l < d->n - d->pos ? l : d->n - d->pos;
        d->burst = d->in + d->pos;
        d->boff = 0;
        d->pos += d->blen;
    }
    if (d->burst_fails) {
        d->have_burst = false;
        return iap_fail(IAP_PORT_ERR_CLOSED, "fuzzed line closed");
    }
    size_t k = d->blen - d->boff < n ? d->blen - d->boff : n;
    memcpy(b, d->burst + d->boff, k);
    d->boff += k;
    for (size_t i = 0; i < k; i++)
        dev_byte(d->obs, b[i]);
    if (k < n)
        d->have_burst = false; /* this read waited through the silence */
    *got = k;
    return IAP_PORT_OK;
}

static void fd_drain_(struct iap_transport *t)
{
    (void)t; /* what the device sends next has not arrived yet */
}

static void fd_close_(struct iap_transport *t)
{
    (void)t;
}

static enum iap_port_err fd_set_parity_(struct iap_transport *t, int even)
{
    count_call((struct fdev *)t);
    t->parity = even ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
    return IAP_PORT_OK;
}

static const struct iap_transport_ops fdev_ops = {
    fd_write_, fd_read_, fd_drain_, fd_close_, fd_set_parity_, NULL,
};

/* ---- the session ------------------------------------------------------- */

/* The images flashed: two segments with a gap in one sector (odd tails),
 * or one across the bank boundary. */
static void make_image(bool second, struct iap_image *img, struct iap_image *pad)
{
    uint8_t a[300], b[100];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(0xA5 ^ i);
    memset(img, 0, sizeof *img);
    int rc;
    if (second) {
        rc = iap_image_parse(a, sizeof a, 0x080FFF80u, img);
    } else {
        /* HEX: 0x08040000 (300 bytes) and 0x08040210 (100 bytes). */
        static char hex[4096];
        char *p = hex;
        p += sprintf(p, ":020000040804EE\n");
        for (int seg = 0; seg < 2; seg++) {
            const uint8_t *d = seg ? b : a;
            uint32_t len = seg ? sizeof b : sizeof a, base = seg ? 0x210 : 0;
            for (uint32_t o = 0; o < len; o += 16) {
                uint32_t k = len - o < 16 ? len - o : 16, at = base + o;
                uint8_t sum = (uint8_t)(k + (at >> 8) + (at & 0xFF));
                p += sprintf(p, ":%02X%04X00", (unsigned)k, (unsigned)at);
                for (uint32_t i = 0; i < k; i++) {
                    p += sprintf(p, "%02X", d[o + i]);
                    sum = (uint8_t)(sum + d[o + i]);
                }
                p += sprintf(p, "%02X\n", (uint8_t)(0x100 - sum));
            }
        }
        p += sprintf(p, ":00000001FF\n");
        rc = iap_image_parse((const uint8_t *)hex, (size_t)(p - hex), 0, img);
    }
    CHECK(rc == 0);
    CHECK(iap_image_pad(img, H7_FLASH_WORD, pad) == 0);
}

static int trace; /* FUZZ_CLIENT_TRACE set: each step's result on stderr */

static void check_rc_at(int rc, const char *step)
{
    if (trace)
        fprintf(stderr, "  %-8s %s%s%s\n", step, rc ? iap_strerror(rc) : "ok", rc ? ": " : "",
                rc ? iap_error() : "");
    CHECK(iap_err_valid(rc));
    CHECK(rc == 0 || IAP_ERR_LAYER(rc) == IAP_CLIENT_ERR_BASE ||
          IAP_ERR_LAYER(rc) == IAP_OP_ERR_BASE || IAP_ERR_LAYER(rc) == IAP_PORT_ERR_BASE);
}

#define check_rc(rc, step) check_rc_at((rc), (step))

static void check_read(const struct obs *o, uint32_t addr, const uint8_t *buf, uint32_t n)
{
    if (!o)
        return;
    for (uint32_t i = 0; i < n; i++)
        CHECK(lookup(o, addr + i) == buf[i]);
}

static void check_verified(const struct obs *o, const struct iap_image *pad)
{
    for (size_t i = 0; i < pad->n; i++) {
        const struct iap_seg *s = &pad->segs[i];
        uint32_t want = crc32_stm32(CRC32_STM32_INIT, s->data, s->len);
        bool by_crc = false, by_read = true;
        for (size_t k = 0; k < o->n_crcs; k++)
            if (o->crcs[k].addr == s->addr && o->crcs[k].len == s->len && o->crcs[k].crc == want)
                by_crc = true;
        for (uint32_t k = 0; k < s->len && by_read; k++)
            by_read = lookup(o, s->addr + k) == s->data[k];
        CHECK(by_crc || by_read);
    }
}

static void check_log(const struct obs *o, const struct ur_newest *log)
{
    uint8_t slot[UR_SIZE];
    CHECK(log->slots == BOOT_LOG_SLOTS);
    if (log->state == UR_NEWEST_EMPTY) {
        /* Slot 0 read back erased (a NACKed read counts as torn). */
        for (uint32_t i = 0; i < UR_SIZE; i++)
            CHECK(lookup(o, BOOT_LOG_BASE + i) == 0xFF);
        return;
    }
    CHECK(log->used >= 1 && log->used <= BOOT_LOG_SLOTS);
    if (log->state != UR_NEWEST_RECORD)
        return;
    CHECK(log->slot < log->used);
    for (uint32_t i = 0; i < UR_SIZE; i++) {
        int v = lookup(o, BOOT_LOG_BASE + log->slot * UR_SIZE + i);
        CHECK(v >= 0);
        slot[i] = (uint8_t)v;
    }
    struct ur_record r;
    CHECK(ur_decode(slot, &r) == UR_OK);
    CHECK(r.state == log->rec.state && r.sequence == log->rec.sequence &&
          r.start == log->rec.start && r.length == log->rec.length &&
          r.image_crc == log->rec.image_crc);
}

/*
 * One line, several commands (checks only with an obs: the recorder runs
 * the same session against the fake target without them).
 */
static void session(struct iap_transport *t, uint8_t flags, struct obs *o, int fast)
{
    struct iap_client c;
    struct iap_image img, pad;
    uint8_t buf[READ_LEN];
    make_image(flags & F_IMAGE2, &img, &pad);
    if (o)
        o->pad = &pad;
    iap_client_init(&c, t);
    c.sync_attempts = 3;
    if (fast) {
        c.ack_timeout_ms = c.sync_timeout_ms = c.erase_timeout_ms = 1;
    } else {
        c.ack_timeout_ms = 500;
        c.sync_timeout_ms = 150;
    }
    if (flags & F_ENTER)
        c.enter_key = 'b';
    int rc = iap_connect(&c);
    check_rc(rc, "connect");
    if (rc == 0) {
        /* info */
        if (o)
            obs_clear_reads(o);
        rc = iap_read_mem(&c, BOOT_APP_START, buf, 8);
        check_rc(rc, "vectors");
        if (!rc)
            check_read(o, BOOT_APP_START, buf, 8);
        if (iap_has_cmd(&c, AN3155_CMD_H7_GET_REASON)) {
            struct ur_newest log;
            if (o)
                obs_clear_reads(o);
            rc = iap_read_log(&c, &log);
            check_rc(rc, "log");
            if (!rc && o)
                check_log(o, &log);
        }
        /* flash */
        rc = iap_do_erase(&c, iap_image_pages(&pad));
        check_rc(rc, "erase");
        if (!rc) {
            rc = iap_do_write(&c, &pad);
            check_rc(rc, "write");
        }
        if (!rc) {
            if (o)
                obs_clear_reads(o);
            rc = iap_do_verify(&c, &pad,
                               (flags & F_CHECKSUM) && iap_has_cmd(&c, AN3155_CMD_GET_CHECKSUM));
            check_rc(rc, "verify");
            if (!rc && o)
                check_verified(o, &pad);
        }
        /* read */
        if (o)
            obs_clear_reads(o);
        rc = iap_do_read(&c, BOOT_APP_START, READ_LEN, buf);
        check_rc(rc, "read");
        if (!rc)
            check_read(o, BOOT_APP_START, buf, READ_LEN);
        /* reset */
        check_rc(iap_go(&c, AN3155_H7_RESET_ADDR), "reset");
    }
    iap_image_free(&img);
    iap_image_free(&pad);
    if (o)
        o->pad = NULL;
}

static struct obs obs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        iap_verbosity = -1;
        iap_progress_set_tty(0);
        trace = getenv("FUZZ_CLIENT_TRACE") != NULL;
        init = true;
    }
    if (size < 1)
        return 0;
    struct fdev d;
    memset(&d, 0, sizeof d);
    d.base.ops = &fdev_ops;
    d.base.name = "fuzzed device";
    d.in = data + 1;
    d.n = size - 1;
    d.max_calls = 16ul * size + 4096;
    if (data[0] & F_PARITY) {
        d.base.parity = IAP_PARITY_EVEN;
        d.base.parity_fallback = 1;
    } else {
        d.base.parity = IAP_PARITY_NONE;
    }
    struct rec_read *reads = obs.reads;
    uint8_t *bytes = obs.bytes;
    size_t cr = obs.cap_reads, cb = obs.cap_bytes;
    memset(&obs, 0, sizeof obs);
    obs.reads = reads; /* kept between inputs */
    obs.bytes = bytes;
    obs.cap_reads = cr;
    obs.cap_bytes = cb;
    d.obs = &obs;
    session(&d.base, data[0], &obs, 1);
    iap_clear_error();
    return 0;
}

#ifdef FUZZ_CLIENT_RECORD
/*
 * Seed recorder: runs the session against the fake AN3155 target of
 * tests/tools over a socketpair and writes what the target sent, in bursts
 * cut where the client's reads timed out, as one corpus file per case.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "fake_an3155.h"

struct recorder {
    struct iap_transport base;
    struct iap_transport *in;
    volatile int even;
    uint8_t out[1 << 20];
    size_t n;
    size_t burst_at; /* offset of the open burst's length field */
};

static void rec_close_burst(struct recorder *r)
{
    size_t len = r->n - r->burst_at - 2;
    r->out[r->burst_at] = (uint8_t)(len >> 8);
    r->out[r->burst_at + 1] = (uint8_t)len;
    r->burst_at = r->n;
    r->n += 2;
}

static enum iap_port_err rec_write(struct iap_transport *t, const uint8_t *b, size_t n)
{
    struct recorder *r = (struct recorder *)t;
    return r->in->ops->write(r->in, b, n);
}

static enum iap_port_err rec_read(struct iap_transport *t, uint8_t *b, size_t n, int ms,
                                  size_t *got)
{
    struct recorder *r = (struct recorder *)t;
    enum iap_port_err rc = r->in->ops->read(r->in, b, n, ms, got);
    if (rc)
        return rc;
    memcpy(r->out + r->n, b, *got);
    r->n += *got;
    if (*got < n)
        rec_close_burst(r);
    return IAP_PORT_OK;
}

static void rec_drain(struct iap_transport *t)
{
    (void)t; /* the fuzzed device has nothing to drain either */
}

static void rec_close(struct iap_transport *t)
{
    (void)t;
}

static enum iap_port_err rec_set_parity(struct iap_transport *t, int even)
{
    struct recorder *r = (struct recorder *)t;
    r->even = even;
    t->parity = even ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
    return IAP_PORT_OK;
}

static const struct iap_transport_ops rec_ops = {
    rec_write, rec_read, rec_drain, rec_close, rec_set_parity, NULL,
};

struct seed_case {
    const char *name;
    uint8_t flags;
    void (*setup)(struct fake_target *f);
};

static void s_plain(struct fake_target *f)
{
    (void)f;
}
static void s_checksum(struct fake_target *f)
{
    f->offer_checksum = true;
}
static void s_banner(struct fake_target *f)
{
    f->banner = "h7boot 1.0\r\nmenu: 1 download, 2 run\r\n";
}
static void s_app(struct fake_target *f)
{
    f->in_app = true;
    f->banner = "h7boot\r\n";
}
static void s_corrupt(struct fake_target *f)
{
    f->corrupt_at = 0x08040123u;
}
static void s_corrupt_ck(struct fake_target *f)
{
    f->corrupt_at = 0x08040213u;
    f->offer_checksum = true;
}
static void s_nack(struct fake_target *f)
{
    f->offer_reason = true;
    f->nack_write_at = 0x08040100u;
}
static void s_log(struct fake_target *f)
{
    f->offer_reason = true;
    f->offer_checksum = true;
    for (uint32_t i = 0; i < 5; i++) {
        struct ur_record r = {
            .state = i == 4 ? UR_STATE_COMPLETE : UR_STATE_STARTED,
            .sequence = 7 + i,
            .start = 0x08040000u,
            .length = 604,
            .image_crc = 0x12345678u,
        };
        ur_encode(&r, f->flash + 0x20000 + 32 * i);
    }
}
static void s_log_torn(struct fake_target *f)
{
    f->offer_reason = true;
    memset(f->flash + 0x20000, 0x55, 64);
}
static void s_synced(struct fake_target *f)
{
    f->start_synced = true;
}
static void s_late(struct fake_target *f)
{
    f->sync_delay_ms = 250;
}

static const struct seed_case cases[] = {
    { "plain", 0, s_plain },
    { "checksum", F_CHECKSUM, s_checksum },
    { "checksum_offered_unused", 0, s_checksum },
    { "banner", F_CHECKSUM, s_banner },
    { "enter_bootloader", F_ENTER, s_app },
    { "verify_mismatch", 0, s_corrupt },
    { "verify_mismatch_checksum", F_CHECKSUM, s_corrupt_ck },
    { "write_nack_reason", 0, s_nack },
    { "log_record", F_CHECKSUM, s_log },
    { "log_torn", 0, s_log_torn },
    { "already_synced", 0, s_synced },
    { "late_sync", 0, s_late },
    { "image2", F_IMAGE2, s_plain },
    { "image2_checksum", F_IMAGE2 | F_CHECKSUM, s_checksum },
    { "parity_fallback", F_PARITY, s_plain },
};

static struct fake_target fake;
static struct recorder rec;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (writes one seed per case)\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    iap_verbosity = -1;
    iap_progress_set_tty(0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct seed_case *sc = &cases[k];
        int sv[2];
        fake_init(&fake);
        sc->setup(&fake);
        memset(&rec, 0, sizeof rec);
        rec.even = 1;
        if (sc->flags & F_PARITY) {
            fake.host_even = &rec.even;
            fake.target_even = false;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || fake_start(&fake, sv[1]) ||
            iap_fd_transport(sv[0], "fake", &rec.in)) {
            fprintf(stderr, "cannot start the fake target\n");
            return 1;
        }
        rec.base.ops = &rec_ops;
        rec.base.name = "recorder";
        rec.base.parity = sc->flags & F_PARITY ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
        rec.base.parity_fallback = !!(sc->flags & F_PARITY);
        rec.out[0] = sc->flags;
        rec.burst_at = 1;
        rec.n = 3;
        session(&rec.base, sc->flags, NULL, 0);
        rec_close_burst(&rec);
        rec.n -= 2; /* no empty burst at the end */
        fake_stop(&fake);
        rec.in->ops->close(rec.in);
        close(sv[1]);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], sc->name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(rec.out, 1, rec.n, f) != rec.n || fclose(f)) {
            perror(path);
            return 1;
        }
        printf("%s: %zu bytes, %d writes\n", path, rec.n, fake.writes);
    }
    return 0;
}
#endif
