/*
 * The fast protocol's device side (boot/src/fastp_srv.c) on the strict
 * model, against a host peer written here on proto/fastp's encoder (frames
 * deflated with zlib): whole images byte for byte, lost, corrupted,
 * repeated and reordered frames, hostile frames (outside the area,
 * backwards, a word twice, oversize, bad padding), a wrong END CRC, a
 * lost link and a power cut each followed by a resume, smart re-flash,
 * the baud switch and the silence fallback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "an3155.h"
#include "bootfx.h"
#include "crc32.h"
#include "fastp.h"

static struct bfx X;

/* ---- host peer ---- */

enum hostile {
    H_NONE,
    H_OUTSIDE,   /* a frame past the area (fp_decode: FP_E_RANGE) */
    H_BACKWARDS, /* a frame before its region's position */
    H_TWICE,     /* a frame over half of the previous one */
    H_OVERSIZE,  /* raw_len above raw_max */
    H_PAD,       /* a byte past the image end that is not 0xFF */
    H_BADCRC,    /* END with a wrong CRC */
};

struct frame {
    uint32_t off, len;
};

struct peer {
    const uint8_t *img;
    uint32_t len;
    uint32_t page_mask; /* 0: every sector of the image */
    bool deflate;
    bool query_only;  /* stop after RESUME_R */
    bool resume;      /* BEGIN with the resume flag from RESUME_R */
    bool sectors;     /* SECTORS first: page mask = sectors that differ */
    uint32_t baud;    /* BAUD first (0: none) */
    uint32_t stop_at; /* go silent after this many DATA frames sent (0: never) */
    bool bye;         /* BYE at the end (else stop after END_R) */
    enum hostile hostile;
    /* faults of the line: every k-th frame sent (0: none) */
    unsigned lose_every, corrupt_every, dup_every, swap_every;
    /* state */
    int st;
    uint8_t tag;
    int acks;
    uint8_t in[FP_FRAME_MAX * 2];
    size_t in_len;
    struct fp_geom geom;
    bool have_geom;
    struct fp_resume_r rr;
    struct fp_sectors_r sr;
    struct frame *fr;
    uint32_t nfr, next, cum, limit;
    uint64_t sack;
    uint32_t sent_data, resent;
    uint64_t last_progress_ms;
    unsigned nsent;
    struct fp_end_r end_r;
    struct fp_error err;
    bool got_err, got_end, done, hello_baud;
    uint32_t bad_frames, statuses;
    uint8_t swap_buf[FP_FRAME_MAX];
    size_t swap_len;
    uint32_t hole_cum; /* cum at the last resend of the holes */
    uint64_t stop_ms;  /* stop_at reached at (then escape after 3 s) */
    bool stopped;
    uint64_t last_sent_ms;
    /* STATUS while DATA flows: the longest silence between two (device
     * time) and the sectors reported erasing or programming (bit i:
     * sector i of the area). */
    uint64_t status_ms, status_gap_ms;
    uint32_t pages_seen;
};

static uint8_t fbuf[FP_FRAME_MAX + 64];

/* Recompute the header check and CRC of a frame patched by hand. */
static void refit(uint8_t *f, size_t n)
{
    uint32_t h = crc32_zlib(0, f, 6), c;

    f[6] = (uint8_t)h;
    f[7] = (uint8_t)(h >> 8);
    c = crc32_zlib(0, f, n - 4);
    memcpy(f + n - 4, &c, 4);
}

static void push_frame(struct fser *s, struct peer *p, uint8_t *f, size_t n, bool data)
{
    unsigned k = ++p->nsent;

    p->last_sent_ms = s->now_ms;
    if (data && p->lose_every && k % p->lose_every == 0)
        return;
    if (data && p->swap_every && k % p->swap_every == 0 && !p->swap_len) {
        memcpy(p->swap_buf, f, n);
        p->swap_len = n; /* sent after the next one */
        return;
    }
    if (data && p->corrupt_every && k % p->corrupt_every == 0) {
        f[n / 2] ^= 0x10;
        fser_push(s, f, n);
        f[n / 2] ^= 0x10;
    } else {
        fser_push(s, f, n);
    }
    if (data && p->dup_every && k % p->dup_every == 0)
        fser_push(s, f, n);
    if (data && p->swap_len && f != p->swap_buf) {
        fser_push(s, p->swap_buf, p->swap_len);
        p->swap_len = 0;
    }
}

static void req(struct fser *s, struct peer *p, struct fp_msg *m)
{
    int n;

    m->tag = ++p->tag;
    n = fp_encode(m, p->have_geom ? &p->geom : NULL, fbuf, sizeof(fbuf));
    if (n <= 0)
        fail_msg("peer: cannot encode type 0x%02x: %s", m->type, fp_strerror(n));
    push_frame(s, p, fbuf, (size_t)n, false);
}

static bool all_ff(const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] != 0xFF)
            return false;
    return true;
}

/* The frames of the image: 8 KiB each, regions interleaved 3:4, all-0xFF
 * ones left out, from the resume points on, in the page mask only. */
static void plan(struct peer *p, const uint32_t done[2])
{
    const struct fp_geom *g = &p->geom;
    struct frame *list[2];
    uint32_t n[2] = { 0, 0 }, k[2] = { 0, 0 };

    p->fr = realloc(p->fr, sizeof(*p->fr) * (g->area_size / g->raw_max + 1));
    for (unsigned r = 0; r < 2; r++) {
        uint32_t a = fp_region_start(g, r) + done[r];
        uint32_t e = fp_region_start(g, r) + fp_region_image_len(g, p->len, r);

        list[r] = malloc(sizeof(struct frame) * (g->area_size / g->raw_max + 1));
        for (; a < e; a += g->raw_max) {
            uint32_t l = e - a < g->raw_max ? e - a : g->raw_max;
            uint32_t end = a + l <= p->len ? l : (a < p->len ? p->len - a : 0);

            if (!(p->page_mask & (1u << (a / g->sector_size))))
                continue;
            if (all_ff(p->img + a, end) && end == l)
                continue;
            if (end == 0)
                continue;
            list[r][n[r]].off = a;
            list[r][n[r]].len = l;
            n[r]++;
        }
    }
    p->nfr = 0;
    while (k[0] < n[0] || k[1] < n[1]) {
        for (int i = 0; i < 3 && k[0] < n[0]; i++)
            p->fr[p->nfr++] = list[0][k[0]++];
        for (int i = 0; i < 4 && k[1] < n[1]; i++)
            p->fr[p->nfr++] = list[1][k[1]++];
    }
    free(list[0]);
    free(list[1]);
}

static void send_data(struct fser *s, struct peer *p, uint32_t seq)
{
    const struct frame *f = &p->fr[seq];
    static uint8_t raw[FP_RAW_MAX], z[FP_RAW_MAX + 64];
    struct fp_msg m;
    int n;

    memset(raw, 0xFF, sizeof(raw));
    memcpy(raw, p->img + f->off, f->off + f->len <= p->len ? f->len : p->len - f->off);
    memset(&m, 0, sizeof(m));
    m.type = FP_DATA;
    m.u.data.seq = seq;
    m.u.data.offset = f->off;
    m.u.data.raw_len = (uint16_t)f->len;
    m.u.data.raw_crc = crc32_zlib(0, raw, f->len);
    m.u.data.codec = FP_CODEC_RAW;
    m.u.data.payload = raw;
    m.u.data.payload_len = (uint16_t)f->len;
    if (p->deflate) {
        z_stream zs;

        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = raw;
        zs.avail_in = f->len;
        zs.next_out = z;
        zs.avail_out = sizeof(z);
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        if (zs.total_out < f->len) {
            m.u.data.codec = FP_CODEC_DEFLATE;
            m.u.data.payload = z;
            m.u.data.payload_len = (uint16_t)zs.total_out;
        }
        deflateEnd(&zs);
    }
    n = fp_encode(&m, &p->geom, fbuf, sizeof(fbuf));
    if (n <= 0)
        fail_msg("peer: DATA %u: %s", (unsigned)seq, fp_strerror(n));
    p->sent_data++;
    push_frame(s, p, fbuf, (size_t)n, true);
}

/* A hostile DATA frame in place of frame seq (built by hand where the
 * encoder would refuse it). */
static void send_hostile(struct fser *s, struct peer *p, uint32_t seq)
{
    uint8_t raw[FP_RAW_MAX];
    struct fp_msg m;
    uint32_t off = p->fr[seq].off, len = p->fr[seq].len, v;
    int n;

    memset(&m, 0, sizeof(m));
    m.type = FP_DATA;
    m.u.data.seq = seq;
    m.u.data.offset = off;
    m.u.data.raw_len = (uint16_t)len;
    memset(raw, 0xFF, sizeof(raw));
    memcpy(raw, p->img + off, off + len <= p->len ? len : p->len - off);
    if (p->hostile == H_BACKWARDS || p->hostile == H_TWICE)
        m.u.data.offset = p->fr[seq - 1].off + (p->hostile == H_TWICE ? 4096u : 0u);
    if (p->hostile == H_PAD)
        raw[len - 1] = 0x00;
    m.u.data.raw_crc = crc32_zlib(0, raw, len);
    m.u.data.payload = raw;
    m.u.data.payload_len = (uint16_t)len;
    n = fp_encode(&m, &p->geom, fbuf, sizeof(fbuf));
    assert_true(n > 0);
    if (p->hostile == H_OUTSIDE) {
        v = p->geom.area_size;
        memcpy(fbuf + 8 + 4, &v, 4);
        refit(fbuf, (size_t)n);
    }
    if (p->hostile == H_OVERSIZE) {
        uint16_t big = (uint16_t)(FP_RAW_MAX + 32u);

        memcpy(fbuf + 8 + 8, &big, 2);
        refit(fbuf, (size_t)n);
    }
    push_frame(s, p, fbuf, (size_t)n, false);
}

static bool hostile_frame(const struct peer *p, uint32_t seq)
{
    if (p->hostile == H_NONE || p->hostile == H_BADCRC)
        return false;
    if (p->hostile == H_PAD)
        return p->fr[seq].off + p->fr[seq].len > p->len;
    /* frame 1, in the region of frame 0 (the host interleaves 3:4) */
    return seq == 1;
}

static void start_begin(struct fser *s, struct peer *p)
{
    struct fp_msg m;
    uint32_t done[2] = { 0, 0 };

    memset(&m, 0, sizeof(m));
    m.type = FP_BEGIN;
    m.u.begin.image.len = p->len;
    m.u.begin.image.crc = crc32_h7flash_image(p->img, p->len);
    m.u.begin.image.page_mask = p->page_mask;
    if (p->resume && p->rr.state != FP_RS_NONE &&
        !memcmp(&p->rr.image, &m.u.begin.image, sizeof(m.u.begin.image))) {
        m.u.begin.flags = FP_BF_RESUME;
        done[0] = m.u.begin.resume[0] = p->rr.done[0];
        done[1] = m.u.begin.resume[1] = p->rr.done[1];
    }
    plan(p, done);
    req(s, p, &m);
    p->st = 5;
}

static void after_query(struct fser *s, struct peer *p)
{
    struct fp_msg m;

    if (p->query_only) {
        p->done = true;
        longjmp(s->escape, 1);
    }
    if (p->sectors) {
        memset(&m, 0, sizeof(m));
        m.type = FP_SECTORS;
        m.u.sectors.first = 0;
        m.u.sectors.count = (uint8_t)fp_image_sectors(&p->geom, p->len);
        req(s, p, &m);
        p->st = 4;
        return;
    }
    start_begin(s, p);
}

static void send_end(struct fser *s, struct peer *p)
{
    struct fp_msg m;

    memset(&m, 0, sizeof(m));
    m.type = FP_END;
    m.u.end.frames = p->nfr;
    for (unsigned r = 0; r < 2; r++)
        m.u.end.crc[r] = fp_region_crc(&p->geom, p->img, p->len, r);
    if (p->hostile == H_BADCRC)
        m.u.end.crc[0] ^= 1u;
    req(s, p, &m);
    p->st = 7;
}

/* Data phase: fill the window, resend what the device lacks. */
static void pump(struct fser *s, struct peer *p)
{
    if (p->stop_at && p->sent_data >= p->stop_at)
        return;
    while (p->next < p->nfr && p->next < p->limit) {
        if (hostile_frame(p, p->next))
            send_hostile(s, p, p->next);
        else
            send_data(s, p, p->next);
        p->next++;
        if (p->stop_at && p->sent_data >= p->stop_at)
            return;
    }
    if (p->cum == p->nfr && p->st == 6) {
        send_end(s, p);
        return;
    }
    /* Resend the holes below a frame received (once per cum), or frame
     * cum after 200 ms without progress. */
    if (p->cum < p->next && p->sack && p->hole_cum != p->cum + 1u) {
        for (uint32_t q = p->cum; q < p->next && q - p->cum <= 64u; q++)
            if (q == p->cum || !(p->sack >> (q - p->cum - 1u) & 1u)) {
                send_data(s, p, q);
                p->resent++;
            }
        p->hole_cum = p->cum + 1u;
    } else if (p->cum < p->next && s->now_ms - p->last_progress_ms >= 200) {
        send_data(s, p, p->cum);
        p->resent++;
        p->last_progress_ms = s->now_ms;
    }
}

static void on_frame(struct fser *s, struct peer *p, const struct fp_msg *m)
{
    struct fp_msg q;

    memset(&q, 0, sizeof(q));
    switch (m->type) {
    case FP_HELLO_R:
        assert_int_equal(p->st, 1);
        p->geom = m->u.hello_r.geom;
        p->have_geom = true;
        assert_true(m->u.hello_r.flags & FP_HF_DEFLATE);
        if (!p->page_mask)
            p->page_mask = (uint32_t)((1ull << fp_image_sectors(&p->geom, p->len)) - 1u);
        if (p->baud) {
            q.type = FP_BAUD;
            q.u.baud = p->baud;
            req(s, p, &q);
            p->st = 2;
        } else {
            q.type = FP_QUERY;
            req(s, p, &q);
            p->st = 3;
        }
        break;
    case FP_BAUD_R:
        assert_int_equal(p->st, 2);
        p->hello_baud = true;
        q.type = FP_PING;
        q.u.token = 0x1234;
        req(s, p, &q);
        p->st = 20;
        break;
    case FP_PONG:
        if (p->st != 20)
            break; /* a keep-alive's */
        assert_int_equal(m->u.token, 0x1234);
        q.type = FP_QUERY;
        req(s, p, &q);
        p->st = 3;
        break;
    case FP_RESUME_R:
        assert_int_equal(p->st, 3);
        p->rr = m->u.resume_r;
        after_query(s, p);
        break;
    case FP_SECTORS_R:
        assert_int_equal(p->st, 4);
        p->sr = m->u.sectors_r;
        p->page_mask = 0;
        for (unsigned i = 0; i < m->u.sectors_r.count; i++)
            if (m->u.sectors_r.sr[i] ||
                m->u.sectors_r.crc[i] != fp_sector_crc(&p->geom, p->img, p->len, i))
                p->page_mask |= 1u << i;
        if (!p->page_mask) {
            p->done = true;
            longjmp(s->escape, 1);
        }
        start_begin(s, p);
        break;
    case FP_STATUS:
        p->statuses++;
        if (p->st == 6 && p->status_ms && s->now_ms - p->status_ms > p->status_gap_ms)
            p->status_gap_ms = s->now_ms - p->status_ms;
        p->status_ms = s->now_ms;
        for (unsigned r = 0; r < FP_REGIONS; r++) {
            const struct fp_bank_status *b = &m->u.status.bank[r];

            if ((b->state == FP_BANK_ERASING || b->state == FP_BANK_PROGRAMMING) && b->page < 32u)
                p->pages_seen |= 1u << b->page;
        }
        p->bad_frames = m->u.status.bad_frames;
        if (p->st == 5)
            p->st = 6;
        if (m->u.status.cum > p->cum)
            p->last_progress_ms = s->now_ms;
        p->cum = m->u.status.cum;
        p->limit = m->u.status.limit;
        p->sack = m->u.status.sack;
        if (p->st == 6)
            pump(s, p);
        break;
    case FP_END_R:
        assert_int_equal(p->st, 7);
        p->end_r = m->u.end_r;
        p->got_end = true;
        if (p->bye) {
            q.type = FP_BYE;
            req(s, p, &q);
            p->st = 8;
        } else {
            p->done = true;
            longjmp(s->escape, 1);
        }
        break;
    case FP_BYE_R: p->done = true; longjmp(s->escape, 1);
    case FP_ERROR:
        p->err = m->u.error;
        p->got_err = true;
        p->done = true;
        longjmp(s->escape, 1);
    default: fail_msg("peer: unexpected frame 0x%02x", m->type);
    }
}

static void fpeer(struct fser *s)
{
    struct peer *p = s->peer_ctx;
    int b;

    if (h7sim_powered_off(X.sim))
        longjmp(s->escape, 2);
    if (p->stop_at && p->sent_data >= p->stop_at) {
        /* silent from now on; 3 s later the test goes on */
        if (!p->stopped) {
            p->stopped = true;
            p->stop_ms = s->now_ms;
        }
        if (s->now_ms - p->stop_ms > 3000u)
            longjmp(s->escape, 3);
        s->out_seen = s->out_len;
        return;
    }
    while ((b = fser_next(s)) >= 0) {
        if (p->acks < 2) {
            /* AN3155: ACK of the sync byte, ACK of 0xE1 */
            assert_int_equal(b, AN3155_ACK);
            if (++p->acks == 2) {
                struct fp_msg m;

                memset(&m, 0, sizeof(m));
                m.type = FP_HELLO;
                m.u.hello.version = FP_VERSION;
                req(s, p, &m);
                p->st = 1;
            }
            continue;
        }
        assert_true(p->in_len < sizeof(p->in));
        p->in[p->in_len++] = (uint8_t)b;
        for (;;) {
            struct fp_msg m;
            int n = fp_decode(p->in, p->in_len, p->have_geom ? &p->geom : NULL, FP_TO_HOST, &m);

            if (n == FP_E_SHORT)
                break;
            if (n < 0)
                fail_msg("peer: device sent a bad frame: %s", fp_strerror(n));
            memmove(p->in, p->in + n, p->in_len - (size_t)n);
            p->in_len -= (size_t)n;
            on_frame(s, p, &m);
            if (!p->in_len)
                break;
        }
    }
    if (p->st == 6)
        pump(s, p);
    /* Keep-alive: PING after 500 ms without sending (a host does). */
    if ((p->st == 6 || p->st == 7) && s->now_ms - p->last_sent_ms >= FP_T_KEEPALIVE_MS) {
        struct fp_msg m;

        memset(&m, 0, sizeof(m));
        m.type = FP_PING;
        m.u.token = 7;
        req(s, p, &m);
    }
}

/* One session: 0x7F, 0xE1, then the peer. Returns the longjmp value. */
static int session(struct peer *p)
{
    static const uint8_t enter[2] = { FP_AN3155_CMD, (uint8_t)~FP_AN3155_CMD };
    int j;

    X.ser.out_seen = X.ser.out_len;
    X.ser.in_head = X.ser.in_tail;
    X.ser.idle_limit = 0;
    X.ser.peer = fpeer;
    X.ser.peer_ctx = p;
    p->acks = 0;
    p->st = 0;
    p->in_len = 0;
    p->have_geom = false;
    fser_push(&X.ser, enter, 2);
    j = setjmp(X.ser.escape);
    if (j == 0) {
        (void)boot_an3155(&X.c, AN3155_SYNC);
        fail_msg("AN3155 server returned");
    }
    X.ser.peer = NULL;
    return j;
}

/* ---- checks ---- */

static uint8_t *img_make(uint32_t len, uint32_t seed, bool compressible)
{
    uint8_t *b = malloc(len);

    assert_non_null(b);
    bfx_image(b, len, seed);
    if (compressible)
        for (uint32_t i = 8; i < len; i++)
            b[i] = (i / 64) % 7 == 0 ? b[i] : (uint8_t)("Thumb-2 code "[i % 13] ^ (i >> 12));
    return b;
}

/* Flash holds the image, then 0xFF to the end of the area. */
static void expect_flash(const uint8_t *img, uint32_t len)
{
    uint8_t *now = malloc(BOOT_APP_SIZE);

    h7sim_peek(X.sim, BOOT_APP_START, now, BOOT_APP_SIZE);
    for (uint32_t i = 0; i < len; i++)
        if (now[i] != img[i])
            fail_msg("flash differs from the image at 0x%08x", (unsigned)(BOOT_APP_START + i));
    for (uint32_t i = len; i < BOOT_APP_SIZE; i++)
        if (now[i] != 0xFF)
            fail_msg("flash not erased past the image at 0x%08x", (unsigned)(BOOT_APP_START + i));
    free(now);
}

/* Every byte of the area is the image's or erased: never a wrong byte. */
static void expect_no_wrong_byte(const uint8_t *img, uint32_t len)
{
    uint8_t *now = malloc(BOOT_APP_SIZE);

    h7sim_peek(X.sim, BOOT_APP_START, now, BOOT_APP_SIZE);
    for (uint32_t i = 0; i < BOOT_APP_SIZE; i++) {
        uint8_t want = i < len ? img[i] : 0xFF;

        if (now[i] != want && now[i] != 0xFF)
            fail_msg("wrong byte in flash at 0x%08x", (unsigned)(BOOT_APP_START + i));
    }
    free(now);
}

static void expect_committed(const uint8_t *img, uint32_t len)
{
    struct boot_app_info info;

    bfx_reboot(&X);
    boot_app_check(&X.c, &info);
    assert_int_equal(info.status, 0);
    assert_int_equal(info.rec.length, len);
    assert_int_equal(info.rec.version, UR_VERSION);
    assert_int_equal(info.rec.image_crc, crc32_h7flash_image(img, len));
}

static void expect_not_committed(void)
{
    struct boot_app_info info;

    bfx_reboot(&X);
    boot_app_check(&X.c, &info);
    assert_int_not_equal(info.status, 0);
}

BFX_SETUP_TEARDOWN(X)

static void peer_free(struct peer *p)
{
    free(p->fr);
    p->fr = NULL;
}

/* ---- tests ---- */

static void run_image(uint32_t len, uint32_t seed, bool compressible, bool deflate)
{
    uint8_t *img = img_make(len, seed, compressible);
    struct peer p = { .img = img, .len = len, .deflate = deflate, .bye = true };

    assert_int_equal(session(&p), 1);
    assert_false(p.got_err);
    assert_true(p.got_end);
    if (getenv("FPDEBUG"))
        fprintf(stderr, "end_r %d crc %08x %08x want %08x %08x frames %u resent %u\n",
                p.end_r.result, p.end_r.crc[0], p.end_r.crc[1], fp_region_crc(&p.geom, img, len, 0),
                fp_region_crc(&p.geom, img, len, 1), p.nfr, p.resent);
    expect_no_wrong_byte(img, len);
    assert_int_equal(p.end_r.result, 0);
    assert_int_equal(p.end_r.crc[0], fp_region_crc(&p.geom, img, len, 0));
    assert_int_equal(p.end_r.crc[1], fp_region_crc(&p.geom, img, len, 1));
    expect_flash(img, len);
    expect_committed(img, len);
    peer_free(&p);
    free(img);
}

static void test_small(void **state)
{
    (void)state;
    run_image(1000, 1, false, false);
}

static void test_bank1_deflate(void **state)
{
    (void)state;
    run_image(300000, 2, true, true);
}

static void test_full_area(void **state)
{
    (void)state;
    run_image(BOOT_APP_SIZE, 3, false, false);
}

/* The device reports every sector of the area by its index in the area
 * (docs/PROTOCOL.md "Progress"), and a STATUS at least every
 * FP_T_STATUS_MS while frames flow, erases of the last sectors included:
 * a STATUS the codec refuses to encode is never sent, and a host that
 * waits for it stalls the wire. */
static void test_status_every_sector(void **state)
{
    uint8_t *img = img_make(BOOT_APP_SIZE, 9, false);
    struct peer p = { .img = img, .len = BOOT_APP_SIZE, .bye = true };

    (void)state;
    assert_int_equal(session(&p), 1);
    assert_false(p.got_err);
    assert_int_equal(p.end_r.result, 0);
    assert_int_equal(p.pages_seen, (1u << (BOOT_APP_SIZE / H7_SECTOR_SIZE)) - 1u);
    assert_true(p.status_gap_ms <= 2u * FP_T_STATUS_MS);
    assert_int_equal(X.c.diag.unsent, 0);
    peer_free(&p);
    free(img);
}

/* Both banks at once: with the wire free (the fixture's line costs no
 * time), the whole area takes the longer bank's flash time (its erases
 * and programs, back to back), within 5 %, not that plus the words the
 * other bank programs meanwhile: the CPU waits for each word it
 * programs, so words for bank 1 go in while bank 2 erases
 * (boot/src/fastp_srv.c flash_step). Before, it took 1.21x here. */
static void test_both_banks_flash_bound(void **state)
{
    uint8_t *img = img_make(BOOT_APP_SIZE, 11, false);
    struct peer p = { .img = img, .len = BOOT_APP_SIZE, .bye = true };
    struct h7sim_stats st;
    struct h7sim_durations d;
    uint64_t t0, t, bank2;

    (void)state;
    h7sim_durations(X.sim, 3, &d);
    t0 = h7sim_now(X.sim);
    assert_int_equal(session(&p), 1);
    t = h7sim_now(X.sim) - t0;
    assert_int_equal(p.end_r.result, 0);
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.sector_erases[1], 8);
    bank2 = st.programs[1] * d.program_word + st.sector_erases[1] * d.sector_erase;
    if (getenv("FPDEBUG"))
        fprintf(stderr, "area %.3f s, bank 2 flash %.3f s, busy %.3f/%.3f s\n", t / 1e9,
                bank2 / 1e9, st.busy_ns[0] / 1e9, st.busy_ns[1] / 1e9);
    assert_true(t < bank2 + bank2 / 20u);
    expect_flash(img, BOOT_APP_SIZE);
    peer_free(&p);
    free(img);
}

static void test_both_banks_deflate(void **state)
{
    (void)state;
    run_image(0xC0000 + 200003, 4, true, true);
}

/* Lost, corrupted, repeated and reordered frames: retransmissions only. */
static void test_line_faults(void **state)
{
    uint32_t len = 0xC0000 + 70000;
    uint8_t *img = img_make(len, 5, false);
    struct peer p = { .img = img,
                      .len = len,
                      .bye = true,
                      .lose_every = 7,
                      .corrupt_every = 5,
                      .dup_every = 4,
                      .swap_every = 9 };

    (void)state;
    assert_int_equal(session(&p), 1);
    assert_false(p.got_err);
    assert_int_equal(p.end_r.result, 0);
    assert_true(p.resent > 0);
    assert_true(p.bad_frames > 0);
    expect_flash(img, len);
    expect_committed(img, len);
    peer_free(&p);
    free(img);
}

static void run_hostile(enum hostile h, int code)
{
    uint32_t len = 0xC0000 + 20000 + 100;
    uint8_t *img = img_make(len, 6, false);
    struct peer p = { .img = img, .len = len, .hostile = h };
    struct fp_msg m;

    assert_int_equal(session(&p), 1);
    if (getenv("FPDEBUG"))
        fprintf(stderr, "hostile %d: err %d code %d end %d result %d st %d sent %u\n", h, p.got_err,
                p.err.code, p.got_end, p.end_r.result, p.st, p.sent_data);
    if (h == H_BADCRC) {
        assert_true(p.got_end);
        assert_int_equal(p.end_r.result, FP_E_VERIFY);
    } else {
        assert_true(p.got_err);
        assert_int_equal(p.err.code, code);
        assert_int_equal(p.err.fatal, 1);
        assert_int_equal(p.err.req, FP_DATA);
    }
    /* The transfer is gone: END is refused, QUERY offers nothing RAM. */
    memset(&p.err, 0, sizeof(p.err));
    p.got_err = false;
    memset(&m, 0, sizeof(m));
    (void)m;
    assert_false(X.c.fp.open);
    expect_no_wrong_byte(img, len);
    expect_not_committed();
    peer_free(&p);
    free(img);
}

static void test_hostile_outside(void **state)
{
    (void)state;
    run_hostile(H_OUTSIDE, FP_E_RANGE);
}

static void test_hostile_backwards(void **state)
{
    (void)state;
    run_hostile(H_BACKWARDS, FP_E_BACKWARDS);
}

static void test_hostile_twice(void **state)
{
    (void)state;
    run_hostile(H_TWICE, FP_E_BACKWARDS);
}

static void test_hostile_oversize(void **state)
{
    (void)state;
    run_hostile(H_OVERSIZE, FP_E_SIZE);
}

static void test_hostile_pad(void **state)
{
    (void)state;
    run_hostile(H_PAD, FP_E_PAD);
}

static void test_end_bad_crc(void **state)
{
    (void)state;
    run_hostile(H_BADCRC, 0);
}

/* The link dies half-way; the device falls back after 2 s of silence and
 * keeps the transfer; the next session resumes it from RAM. */
static void test_resume_ram(void **state)
{
    uint32_t len = BOOT_APP_SIZE - 1000;
    uint8_t *img = img_make(len, 7, false);
    struct peer p = { .img = img, .len = len, .stop_at = 120 };
    uint64_t t0;
    uint32_t first;

    (void)state;
    /* The peer stops sending; the device returns to AN3155 after 2 s, and
     * the AN3155 loop then calls the (silent) peer: escape after 2.5 s. */
    X.ser.peer = fpeer;
    t0 = X.ser.now_ms;
    {
        static const uint8_t enter[2] = { FP_AN3155_CMD, (uint8_t)~FP_AN3155_CMD };

        X.ser.peer_ctx = &p;
        X.ser.idle_limit = 0;
        fser_push(&X.ser, enter, 2);
        if (setjmp(X.ser.escape) == 0) {
            (void)boot_an3155(&X.c, AN3155_SYNC);
            fail_msg("AN3155 server returned");
        }
    }
    assert_true(X.ser.now_ms - t0 >= FP_T_SILENCE_MS);
    assert_true(X.c.fp.open);
    first = p.sent_data;
    peer_free(&p);
    /* New session: QUERY says RAM, with done[] past the start. */
    struct peer q = { .img = img, .len = len, .resume = true, .bye = true };

    assert_int_equal(session(&q), 1);
    assert_int_equal(q.rr.state, FP_RS_RAM);
    assert_true(q.rr.done[0] > 0 && q.rr.done[1] > 0);
    assert_false(q.got_err);
    assert_int_equal(q.end_r.result, 0);
    /* Only the rest was sent. */
    assert_true(q.sent_data + first < 2u * (len / 8192u) + 10u);
    assert_true(q.nfr < len / 8192u);
    expect_flash(img, len);
    expect_committed(img, len);
    peer_free(&q);
    free(img);
}

/* Power cut in the middle of a transfer, at several points; after the
 * reset QUERY offers the log's checkpoints and the resumed transfer gives
 * the image byte for byte. */
static void test_power_cut_resume(void **state)
{
    uint32_t len = BOOT_APP_SIZE - 4096;
    uint8_t *img = img_make(len, 8, true);
    /* Operations (words programmed, erases); from the second on, both
     * banks have a sector programmed and recorded (bank 2 goes first,
     * bank 1 fills its erases: 16000 operations are past the second
     * bank-2 sector). */
    static const uint64_t cuts[] = { 3000, 16000, 20000, 33000, 47000 };

    (void)state;
    for (unsigned k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        struct peer p = { .img = img, .len = len, .deflate = true };
        struct peer q = { .img = img, .len = len, .deflate = true, .resume = true };
        int j;

        bfx_close(&X);
        bfx_open(&X);
        h7sim_fault_power_cut_after_ops(X.sim, cuts[k]);
        j = session(&p);
        assert_true(h7sim_powered_off(X.sim));
        assert_true(j == 2 || p.got_err);
        h7sim_violations_clear(X.sim);
        bfx_reboot(&X);
        expect_not_committed();
        assert_int_equal(session(&q), 1);
        if (k > 0) {
            assert_int_equal(q.rr.state, FP_RS_LOG);
            assert_true(q.rr.done[0] + q.rr.done[1] > 0);
            assert_int_equal(q.rr.done[0] % H7_SECTOR_SIZE, 0);
        }
        assert_false(q.got_err);
        assert_int_equal(q.end_r.result, 0);
        expect_flash(img, len);
        expect_committed(img, len);
        h7sim_violations_clear(X.sim);
        peer_free(&p);
        peer_free(&q);
    }
    free(img);
}

/* Smart re-flash: one changed sector is the only one erased and sent. */
static void test_sectors_one_changed(void **state)
{
    uint32_t len = BOOT_APP_SIZE;
    uint8_t *img = img_make(len, 9, false);
    struct peer p = { .img = img, .len = len, .bye = true };

    (void)state;
    assert_int_equal(session(&p), 1);
    assert_int_equal(p.end_r.result, 0);
    peer_free(&p);
    img[9 * H7_SECTOR_SIZE + 77] ^= 0x5A;
    struct peer q = { .img = img, .len = len, .bye = true, .sectors = true };

    assert_int_equal(session(&q), 1);
    assert_int_equal(q.page_mask, 1u << 9);
    assert_int_equal(q.sent_data - q.resent, H7_SECTOR_SIZE / 8192u);
    assert_int_equal(q.end_r.result, 0);
    expect_flash(img, len);
    expect_committed(img, len);
    peer_free(&q);
    free(img);
}

/* BAUD: 921600 is set as PCLK1 / 109 (0.46 % off); a rate above
 * baud_max is refused. */
static void test_baud(void **state)
{
    uint32_t len = 50000;
    uint8_t *img = img_make(len, 10, false);
    struct peer p = { .img = img, .len = len, .bye = true, .baud = 921600 };

    (void)state;
    assert_int_equal(session(&p), 1);
    assert_true(p.hello_baud);
    assert_int_equal(p.end_r.result, 0);
    /* back at the entry rate after BYE */
    assert_int_equal(X.ser.baud, BOOT_PCLK1_HZ / ((BOOT_PCLK1_HZ + 57600u) / 115200u));
    assert_int_equal(X.ser.baud_changes, 2);
    expect_committed(img, len);
    peer_free(&p);
    struct peer q = { .img = img, .len = len, .bye = true, .baud = 12500000 };

    assert_int_equal(session(&q), 1);
    assert_true(q.got_err);
    assert_int_equal(q.err.code, FP_E_BAUD);
    assert_int_equal(q.err.fatal, 0);
    peer_free(&q);
    free(img);
}

/* An AN3155 write after a fast transfer was cut ends it: no resume. */
static void test_an3155_write_ends_resume(void **state)
{
    uint32_t len = 400000;
    uint8_t *img = img_make(len, 11, false);
    struct peer p = { .img = img, .len = len, .stop_at = 40 };
    struct peer q = { .img = img, .len = len, .query_only = true };
    uint8_t w[32];

    (void)state;
    X.ser.peer = fpeer;
    X.ser.peer_ctx = &p;
    X.ser.idle_limit = 0;
    {
        static const uint8_t enter[2] = { FP_AN3155_CMD, (uint8_t)~FP_AN3155_CMD };

        fser_push(&X.ser, enter, 2);
        if (setjmp(X.ser.escape) == 0)
            (void)boot_an3155(&X.c, AN3155_SYNC);
    }
    X.ser.peer = NULL;
    assert_true(X.c.fp.open);
    memset(w, 0x11, sizeof(w));
    assert_int_equal(boot_update_erase_pages(&X.c, 1u << 15), 0);
    assert_int_equal(boot_update_write(&X.c, BOOT_SECTOR_ADDR(15), w, sizeof(w)), 0);
    assert_false(X.c.fp.open);
    bfx_reboot(&X);
    assert_int_equal(session(&q), 1);
    assert_int_equal(q.rr.state, FP_RS_NONE);
    peer_free(&p);
    peer_free(&q);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bank1_deflate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_banks_flash_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_banks_deflate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_area, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_every_sector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_backwards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_pad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_bad_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sectors_one_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an3155_write_ends_resume, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
