/*
 * Codec of the h7iap fast protocol (fastp.h; docs/PROTOCOL.md "h7iap fast
 * protocol"). Decoding parses a body into struct fp_msg and then runs the
 * same field check that encoding runs first, so the two agree on every
 * rule.
 */
#include "fastp.h"

#include <string.h>

#include "crc32.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- geometry ---- */

int fp_geom_check(const struct fp_geom *g)
{
    uint32_t s = g->sector_size;

    if (s < FP_RAW_MAX || (s & (s - 1u)) != 0)
        return FP_E_GEOM;
    if (g->area_base % s || g->area_size == 0 || g->area_size % s ||
        g->area_size / s > FP_SECTORS_MAX || g->area_base > UINT32_MAX - g->area_size + 1u)
        return FP_E_GEOM;
    if (g->bank_split == 0 || g->bank_split % s || g->bank_split > g->area_size)
        return FP_E_GEOM;
    if (g->raw_max < FP_WORD || g->raw_max > FP_RAW_MAX || g->raw_max % FP_WORD)
        return FP_E_GEOM;
    if (g->slots == 0 || g->slots > FP_SLOTS_MAX)
        return FP_E_GEOM;
    return 0;
}

unsigned fp_region_of(const struct fp_geom *g, uint32_t offset)
{
    return offset >= g->bank_split;
}

uint32_t fp_region_start(const struct fp_geom *g, unsigned r)
{
    return r ? g->bank_split : 0;
}

uint32_t fp_region_size(const struct fp_geom *g, unsigned r)
{
    return r ? g->area_size - g->bank_split : g->bank_split;
}

/* Bytes of region r inside [0, end). */
static uint32_t region_part(const struct fp_geom *g, uint32_t end, unsigned r)
{
    uint32_t start = fp_region_start(g, r), size = fp_region_size(g, r);

    if (end <= start)
        return 0;
    return end - start < size ? end - start : size;
}

static uint32_t round_up(uint32_t v, uint32_t unit)
{
    return (uint32_t)(((uint64_t)v + unit - 1u) / unit * unit);
}

uint32_t fp_region_image_len(const struct fp_geom *g, uint32_t image_len, unsigned r)
{
    return region_part(g, round_up(image_len, FP_WORD), r);
}

unsigned fp_image_sectors(const struct fp_geom *g, uint32_t image_len)
{
    return (unsigned)(round_up(image_len, g->sector_size) / g->sector_size);
}

int fp_image_check(const struct fp_geom *g, const struct fp_image *im)
{
    unsigned n;

    if (im->len == 0 || im->len > g->area_size)
        return FP_E_RANGE;
    n = fp_image_sectors(g, im->len);
    if (n < 32u && (im->page_mask >> n) != 0)
        return FP_E_PAGE;
    return 0;
}

/* ---- field rules, shared by decode and encode ---- */

static unsigned area_sectors(const struct fp_geom *g)
{
    return g->area_size / g->sector_size;
}

static bool is_request(uint8_t t)
{
    return t >= FP_HELLO && t <= FP_BYE;
}

static bool known(uint8_t t)
{
    return is_request(t) || (t >= FP_HELLO_R && t <= FP_BYE_R && t != 0x86) || t == FP_ERROR;
}

static bool needs_geom(uint8_t t)
{
    return t == FP_RESUME_R || t == FP_SECTORS || t == FP_SECTORS_R || t == FP_BEGIN ||
           t == FP_DATA || t == FP_STATUS;
}

/* Body length of each type; -1: variable (DATA, SECTORS_R). */
static int body_len(uint8_t t)
{
    switch (t) {
    case FP_HELLO: return 4;
    case FP_HELLO_R: return 36;
    case FP_BAUD:
    case FP_BAUD_R:
    case FP_PING:
    case FP_PONG:
    case FP_SECTORS:
    case FP_GO: return 4;
    case FP_RESUME_R:
    case FP_BEGIN: return 24;
    case FP_STATUS: return 36;
    case FP_END:
    case FP_END_R: return 12;
    case FP_ERROR: return 20;
    case FP_QUERY:
    case FP_GO_R:
    case FP_BYE:
    case FP_BYE_R: return 0;
    default: return -1;
    }
}

static int check_done(const struct fp_geom *g, const struct fp_image *im, const uint32_t *done)
{
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        if (done[r] % FP_WORD)
            return FP_E_ALIGN;
        if (done[r] > fp_region_image_len(g, im->len, r))
            return FP_E_RANGE;
    }
    return 0;
}

static int check_data(const struct fp_geom *g, const struct fp_data *d)
{
    uint32_t s = g->sector_size;

    if (d->offset % FP_WORD || d->raw_len % FP_WORD)
        return FP_E_ALIGN;
    if (d->raw_len < FP_WORD || d->raw_len > g->raw_max)
        return FP_E_SIZE;
    if (d->codec > FP_CODEC_DEFLATE)
        return FP_E_FIELD;
    if (d->codec == FP_CODEC_RAW ? d->payload_len != d->raw_len
                                 : d->payload_len == 0 || d->payload_len >= d->raw_len)
        return FP_E_SIZE;
    if (d->offset >= g->area_size || d->raw_len > g->area_size - d->offset)
        return FP_E_RANGE;
    if (d->offset / s != (d->offset + d->raw_len - 1u) / s)
        return FP_E_CROSS;
    return 0;
}

static int check_status(const struct fp_geom *g, const struct fp_status *st)
{
    uint32_t win;

    if (st->cum > st->limit || st->limit - st->cum > g->slots)
        return FP_E_WINDOW;
    win = st->limit - st->cum;
    /* bit i is frame cum + 1 + i, which must lie below limit */
    if (win <= FP_SACK_BITS && (win == 0 ? st->sack != 0 : (st->sack >> (win - 1u)) != 0))
        return FP_E_WINDOW;
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        const struct fp_bank_status *b = &st->bank[r];

        if (b->state > FP_BANK_STATE_MAX)
            return FP_E_FIELD;
        if (b->page != FP_PAGE_NONE && b->page != FP_PAGE_BANK && b->page >= area_sectors(g))
            return FP_E_PAGE;
        if (b->done % FP_WORD)
            return FP_E_ALIGN;
        if (b->done > fp_region_size(g, r))
            return FP_E_RANGE;
    }
    return 0;
}

/* Every rule of m's fields; blen: the body length on the wire. */
static int check(const struct fp_msg *m, const struct fp_geom *g, size_t blen)
{
    int want = body_len(m->type), rc;

    if (!known(m->type))
        return FP_E_TYPE;
    if (want >= 0 && blen != (size_t)want)
        return FP_E_LEN;
    if (needs_geom(m->type) && (!g || fp_geom_check(g)))
        return FP_E_GEOM;
    switch (m->type) {
    case FP_HELLO:
        if (m->u.hello.version == 0)
            return FP_E_VERSION;
        return m->u.hello.flags ? FP_E_FIELD : 0;
    case FP_HELLO_R: {
        const struct fp_hello_r *h = &m->u.hello_r;

        if (h->version == 0)
            return FP_E_VERSION;
        if (h->flags & ~FP_HF_ALL)
            return FP_E_FIELD;
        if (fp_geom_check(&h->geom))
            return FP_E_GEOM;
        if (h->baud_max == 0 || h->baud_max > h->uart_clk / 8u || h->baud_now == 0 ||
            h->baud_now > h->baud_max)
            return FP_E_FIELD;
        return 0;
    }
    case FP_BAUD:
    case FP_BAUD_R: return m->u.baud ? 0 : FP_E_FIELD;
    case FP_RESUME_R: {
        const struct fp_resume_r *r = &m->u.resume_r;

        if (r->state > FP_RS_LOG)
            return FP_E_FIELD;
        if (r->state == FP_RS_NONE)
            return (r->image.len | r->image.crc | r->image.page_mask | r->done[0] | r->done[1])
                       ? FP_E_FIELD
                       : 0;
        rc = fp_image_check(g, &r->image);
        return rc ? rc : check_done(g, &r->image, r->done);
    }
    case FP_SECTORS:
    case FP_SECTORS_R: {
        uint8_t first = m->type == FP_SECTORS ? m->u.sectors.first : m->u.sectors_r.first;
        uint8_t count = m->type == FP_SECTORS ? m->u.sectors.count : m->u.sectors_r.count;

        if (count == 0 || count > FP_SECTORS_MAX || first + count > (int)area_sectors(g))
            return FP_E_RANGE;
        if (m->type == FP_SECTORS_R && blen != 4u + 8u * count)
            return FP_E_LEN;
        return 0;
    }
    case FP_BEGIN: {
        const struct fp_begin *b = &m->u.begin;

        rc = fp_image_check(g, &b->image);
        if (rc)
            return rc;
        if (b->flags & ~FP_BF_ALL)
            return FP_E_FIELD;
        if (!(b->flags & FP_BF_RESUME))
            return (b->resume[0] | b->resume[1]) ? FP_E_FIELD : 0;
        return check_done(g, &b->image, b->resume);
    }
    case FP_DATA:
        if (blen < FP_DATA_HDR || blen - FP_DATA_HDR != m->u.data.payload_len)
            return FP_E_LEN;
        return check_data(g, &m->u.data);
    case FP_STATUS: return check_status(g, &m->u.status);
    case FP_END_R: return m->u.end_r.result > 0 ? FP_E_FIELD : 0;
    case FP_ERROR: {
        const struct fp_error *e = &m->u.error;

        if (e->code >= 0 || e->fatal > 1u || (e->req != 0 && !is_request(e->req)))
            return FP_E_FIELD;
        return 0;
    }
    default: return 0;
    }
}

/* ---- frames ---- */

static uint16_t hcrc(const uint8_t *hdr)
{
    return (uint16_t)crc32_zlib(0, hdr, 6);
}

int fp_header(const uint8_t *buf, size_t n)
{
    uint16_t len;

    if (n < 1)
        return FP_E_SHORT;
    if (buf[0] != FP_SOF0 || (n >= 2 && buf[1] != FP_SOF1))
        return FP_E_SOF;
    if (n < FP_HDR_LEN)
        return FP_E_SHORT;
    if (get16(buf + 6) != hcrc(buf))
        return FP_E_HCRC;
    len = get16(buf + 4);
    if (len > FP_BODY_MAX)
        return FP_E_LEN;
    return (int)(FP_OVERHEAD + len);
}

size_t fp_resync(const uint8_t *buf, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (buf[i] == FP_SOF0 && (i + 1 == n || buf[i + 1] == FP_SOF1))
            return i;
    return n ? n : 1;
}

static void parse(struct fp_msg *m, const uint8_t *b, size_t blen)
{
    switch (m->type) {
    case FP_HELLO:
        m->u.hello.version = get16(b);
        m->u.hello.flags = get16(b + 2);
        break;
    case FP_HELLO_R: {
        struct fp_hello_r *h = &m->u.hello_r;

        h->version = get16(b);
        h->flags = get16(b + 2);
        h->geom.raw_max = get16(b + 4);
        h->geom.slots = get16(b + 6);
        h->geom.area_base = get32(b + 8);
        h->geom.area_size = get32(b + 12);
        h->geom.bank_split = get32(b + 16);
        h->geom.sector_size = get32(b + 20);
        h->uart_clk = get32(b + 24);
        h->baud_max = get32(b + 28);
        h->baud_now = get32(b + 32);
        break;
    }
    case FP_BAUD:
    case FP_BAUD_R: m->u.baud = get32(b); break;
    case FP_PING:
    case FP_PONG: m->u.token = get32(b); break;
    case FP_GO: m->u.addr = get32(b); break;
    case FP_RESUME_R: {
        struct fp_resume_r *r = &m->u.resume_r;

        r->state = b[0];
        r->image.len = get32(b + 4);
        r->image.crc = get32(b + 8);
        r->image.page_mask = get32(b + 12);
        r->done[0] = get32(b + 16);
        r->done[1] = get32(b + 20);
        break;
    }
    case FP_SECTORS:
        m->u.sectors.first = b[0];
        m->u.sectors.count = b[1];
        break;
    case FP_SECTORS_R: {
        struct fp_sectors_r *s = &m->u.sectors_r;

        s->first = b[0];
        s->count = b[1];
        for (unsigned i = 0; i < FP_SECTORS_MAX; i++) {
            bool in = i < s->count && 4u + 8u * (i + 1u) <= blen;

            s->crc[i] = in ? get32(b + 4 + 8 * i) : 0;
            s->sr[i] = in ? get32(b + 8 + 8 * i) : 0;
        }
        break;
    }
    case FP_BEGIN: {
        struct fp_begin *g = &m->u.begin;

        g->image.len = get32(b);
        g->image.crc = get32(b + 4);
        g->image.page_mask = get32(b + 8);
        g->flags = b[12];
        g->resume[0] = get32(b + 16);
        g->resume[1] = get32(b + 20);
        break;
    }
    case FP_DATA: {
        struct fp_data *d = &m->u.data;

        d->seq = get32(b);
        d->offset = get32(b + 4);
        d->raw_len = get16(b + 8);
        d->codec = b[10];
        d->raw_crc = get32(b + 12);
        d->payload = b + FP_DATA_HDR;
        d->payload_len = (uint16_t)(blen - FP_DATA_HDR);
        break;
    }
    case FP_STATUS: {
        struct fp_status *s = &m->u.status;

        s->cum = get32(b);
        s->limit = get32(b + 4);
        s->sack = (uint64_t)get32(b + 8) | (uint64_t)get32(b + 12) << 32;
        for (unsigned r = 0; r < FP_REGIONS; r++) {
            const uint8_t *p = b + 16 + 8 * r;

            s->bank[r].done = get32(p);
            s->bank[r].state = p[4];
            s->bank[r].page = p[5];
            s->bank[r].erase_ms = get16(p + 6);
        }
        s->bad_frames = get16(b + 32);
        break;
    }
    case FP_END:
        m->u.end.frames = get32(b);
        m->u.end.crc[0] = get32(b + 4);
        m->u.end.crc[1] = get32(b + 8);
        break;
    case FP_END_R:
        m->u.end_r.result = (int32_t)get32(b);
        m->u.end_r.crc[0] = get32(b + 4);
        m->u.end_r.crc[1] = get32(b + 8);
        break;
    case FP_ERROR: {
        struct fp_error *e = &m->u.error;

        e->code = (int32_t)get32(b);
        e->sr = get32(b + 4);
        e->addr = get32(b + 8);
        e->seq = get32(b + 12);
        e->req = b[16];
        e->fatal = b[17];
        break;
    }
    default: break;
    }
}

/* Reserved bytes of a body on the wire (all must be 0). */
static bool reserved_zero(uint8_t type, const uint8_t *b, size_t blen)
{
    switch (type) {
    case FP_RESUME_R: return (b[1] | b[2] | b[3]) == 0;
    case FP_SECTORS:
    case FP_SECTORS_R: return blen >= 4 && (b[2] | b[3]) == 0;
    case FP_BEGIN: return (b[13] | b[14] | b[15]) == 0;
    case FP_DATA: return b[11] == 0;
    case FP_STATUS: return (b[34] | b[35]) == 0;
    case FP_ERROR: return (b[18] | b[19]) == 0;
    default: return true;
    }
}

int fp_decode(const uint8_t *buf, size_t n, const struct fp_geom *geom, enum fp_dir dir,
              struct fp_msg *m)
{
    int total = fp_header(buf, n), want, rc;
    size_t blen;
    const uint8_t *b = buf + FP_HDR_LEN;

    if (total < 0)
        return total;
    if (n < (size_t)total)
        return FP_E_SHORT;
    blen = (size_t)total - FP_OVERHEAD;
    if (get32(b + blen) != crc32_zlib(0, buf, FP_HDR_LEN + blen))
        return FP_E_CRC;
    memset(m, 0, sizeof(*m));
    m->type = buf[2];
    m->tag = buf[3];
    if (!known(m->type) || (m->type >= FP_REPLY) != (dir == FP_TO_HOST))
        return FP_E_TYPE;
    want = body_len(m->type);
    if ((want >= 0 && blen != (size_t)want) || (m->type == FP_DATA && blen < FP_DATA_HDR) ||
        (m->type == FP_SECTORS_R && blen < 4))
        return FP_E_LEN;
    if (!reserved_zero(m->type, b, blen))
        return FP_E_FIELD;
    parse(m, b, blen);
    rc = check(m, geom, blen);
    return rc ? rc : total;
}

/* Body of m into b (the caller checked m; b holds the body). */
static size_t serialise(const struct fp_msg *m, uint8_t *b)
{
    switch (m->type) {
    case FP_HELLO:
        put16(b, m->u.hello.version);
        put16(b + 2, m->u.hello.flags);
        return 4;
    case FP_HELLO_R: {
        const struct fp_hello_r *h = &m->u.hello_r;

        put16(b, h->version);
        put16(b + 2, h->flags);
        put16(b + 4, h->geom.raw_max);
        put16(b + 6, h->geom.slots);
        put32(b + 8, h->geom.area_base);
        put32(b + 12, h->geom.area_size);
        put32(b + 16, h->geom.bank_split);
        put32(b + 20, h->geom.sector_size);
        put32(b + 24, h->uart_clk);
        put32(b + 28, h->baud_max);
        put32(b + 32, h->baud_now);
        return 36;
    }
    case FP_BAUD:
    case FP_BAUD_R: put32(b, m->u.baud); return 4;
    case FP_PING:
    case FP_PONG: put32(b, m->u.token); return 4;
    case FP_GO: put32(b, m->u.addr); return 4;
    case FP_RESUME_R: {
        const struct fp_resume_r *r = &m->u.resume_r;

        memset(b, 0, 4);
        b[0] = r->state;
        put32(b + 4, r->image.len);
        put32(b + 8, r->image.crc);
        put32(b + 12, r->image.page_mask);
        put32(b + 16, r->done[0]);
        put32(b + 20, r->done[1]);
        return 24;
    }
    case FP_SECTORS:
        b[0] = m->u.sectors.first;
        b[1] = m->u.sectors.count;
        put16(b + 2, 0);
        return 4;
    case FP_SECTORS_R: {
        const struct fp_sectors_r *s = &m->u.sectors_r;

        b[0] = s->first;
        b[1] = s->count;
        put16(b + 2, 0);
        for (unsigned i = 0; i < s->count; i++) {
            put32(b + 4 + 8 * i, s->crc[i]);
            put32(b + 8 + 8 * i, s->sr[i]);
        }
        return 4u + 8u * s->count;
    }
    case FP_BEGIN: {
        const struct fp_begin *g = &m->u.begin;

        put32(b, g->image.len);
        put32(b + 4, g->image.crc);
        put32(b + 8, g->image.page_mask);
        memset(b + 12, 0, 4);
        b[12] = g->flags;
        put32(b + 16, g->resume[0]);
        put32(b + 20, g->resume[1]);
        return 24;
    }
    case FP_DATA: {
        const struct fp_data *d = &m->u.data;

        put32(b, d->seq);
        put32(b + 4, d->offset);
        put16(b + 8, d->raw_len);
        b[10] = d->codec;
        b[11] = 0;
        put32(b + 12, d->raw_crc);
        memcpy(b + FP_DATA_HDR, d->payload, d->payload_len);
        return FP_DATA_HDR + d->payload_len;
    }
    case FP_STATUS: {
        const struct fp_status *s = &m->u.status;

        put32(b, s->cum);
        put32(b + 4, s->limit);
        put32(b + 8, (uint32_t)s->sack);
        put32(b + 12, (uint32_t)(s->sack >> 32));
        for (unsigned r = 0; r < FP_REGIONS; r++) {
            uint8_t *p = b + 16 + 8 * r;

            put32(p, s->bank[r].done);
            p[4] = s->bank[r].state;
            p[5] = s->bank[r].page;
            put16(p + 6, s->bank[r].erase_ms);
        }
        put16(b + 32, s->bad_frames);
        put16(b + 34, 0);
        return 36;
    }
    case FP_END:
        put32(b, m->u.end.frames);
        put32(b + 4, m->u.end.crc[0]);
        put32(b + 8, m->u.end.crc[1]);
        return 12;
    case FP_END_R:
        put32(b, (uint32_t)m->u.end_r.result);
        put32(b + 4, m->u.end_r.crc[0]);
        put32(b + 8, m->u.end_r.crc[1]);
        return 12;
    case FP_ERROR: {
        const struct fp_error *e = &m->u.error;

        put32(b, (uint32_t)e->code);
        put32(b + 4, e->sr);
        put32(b + 8, e->addr);
        put32(b + 12, e->seq);
        b[16] = e->req;
        b[17] = e->fatal;
        put16(b + 18, 0);
        return 20;
    }
    default: return 0;
    }
}

int fp_encode(const struct fp_msg *m, const struct fp_geom *geom, uint8_t *out, size_t cap)
{
    int want, rc;
    size_t blen, n;

    if (!m || !out || !known(m->type))
        return m && out ? FP_E_TYPE : FP_E_ARG;
    want = body_len(m->type);
    if (want >= 0)
        blen = (size_t)want;
    else if (m->type == FP_DATA)
        blen = FP_DATA_HDR + (size_t)m->u.data.payload_len;
    else
        blen = m->u.sectors_r.count <= FP_SECTORS_MAX ? 4u + 8u * m->u.sectors_r.count : 0;
    if (m->type == FP_DATA && !m->u.data.payload && m->u.data.payload_len)
        return FP_E_ARG;
    rc = check(m, geom, blen);
    if (rc)
        return rc;
    if (blen > FP_BODY_MAX)
        return FP_E_LEN;
    n = FP_OVERHEAD + blen;
    if (cap < n)
        return FP_E_ARG;
    out[0] = FP_SOF0;
    out[1] = FP_SOF1;
    out[2] = m->type;
    out[3] = m->tag;
    put16(out + 4, (uint32_t)blen);
    put16(out + 6, hcrc(out));
    serialise(m, out + FP_HDR_LEN);
    put32(out + FP_HDR_LEN + blen, crc32_zlib(0, out, FP_HDR_LEN + blen));
    return (int)n;
}

/* ---- DATA frames against the transfer ---- */

int fp_data_check_image(const struct fp_geom *g, const struct fp_image *im, const struct fp_data *d)
{
    uint32_t end = round_up(im->len, FP_WORD);

    if (d->offset >= end || d->raw_len > end - d->offset)
        return FP_E_RANGE;
    if (!(im->page_mask >> (d->offset / g->sector_size) & 1u))
        return FP_E_PAGE;
    return 0;
}

int fp_data_unpack(const struct fp_image *im, const struct fp_data *d, struct infl_ws *ws,
                   uint8_t *out)
{
    size_t got = 0;

    if (d->codec == FP_CODEC_RAW) {
        if (d->payload_len != d->raw_len)
            return FP_E_RAW_LEN;
        memcpy(out, d->payload, d->raw_len);
    } else {
        int rc = infl_raw(ws, d->payload, d->payload_len, out, d->raw_len, &got);

        if (rc)
            return rc;
        if (got != d->raw_len)
            return FP_E_RAW_LEN;
    }
    if (crc32_zlib(0, out, d->raw_len) != d->raw_crc)
        return FP_E_RAW_CRC;
    for (uint32_t i = 0; i < d->raw_len; i++)
        if (d->offset + i >= im->len && out[i] != 0xFFu)
            return FP_E_PAD;
    return 0;
}

void fp_order_init(struct fp_order *o, const struct fp_geom *g, const uint32_t done[FP_REGIONS])
{
    for (unsigned r = 0; r < FP_REGIONS; r++)
        o->next[r] = fp_region_start(g, r) + done[r];
}

int fp_order_accept(struct fp_order *o, const struct fp_geom *g, const struct fp_data *d)
{
    unsigned r = fp_region_of(g, d->offset);

    if (d->offset < o->next[r])
        return FP_E_BACKWARDS;
    o->next[r] = d->offset + d->raw_len;
    return 0;
}

/* ---- end-to-end check ---- */

uint32_t fp_region_crc_len(const struct fp_geom *g, uint32_t image_len, unsigned r)
{
    uint32_t n = region_part(g, image_len, r), size = fp_region_size(g, r);

    n = round_up(n, FP_CRC_BURST);
    return n < size ? n : size;
}

/* crc32_h7flash() over image[from, from + n), 0xFF past image_len. */
static uint32_t crc_padded(uint32_t crc, const uint8_t *image, uint32_t image_len, uint32_t from,
                           uint32_t n)
{
    static const uint8_t ff[FP_WORD] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint32_t have = from < image_len ? image_len - from : 0;

    if (have > n)
        have = n;
    /* n and from are word multiples; the image's last partial word goes
     * through a word buffer. */
    crc = crc32_h7flash(crc, image + from, have & ~3u);
    if (have & 3u) {
        uint8_t w[4] = { 0xFF, 0xFF, 0xFF, 0xFF };

        memcpy(w, image + from + (have & ~3u), have & 3u);
        crc = crc32_h7flash(crc, w, 4);
        have = (have & ~3u) + 4u;
    }
    for (n -= have; n; n -= n < FP_WORD ? n : FP_WORD)
        crc = crc32_h7flash(crc, ff, n < FP_WORD ? n : FP_WORD);
    return crc;
}

uint32_t fp_region_crc(const struct fp_geom *g, const uint8_t *image, uint32_t image_len,
                       unsigned r)
{
    return crc_padded(CRC32_H7FLASH_INIT, image, image_len, fp_region_start(g, r),
                      fp_region_crc_len(g, image_len, r));
}

uint32_t fp_sector_crc(const struct fp_geom *g, const uint8_t *image, uint32_t image_len,
                       unsigned i)
{
    return crc_padded(CRC32_H7FLASH_INIT, image, image_len, i * g->sector_size, g->sector_size);
}

/* ---- names ---- */

const char *fp_strerror(int err)
{
    switch (err) {
    case FP_OK: return "ok";
    case FP_E_SHORT: return "frame incomplete";
    case FP_E_SOF: return "no start of frame";
    case FP_E_HCRC: return "frame header check mismatch";
    case FP_E_LEN: return "frame body length wrong";
    case FP_E_CRC: return "frame CRC mismatch";
    case FP_E_TYPE: return "frame type unknown or wrong direction";
    case FP_E_FIELD: return "frame field out of its domain";
    case FP_E_ALIGN: return "offset or length not a multiple of 32";
    case FP_E_RANGE: return "outside the area or the image";
    case FP_E_CROSS: return "data frame crosses a sector boundary";
    case FP_E_PAGE: return "sector not in the page mask";
    case FP_E_SIZE: return "data length out of range";
    case FP_E_RAW_LEN: return "payload decodes to another length";
    case FP_E_RAW_CRC: return "decoded data CRC mismatch";
    case FP_E_PAD: return "bytes past the image end are not 0xFF";
    case FP_E_BACKWARDS: return "data before the region's write position";
    case FP_E_WINDOW: return "sequence number outside the window";
    case FP_E_GEOM: return "geometry inconsistent or unknown";
    case FP_E_STATE: return "request not allowed now";
    case FP_E_RESUME: return "resume does not match the open transfer";
    case FP_E_VERIFY: return "flash CRC differs from the image";
    case FP_E_BAUD: return "baud rate not possible";
    case FP_E_VERSION: return "protocol version not supported";
    case FP_E_ARG: return "bad argument";
    default: return "unknown fast protocol error";
    }
}

const char *fp_type_name(uint8_t type)
{
    switch (type) {
    case FP_HELLO: return "HELLO";
    case FP_BAUD: return "BAUD";
    case FP_PING: return "PING";
    case FP_QUERY: return "QUERY";
    case FP_SECTORS: return "SECTORS";
    case FP_BEGIN: return "BEGIN";
    case FP_DATA: return "DATA";
    case FP_END: return "END";
    case FP_GO: return "GO";
    case FP_BYE: return "BYE";
    case FP_HELLO_R: return "HELLO_R";
    case FP_BAUD_R: return "BAUD_R";
    case FP_PONG: return "PONG";
    case FP_RESUME_R: return "RESUME_R";
    case FP_SECTORS_R: return "SECTORS_R";
    case FP_STATUS: return "STATUS";
    case FP_END_R: return "END_R";
    case FP_GO_R: return "GO_R";
    case FP_BYE_R: return "BYE_R";
    case FP_ERROR: return "ERROR";
    default: return "unknown";
    }
}
