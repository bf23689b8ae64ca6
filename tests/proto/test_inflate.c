/*
 * proto/inflate: the fast protocol's DEFLATE decoder against zlib, the
 * library the host compresses with (docs/PROTOCOL.md "Compression").
 *
 * - round trips: zlib's raw deflate at every level, strategy, memory
 *   level and window size over zeros, 0xFF, random, text-like, runs, and
 *   the real images of the target build in 8 KB frames (the fast
 *   protocol's DATA frames) and whole;
 * - zlib's hard cases: stored blocks (level 0, incompressible data,
 *   65535-byte stored blocks), Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE, overlapping
 *   copies at distance 1, 258-byte matches, 32 KB distances, empty input;
 * - boundaries: exact output capacity, one byte less, every truncation,
 *   a trailing byte;
 * - one hand-made stream for every error code, each also refused by zlib;
 * - equivalence with zlib's inflate on thousands of mutated streams:
 *   decoded here exactly when zlib decodes it completely, to the same
 *   bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "inflate.h"
#include "proto_err.h"

#define BIG (1u << 17)

static struct infl_ws ws;
static uint8_t zbuf[BIG + 1024], out[BIG + 64], ref[BIG + 64];

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 16;
}

static size_t zdeflate(const uint8_t *in, size_t n, uint8_t *o, size_t cap, int level, int wbits,
                       int mem, int strategy)
{
    z_stream s;
    int rc;

    memset(&s, 0, sizeof(s));
    assert_int_equal(deflateInit2(&s, level, Z_DEFLATED, wbits, mem, strategy), Z_OK);
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = o;
    s.avail_out = (uInt)cap;
    rc = deflate(&s, Z_FINISH);
    assert_int_equal(rc, Z_STREAM_END);
    deflateEnd(&s);
    return cap - s.avail_out;
}

/* zlib's verdict: 1 and *n when the stream decodes completely into cap
 * bytes with every input byte used. */
static int zinflate(const uint8_t *in, size_t n, uint8_t *o, size_t cap, size_t *got)
{
    z_stream s;
    int rc;

    memset(&s, 0, sizeof(s));
    assert_int_equal(inflateInit2(&s, -15), Z_OK);
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = o;
    s.avail_out = (uInt)cap;
    rc = inflate(&s, Z_FINISH);
    *got = cap - s.avail_out;
    inflateEnd(&s);
    return rc == Z_STREAM_END && s.avail_in == 0;
}

/* Ours and zlib's agree on in[0..n) decoded into cap bytes; returns ours. */
static int agree(const uint8_t *in, size_t n, size_t cap)
{
    size_t got = 0, zgot = 0;
    int rc = infl_raw(&ws, in, n, out, cap, &got);
    int zok = zinflate(in, n, ref, cap, &zgot);

    assert_true(rc <= 0);
    assert_true(got <= cap);
    if (zok != (rc == 0)) {
        fprintf(stderr, "disagree: ours %d (%s), zlib %s; n %zu cap %zu\n", rc, infl_strerror(rc),
                zok ? "ok" : "refuses", n, cap);
        fail();
    }
    if (rc == 0) {
        assert_int_equal(got, zgot);
        assert_memory_equal(out, ref, got);
    }
    return rc;
}

static void round_trip(const uint8_t *in, size_t n, int level, int wbits, int mem, int strategy)
{
    size_t zn = zdeflate(in, n, zbuf, sizeof(zbuf), level, wbits, mem, strategy), got = 0;

    assert_int_equal(infl_raw(&ws, zbuf, zn, out, n, &got), 0);
    assert_int_equal(got, n);
    if (n)
        assert_memory_equal(out, in, n);
    /* one byte less room: refused, and nothing written past it */
    if (n) {
        out[n - 1] = 0xA5;
        assert_int_equal(infl_raw(&ws, zbuf, zn, out, n - 1, &got), INFL_E_OUTPUT);
        assert_true(got <= n - 1);
        assert_int_equal(out[n - 1], 0xA5);
    }
    /* one byte more input: refused */
    zbuf[zn] = 0;
    assert_int_equal(infl_raw(&ws, zbuf, zn + 1, out, n, &got), INFL_E_TRAILING);
}

static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED };

static void all_settings(const uint8_t *in, size_t n)
{
    for (int level = 0; level <= 9; level++)
        for (unsigned s = 0; s < sizeof(strategies) / sizeof(strategies[0]); s++)
            round_trip(in, n, level, -15, 8, strategies[s]);
    for (int wbits = -15; wbits >= -9; wbits--)
        for (int mem = 1; mem <= 9; mem += 4)
            round_trip(in, n, 9, wbits, mem, Z_DEFAULT_STRATEGY);
}

static uint8_t sample[BIG];

static void test_synthetic(void **state)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 31, 32, 33, 257, 258, 259, 4096, 8192 };
    uint32_t x = 7;
    (void)state;

    for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];

        memset(sample, 0, n);
        all_settings(sample, n);
        memset(sample, 0xFF, n);
        all_settings(sample, n);
        for (size_t i = 0; i < n; i++)
            sample[i] = (uint8_t)lcg(&x);
        all_settings(sample, n);
        /* text-like: a small alphabet with repeats */
        for (size_t i = 0; i < n; i++)
            sample[i] = (uint8_t)("the quick brown fox jumps over the lazy dog "[lcg(&x) % 44]);
        all_settings(sample, n);
        /* Thumb-like: halfwords from a small set, some repeated runs */
        for (size_t i = 0; i + 1 < n; i += 2) {
            uint16_t hw = (uint16_t)(0x4600u | (lcg(&x) & 0x3Fu));

            sample[i] = (uint8_t)hw;
            sample[i + 1] = (uint8_t)(hw >> 8);
        }
        all_settings(sample, n);
    }
}

/* zlib's worst cases for a decoder. */
static void test_hard_cases(void **state)
{
    uint32_t x = 99;
    size_t n;
    (void)state;

    /* incompressible, larger than one stored block (65535 bytes) */
    for (size_t i = 0; i < BIG; i++)
        sample[i] = (uint8_t)lcg(&x);
    round_trip(sample, BIG, 0, -15, 8, Z_DEFAULT_STRATEGY);
    round_trip(sample, BIG, 9, -15, 8, Z_DEFAULT_STRATEGY);
    round_trip(sample, 65535, 0, -15, 8, Z_DEFAULT_STRATEGY);
    round_trip(sample, 65536, 0, -15, 8, Z_DEFAULT_STRATEGY);
    /* one byte repeated: overlapping copies at distance 1, 258-byte matches */
    memset(sample, 0x42, BIG);
    for (int level = 1; level <= 9; level++)
        round_trip(sample, BIG, level, -15, 8, Z_RLE);
    round_trip(sample, BIG, 9, -15, 9, Z_DEFAULT_STRATEGY);
    /* a random 32 KB block repeated: matches at the largest distance */
    for (size_t i = 0; i < 32768; i++)
        sample[i] = (uint8_t)lcg(&x);
    memcpy(sample + 32768, sample, 32768);
    memcpy(sample + 65536, sample, 32768);
    round_trip(sample, 98304, 9, -15, 9, Z_DEFAULT_STRATEGY);
    /* a short period: distances 2..17, every match length */
    for (size_t p = 2; p <= 17; p++) {
        for (size_t i = 0; i < 20000; i++)
            sample[i] = (uint8_t)(i % p * 37);
        round_trip(sample, 20000, 9, -15, 8, Z_DEFAULT_STRATEGY);
        round_trip(sample, 20000, 9, -15, 8, Z_FIXED);
    }
    /* every literal value in a fixed block */
    for (size_t i = 0; i < 256; i++)
        sample[i] = (uint8_t)i;
    round_trip(sample, 256, 9, -15, 8, Z_FIXED);
    /* empty stream: zlib writes a fixed block with only end-of-block */
    n = zdeflate(sample, 0, zbuf, sizeof(zbuf), 9, -15, 8, Z_DEFAULT_STRATEGY);
    assert_int_equal(agree(zbuf, n, 0), 0);
    /* arguments */
    assert_int_equal(infl_raw(NULL, zbuf, n, out, 1, &n), INFL_E_ARG);
    assert_int_equal(infl_raw(&ws, NULL, 1, out, 1, &n), INFL_E_ARG);
    assert_int_equal(infl_raw(&ws, zbuf, 1, NULL, 1, &n), INFL_E_ARG);
    assert_int_equal(infl_raw(&ws, zbuf, 1, out, 1, NULL), INFL_E_ARG);
    assert_int_equal(infl_raw(&ws, NULL, 0, out, 1, &n), INFL_E_INPUT);
}

static uint8_t *load(const char *rel, size_t *n)
{
    char path[512];
    FILE *f;
    uint8_t *p;
    long len;

    snprintf(path, sizeof(path), "%s/%s", H7_FW_DIR, rel);
    f = fopen(path, "rb");
    if (!f)
        fprintf(stderr, "test_inflate: %s missing (make build-arm)\n", path);
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    p = malloc((size_t)len);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* The images in the fast protocol's 8 KB frames, each compressed on its
 * own, and whole (up to 128 KB); every truncation of some frames agrees
 * with zlib. */
static void test_real_images(void **state)
{
    static const char *const images[] = { "boot/h7boot.bin", "app/h7app.bin",
                                          "tests/proto/img_newlib.bin",
                                          "tests/proto/img_newlib_1m75.bin" };
    (void)state;

    for (unsigned k = 0; k < sizeof(images) / sizeof(images[0]); k++) {
        size_t n, zn, frames = 0;
        uint8_t *img = load(images[k], &n);

        for (size_t off = 0; off < n; off += 8192, frames++) {
            size_t len = n - off < 8192 ? n - off : 8192;

            round_trip(img + off, len, 9, -15, 9, Z_DEFAULT_STRATEGY);
            if (n > BIG * 4)
                continue; /* the 1.75 MB image: level 9 only */
            round_trip(img + off, len, 6, -15, 8, Z_DEFAULT_STRATEGY);
            round_trip(img + off, len, 1, -15, 8, Z_DEFAULT_STRATEGY);
            if (frames % 8 == 0) {
                zn = zdeflate(img + off, len, zbuf, sizeof(zbuf), 9, -15, 9, Z_DEFAULT_STRATEGY);
                for (size_t cut = 0; cut < zn; cut++)
                    assert_int_not_equal(agree(zbuf, cut, len), 0);
            }
        }
        if (n <= BIG)
            all_settings(img, n);
        else
            round_trip(img, BIG, 9, -15, 9, Z_DEFAULT_STRATEGY);
        free(img);
    }
}

/* ---- hand-made streams ---- */

struct bw {
    uint8_t b[512];
    size_t n;
    unsigned bit;
};

static void bits(struct bw *w, unsigned v, unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        if (w->bit == 0)
            w->b[w->n++] = 0;
        w->b[w->n - 1] |= (uint8_t)(((v >> i) & 1u) << w->bit);
        w->bit = (w->bit + 1u) & 7u;
    }
}

/* A Huffman code: most significant bit first. */
static void code(struct bw *w, unsigned c, unsigned len)
{
    for (unsigned i = len; i-- > 0;)
        bits(w, (c >> i) & 1u, 1);
}

/* Fixed-code literal/length symbol [RFC 1951 3.2.6]. */
static void fixed_sym(struct bw *w, unsigned s)
{
    if (s < 144)
        code(w, 0x30 + s, 8);
    else if (s < 256)
        code(w, 0x190 + s - 144, 9);
    else if (s < 280)
        code(w, s - 256, 7);
    else
        code(w, 0xC0 + s - 280, 8);
}

static int expect_error(const struct bw *w, size_t cap, int err)
{
    size_t got;
    int rc = infl_raw(&ws, w->b, w->n, out, cap, &got);

    if (rc != err)
        fprintf(stderr, "expected %d (%s), got %d (%s)\n", err, infl_strerror(err), rc,
                infl_strerror(rc));
    assert_int_equal(rc, err);
    /* zlib refuses it too */
    assert_int_equal(agree(w->b, w->n, cap), rc);
    return rc;
}

/* Header of a dynamic block with the given code length code lengths
 * (19, in RFC order) and counts. */
static void dyn_header(struct bw *w, unsigned last, unsigned nlit, unsigned ndist,
                       const uint8_t *clen19, unsigned nclen)
{
    bits(w, last, 1);
    bits(w, 2, 2);
    bits(w, nlit - 257, 5);
    bits(w, ndist - 1, 5);
    bits(w, nclen - 4, 4);
    for (unsigned i = 0; i < nclen; i++)
        bits(w, clen19[i], 3);
}

/* Code length code giving symbols 0..15 four-bit codes 0..15 (order
 * 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15: 16-18 absent). */
static const uint8_t clen_4bits[19] = { 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4 };
/* The canonical code of that set: length value v has code v (4 bits). */
static void clen_sym(struct bw *w, unsigned v)
{
    code(w, v, 4);
}

/* A fresh final dynamic block whose literal/length code has four two-bit
 * codes, in symbol order 0 "00", 'a' "01", 256 "10", 257 (length 3)
 * "11", and whose ndist distance codes have the lengths dlens. */
static void four_lit_block(struct bw *w, unsigned ndist, const uint8_t *dlens)
{
    memset(w, 0, sizeof(*w));
    dyn_header(w, 1, 258, ndist, clen_4bits, 19);
    for (int i = 0; i < 258; i++)
        clen_sym(w, (i == 0 || i == 'a' || i == 256 || i == 257) ? 2 : 0);
    for (unsigned i = 0; i < ndist; i++)
        clen_sym(w, dlens[i]);
}

static void test_errors(void **state)
{
    struct bw w;
    (void)state;

    /* block type 3 */
    memset(&w, 0, sizeof(w));
    bits(&w, 1, 1);
    bits(&w, 3, 2);
    expect_error(&w, 16, INFL_E_BTYPE);
    /* stored: NLEN not the complement */
    memset(&w, 0, sizeof(w));
    bits(&w, 1, 1);
    bits(&w, 0, 2);
    w.bit = 0;
    w.b[w.n++] = 3;
    w.b[w.n++] = 0;
    w.b[w.n++] = 0xFC;
    w.b[w.n++] = 0xFE; /* should be 0xFF */
    w.b[w.n++] = 'a';
    w.b[w.n++] = 'b';
    w.b[w.n++] = 'c';
    expect_error(&w, 16, INFL_E_STORED);
    w.b[4] = 0xFF;
    assert_int_equal(expect_error(&w, 16, 0), 0);
    assert_memory_equal(out, "abc", 3);
    /* stored: input ends inside the data */
    w.n--;
    expect_error(&w, 16, INFL_E_INPUT);
    /* stored: more than the output holds */
    w.n++;
    expect_error(&w, 2, INFL_E_OUTPUT);
    /* too many codes: HLIT = 287 (30 + 257), HDIST = 31 */
    memset(&w, 0, sizeof(w));
    dyn_header(&w, 1, 287, 1, clen_4bits, 19);
    expect_error(&w, 16, INFL_E_COUNTS);
    memset(&w, 0, sizeof(w));
    dyn_header(&w, 1, 257, 31, clen_4bits, 19);
    expect_error(&w, 16, INFL_E_COUNTS);
    /* code length code over-subscribed: three codes of one bit */
    {
        uint8_t c[19] = { 1, 1, 1 };

        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 4);
        expect_error(&w, 16, INFL_E_CLEN);
        /* incomplete: one code of one bit (refused for the length code) */
        c[1] = c[2] = 0;
        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 4);
        expect_error(&w, 16, INFL_E_CLEN);
        /* no code at all */
        c[0] = 0;
        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 4);
        expect_error(&w, 16, INFL_E_CLEN);
    }
    /* repeat (16) with no previous length */
    {
        /* codes: 16 -> 1 bit "0", 0 -> 2 bits "10", 1 -> 2 bits "11"
         * (order: 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15) */
        uint8_t c[19] = { 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 18);
        code(&w, 0, 1); /* 16 first */
        bits(&w, 0, 2);
        expect_error(&w, 16, INFL_E_REPEAT);
        /* a repeat past nlit + ndist: 258 lengths of 1, then 16 x 6 */
        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 18);
        for (int i = 0; i < 256; i++)
            code(&w, 3, 2); /* length 1 */
        code(&w, 0, 1);
        bits(&w, 3, 2); /* repeat 6: 256 + 6 > 258 */
        expect_error(&w, 16, INFL_E_REPEAT);
    }
    /* no end-of-block code: every length 0 but one, which is not 256 */
    {
        uint8_t c[19] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

        /* 0 -> "0", 1 -> "1" */
        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 18);
        code(&w, 1, 1); /* symbol 0: length 1 */
        for (int i = 1; i < 258; i++)
            code(&w, 0, 1); /* the rest: 0 (256 included) */
        expect_error(&w, 16, INFL_E_NO_EOB);
        /* literal/length set over-subscribed: three lengths of 1 (0, 1, 256) */
        memset(&w, 0, sizeof(w));
        dyn_header(&w, 1, 257, 1, c, 18);
        for (int i = 0; i < 258; i++)
            code(&w, i == 0 || i == 1 || i == 256, 1);
        expect_error(&w, 16, INFL_E_LITSET);
    }
    /* literal/length set incomplete with codes longer than one bit:
     * 0 and 256 of two bits only */
    memset(&w, 0, sizeof(w));
    dyn_header(&w, 1, 257, 1, clen_4bits, 19);
    for (int i = 0; i < 258; i++)
        clen_sym(&w, (i == 0 || i == 256) ? 2 : 0);
    expect_error(&w, 16, INFL_E_LITSET);
    /* a single one-bit code (256) is allowed: an empty block */
    memset(&w, 0, sizeof(w));
    dyn_header(&w, 1, 257, 1, clen_4bits, 19);
    for (int i = 0; i < 258; i++)
        clen_sym(&w, i == 256 ? 1 : 0);
    code(&w, 0, 1); /* end of block */
    assert_int_equal(expect_error(&w, 16, 0), 0);
    /* ... and the undefined one-bit code is an invalid symbol */
    memset(&w, 0, sizeof(w));
    dyn_header(&w, 1, 257, 1, clen_4bits, 19);
    for (int i = 0; i < 258; i++)
        clen_sym(&w, i == 256 ? 1 : 0);
    code(&w, 1, 1);
    bits(&w, 0xFFFF, 16);
    expect_error(&w, 16, INFL_E_SYMBOL);
    /* distance sets: over-subscribed, incomplete */
    four_lit_block(&w, 3, (const uint8_t[]){ 1, 1, 1 });
    expect_error(&w, 16, INFL_E_DISTSET);
    four_lit_block(&w, 3, (const uint8_t[]){ 2, 2, 0 });
    expect_error(&w, 16, INFL_E_DISTSET);
    /* no distance code at all: fine for literals, refused when a length
     * comes */
    four_lit_block(&w, 1, (const uint8_t[]){ 0 });
    code(&w, 1, 2); /* 'a' */
    code(&w, 2, 2); /* end */
    assert_int_equal(expect_error(&w, 16, 0), 0);
    assert_int_equal(out[0], 'a');
    four_lit_block(&w, 1, (const uint8_t[]){ 0 });
    code(&w, 1, 2);
    code(&w, 3, 2); /* length 3 */
    bits(&w, 0xFFFF, 16);
    expect_error(&w, 16, INFL_E_DIST);
    /* fixed block: literal/length 286 and 287 */
    for (unsigned s = 286; s <= 287; s++) {
        memset(&w, 0, sizeof(w));
        bits(&w, 1, 1);
        bits(&w, 1, 2);
        fixed_sym(&w, s);
        fixed_sym(&w, 256);
        expect_error(&w, 16, INFL_E_SYMBOL);
    }
    /* 'x', then a length 3 match at distance code d: 30 and 31 do not
     * exist, 1 (distance 2) reaches before the output, 0 (distance 1)
     * repeats the 'x' (last, so that w keeps it) */
    static const struct {
        unsigned d;
        int err;
    } dists[] = { { 1, INFL_E_FAR }, { 30, INFL_E_DIST }, { 31, INFL_E_DIST }, { 0, 0 } };
    for (unsigned k = 0; k < 4; k++) {
        memset(&w, 0, sizeof(w));
        bits(&w, 1, 1);
        bits(&w, 1, 2);
        fixed_sym(&w, 'x');
        fixed_sym(&w, 257);
        code(&w, dists[k].d, 5);
        fixed_sym(&w, 256);
        assert_int_equal(expect_error(&w, 4, dists[k].err), dists[k].err);
    }
    /* distance 1 was fine; a match that overruns the output is not */
    assert_memory_equal(out, "xxxx", 4);
    expect_error(&w, 3, INFL_E_OUTPUT);
    /* literal into a full output */
    expect_error(&w, 0, INFL_E_OUTPUT);
    /* a non-final block, then the input ends */
    memset(&w, 0, sizeof(w));
    bits(&w, 0, 1);
    bits(&w, 1, 2);
    fixed_sym(&w, 256);
    expect_error(&w, 16, INFL_E_INPUT);
    /* then a final stored block of 0 bytes: fine */
    bits(&w, 1, 1);
    bits(&w, 0, 2);
    w.bit = 0;
    w.b[w.n++] = 0;
    w.b[w.n++] = 0;
    w.b[w.n++] = 0xFF;
    w.b[w.n++] = 0xFF;
    assert_int_equal(expect_error(&w, 16, 0), 0);
    /* extra bits of a length missing */
    memset(&w, 0, sizeof(w));
    bits(&w, 1, 1);
    bits(&w, 1, 2);
    fixed_sym(&w, 'x');
    fixed_sym(&w, 284); /* 5 extra bits follow; the stream ends */
    expect_error(&w, 300, INFL_E_INPUT);
    /* every error has its own text */
    for (int e = INFL_E_INPUT; e >= INFL_E_ARG; e--) {
        assert_int_not_equal(strncmp(infl_strerror(e), "unknown", 7), 0);
        assert_string_equal(proto_strerror(e), infl_strerror(e));
    }
    assert_int_equal(strncmp(infl_strerror(INFL_E_ARG - 1), "unknown", 7), 0);
}

/* Mutations of zlib's output: ours decodes exactly what zlib decodes. */
static void test_mutations(void **state)
{
    static uint8_t m[16384];
    uint32_t x = 12345;
    size_t n, zn, img_n;
    uint8_t *img = load("tests/proto/img_newlib.bin", &img_n);
    unsigned ok = 0, refused = 0;
    (void)state;

    for (unsigned round = 0; round < 200; round++) {
        size_t off = (lcg(&x) * 64u) % (img_n - 4096);
        int level = (int)(lcg(&x) % 10), strat = strategies[lcg(&x) % 5];

        n = 64 + lcg(&x) % 4000;
        zn = zdeflate(img + off, n, zbuf, sizeof(zbuf), level, -15, 8, strat);
        for (unsigned k = 0; k < 100; k++) {
            size_t mn = zn, cap = n;

            memcpy(m, zbuf, zn);
            switch (lcg(&x) % 5) {
            case 0: m[lcg(&x) % zn] ^= (uint8_t)(1u << (lcg(&x) % 8)); break;
            case 1: m[lcg(&x) % zn] = (uint8_t)lcg(&x); break;
            case 2: mn = lcg(&x) % zn; break;
            case 3:
                for (unsigned j = 0; j < 8; j++)
                    m[lcg(&x) % zn] ^= (uint8_t)lcg(&x);
                break;
            default: cap = lcg(&x) % (n + 300); break;
            }
            if (agree(m, mn, cap) == 0)
                ok++;
            else
                refused++;
        }
    }
    /* both kinds happened */
    assert_true(ok > 100);
    assert_true(refused > 1000);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic),   cmocka_unit_test(test_hard_cases),
        cmocka_unit_test(test_real_images), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
