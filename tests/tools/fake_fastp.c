/* The fast protocol's device side as a test double (see fake_fastp.h). */
#define _DEFAULT_SOURCE
#include "fake_fastp.h"

#include <string.h>
#include <time.h>

#include "crc32.h"
#include "fastp_h745.h"
#include "h7_layout.h"
#include "h7flash/h7flash.h"
#include "stm32h7/flash.h"

#define FAKE_BAUD_NOW 115200u

void fake_fastp_init(struct fake_fastp *p)
{
    memset(p, 0, sizeof *p);
    p->slots = 52;
    p->deflate = true;
    p->baud_max = 6250000u;
}

struct slot {
    bool used;
    uint32_t seq, offset;
    uint16_t len;
    uint8_t data[FP_RAW_MAX];
};

struct dev {
    struct fake_target *f;
    struct fake_fastp *p;
    struct fp_geom g;
    uint8_t rx[FP_FRAME_MAX];
    uint8_t tx[FP_FRAME_MAX];
    struct slot slot[64];
    struct infl_ws ws;
    /* the request being carried out, and the last one's reply (repeats) */
    uint8_t req_type, req_tag, last_type, last_tag;
    uint8_t last_reply[512];
    size_t last_len;
};

static uint8_t *flash_at(struct dev *d, uint32_t off)
{
    return d->f->flash + (d->g.area_base - H7_FLASH_BASE) + off;
}

static void send(struct dev *d, const struct fp_msg *m)
{
    int n = fp_encode(m, &d->g, d->tx, sizeof d->tx);
    if (n <= 0)
        return;
    fake_write(d->f, d->tx, (size_t)n);
    if (d->req_type != FP_DATA && d->req_tag && m->tag == d->req_tag &&
        (size_t)n <= sizeof d->last_reply) {
        /* a request is answered once: a repeat gets the same reply */
        d->last_type = d->req_type;
        d->last_tag = d->req_tag;
        memcpy(d->last_reply, d->tx, (size_t)n);
        d->last_len = (size_t)n;
    }
}

static void status(struct dev *d, uint8_t tag)
{
    struct fake_fastp *p = d->p;
    struct fp_msg m = { .type = FP_STATUS, .tag = tag };
    m.u.status.cum = p->cum;
    m.u.status.limit = p->limit;
    for (unsigned i = 0; i < sizeof d->slot / sizeof d->slot[0]; i++)
        if (d->slot[i].used && d->slot[i].seq > p->cum && d->slot[i].seq - p->cum - 1 < 64)
            m.u.status.sack |= 1ull << (d->slot[i].seq - p->cum - 1);
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        m.u.status.bank[r].done = p->done[r];
        m.u.status.bank[r].state = p->open ? FP_BANK_PROGRAMMING : FP_BANK_IDLE;
        m.u.status.bank[r].page = FP_PAGE_NONE;
    }
    m.u.status.bad_frames = (uint16_t)(p->bad_frames > 65535 ? 65535 : p->bad_frames);
    send(d, &m);
}

static void error(struct dev *d, uint8_t tag, int code, uint32_t sr, uint32_t addr, uint32_t seq,
                  uint8_t req, bool fatal)
{
    struct fp_msg m = { .type = FP_ERROR, .tag = tag };
    m.u.error.code = code;
    m.u.error.sr = sr;
    m.u.error.addr = addr;
    m.u.error.seq = seq;
    m.u.error.req = req;
    m.u.error.fatal = fatal;
    if (fatal)
        d->p->open = false;
    send(d, &m);
}

/* Bytes of sector i that the area holds (whole sector). */
static void erase_sector(struct dev *d, unsigned i)
{
    uint32_t off = i * d->g.sector_size;
    memset(flash_at(d, off), 0xFF, d->g.sector_size);
    uint32_t w0 = (d->g.area_base - H7_FLASH_BASE + off) / 32u;
    memset(d->f->programmed + w0, 0, d->g.sector_size / 32u);
}

/* Program one frame's words (each once; an all-0xFF word is not programmed). */
static void program(struct dev *d, uint32_t off, const uint8_t *b, uint32_t n)
{
    for (uint32_t w = 0; w < n; w += 32) {
        bool ff = true;
        for (unsigned k = 0; k < 32; k++)
            ff &= b[w + k] == 0xFF;
        if (ff)
            continue;
        uint32_t idx = (d->g.area_base - H7_FLASH_BASE + off + w) / 32u;
        if (d->f->programmed[idx])
            d->f->double_programs++;
        d->f->programmed[idx] = 1;
        memcpy(flash_at(d, off + w), b + w, 32);
    }
}

/* Frames in sequence below the window's front: programmed at once. */
static void advance(struct dev *d)
{
    struct fake_fastp *p = d->p;
    for (;;) {
        struct slot *s = NULL;
        for (unsigned i = 0; i < sizeof d->slot / sizeof d->slot[0]; i++)
            if (d->slot[i].used && d->slot[i].seq == p->cum)
                s = &d->slot[i];
        if (!s)
            break;
        struct fp_data dd = { .seq = s->seq, .offset = s->offset, .raw_len = s->len };
        if (fp_order_accept(&p->order, &d->g, &dd)) {
            error(d, 0, FP_E_BACKWARDS, 0, d->g.area_base + s->offset, s->seq, FP_DATA, true);
            s->used = false;
            return;
        }
        program(d, s->offset, s->data, s->len);
        unsigned r = fp_region_of(&d->g, s->offset);
        p->done[r] = s->offset + s->len - fp_region_start(&d->g, r);
        s->used = false;
        p->cum++;
    }
    p->limit = p->cum + p->slots;
}

static void begin(struct dev *d, const struct fp_msg *m)
{
    struct fake_fastp *p = d->p;
    const struct fp_begin *b = &m->u.begin;
    if (b->flags & FP_BF_RESUME) {
        if (!p->open || b->image.len != p->im.len || b->image.crc != p->im.crc ||
            b->image.page_mask != p->im.page_mask || b->resume[0] != p->done[0] ||
            b->resume[1] != p->done[1]) {
            error(d, m->tag, FP_E_RESUME, 0, 0, 0xFFFFFFFFu, FP_BEGIN, false);
            return;
        }
        p->resumes++;
        memcpy(p->resume_at, p->done, sizeof p->done);
        /* After a cut the sector at done[] may hold words of the attempt
         * (docs/PROTOCOL.md "Resume"): erased again before it is written. */
        for (unsigned r = 0; p->log_state && r < FP_REGIONS; r++) {
            uint32_t off = fp_region_start(&d->g, r) + p->done[r];
            unsigned i = off / d->g.sector_size;
            if (p->done[r] < fp_region_image_len(&d->g, p->im.len, r) &&
                ((p->im.page_mask >> i) & 1u))
                erase_sector(d, i);
        }
        p->log_state = false;
    } else {
        p->im = b->image;
        memset(p->done, 0, sizeof p->done);
        for (unsigned i = 0; i < FP_SECTORS_MAX; i++)
            if ((p->im.page_mask >> i) & 1u)
                erase_sector(d, i);
    }
    p->open = true;
    p->complete = false;
    p->cum = 0;
    p->limit = p->slots;
    memset(d->slot, 0, sizeof d->slot);
    fp_order_init(&p->order, &d->g, p->done);
    p->begins++;
    status(d, m->tag);
}

static bool first_time(uint32_t *list, uint32_t seq)
{
    for (unsigned i = 0; i < FAKE_FP_DROPS; i++)
        if (list[i] == seq + 1) {
            list[i] = 0;
            return true;
        }
    return false;
}

static void data(struct dev *d, const struct fp_msg *m)
{
    struct fake_fastp *p = d->p;
    const struct fp_data *x = &m->u.data;
    if (!p->open) {
        error(d, 0, FP_E_STATE, 0, 0, x->seq, FP_DATA, false);
        return;
    }
    p->data_frames++;
    p->session_frames++;
    if (first_time(p->drop, x->seq))
        return; /* lost on the wire: nothing arrives */
    if (first_time(p->corrupt, x->seq)) {
        p->bad_frames++; /* its CRC fails: dropped, counted */
        status(d, 0);
        return;
    }
    if (x->seq >= p->limit) {
        error(d, 0, FP_E_WINDOW, 0, 0, x->seq, FP_DATA, false);
        return;
    }
    bool held = false;
    for (unsigned i = 0; i < sizeof d->slot / sizeof d->slot[0]; i++)
        held |= d->slot[i].used && d->slot[i].seq == x->seq;
    if (x->seq < p->cum || held) {
        p->repeats++;
        status(d, 0);
        return;
    }
    int rc = fp_data_check_image(&d->g, &p->im, x);
    struct slot *s = NULL;
    for (unsigned i = 0; !s && i < sizeof d->slot / sizeof d->slot[0]; i++)
        if (!d->slot[i].used)
            s = &d->slot[i];
    if (!rc)
        rc = fp_data_unpack(&p->im, x, &d->ws, s->data);
    if (rc) {
        error(d, 0, rc, 0, d->g.area_base + x->offset, x->seq, FP_DATA, true);
        return;
    }
    if (x->codec == FP_CODEC_DEFLATE)
        p->deflated++;
    unsigned r = fp_region_of(&d->g, x->offset);
    if (x->offset > p->max_offset_seen[r])
        p->max_offset_seen[r] = x->offset;
    if (p->fail_seq == x->seq + 1) {
        error(d, 0, H7F_E_PGSERR, FLASH_SR_PGSERR, d->g.area_base + x->offset, x->seq, FP_DATA,
              true);
        return;
    }
    s->used = true;
    s->seq = x->seq;
    s->offset = x->offset;
    s->len = x->raw_len;
    advance(d);
    status(d, 0);
}

static void end(struct dev *d, const struct fp_msg *m)
{
    struct fake_fastp *p = d->p;
    if (!p->open || p->cum != m->u.end.frames) {
        error(d, m->tag, FP_E_STATE, 0, 0, 0xFFFFFFFFu, FP_END, false);
        return;
    }
    p->ends++;
    if (p->verify_fail)
        flash_at(d, p->im.len / 2)[0] ^= 0x01;
    struct fp_msg a = { .type = FP_END_R, .tag = m->tag };
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        uint32_t n = fp_region_crc_len(&d->g, p->im.len, r);
        a.u.end_r.crc[r] =
            crc32_h7flash(CRC32_H7FLASH_INIT, flash_at(d, fp_region_start(&d->g, r)), n);
        if (a.u.end_r.crc[r] != m->u.end.crc[r])
            a.u.end_r.result = FP_E_VERIFY;
    }
    p->open = false;
    p->complete = a.u.end_r.result == 0;
    send(d, &a);
}

static void sectors(struct dev *d, const struct fp_msg *m)
{
    struct fake_fastp *p = d->p;
    if (p->open) {
        error(d, m->tag, FP_E_STATE, 0, 0, 0xFFFFFFFFu, FP_SECTORS, false);
        return;
    }
    p->sectors_q++;
    struct fp_msg a = { .type = FP_SECTORS_R, .tag = m->tag };
    a.u.sectors_r.first = m->u.sectors.first;
    a.u.sectors_r.count = m->u.sectors.count;
    for (unsigned i = 0; i < m->u.sectors.count; i++)
        a.u.sectors_r.crc[i] = crc32_h7flash(
            CRC32_H7FLASH_INIT, flash_at(d, (m->u.sectors.first + i) * d->g.sector_size),
            d->g.sector_size);
    send(d, &a);
}

/* A power cut: RAM lost; the log keeps done[] at the last whole sector. */
static void power_cut(struct dev *d)
{
    struct fake_fastp *p = d->p;
    for (unsigned r = 0; r < FP_REGIONS; r++)
        p->done[r] = p->done[r] / d->g.sector_size * d->g.sector_size;
    p->log_state = true;
}

/* One frame within ms: its length, 0 (none), -1 (line gone). */
static int rx(struct dev *d, struct fp_msg *m, int ms)
{
    size_t n = 0;
    for (;;) {
        if (fake_read(d->f, d->rx + n, FP_HDR_LEN - n, n ? 100 : ms))
            return 0;
        n = FP_HDR_LEN;
        int h = fp_header(d->rx, n);
        if (h < 0) {
            size_t k = fp_resync(d->rx, n);
            memmove(d->rx, d->rx + k, n - k);
            n -= k;
            continue;
        }
        if (fake_read(d->f, d->rx + n, (size_t)h - n, 500))
            return 0;
        int r = fp_decode(d->rx, (size_t)h, &d->g, FP_TO_DEVICE, m);
        if (r < 0) {
            d->p->bad_frames++;
            n = 0;
            continue;
        }
        return r;
    }
}

void fake_fastp_session(struct fake_target *f)
{
    static struct dev d; /* one target per test at a time */
    memset(&d, 0, sizeof d);
    d.f = f;
    d.p = f->fastp;
    d.g = FP_H745;
    d.g.slots = d.p->slots;
    struct fake_fastp *p = d.p;
    p->sessions++;
    p->session_frames = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double last = (double)t0.tv_sec + (double)t0.tv_nsec / 1e9;
    while (!f->stop) {
        struct fp_msg m;
        int r = rx(&d, &m, 100);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (r <= 0) {
            if (now - last > FP_T_SILENCE_MS / 1000.0)
                return; /* back to the AN3155 loop; the transfer stays */
            if (p->open)
                status(&d, 0);
            continue;
        }
        last = now;
        if ((p->lose_after && p->session_frames >= p->lose_after) ||
            (p->cut_after && p->session_frames >= p->cut_after)) {
            if (p->cut_after && p->session_frames >= p->cut_after) {
                power_cut(&d);
                p->cut_after = 0;
            }
            p->lose_after = 0;
            /* Deaf until the host gives up: 2 s of silence, then the loop. */
            while (!f->stop && rx(&d, &m, FP_T_SILENCE_MS + 100) > 0)
                ;
            return;
        }
        if (m.type != FP_DATA && m.tag && m.type == d.last_type && m.tag == d.last_tag) {
            p->repeats++;
            fake_write(f, d.last_reply, d.last_len);
            continue;
        }
        d.req_type = m.type;
        d.req_tag = m.tag;
        switch (m.type) {
        case FP_HELLO: {
            p->hellos++;
            struct fp_msg a = { .type = FP_HELLO_R, .tag = m.tag };
            a.u.hello_r.version = FP_VERSION;
            a.u.hello_r.flags = p->deflate ? FP_HF_DEFLATE : 0;
            a.u.hello_r.geom = d.g;
            a.u.hello_r.uart_clk = 100000000u;
            a.u.hello_r.baud_max = p->baud_max;
            a.u.hello_r.baud_now = FAKE_BAUD_NOW;
            send(&d, &a);
            break;
        }
        case FP_BAUD: {
            p->bauds++;
            if (p->baud_refuse || m.u.baud > p->baud_max) {
                error(&d, m.tag, FP_E_BAUD, 0, 0, 0xFFFFFFFFu, FP_BAUD, false);
                break;
            }
            struct fp_msg a = { .type = FP_BAUD_R, .tag = m.tag };
            a.u.baud = m.u.baud;
            send(&d, &a);
            if (p->baud_dead) {
                p->baud_dead = false;
                /* the new rate garbles everything: the host's PINGs are lost */
                struct timespec w = { 0, 0 };
                double until = now + FP_T_SILENCE_MS / 1000.0;
                while (!f->stop) {
                    uint8_t junk;
                    fake_read(f, &junk, 1, 50);
                    clock_gettime(CLOCK_MONOTONIC, &w);
                    if ((double)w.tv_sec + (double)w.tv_nsec / 1e9 > until)
                        break;
                }
                return;
            }
            break;
        }
        case FP_PING: {
            struct fp_msg a = { .type = FP_PONG, .tag = m.tag };
            a.u.token = m.u.token;
            send(&d, &a);
            break;
        }
        case FP_QUERY: {
            p->queries++;
            struct fp_msg a = { .type = FP_RESUME_R, .tag = m.tag };
            if (p->open) {
                a.u.resume_r.state = p->log_state ? FP_RS_LOG : FP_RS_RAM;
                a.u.resume_r.image = p->im;
                memcpy(a.u.resume_r.done, p->done, sizeof p->done);
            }
            send(&d, &a);
            break;
        }
        case FP_SECTORS: sectors(&d, &m); break;
        case FP_BEGIN: begin(&d, &m); break;
        case FP_DATA: data(&d, &m); break;
        case FP_END: end(&d, &m); break;
        case FP_GO: {
            struct fp_msg a = { .type = FP_GO_R, .tag = m.tag };
            send(&d, &a);
            return;
        }
        case FP_BYE: {
            struct fp_msg a = { .type = FP_BYE_R, .tag = m.tag };
            send(&d, &a);
            return;
        }
        default: error(&d, m.tag, FP_E_TYPE, 0, 0, 0xFFFFFFFFu, m.type, false); break;
        }
    }
}
