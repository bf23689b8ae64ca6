/*
 * Raw DEFLATE decoder, written from RFC 1951 (section numbers in
 * brackets). Bits are taken least significant first from each byte
 * [3.1.1]; Huffman codes are matched one bit at a time against the
 * canonical code of each length [3.2.2], which needs no decoding table.
 */
#include "inflate.h"

#include <string.h>

/* Bit reader: never loads a byte it does not need, so after any take()
 * fewer than 8 bits are buffered and a stored block starts at pos. */
struct bits {
    const uint8_t *in;
    size_t n, pos;
    uint32_t buf;
    unsigned cnt;
};

static int need(struct bits *b, unsigned k)
{
    while (b->cnt < k) {
        if (b->pos == b->n)
            return INFL_E_INPUT;
        b->buf |= (uint32_t)b->in[b->pos++] << b->cnt;
        b->cnt += 8u;
    }
    return 0;
}

/* k <= 16, after need(b, k). */
static unsigned take(struct bits *b, unsigned k)
{
    unsigned v = b->buf & ((1u << k) - 1u);

    b->buf >>= k;
    b->cnt -= k;
    return v;
}

/* Extra bits of a length or distance: 0 or INFL_E_INPUT. */
static int extra(struct bits *b, unsigned k, unsigned *v)
{
    if (need(b, k))
        return INFL_E_INPUT;
    *v = take(b, k);
    return 0;
}

/* One symbol of code c; undefined: the caller's error code. */
static int decode(struct bits *b, const struct infl_code *c, int undefined)
{
    unsigned code = 0, first = 0, index = 0;

    for (unsigned len = 1; len <= INFL_MAXBITS; len++) {
        unsigned n = c->count[len];

        if (b->cnt == 0 && need(b, 1))
            return INFL_E_INPUT;
        code |= b->buf & 1u;
        b->buf >>= 1;
        b->cnt--;
        /* The codes of this length are first .. first + n - 1 [3.2.2]. */
        if (code - first < n)
            return c->sym[index + (code - first)];
        index += n;
        first = (first + n) << 1;
        code <<= 1;
    }
    return undefined;
}

enum set_kind { SET_CLEN, SET_LIT, SET_DIST };

/* Canonical code from the lengths of n symbols [3.2.2]. A code with no
 * symbol is accepted for distances (a block of literals only); a code
 * with a single one-bit code for literal/length or distance symbols;
 * anything else incomplete, and anything over-subscribed, is refused. */
static int build(struct infl_code *c, const uint8_t *len, unsigned n, enum set_kind kind, int bad)
{
    uint16_t offs[INFL_MAXBITS + 1u];
    unsigned max = 0;
    int left = 1;

    memset(c->count, 0, sizeof(c->count));
    for (unsigned i = 0; i < n; i++)
        c->count[len[i]]++;
    for (unsigned l = 1; l <= INFL_MAXBITS; l++)
        if (c->count[l])
            max = l;
    if (max == 0)
        return kind == SET_CLEN ? bad : 0;
    for (unsigned l = 1; l <= INFL_MAXBITS; l++) {
        left = left * 2 - c->count[l];
        if (left < 0)
            return bad;
    }
    if (left > 0 && (kind == SET_CLEN || max != 1))
        return bad;
    offs[1] = 0;
    for (unsigned l = 1; l < INFL_MAXBITS; l++)
        offs[l + 1] = (uint16_t)(offs[l] + c->count[l]);
    for (unsigned i = 0; i < n; i++)
        if (len[i])
            c->sym[offs[len[i]]++] = (uint16_t)i;
    return 0;
}

/* Lengths 3..258 and distances 1..32768: base and extra bits [3.2.5]. */
static const uint16_t len_base[29] = { 3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                       15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                       67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1,    2,    3,    4,     5,     7,    9,    13,
                                        17,   25,   33,   49,    65,    97,   129,  193,
                                        257,  385,  513,  769,   1025,  1537, 2049, 3073,
                                        4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                        6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

struct out {
    uint8_t *p;
    size_t cap, pos;
};

/* Symbols of one Huffman block up to end-of-block [3.2.5]. */
static int codes(struct bits *b, struct out *o, const struct infl_code *lit,
                 const struct infl_code *dist)
{
    for (;;) {
        int sym = decode(b, lit, INFL_E_SYMBOL);
        unsigned len, d, e;

        if (sym < 0)
            return sym;
        if (sym < 256) {
            if (o->pos == o->cap)
                return INFL_E_OUTPUT;
            o->p[o->pos++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return 0;
        sym -= 257;
        if (sym >= 29)
            return INFL_E_SYMBOL;
        if (extra(b, len_extra[sym], &e))
            return INFL_E_INPUT;
        len = len_base[sym] + e;
        sym = decode(b, dist, INFL_E_DIST);
        if (sym < 0)
            return sym;
        if (sym >= 30)
            return INFL_E_DIST;
        if (extra(b, dist_extra[sym], &e))
            return INFL_E_INPUT;
        d = dist_base[sym] + e;
        if (d > o->pos)
            return INFL_E_FAR;
        if (len > o->cap - o->pos)
            return INFL_E_OUTPUT;
        /* Byte by byte: the source may overlap what is being written. */
        for (uint8_t *q = o->p + o->pos, *end = q + len; q < end; q++)
            *q = q[-(ptrdiff_t)d];
        o->pos += len;
    }
}

static int stored(struct bits *b, struct out *o)
{
    unsigned len, nlen;

    /* Fewer than 8 bits are buffered: they are the rest of the byte that
     * held the block header [3.2.4]. */
    b->buf = 0;
    b->cnt = 0;
    if (b->n - b->pos < 4u)
        return INFL_E_INPUT;
    len = b->in[b->pos] | (unsigned)b->in[b->pos + 1] << 8;
    nlen = b->in[b->pos + 2] | (unsigned)b->in[b->pos + 3] << 8;
    b->pos += 4;
    if (len != (~nlen & 0xFFFFu))
        return INFL_E_STORED;
    if (b->n - b->pos < len)
        return INFL_E_INPUT;
    if (o->cap - o->pos < len)
        return INFL_E_OUTPUT;
    memcpy(o->p + o->pos, b->in + b->pos, len);
    b->pos += len;
    o->pos += len;
    return 0;
}

static int fixed(struct infl_ws *ws)
{
    unsigned i = 0;
    int rc;

    /* [3.2.6] */
    for (; i < 144; i++)
        ws->lens[i] = 8;
    for (; i < 256; i++)
        ws->lens[i] = 9;
    for (; i < 280; i++)
        ws->lens[i] = 7;
    for (; i < INFL_NLIT; i++)
        ws->lens[i] = 8;
    for (i = 0; i < INFL_NDIST; i++)
        ws->lens[INFL_NLIT + i] = 5;
    rc = build(&ws->lit, ws->lens, INFL_NLIT, SET_LIT, INFL_E_LITSET);
    if (rc == 0)
        rc = build(&ws->dist, ws->lens + INFL_NLIT, INFL_NDIST, SET_DIST, INFL_E_DISTSET);
    return rc;
}

/* Header and codes of a dynamic block [3.2.7]. */
static int dynamic(struct bits *b, struct infl_ws *ws)
{
    static const uint8_t order[19] = { 16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15 };
    uint8_t clens[19];
    unsigned nlit, ndist, nclen, have = 0;
    int rc;

    if (need(b, 14))
        return INFL_E_INPUT;
    nlit = take(b, 5) + 257u;
    ndist = take(b, 5) + 1u;
    nclen = take(b, 4) + 4u;
    if (nlit > 286u || ndist > 30u)
        return INFL_E_COUNTS;
    memset(clens, 0, sizeof(clens));
    for (unsigned i = 0; i < nclen; i++) {
        if (need(b, 3))
            return INFL_E_INPUT;
        clens[order[i]] = (uint8_t)take(b, 3);
    }
    /* The code length code borrows the distance code until the two real
     * codes are built. */
    rc = build(&ws->dist, clens, 19, SET_CLEN, INFL_E_CLEN);
    if (rc)
        return rc;
    /* One sequence of nlit + ndist lengths: a repeat may cross from the
     * literal/length lengths into the distance lengths. */
    while (have < nlit + ndist) {
        int sym = decode(b, &ws->dist, INFL_E_CLEN);
        unsigned rep, val = 0;

        if (sym < 0)
            return sym;
        if (sym < 16) {
            ws->lens[have++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (have == 0)
                return INFL_E_REPEAT;
            val = ws->lens[have - 1u];
            if (need(b, 2))
                return INFL_E_INPUT;
            rep = 3u + take(b, 2);
        } else if (sym == 17) {
            if (need(b, 3))
                return INFL_E_INPUT;
            rep = 3u + take(b, 3);
        } else {
            if (need(b, 7))
                return INFL_E_INPUT;
            rep = 11u + take(b, 7);
        }
        if (rep > nlit + ndist - have)
            return INFL_E_REPEAT;
        while (rep--)
            ws->lens[have++] = (uint8_t)val;
    }
    if (ws->lens[256] == 0)
        return INFL_E_NO_EOB;
    rc = build(&ws->lit, ws->lens, nlit, SET_LIT, INFL_E_LITSET);
    if (rc == 0)
        rc = build(&ws->dist, ws->lens + nlit, ndist, SET_DIST, INFL_E_DISTSET);
    return rc;
}

int infl_raw(struct infl_ws *ws, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
             size_t *out_len)
{
    struct bits b = { in, in_len, 0, 0, 0 };
    struct out o = { out, out_cap, 0 };
    unsigned last;
    int rc;

    if (!ws || (!in && in_len) || (!out && out_cap) || !out_len)
        return INFL_E_ARG;
    *out_len = 0;
    ws->lit.sym = ws->litsym;
    ws->dist.sym = ws->distsym;
    do {
        if (need(&b, 3))
            return INFL_E_INPUT;
        last = take(&b, 1);
        switch (take(&b, 2)) {
        case 0: rc = stored(&b, &o); break;
        case 1:
            rc = fixed(ws);
            if (rc == 0)
                rc = codes(&b, &o, &ws->lit, &ws->dist);
            break;
        case 2:
            rc = dynamic(&b, ws);
            if (rc == 0)
                rc = codes(&b, &o, &ws->lit, &ws->dist);
            break;
        default: rc = INFL_E_BTYPE; break;
        }
        if (rc)
            goto fail;
    } while (!last);
    if (b.pos != b.n) {
        rc = INFL_E_TRAILING;
        goto fail;
    }
    *out_len = o.pos;
    return 0;
fail:
    *out_len = o.pos;
    return rc;
}

const char *infl_strerror(int err)
{
    switch (err) {
    case INFL_OK: return "ok";
    case INFL_E_INPUT: return "deflate: input ends inside the stream";
    case INFL_E_OUTPUT: return "deflate: output larger than its buffer";
    case INFL_E_BTYPE: return "deflate: reserved block type";
    case INFL_E_STORED: return "deflate: stored block length check";
    case INFL_E_COUNTS: return "deflate: too many length or distance codes";
    case INFL_E_CLEN: return "deflate: bad code length code";
    case INFL_E_REPEAT: return "deflate: bad code length repeat";
    case INFL_E_NO_EOB: return "deflate: no end-of-block code";
    case INFL_E_LITSET: return "deflate: bad literal/length code set";
    case INFL_E_DISTSET: return "deflate: bad distance code set";
    case INFL_E_SYMBOL: return "deflate: invalid literal/length code";
    case INFL_E_DIST: return "deflate: invalid distance code";
    case INFL_E_FAR: return "deflate: distance before the start of the output";
    case INFL_E_TRAILING: return "deflate: bytes after the final block";
    case INFL_E_ARG: return "deflate: bad argument";
    default: return "unknown deflate error";
    }
}
