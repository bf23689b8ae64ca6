/* h7iap: client of the h7iap fast protocol (docs/PROTOCOL.md "h7iap fast protocol"). */
#define _DEFAULT_SOURCE
#include "iap_fastp.h"
#include "iap.h"
#include "iap_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "crc32.h"
#include "fastp.h"
#include "h7_layout.h"
#include "proto_err.h"
#include "stm32h7/flash.h"

/* Unacknowledged DATA bytes on the line at most: enough to keep the wire
 * busy across a STATUS round trip, little enough that a write never
 * blocks long on a kernel or virtual-board buffer (64 KiB). */
#define INFLIGHT_MIN_FRAMES 3u
#define INFLIGHT_MAX_BYTES  (48u * 1024u)
/* A reconnect after a lost link waits for the device's silence fallback. */
#define RECONNECT_WAIT_MS (FP_T_SILENCE_MS + 200u)
#define RECONNECTS        3

void iap_fastp_defaults(struct iap_fastp_opts *o, unsigned entry_baud)
{
    memset(o, 0, sizeof *o);
    o->baud_fast = 2000000;
    o->entry_baud = entry_baud;
    o->smart = true;
    o->compress = true;
    o->resume = true;
    o->level = 9;
    o->link_timeout_ms = FP_REQ_TRIES * FP_T_REPLY_MS;
}

const char *iap_fastp_strerror(enum iap_fastp_err e)
{
    switch (e) {
    case IAP_FASTP_OK: return "success";
    case IAP_FASTP_ERR_LINK: return "fast protocol: link lost";
    case IAP_FASTP_ERR_REFUSED: return "fast protocol: the device refused a request";
    case IAP_FASTP_ERR_FLASH: return "fast protocol: flash error on the device";
    case IAP_FASTP_ERR_VERIFY: return "fast protocol: flash CRC differs from the image";
    case IAP_FASTP_ERR_PROTOCOL: return "fast protocol: unexpected reply";
    case IAP_FASTP_ERR_UNSUPPORTED: return "fast protocol: not spoken by the device";
    case IAP_FASTP_ERR_IMAGE: return "fast protocol: image outside the device's area";
    case IAP_FASTP_ERR_NOMEM: return "fast protocol: out of memory";
    case IAP_FASTP_ERR_BASE:
    case IAP_FASTP_ERR_END: break;
    }
    return "unknown fast protocol error";
}

const char *iap_flash_sr_names(uint32_t sr, char *buf, size_t n)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } bits[] = {
        { FLASH_SR_WRPERR, "WRPERR" },     { FLASH_SR_PGSERR, "PGSERR" },
        { FLASH_SR_STRBERR, "STRBERR" },   { FLASH_SR_INCERR, "INCERR" },
        { FLASH_SR_OPERR, "OPERR" },       { FLASH_SR_RDPERR, "RDPERR" },
        { FLASH_SR_RDSERR, "RDSERR" },     { FLASH_SR_SNECCERR, "SNECCERR" },
        { FLASH_SR_DBECCERR, "DBECCERR" }, { FLASH_SR_CRCRDERR, "CRCRDERR" },
    };
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if ((sr & bits[i].bit) && off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? " " : "", bits[i].name);
    if (sr & ~FLASH_SR_ALL_ERRORS && off < n)
        off += (size_t)snprintf(buf + off, n - off, "%sother 0x%08x", off ? " " : "",
                                sr & ~FLASH_SR_ALL_ERRORS);
    if (!off)
        snprintf(buf, n, "none");
    return buf;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* One DATA frame of the transfer, encoded once. */
struct frame {
    uint8_t *wire;
    uint32_t wire_len, raw_len;
    bool acked, sent;
    uint64_t txo;       /* order of its last write (1, 2, ...) */
    long long tx_ms;    /* time of its last write */
    uint32_t tx_status; /* STATUS frames received before its last write */
};

struct fpc {
    struct iap_client *c;
    struct iap_transport *t;
    const struct iap_fastp_opts *o;
    struct iap_fastp_stats *st;
    enum iap_parity entry_parity;
    unsigned baud;    /* the line's rate now */
    bool baud_failed; /* the switch got no answer: stay at the entry rate */
    struct fp_geom g;
    bool have_geom;
    struct fp_hello_r hr;
    uint8_t tag;
    uint8_t rx[2 * FP_FRAME_MAX];
    size_t rn;
    uint8_t tx[FP_FRAME_MAX];
    long long last_tx, last_rx;
    /* the image, as the device's area sees it */
    uint8_t *img;
    uint32_t ilen, icrc, full_mask;
    /* the transfer */
    struct frame *f;
    uint32_t nf;
    uint32_t cum, limit;
    uint32_t statuses; /* frames received: the device's clock (a STATUS >= 1 per FP_T_STATUS_MS) */
    struct fp_bank_status bank[FP_REGIONS];
};

/* Milliseconds n bytes take on the line (8N1). */
static long long wire_ms(const struct fpc *s, uint64_t n)
{
    unsigned b = s->baud ? s->baud : 115200;
    return (long long)((n * 10u * 1000u + b - 1) / b);
}

static void drop(struct fpc *s, size_t n)
{
    if (n >= s->rn) {
        s->rn = 0;
        return;
    }
    memmove(s->rx, s->rx + n, s->rn - n);
    s->rn -= n;
}

/* Read until rx holds want bytes or ms pass: 0, or the line's error. */
static int fill(struct fpc *s, size_t want, long long ms)
{
    if (want > sizeof s->rx)
        want = sizeof s->rx;
    if (s->rn >= want)
        return 0;
    size_t got = 0;
    int rc = s->t->ops->read(s->t, s->rx + s->rn, want - s->rn, (int)(ms > 0 ? ms : 0), &got);
    if (got)
        s->last_rx = now_ms();
    s->rn += got;
    return rc;
}

/*
 * The next valid frame from the device within ms: 1 (in m), 0 (nothing in
 * time), or the line's error. Bad starts, header checks and CRCs are
 * skipped as the receiver rules say; a frame stalled past its wire time
 * plus FP_T_FRAME_GAP_MS is dropped.
 */
static int rx_frame(struct fpc *s, struct fp_msg *m, int ms)
{
    long long deadline = now_ms() + ms;
    for (;;) {
        long long left = deadline - now_ms();
        if (s->rn < FP_HDR_LEN) {
            int rc = fill(s, FP_HDR_LEN, left);
            if (rc)
                return rc;
            if (s->rn < FP_HDR_LEN)
                return 0;
        }
        int h = fp_header(s->rx, s->rn);
        if (h < 0) {
            drop(s, fp_resync(s->rx, s->rn));
            continue;
        }
        if ((size_t)h > s->rn) {
            long long gap = FP_T_FRAME_GAP_MS + 2 * wire_ms(s, (uint64_t)h) + 100;
            int rc = fill(s, (size_t)h, left > gap ? left : gap);
            if (rc)
                return rc;
            if ((size_t)h > s->rn) {
                if (now_ms() < deadline)
                    continue;
                iap_debug(2, "fast: frame of %d bytes stalled, dropped", h);
                drop(s, 1);
                return 0;
            }
        }
        int r = fp_decode(s->rx, s->rn, s->have_geom ? &s->g : NULL, FP_TO_HOST, m);
        if (r < 0) {
            iap_debug(2, "fast: frame dropped: %s", fp_strerror(r));
            drop(s, 1);
            continue;
        }
        /* Replies to the host carry no pointers into rx: drop it now. */
        drop(s, (size_t)r);
        s->statuses++;
        iap_debug(2, "fast: <- %s tag %u", fp_type_name(m->type), m->tag);
        return 1;
    }
}

static int tx_msg(struct fpc *s, const struct fp_msg *m)
{
    int n = fp_encode(m, s->have_geom ? &s->g : NULL, s->tx, sizeof s->tx);
    if (n < 0)
        return iap_fail(IAP_FASTP_ERR_PROTOCOL, "fast: cannot encode %s: %s", fp_type_name(m->type),
                        fp_strerror(n));
    iap_debug(2, "fast: -> %s tag %u", fp_type_name(m->type), m->tag);
    s->last_tx = now_ms();
    return s->t->ops->write(s->t, s->tx, (size_t)n);
}

static const char *code_name(int code, char *buf, size_t n)
{
    const char *p = proto_strerror(code);
    if (p)
        return p;
    /* h7flash's flash error codes are -(1000 + the FLASH_SR bit). */
    if (code <= -1000 && code > -1032) {
        char b[64];
        snprintf(buf, n, "flash error %s", iap_flash_sr_names(1u << (-code - 1000), b, sizeof b));
        return buf;
    }
    snprintf(buf, n, "error %d", code);
    return buf;
}

/* Report an ERROR frame: its code, the flash status bits by name. */
static int device_error(struct fpc *s, const struct fp_error *e)
{
    char nb[96], sb[128], at[48] = "", seq[32] = "";
    (void)s;
    if (e->addr)
        snprintf(at, sizeof at, " at 0x%08x", e->addr);
    if (e->seq != 0xFFFFFFFFu)
        snprintf(seq, sizeof seq, " (DATA frame %u)", e->seq);
    const char *name = code_name(e->code, nb, sizeof nb);
    if (e->sr)
        return iap_fail(IAP_FASTP_ERR_FLASH,
                        "the device reports a flash error%s%s: %s (%d), FLASH_SR 0x%08x = %s%s", at,
                        seq, name, e->code, e->sr, iap_flash_sr_names(e->sr, sb, sizeof sb),
                        e->fatal ? "; the transfer was dropped, nothing was committed" : "");
    return iap_fail(IAP_FASTP_ERR_REFUSED, "the device refused %s%s%s: %s (%d)%s",
                    e->req ? fp_type_name(e->req) : "a frame", seq, at, name, e->code,
                    e->fatal ? "; the transfer was dropped, nothing was committed" : "");
}

static void show_banks(struct fpc *s)
{
    char note[64];
    size_t off = 0;
    uint32_t first = (s->g.area_base - H7_FLASH_BASE) / s->g.sector_size;
    note[0] = '\0';
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        const struct fp_bank_status *b = &s->bank[r];
        const char *what = b->state == FP_BANK_ERASING       ? "erasing"
                           : b->state == FP_BANK_PROGRAMMING ? "writing"
                           : b->state == FP_BANK_FAILED      ? "FAILED"
                                                             : NULL;
        if (!what)
            continue;
        if (b->page == FP_PAGE_BANK)
            off += (size_t)snprintf(note + off, sizeof note - off, "%sbank %u %s", off ? ", " : "",
                                    r + 1, what);
        else if (b->page != FP_PAGE_NONE)
            off += (size_t)snprintf(note + off, sizeof note - off, "%sbank %u %s sector %u",
                                    off ? ", " : "", r + 1, what, first + b->page);
        if (off >= sizeof note)
            break;
    }
    iap_progress_note(note);
}

/* Take a STATUS: window, acknowledgements, progress. */
static void on_status(struct fpc *s, const struct fp_status *m)
{
    iap_debug(2,
              "fast: STATUS cum %u limit %u sack 0x%llx, bank 1 %u/%u/%u done %u, bank 2 %u/%u/%u "
              "done %u, bad %u",
              m->cum, m->limit, (unsigned long long)m->sack, m->bank[0].state, m->bank[0].page,
              m->bank[0].erase_ms, m->bank[0].done, m->bank[1].state, m->bank[1].page,
              m->bank[1].erase_ms, m->bank[1].done, m->bad_frames);
    if (m->cum >= s->cum) {
        s->cum = m->cum;
        if (m->limit > s->limit)
            s->limit = m->limit;
    }
    memcpy(s->bank, m->bank, sizeof s->bank);
    if (s->st)
        s->st->bad_frames = m->bad_frames;
    for (uint32_t i = 0; i < s->nf && i < m->cum; i++)
        s->f[i].acked = true;
    for (unsigned b = 0; b < FP_SACK_BITS; b++)
        if ((m->sack >> b) & 1u) {
            uint64_t i = (uint64_t)m->cum + 1 + b;
            if (i < s->nf)
                s->f[i].acked = true;
        }
    show_banks(s);
}

/*
 * Send a request and wait for its answer (type want, same tag) or an
 * ERROR with its tag. A try ends after wait_ms of silence (a STATUS
 * restarts the wait) and the request is sent again. Only silent tries
 * count towards FP_REQ_TRIES: a try that saw a STATUS shows a device that
 * is alive and busy (an END waits for the last erase, and an emulated
 * board's clock may run ten times slower than ours while it erases, so
 * its STATUS frames can come more than wait_ms apart). Busy tries are
 * bounded by the device's own clock: FP_T_BUSY_MAX_MS of STATUS ticks.
 */
static int request(struct fpc *s, struct fp_msg *q, uint8_t want, struct fp_msg *a, int wait_ms)
{
    s->tag = (uint8_t)(s->tag + 1 ? s->tag + 1 : 1);
    q->tag = s->tag;
    unsigned tries = (unsigned)(s->o->link_timeout_ms / wait_ms);
    if (tries < FP_REQ_TRIES)
        tries = FP_REQ_TRIES;
    const uint32_t st_begin = s->statuses;
    const uint32_t busy_max = FP_T_BUSY_MAX_MS / FP_T_STATUS_MS;
    unsigned silent = 0;
    while (silent < tries) {
        int rc = tx_msg(s, q);
        if (rc)
            return rc;
        const uint32_t st_try = s->statuses;
        for (;;) {
            rc = rx_frame(s, a, wait_ms);
            if (rc < 0 || rc > 1)
                return rc;
            if (rc == 0)
                break;
            if (a->type == FP_STATUS) {
                on_status(s, &a->u.status);
                if (want == FP_STATUS && a->tag == q->tag)
                    return 0;
                continue;
            }
            if (a->type == FP_ERROR && a->tag == q->tag)
                return device_error(s, &a->u.error);
            if (a->type == want && a->tag == q->tag)
                return 0;
            iap_debug(1, "fast: %s (tag %u) while waiting for %s (tag %u): ignored",
                      fp_type_name(a->type), a->tag, fp_type_name(want), q->tag);
        }
        if (s->statuses == st_try) {
            silent++;
            iap_debug(1, "fast: no answer to %s, sending it again", fp_type_name(q->type));
        } else if (s->statuses - st_begin >= busy_max) {
            return iap_fail(IAP_FASTP_ERR_LINK,
                            "fast: the device stayed busy for %u ms of its time without "
                            "answering %s",
                            FP_T_BUSY_MAX_MS, fp_type_name(q->type));
        } else {
            iap_debug(2, "fast: device busy (STATUS), %s not answered yet: sending it again",
                      fp_type_name(q->type));
        }
    }
    return iap_fail(IAP_FASTP_ERR_LINK, "fast: no answer to %s after %u tries of %d ms",
                    fp_type_name(q->type), tries, wait_ms);
}

static int set_rate(struct fpc *s, unsigned baud)
{
    if (s->t->ops->set_baud) {
        int rc = s->t->ops->set_baud(s->t, baud);
        if (rc)
            return rc;
    }
    s->baud = baud;
    s->rn = 0;
    return 0;
}

/* Back to the AN3155 session's rate and format (after BYE, or to reconnect). */
static void to_entry(struct fpc *s)
{
    set_rate(s, s->o->entry_baud);
    if (s->t->ops->set_parity && s->entry_parity != s->t->parity)
        s->t->ops->set_parity(s->t, s->entry_parity == IAP_PARITY_EVEN);
    s->t->ops->drain(s->t);
}

/* 0xE1 from the AN3155 command loop, 8N1, HELLO. sync: send 0x7F first. */
static int enter(struct fpc *s, bool sync)
{
    int rc;
    if (sync) {
        rc = iap_sync(s->c);
        if (rc)
            return rc;
    }
    rc = iap_cmd_plain(s->c, FP_AN3155_CMD);
    if (rc)
        return rc;
    if (s->t->parity == IAP_PARITY_EVEN && s->t->ops->set_parity) {
        rc = s->t->ops->set_parity(s->t, 0); /* fast frames are 8N1 */
        if (rc)
            return rc;
    }
    s->baud = s->o->entry_baud;
    s->rn = 0;
    struct fp_msg q = { .type = FP_HELLO }, a;
    q.u.hello.version = FP_VERSION;
    rc = request(s, &q, FP_HELLO_R, &a, FP_T_REPLY_MS);
    if (rc == IAP_FASTP_ERR_REFUSED)
        return iap_fail(IAP_FASTP_ERR_UNSUPPORTED, "%s", iap_error());
    if (rc)
        return rc;
    s->hr = a.u.hello_r;
    s->g = a.u.hello_r.geom;
    s->have_geom = true;
    iap_debug(1,
              "fast: version %u, area 0x%08x + 0x%x, bank split 0x%x, sector %u, %u slots of %u, "
              "deflate %s, %u baud now, at most %u",
              s->hr.version, s->g.area_base, s->g.area_size, s->g.bank_split, s->g.sector_size,
              s->g.slots, s->g.raw_max, (s->hr.flags & FP_HF_DEFLATE) ? "yes" : "no",
              s->hr.baud_now, s->hr.baud_max);
    return 0;
}

/* BAUD, then PINGs at the new rate; no PONG: back to the entry rate and in again. */
static int switch_baud(struct fpc *s)
{
    unsigned want = s->o->baud_fast;
    if (!want || want == s->o->entry_baud || s->baud_failed)
        return 0;
    if (want > s->hr.baud_max) {
        iap_info("fast: %u baud is above the device's %u: staying at %u", want, s->hr.baud_max,
                 s->baud);
        return 0;
    }
    struct fp_msg q = { .type = FP_BAUD }, a;
    q.u.baud = want;
    int rc = request(s, &q, FP_BAUD_R, &a, FP_T_REPLY_MS);
    if (rc == IAP_FASTP_ERR_REFUSED) {
        iap_info("fast: %s; staying at %u baud", iap_error(), s->baud);
        return 0;
    }
    if (rc)
        return rc;
    long long t_switch = now_ms();
    rc = set_rate(s, want);
    if (rc) {
        iap_info("fast: the host cannot set %u baud (%s); falling back", want, iap_error());
    } else {
        for (unsigned i = 0; i < FP_BAUD_PINGS; i++) {
            struct fp_msg p = { .type = FP_PING, .tag = 0 }, r;
            p.u.token = 0x42410000u | i;
            rc = tx_msg(s, &p);
            if (rc)
                return rc;
            long long until = now_ms() + FP_T_BAUD_PING_MS;
            while ((rc = rx_frame(s, &r, (int)(until - now_ms()))) == 1)
                if (r.type == FP_PONG) {
                    iap_debug(1, "fast: running at %u baud (the device set %u)", want, a.u.baud);
                    if (s->st)
                        s->st->baud = want;
                    return 0;
                }
            if (rc < 0 || rc > 1)
                return rc;
        }
    }
    iap_info("fast: no answer at %u baud; back to %u baud", want, s->o->entry_baud);
    if (s->st)
        s->st->baud_fallback = true;
    s->baud_failed = true;
    to_entry(s);
    sleep_ms(t_switch + RECONNECT_WAIT_MS - now_ms());
    return enter(s, true);
}

/* The image as a buffer of the device's area from its start. */
static int load_image(struct fpc *s, const struct iap_image *padded)
{
    uint64_t lo = iap_image_lo(padded), hi = iap_image_hi(padded);
    if (lo < s->g.area_base || hi > (uint64_t)s->g.area_base + s->g.area_size)
        return iap_fail(IAP_FASTP_ERR_IMAGE,
                        "fast: image 0x%08llx-0x%08llx is outside the device's area 0x%08x-0x%08x",
                        (unsigned long long)lo, (unsigned long long)hi - 1, s->g.area_base,
                        s->g.area_base + s->g.area_size - 1);
    s->ilen = (uint32_t)(hi - s->g.area_base);
    s->ilen = (s->ilen + FP_WORD - 1) / FP_WORD * FP_WORD;
    s->img = malloc(s->ilen);
    if (!s->img)
        return iap_fail(IAP_FASTP_ERR_NOMEM, "out of memory");
    memset(s->img, 0xFF, s->ilen);
    for (size_t i = 0; i < padded->n; i++)
        memcpy(s->img + (padded->segs[i].addr - s->g.area_base), padded->segs[i].data,
               padded->segs[i].len);
    s->icrc = crc32_h7flash_image(s->img, s->ilen);
    unsigned n = fp_image_sectors(&s->g, s->ilen);
    s->full_mask = n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u;
    if (s->st) {
        s->st->image_len = s->ilen;
        s->st->sectors = n;
    }
    return 0;
}

/* SECTORS: the page mask without the sectors whose flash already matches. */
static int smart_mask(struct fpc *s, uint32_t *mask)
{
    unsigned n = fp_image_sectors(&s->g, s->ilen);
    struct fp_msg q = { .type = FP_SECTORS }, a;
    q.u.sectors.first = 0;
    q.u.sectors.count = (uint8_t)n;
    int rc = request(s, &q, FP_SECTORS_R, &a, FP_T_REPLY_MS);
    if (rc)
        return rc;
    if (a.u.sectors_r.first != 0 || a.u.sectors_r.count != n)
        return iap_fail(IAP_FASTP_ERR_PROTOCOL, "fast: SECTORS_R for sectors %u+%u, asked 0+%u",
                        a.u.sectors_r.first, a.u.sectors_r.count, n);
    uint32_t m = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t want = fp_sector_crc(&s->g, s->img, s->ilen, i);
        if (a.u.sectors_r.sr[i] || a.u.sectors_r.crc[i] != want)
            m |= 1u << i;
        if (a.u.sectors_r.sr[i]) {
            char b[96];
            iap_info("fast: sector %u of the area reads with FLASH_SR %s: written again", i,
                     iap_flash_sr_names(a.u.sectors_r.sr[i], b, sizeof b));
        }
    }
    *mask = m;
    return 0;
}

static void free_frames(struct fpc *s)
{
    for (uint32_t i = 0; i < s->nf; i++)
        free(s->f[i].wire);
    free(s->f);
    s->f = NULL;
    s->nf = 0;
}

static bool all_ff(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

struct span {
    uint32_t off, len;
};

/* The frames of region r: sectors of the mask, from done, all-0xFF left out. */
static size_t region_spans(const struct fpc *s, unsigned r, uint32_t mask, uint32_t done,
                           struct span *out, uint64_t *bytes)
{
    uint32_t start = fp_region_start(&s->g, r),
             end = start + fp_region_image_len(&s->g, s->ilen, r);
    size_t n = 0;
    *bytes = 0;
    for (uint32_t off = start + done; off < end;) {
        uint32_t sec = off / s->g.sector_size;
        uint32_t sec_end = (sec + 1) * s->g.sector_size;
        if (!((mask >> sec) & 1u)) {
            off = sec_end;
            continue;
        }
        uint32_t len = s->g.raw_max;
        if (len > sec_end - off)
            len = sec_end - off;
        if (len > end - off)
            len = end - off;
        if (!all_ff(s->img + off, len)) {
            out[n].off = off;
            out[n].len = len;
            *bytes += len;
            n++;
        }
        off += len;
    }
    return n;
}

/* Encode every DATA frame, the regions interleaved by their bytes. */
static int make_frames(struct fpc *s, uint32_t mask, const uint32_t done[FP_REGIONS])
{
    size_t cap = s->ilen / 32 + 2;
    struct span *sp[FP_REGIONS];
    size_t ns[FP_REGIONS], k[FP_REGIONS] = { 0, 0 };
    uint64_t tot[FP_REGIONS], sent[FP_REGIONS] = { 0, 0 };
    int rc = 0;
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        sp[r] = malloc(cap * sizeof *sp[r]);
        ns[r] = sp[r] ? region_spans(s, r, mask, done[r], sp[r], &tot[r]) : 0;
    }
    s->f = calloc(ns[0] + ns[1] + 1, sizeof *s->f);
    bool z = s->o->compress && (s->hr.flags & FP_HF_DEFLATE);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    uint8_t *zbuf = malloc(FP_RAW_MAX);
    if (!sp[0] || !sp[1] || !s->f || !zbuf ||
        (z && deflateInit2(&zs, s->o->level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)) {
        z = false;
        rc = iap_fail(IAP_FASTP_ERR_NOMEM, "out of memory (or zlib failed)");
        goto out;
    }
    while (k[0] < ns[0] || k[1] < ns[1]) {
        unsigned r;
        if (k[0] >= ns[0])
            r = 1;
        else if (k[1] >= ns[1])
            r = 0;
        else /* the region further behind its share goes next */
            r = (sent[0] + sp[0][k[0]].len) * tot[1] <= (sent[1] + sp[1][k[1]].len) * tot[0] ? 0
                                                                                             : 1;
        struct span x = sp[r][k[r]++];
        sent[r] += x.len;
        struct fp_msg m = { .type = FP_DATA };
        m.u.data.seq = s->nf;
        m.u.data.offset = x.off;
        m.u.data.raw_len = (uint16_t)x.len;
        m.u.data.codec = FP_CODEC_RAW;
        m.u.data.raw_crc = crc32_zlib(0, s->img + x.off, x.len);
        m.u.data.payload = s->img + x.off;
        m.u.data.payload_len = (uint16_t)x.len;
        if (z) {
            deflateReset(&zs);
            zs.next_in = s->img + x.off;
            zs.avail_in = x.len;
            zs.next_out = zbuf;
            zs.avail_out = x.len - 1; /* smaller than raw, or raw */
            if (deflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out >= 1) {
                m.u.data.codec = FP_CODEC_DEFLATE;
                m.u.data.payload = zbuf;
                m.u.data.payload_len = (uint16_t)zs.total_out;
            }
        }
        struct frame *f = &s->f[s->nf];
        f->raw_len = x.len;
        f->wire = malloc(FP_OVERHEAD + FP_DATA_HDR + m.u.data.payload_len);
        if (!f->wire) {
            rc = iap_fail(IAP_FASTP_ERR_NOMEM, "out of memory");
            goto out;
        }
        int n = fp_encode(&m, &s->g, f->wire, FP_OVERHEAD + FP_DATA_HDR + m.u.data.payload_len);
        if (n < 0) {
            free(f->wire);
            f->wire = NULL;
            rc = iap_fail(IAP_FASTP_ERR_PROTOCOL, "fast: DATA frame at 0x%x: %s", x.off,
                          fp_strerror(n));
            goto out;
        }
        f->wire_len = (uint32_t)n;
        s->nf++;
        if (s->st) {
            s->st->raw_bytes += x.len;
            s->st->payload_bytes += m.u.data.payload_len;
        }
    }
out:
    if (z)
        deflateEnd(&zs);
    free(zbuf);
    free(sp[0]);
    free(sp[1]);
    if (s->st)
        s->st->frames = s->nf;
    return rc;
}

static int send_frame(struct fpc *s, uint32_t i, uint64_t *txo, bool repeat)
{
    struct frame *f = &s->f[i];
    iap_debug(2, "fast: -> DATA %u%s", i, repeat ? " (again)" : "");
    int rc = s->t->ops->write(s->t, f->wire, f->wire_len);
    if (rc)
        return rc;
    f->sent = true;
    f->txo = ++*txo;
    f->tx_ms = s->last_tx = now_ms();
    f->tx_status = s->statuses;
    if (s->st) {
        s->st->sent++;
        s->st->data_wire_bytes += f->wire_len;
        if (repeat)
            s->st->repeats++;
    }
    return 0;
}

/* The window: DATA while seq < limit, repeats per sack and timeout, PING when idle. */
static int send_all(struct fpc *s)
{
    uint64_t txo = 0, total = 0, done = 0;
    uint32_t next = 0, counted = 0;
    int rc = 0;
    long long cum_ms = now_ms();
    uint32_t last_cum = s->cum;
    for (uint32_t i = 0; i < s->nf; i++)
        total += s->f[i].raw_len;
    uint64_t cap = (uint64_t)(s->baud ? s->baud : 115200) / 10 / 4; /* 250 ms of wire */
    if (cap > INFLIGHT_MAX_BYTES)
        cap = INFLIGHT_MAX_BYTES;
    if (cap < INFLIGHT_MIN_FRAMES * (uint64_t)FP_FRAME_MAX)
        cap = INFLIGHT_MIN_FRAMES * (uint64_t)FP_FRAME_MAX;
    iap_progress_begin("write", total, "sending frames");
    while (s->cum < s->nf) {
        long long now = now_ms();
        uint64_t inflight = 0, max_acked = 0;
        for (uint32_t i = s->cum; i < next; i++) {
            if (!s->f[i].acked)
                inflight += s->f[i].wire_len;
            else if (s->f[i].txo > max_acked)
                max_acked = s->f[i].txo;
        }
        if (s->cum != last_cum) {
            last_cum = s->cum;
            cum_ms = now;
        }
        long long rto = 200 + 2 * wire_ms(s, inflight);
        int32_t pick = -1;
        bool repeat = true;
        /* A frame sent before one that arrived is lost. */
        for (uint32_t i = s->cum; i < next && pick < 0; i++)
            if (!s->f[i].acked && s->f[i].txo < max_acked)
                pick = (int32_t)i;
        /* cum stuck: the oldest frame again, once both clocks agree it is
         * overdue: ours (rto) and the device's, counted in the frames it
         * sent since (a STATUS at least every FP_T_STATUS_MS of its time,
         * a PONG to each keep-alive): an emulated board's time can run
         * slower than ours. */
        if (pick < 0 && s->cum < next && !s->f[s->cum].acked) {
            const struct frame *o = &s->f[s->cum];
            long long since = o->tx_ms > cum_ms ? o->tx_ms : cum_ms;
            uint32_t ticks = 1 + (uint32_t)(wire_ms(s, inflight) / FP_T_STATUS_MS);
            if (now - since > rto && s->statuses - o->tx_status >= ticks)
                pick = (int32_t)s->cum;
        }
        if (pick < 0 && next < s->nf && next < s->limit && inflight + s->f[next].wire_len <= cap) {
            pick = (int32_t)next++;
            repeat = false;
        }
        if (pick >= 0) {
            rc = send_frame(s, (uint32_t)pick, &txo, repeat);
            if (rc)
                goto fail;
        } else if (now - s->last_tx >= FP_T_KEEPALIVE_MS) {
            struct fp_msg p = { .type = FP_PING };
            p.u.token = s->cum;
            rc = tx_msg(s, &p);
            if (rc)
                goto fail;
        }
        /* Replies: without waiting when there is more to send. */
        struct fp_msg m;
        int wait = pick >= 0 && next < s->nf && next < s->limit ? 0 : 20;
        while ((rc = rx_frame(s, &m, wait)) == 1) {
            wait = 0;
            if (m.type == FP_STATUS) {
                on_status(s, &m.u.status);
            } else if (m.type == FP_ERROR) {
                rc = device_error(s, &m.u.error);
                goto fail;
            }
        }
        if (rc)
            goto fail;
        while (counted < s->cum && counted < s->nf)
            done += s->f[counted++].raw_len;
        iap_progress_update(done);
        if (now_ms() - s->last_rx > (long long)s->o->link_timeout_ms) {
            rc = iap_fail(IAP_FASTP_ERR_LINK, "fast: the device went silent (frame %u of %u)",
                          s->cum, s->nf);
            goto fail;
        }
    }
    iap_progress_note("");
    iap_progress_end();
    return 0;
fail:
    iap_progress_interrupt();
    return rc;
}

static void summary(const struct fpc *s)
{
    if (!s->st || !s->st->raw_bytes)
        return;
    const struct iap_fastp_stats *st = s->st;
    iap_debug(1,
              "fast: %u frames, %llu bytes, payload %.3f of raw, %u repeats, %u bad frames on the "
              "device",
              st->frames, (unsigned long long)st->raw_bytes,
              (double)st->payload_bytes / (double)st->raw_bytes, st->repeats, st->bad_frames);
}

/* One session: entered, to END_R and BYE. */
static int session(struct fpc *s, const struct iap_image *padded, bool again)
{
    int rc = enter(s, again);
    if (rc)
        return rc;
    if (!s->img) {
        rc = load_image(s, padded);
        if (rc)
            return rc;
    }
    rc = switch_baud(s);
    if (rc)
        return rc;
    struct fp_msg q = { .type = FP_QUERY }, a;
    rc = request(s, &q, FP_RESUME_R, &a, FP_T_REPLY_MS);
    if (rc)
        return rc;
    struct fp_resume_r rr = a.u.resume_r;
    struct fp_msg b = { .type = FP_BEGIN };
    b.u.begin.image.len = s->ilen;
    b.u.begin.image.crc = s->icrc;
    b.u.begin.image.page_mask = s->full_mask;
    uint32_t done[FP_REGIONS] = { 0, 0 };
    if (s->o->resume && rr.state != FP_RS_NONE && rr.image.len == s->ilen &&
        rr.image.crc == s->icrc) {
        b.u.begin.flags = FP_BF_RESUME;
        b.u.begin.image.page_mask = rr.image.page_mask;
        for (unsigned r = 0; r < FP_REGIONS; r++)
            done[r] = b.u.begin.resume[r] = rr.done[r];
        iap_info("fast: resuming the open transfer of this image (%s): %u + %u bytes already "
                 "in flash",
                 rr.state == FP_RS_RAM ? "link lost" : "after a reset", rr.done[0], rr.done[1]);
    } else {
        if (rr.state != FP_RS_NONE)
            iap_info("fast: the device holds an unfinished transfer of another image: starting "
                     "over");
        if (s->o->smart && rr.state == FP_RS_NONE) {
            rc = smart_mask(s, &b.u.begin.image.page_mask);
            if (rc)
                return rc;
        }
    }
begin:
    if (s->st) {
        s->st->resumed = b.u.begin.flags & FP_BF_RESUME;
        memcpy(s->st->resume_done, done, sizeof done);
        s->st->page_mask = b.u.begin.image.page_mask;
        unsigned sk = 0;
        for (unsigned i = 0; i < s->st->sectors; i++)
            sk += !((b.u.begin.image.page_mask >> i) & 1u);
        s->st->skipped = sk;
        s->st->raw_bytes = s->st->payload_bytes = 0;
    }
    free_frames(s);
    rc = make_frames(s, b.u.begin.image.page_mask, done);
    if (rc)
        return rc;
    s->cum = 0;
    s->limit = 0;
    rc = request(s, &b, FP_STATUS, &a, FP_T_REPLY_MS);
    if (rc == IAP_FASTP_ERR_REFUSED && (b.u.begin.flags & FP_BF_RESUME)) {
        iap_info("fast: %s; starting over", iap_error());
        b.u.begin.flags = 0;
        b.u.begin.image.page_mask = s->full_mask;
        memset(b.u.begin.resume, 0, sizeof b.u.begin.resume);
        memset(done, 0, sizeof done);
        goto begin;
    }
    if (rc)
        return rc;
    s->cum = a.u.status.cum;
    s->limit = a.u.status.limit;
    rc = send_all(s);
    if (rc)
        return rc;
    struct fp_msg e = { .type = FP_END };
    e.u.end.frames = s->nf;
    for (unsigned r = 0; r < FP_REGIONS; r++)
        e.u.end.crc[r] = fp_region_crc(&s->g, s->img, s->ilen, r);
    rc = request(s, &e, FP_END_R, &a, FP_T_REPLY_MS);
    if (rc)
        return rc;
    summary(s);
    if (a.u.end_r.result) {
        char nb[96];
        return iap_fail(IAP_FASTP_ERR_VERIFY,
                        "the flash CRC differs from the image's: bank 1 0x%08x (expected 0x%08x), "
                        "bank 2 0x%08x (expected 0x%08x): %s; nothing was committed",
                        a.u.end_r.crc[0], e.u.end.crc[0], a.u.end_r.crc[1], e.u.end.crc[1],
                        code_name(a.u.end_r.result, nb, sizeof nb));
    }
    struct fp_msg y = { .type = FP_BYE };
    if (request(s, &y, FP_BYE_R, &a, FP_T_REPLY_MS)) {
        /* BYE_R lost, or BYE itself: once the device has fallen back for
         * silence, 0x7F finds its AN3155 loop again. */
        iap_debug(1, "fast: no answer to BYE (%s); the image is committed", iap_error());
        to_entry(s);
        sleep_ms(RECONNECT_WAIT_MS);
        s->t->ops->drain(s->t);
        return iap_sync(s->c);
    }
    to_entry(s);
    return 0;
}

int iap_fastp_flash(struct iap_client *c, const struct iap_image *padded,
                    const struct iap_fastp_opts *o, struct iap_fastp_stats *st)
{
    struct fpc *s = calloc(1, sizeof *s);
    if (!s)
        return iap_fail(IAP_FASTP_ERR_NOMEM, "out of memory");
    if (st) {
        memset(st, 0, sizeof *st);
        st->baud = o->entry_baud;
    }
    s->c = c;
    s->t = c->t;
    s->o = o;
    s->st = st;
    s->entry_parity = c->t->parity;
    s->last_rx = now_ms();
    int rc = session(s, padded, false);
    for (int n = 0; rc == IAP_FASTP_ERR_LINK && n < RECONNECTS; n++) {
        iap_info("fast: %s; reconnecting to resume", iap_error());
        to_entry(s);
        sleep_ms(RECONNECT_WAIT_MS);
        s->last_rx = now_ms();
        rc = session(s, padded, true);
    }
    if (rc)
        to_entry(s);
    free_frames(s);
    free(s->img);
    free(s);
    return rc;
}
