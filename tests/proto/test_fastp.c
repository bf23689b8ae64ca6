/*
 * proto/fastp: the fast protocol's frame codec (docs/PROTOCOL.md "h7iap
 * fast protocol"): round trips of every frame type, the byte layout of
 * the header, every rejection the decoder makes (bad header or CRC,
 * truncation, wrong direction or length, reserved fields, DATA offsets
 * outside the area or the image, misaligned, oversize, crossing a
 * sector, sectors outside the page mask, backwards), a receiver that
 * resynchronises through noise, the end-to-end CRCs, and the frames of an
 * independent encoder (tests/fuzz/mkseeds_fastp.py, Python).
 */
#define _DEFAULT_SOURCE /* dirent's d_name listing */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "an3155.h"
#include "crc32.h"
#include "fastp.h"
#include "fastp_h745.h"
#include "proto_err.h"

static uint8_t frame[FP_FRAME_MAX + 64];
static uint8_t payload[FP_RAW_MAX], raw[FP_RAW_MAX];
static struct infl_ws ws;

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 16;
}

static enum fp_dir dir_of(uint8_t type)
{
    return type >= FP_REPLY ? FP_TO_HOST : FP_TO_DEVICE;
}

/* encode, decode, compare; re-encode the decoded message: same bytes */
static int round_trip(const struct fp_msg *m)
{
    static uint8_t again[FP_FRAME_MAX];
    struct fp_msg d;
    int n = fp_encode(m, &FP_H745, frame, sizeof(frame));

    if (n < 0)
        fprintf(stderr, "encode %s: %s\n", fp_type_name(m->type), fp_strerror(n));
    assert_true(n >= (int)FP_OVERHEAD);
    assert_int_equal(fp_header(frame, (size_t)n), n);
    assert_int_equal(fp_decode(frame, (size_t)n, &FP_H745, dir_of(m->type), &d), n);
    assert_int_equal(d.type, m->type);
    assert_int_equal(d.tag, m->tag);
    assert_int_equal(fp_encode(&d, &FP_H745, again, sizeof(again)), n);
    assert_memory_equal(again, frame, (size_t)n);
    return n;
}

static struct fp_msg msg(uint8_t type, uint8_t tag)
{
    struct fp_msg m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.tag = tag;
    return m;
}

static struct fp_msg hello_r(void)
{
    struct fp_msg m = msg(FP_HELLO_R, 1);

    m.u.hello_r.version = FP_VERSION;
    m.u.hello_r.flags = FP_HF_DEFLATE;
    m.u.hello_r.geom = FP_H745;
    m.u.hello_r.uart_clk = 100000000u;
    m.u.hello_r.baud_max = 6250000u;
    m.u.hello_r.baud_now = 115200u;
    return m;
}

static struct fp_msg data_msg(uint32_t seq, uint32_t offset, uint16_t raw_len)
{
    struct fp_msg m = msg(FP_DATA, 0);

    for (unsigned i = 0; i < raw_len; i++)
        payload[i] = (uint8_t)(offset + i * 7u);
    m.u.data.seq = seq;
    m.u.data.offset = offset;
    m.u.data.raw_len = raw_len;
    m.u.data.codec = FP_CODEC_RAW;
    m.u.data.raw_crc = crc32_zlib(0, payload, raw_len);
    m.u.data.payload = payload;
    m.u.data.payload_len = raw_len;
    return m;
}

static void test_geometry(void **state)
{
    struct fp_geom g;
    (void)state;

    assert_int_equal(fp_geom_check(&FP_H745), 0);
    assert_int_equal(fp_region_start(&FP_H745, 0), 0);
    assert_int_equal(fp_region_size(&FP_H745, 0), 0xC0000u);
    assert_int_equal(fp_region_start(&FP_H745, 1), 0xC0000u);
    assert_int_equal(fp_region_size(&FP_H745, 1), 0x100000u);
    assert_int_equal(fp_region_of(&FP_H745, 0xBFFE0u), 0);
    assert_int_equal(fp_region_of(&FP_H745, 0xC0000u), 1);
    assert_int_equal(fp_image_sectors(&FP_H745, 1), 1);
    assert_int_equal(fp_image_sectors(&FP_H745, 0x20000u), 1);
    assert_int_equal(fp_image_sectors(&FP_H745, 0x20001u), 2);
    assert_int_equal(fp_image_sectors(&FP_H745, FP_H745.area_size), 14);
    /* the words an image covers in each region */
    assert_int_equal(fp_region_image_len(&FP_H745, 1, 0), 32);
    assert_int_equal(fp_region_image_len(&FP_H745, 1, 1), 0);
    assert_int_equal(fp_region_image_len(&FP_H745, 0xC0001u, 0), 0xC0000u);
    assert_int_equal(fp_region_image_len(&FP_H745, 0xC0001u, 1), 32);
    assert_int_equal(fp_region_image_len(&FP_H745, FP_H745.area_size, 1), 0x100000u);
    /* each field out of its domain */
    g = FP_H745, g.sector_size = 0x30000u;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.sector_size = 4096;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.area_base += 32;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.area_size = 0;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.area_size += 32;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.area_size = 33u * g.sector_size, g.area_base = 0;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.area_base = 0xFFFE0000u;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.bank_split = 0;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.bank_split = 0xC0020u;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.bank_split = g.area_size + g.sector_size;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.bank_split = g.area_size; /* one region only: fine */
    assert_int_equal(fp_geom_check(&g), 0);
    assert_int_equal(fp_region_size(&g, 1), 0);
    g = FP_H745, g.raw_max = 16;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.raw_max = FP_RAW_MAX + 32;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.raw_max = 1000;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.slots = 0;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
    g = FP_H745, g.slots = FP_SLOTS_MAX + 1;
    assert_int_equal(fp_geom_check(&g), FP_E_GEOM);
}

/* Every type once, with values at the edges of their domains. */
static void test_round_trips(void **state)
{
    struct fp_msg m;
    (void)state;

    m = msg(FP_HELLO, 7);
    m.u.hello.version = FP_VERSION;
    assert_int_equal(round_trip(&m), FP_OVERHEAD + 4);
    m = hello_r();
    assert_int_equal(round_trip(&m), FP_OVERHEAD + 36);
    m = msg(FP_BAUD, 2), m.u.baud = 4000000u;
    round_trip(&m);
    m.type = FP_BAUD_R, m.u.baud = 4000000u;
    round_trip(&m);
    m = msg(FP_PING, 3), m.u.token = 0xDEADBEEFu;
    round_trip(&m);
    m.type = FP_PONG;
    round_trip(&m);
    m = msg(FP_QUERY, 4);
    assert_int_equal(round_trip(&m), FP_OVERHEAD);
    m = msg(FP_RESUME_R, 4);
    round_trip(&m); /* state NONE, all zero */
    m.u.resume_r.state = FP_RS_LOG;
    m.u.resume_r.image = (struct fp_image){ 0x150000u, 0x12345678u, 0x7FFu };
    m.u.resume_r.done[0] = 0xC0000u;
    m.u.resume_r.done[1] = 0x20000u;
    round_trip(&m);
    m = msg(FP_SECTORS, 5), m.u.sectors.first = 0, m.u.sectors.count = 14;
    round_trip(&m);
    m = msg(FP_SECTORS_R, 5), m.u.sectors_r.first = 3, m.u.sectors_r.count = 11;
    for (unsigned i = 0; i < 11; i++)
        m.u.sectors_r.crc[i] = 0x1000u + i, m.u.sectors_r.sr[i] = i == 4 ? 1u << 26 : 0;
    assert_int_equal(round_trip(&m), FP_OVERHEAD + 4 + 88);
    m = msg(FP_BEGIN, 6);
    m.u.begin.image = (struct fp_image){ FP_H745.area_size, 0xCAFEF00Du, 0x3FFFu };
    round_trip(&m);
    m.u.begin.flags = FP_BF_RESUME;
    m.u.begin.resume[0] = 0x40000u;
    m.u.begin.resume[1] = 0x100000u;
    round_trip(&m);
    m = data_msg(0xFFFFFFFFu, FP_H745.area_size - FP_RAW_MAX, FP_RAW_MAX);
    assert_int_equal(round_trip(&m), FP_FRAME_MAX);
    m = data_msg(0, 0, 32);
    round_trip(&m);
    m = msg(FP_STATUS, 0);
    m.u.status.cum = 100, m.u.status.limit = 148;
    m.u.status.sack = 0x5ull << 40; /* frames 141 and 143 */
    m.u.status.bank[0] = (struct fp_bank_status){ 0x20000u, FP_BANK_ERASING, 3, 812 };
    m.u.status.bank[1] = (struct fp_bank_status){ 0x100000u, FP_BANK_DONE, FP_PAGE_NONE, 0 };
    m.u.status.bad_frames = 65535;
    round_trip(&m);
    m.u.status.bank[1].page = FP_PAGE_BANK;
    round_trip(&m);
    m = msg(FP_END, 8), m.u.end.frames = 224, m.u.end.crc[0] = 1, m.u.end.crc[1] = 2;
    round_trip(&m);
    m = msg(FP_END_R, 8), m.u.end_r.result = FP_E_VERIFY, m.u.end_r.crc[0] = 3;
    round_trip(&m);
    m = msg(FP_GO, 9), m.u.addr = 0x08040000u;
    round_trip(&m);
    m = msg(FP_GO_R, 9);
    round_trip(&m);
    m = msg(FP_BYE, 10);
    round_trip(&m);
    m = msg(FP_BYE_R, 10);
    round_trip(&m);
    m = msg(FP_ERROR, 6);
    m.u.error = (struct fp_error){ -1018, 1u << 18, 0x08040020u, 0xFFFFFFFFu, FP_DATA, 1 };
    round_trip(&m);
}

/* The header's bytes as docs/PROTOCOL.md gives them, and the CRCs. */
static void test_layout(void **state)
{
    struct fp_msg m = msg(FP_PING, 0x42);
    int n;
    (void)state;

    m.u.token = 0x04030201u;
    n = fp_encode(&m, NULL, frame, sizeof(frame));
    assert_int_equal(n, 16);
    assert_int_equal(frame[0], 0xE7);
    assert_int_equal(frame[1], 0x7E);
    assert_int_equal(frame[2], 0x03);
    assert_int_equal(frame[3], 0x42);
    assert_int_equal(frame[4], 4);
    assert_int_equal(frame[5], 0);
    assert_int_equal(frame[6] | frame[7] << 8, crc32_zlib(0, frame, 6) & 0xFFFFu);
    assert_memory_equal(frame + 8, "\x01\x02\x03\x04", 4);
    assert_int_equal((uint32_t)frame[12] | (uint32_t)frame[13] << 8 | (uint32_t)frame[14] << 16 |
                         (uint32_t)frame[15] << 24,
                     crc32_zlib(0, frame, 12));
    /* the CRC is zlib's (the library the host uses) */
    assert_int_equal(crc32(0, frame, 12), crc32_zlib(0, frame, 12));
    /* too small an output buffer */
    assert_int_equal(fp_encode(&m, NULL, frame, 15), FP_E_ARG);
    assert_int_equal(fp_encode(NULL, NULL, frame, 16), FP_E_ARG);
    assert_int_equal(fp_encode(&m, NULL, NULL, 16), FP_E_ARG);
    m.type = 0x0B;
    assert_int_equal(fp_encode(&m, NULL, frame, sizeof(frame)), FP_E_TYPE);
}

/* Every bit of a frame flipped: refused, never decoded as something else. */
static void test_corruption(void **state)
{
    static uint8_t copy[FP_FRAME_MAX];
    struct fp_msg m = data_msg(5, 0x1000, 256), d;
    int n = fp_encode(&m, &FP_H745, frame, sizeof(frame));
    (void)state;

    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++) {
            int rc;

            memcpy(copy, frame, (size_t)n);
            copy[i] ^= (uint8_t)(1u << b);
            rc = fp_decode(copy, (size_t)n, &FP_H745, FP_TO_DEVICE, &d);
            if (i < 2)
                assert_int_equal(rc, FP_E_SOF);
            else if (i < 8)
                assert_true(rc == FP_E_HCRC);
            else
                assert_int_equal(rc, FP_E_CRC);
        }
    }
    /* every truncation */
    for (int k = 0; k < n; k++) {
        assert_int_equal(fp_decode(frame, (size_t)k, &FP_H745, FP_TO_DEVICE, &d), FP_E_SHORT);
        if (k < (int)FP_HDR_LEN)
            assert_int_equal(fp_header(frame, (size_t)k), FP_E_SHORT);
        else
            assert_int_equal(fp_header(frame, (size_t)k), n);
    }
    /* a longer buffer: one frame consumed */
    assert_int_equal(fp_decode(frame, sizeof(frame), &FP_H745, FP_TO_DEVICE, &d), n);
}

/* Builds a frame with any header and body (valid CRCs), to test what the
 * encoder would never produce. */
static size_t forge(uint8_t type, const uint8_t *body, size_t blen)
{
    frame[0] = FP_SOF0;
    frame[1] = FP_SOF1;
    frame[2] = type;
    frame[3] = 0;
    frame[4] = (uint8_t)blen;
    frame[5] = (uint8_t)(blen >> 8);
    {
        uint32_t h = crc32_zlib(0, frame, 6);

        frame[6] = (uint8_t)h;
        frame[7] = (uint8_t)(h >> 8);
    }
    if (blen)
        memcpy(frame + 8, body, blen);
    {
        uint32_t c = crc32_zlib(0, frame, 8 + blen);

        frame[8 + blen] = (uint8_t)c;
        frame[9 + blen] = (uint8_t)(c >> 8);
        frame[10 + blen] = (uint8_t)(c >> 16);
        frame[11 + blen] = (uint8_t)(c >> 24);
    }
    return 12 + blen;
}

static int decode_forged(uint8_t type, const uint8_t *body, size_t blen)
{
    struct fp_msg d;
    size_t n = forge(type, body, blen);

    return fp_decode(frame, n, &FP_H745, dir_of(type), &d);
}

static void test_header_rules(void **state)
{
    static uint8_t body[FP_BODY_MAX + 2];
    struct fp_msg d;
    size_t n;
    (void)state;

    /* length past FP_BODY_MAX: refused from the header alone */
    n = forge(FP_DATA, body, FP_BODY_MAX + 1);
    assert_int_equal(fp_header(frame, FP_HDR_LEN), FP_E_LEN);
    assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_DEVICE, &d), FP_E_LEN);
    /* unknown types, the gap at 0x86 included */
    {
        static const uint8_t bad[] = { 0x00, 0x0B, 0x7F, 0x80, 0x86, 0x8B, 0xED, 0xEF, 0xFF };

        for (unsigned i = 0; i < sizeof(bad); i++) {
            n = forge(bad[i], body, 0);
            assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_DEVICE, &d), FP_E_TYPE);
            assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_HOST, &d), FP_E_TYPE);
        }
    }
    /* the other direction's types */
    n = forge(FP_QUERY, body, 0);
    assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_HOST, &d), FP_E_TYPE);
    assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_DEVICE, &d), (int)n);
    n = forge(FP_BYE_R, body, 0);
    assert_int_equal(fp_decode(frame, n, &FP_H745, FP_TO_DEVICE, &d), FP_E_TYPE);
    /* wrong body length for every fixed-length type */
    {
        static const struct {
            uint8_t type;
            size_t len;
        } fixed[] = { { FP_HELLO, 4 },   { FP_HELLO_R, 36 }, { FP_BAUD, 4 },    { FP_BAUD_R, 4 },
                      { FP_PING, 4 },    { FP_PONG, 4 },     { FP_QUERY, 0 },   { FP_RESUME_R, 24 },
                      { FP_SECTORS, 4 }, { FP_BEGIN, 24 },   { FP_STATUS, 36 }, { FP_END, 12 },
                      { FP_END_R, 12 },  { FP_GO, 4 },       { FP_GO_R, 0 },    { FP_BYE, 0 },
                      { FP_BYE_R, 0 },   { FP_ERROR, 20 } };

        memset(body, 0, 64);
        for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
            assert_int_equal(decode_forged(fixed[i].type, body, fixed[i].len + 1), FP_E_LEN);
            if (fixed[i].len)
                assert_int_equal(decode_forged(fixed[i].type, body, fixed[i].len - 1), FP_E_LEN);
        }
    }
    /* variable ones: DATA below its header, SECTORS_R below 4 or not 4 + 8n */
    assert_int_equal(decode_forged(FP_DATA, body, 15), FP_E_LEN);
    assert_int_equal(decode_forged(FP_SECTORS_R, body, 3), FP_E_LEN);
    body[0] = 0, body[1] = 2, body[2] = body[3] = 0;
    assert_int_equal(decode_forged(FP_SECTORS_R, body, 4 + 16), 4 + 16 + 12);
    assert_int_equal(decode_forged(FP_SECTORS_R, body, 4 + 15), FP_E_LEN);
    assert_int_equal(decode_forged(FP_SECTORS_R, body, 4 + 24), FP_E_LEN);
}

/* A valid body of each type with reserved bytes, one reserved byte set. */
static void test_reserved(void **state)
{
    static const struct {
        uint8_t type;
        unsigned at[3];
        unsigned n;
    } res[] = { { FP_RESUME_R, { 1, 2, 3 }, 3 }, { FP_SECTORS, { 2, 3 }, 2 },
                { FP_SECTORS_R, { 2, 3 }, 2 },   { FP_BEGIN, { 13, 14, 15 }, 3 },
                { FP_DATA, { 11 }, 1 },          { FP_STATUS, { 34, 35 }, 2 },
                { FP_ERROR, { 18, 19 }, 2 } };
    (void)state;

    for (unsigned i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        struct fp_msg m = msg(res[i].type, 0);
        int n;

        switch (res[i].type) {
        case FP_RESUME_R:
            m.u.resume_r.state = FP_RS_RAM;
            m.u.resume_r.image = (struct fp_image){ 100, 1, 1 };
            break;
        case FP_SECTORS: m.u.sectors.count = 1; break;
        case FP_SECTORS_R: m.u.sectors_r.count = 1; break;
        case FP_BEGIN: m.u.begin.image = (struct fp_image){ 100, 1, 1 }; break;
        case FP_DATA: m = data_msg(0, 0, 64); break;
        case FP_STATUS: m.u.status.limit = 1; break;
        case FP_ERROR: m.u.error.code = -1; break;
        }
        static uint8_t good[FP_BODY_MAX], body[FP_BODY_MAX];
        size_t blen;

        n = fp_encode(&m, &FP_H745, frame, sizeof(frame));
        assert_true(n > 0);
        blen = (size_t)n - FP_OVERHEAD;
        memcpy(good, frame + 8, blen);
        for (unsigned k = 0; k < res[i].n; k++) {
            memcpy(body, good, blen);
            body[res[i].at[k]] = 1;
            assert_int_equal(decode_forged(res[i].type, body, blen), FP_E_FIELD);
            assert_int_equal(decode_forged(res[i].type, good, blen), (int)(blen + 12));
        }
    }
}

static int enc(struct fp_msg *m)
{
    return fp_encode(m, &FP_H745, frame, sizeof(frame));
}

static void test_field_rules(void **state)
{
    struct fp_msg m;
    (void)state;

    /* HELLO, HELLO_R */
    m = msg(FP_HELLO, 0);
    assert_int_equal(enc(&m), FP_E_VERSION);
    m.u.hello.version = 1, m.u.hello.flags = 1;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = hello_r(), m.u.hello_r.version = 0;
    assert_int_equal(enc(&m), FP_E_VERSION);
    m = hello_r(), m.u.hello_r.flags = 2;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = hello_r(), m.u.hello_r.geom.slots = 0;
    assert_int_equal(enc(&m), FP_E_GEOM);
    m = hello_r(), m.u.hello_r.baud_max = 12500001u; /* above uart_clk / 8 */
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = hello_r(), m.u.hello_r.baud_now = 0;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = hello_r(), m.u.hello_r.baud_now = m.u.hello_r.baud_max + 1;
    assert_int_equal(enc(&m), FP_E_FIELD);
    /* HELLO_R decodes without a geometry; the types that need one do not */
    m = hello_r();
    assert_true(fp_encode(&m, NULL, frame, sizeof(frame)) > 0);
    {
        struct fp_msg d;
        static const uint8_t need[] = { FP_RESUME_R, FP_SECTORS, FP_SECTORS_R,
                                        FP_BEGIN,    FP_DATA,    FP_STATUS };

        assert_true(fp_decode(frame, sizeof(frame), NULL, FP_TO_HOST, &d) > 0);
        for (unsigned i = 0; i < sizeof(need); i++) {
            m = msg(need[i], 0);
            assert_int_equal(fp_encode(&m, NULL, frame, sizeof(frame)), FP_E_GEOM);
        }
        m = data_msg(0, 0, 64);
        assert_true(enc(&m) > 0);
        assert_int_equal(fp_decode(frame, sizeof(frame), NULL, FP_TO_DEVICE, &d), FP_E_GEOM);
    }
    /* BAUD */
    m = msg(FP_BAUD, 0);
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.type = FP_BAUD_R;
    assert_int_equal(enc(&m), FP_E_FIELD);
    /* RESUME_R */
    m = msg(FP_RESUME_R, 0), m.u.resume_r.state = 3;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = msg(FP_RESUME_R, 0), m.u.resume_r.done[1] = 32; /* NONE with a value */
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = msg(FP_RESUME_R, 0), m.u.resume_r.state = FP_RS_RAM;
    assert_int_equal(enc(&m), FP_E_RANGE); /* image length 0 */
    m.u.resume_r.image.len = 0x30000u, m.u.resume_r.image.page_mask = 0x3;
    m.u.resume_r.done[0] = 0x30000u;
    assert_true(enc(&m) > 0);
    m.u.resume_r.image.page_mask = 0x4; /* sector 2 is past the image */
    assert_int_equal(enc(&m), FP_E_PAGE);
    m.u.resume_r.image.page_mask = 0x3, m.u.resume_r.done[0] = 0x30020u;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.resume_r.done[0] = 0x10010u;
    assert_int_equal(enc(&m), FP_E_ALIGN);
    m.u.resume_r.done[0] = 0, m.u.resume_r.done[1] = 32; /* the image has nothing in bank 2 */
    assert_int_equal(enc(&m), FP_E_RANGE);
    /* SECTORS */
    m = msg(FP_SECTORS, 0);
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.sectors.first = 13, m.u.sectors.count = 1;
    assert_true(enc(&m) > 0);
    m.u.sectors.count = 2;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m = msg(FP_SECTORS_R, 0), m.u.sectors_r.count = 15;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.sectors_r.count = 33;
    assert_int_equal(enc(&m), FP_E_RANGE);
    /* BEGIN */
    m = msg(FP_BEGIN, 0);
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.begin.image.len = FP_H745.area_size + 1;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.begin.image.len = 1, m.u.begin.image.page_mask = 0; /* nothing to write: allowed */
    assert_true(enc(&m) > 0);
    m.u.begin.image.page_mask = 2;
    assert_int_equal(enc(&m), FP_E_PAGE);
    m.u.begin.image.page_mask = 1, m.u.begin.flags = 2;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.begin.flags = 0, m.u.begin.resume[0] = 32; /* resume offsets without the flag */
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.begin.flags = FP_BF_RESUME;
    assert_true(enc(&m) > 0); /* 1 byte: its one word */
    m.u.begin.resume[0] = 64;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.begin.resume[0] = 16;
    assert_int_equal(enc(&m), FP_E_ALIGN);
    m.u.begin.image.len = FP_H745.area_size, m.u.begin.image.page_mask = 0x3FFF;
    m.u.begin.resume[0] = 0xC0000u, m.u.begin.resume[1] = 0x100000u;
    assert_true(enc(&m) > 0);
    m.u.begin.image.page_mask = 0x7FFF;
    assert_int_equal(enc(&m), FP_E_PAGE);
    /* STATUS */
    m = msg(FP_STATUS, 0), m.u.status.cum = 2, m.u.status.limit = 1;
    assert_int_equal(enc(&m), FP_E_WINDOW);
    m.u.status.cum = 0, m.u.status.limit = 53; /* more than the 52 slots */
    assert_int_equal(enc(&m), FP_E_WINDOW);
    m.u.status.limit = 48, m.u.status.sack = 1ull << 46; /* frame 47: the last one allowed */
    assert_true(enc(&m) > 0);
    m.u.status.sack = 1ull << 47; /* frame 48 = limit */
    assert_int_equal(enc(&m), FP_E_WINDOW);
    m.u.status.limit = m.u.status.cum = 7, m.u.status.sack = 1;
    assert_int_equal(enc(&m), FP_E_WINDOW);
    m.u.status.sack = 0, m.u.status.bank[1].state = FP_BANK_STATE_MAX + 1;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.status.bank[1].state = 0, m.u.status.bank[0].page = 14;
    assert_int_equal(enc(&m), FP_E_PAGE);
    m.u.status.bank[0].page = 13, m.u.status.bank[0].done = 16;
    assert_int_equal(enc(&m), FP_E_ALIGN);
    m.u.status.bank[0].done = 0xC0020u;
    assert_int_equal(enc(&m), FP_E_RANGE);
    m.u.status.bank[0].done = 0xC0000u, m.u.status.bank[1].done = 0x100020u;
    assert_int_equal(enc(&m), FP_E_RANGE);
    /* END_R, ERROR */
    m = msg(FP_END_R, 0), m.u.end_r.result = 1;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = msg(FP_ERROR, 0);
    assert_int_equal(enc(&m), FP_E_FIELD); /* code 0 */
    m.u.error.code = -3309, m.u.error.fatal = 2;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.error.fatal = 1, m.u.error.req = FP_STATUS;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.error.req = 0x0B;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m.u.error.req = FP_BYE;
    assert_true(enc(&m) > 0);
}

/* DATA: every rule of the frame itself. */
static void test_data_rules(void **state)
{
    struct fp_msg m;
    (void)state;

    m = data_msg(0, 16, 64);
    assert_int_equal(enc(&m), FP_E_ALIGN);
    m = data_msg(0, 0, 48);
    assert_int_equal(enc(&m), FP_E_ALIGN);
    m = data_msg(0, 0, 32), m.u.data.raw_len = 0, m.u.data.payload_len = 0;
    assert_int_equal(enc(&m), FP_E_SIZE);
    m = data_msg(0, 0, FP_RAW_MAX), m.u.data.raw_len = FP_RAW_MAX + 32;
    assert_int_equal(enc(&m), FP_E_SIZE);
    {
        struct fp_geom small = FP_H745;
        struct fp_msg d;

        small.raw_max = 4096;
        m = data_msg(0, 0, 8192);
        assert_true(enc(&m) > 0);
        assert_int_equal(fp_decode(frame, sizeof(frame), &small, FP_TO_DEVICE, &d), FP_E_SIZE);
    }
    m = data_msg(0, 0, 64), m.u.data.codec = 2;
    assert_int_equal(enc(&m), FP_E_FIELD);
    m = data_msg(0, 0, 64), m.u.data.payload_len = 63;
    assert_int_equal(enc(&m), FP_E_SIZE);
    m = data_msg(0, 0, 64), m.u.data.codec = FP_CODEC_DEFLATE; /* not smaller */
    assert_int_equal(enc(&m), FP_E_SIZE);
    m.u.data.payload_len = 0;
    assert_int_equal(enc(&m), FP_E_SIZE);
    m.u.data.payload_len = 63;
    assert_true(enc(&m) > 0);
    /* outside the area */
    m = data_msg(0, FP_H745.area_size, 32);
    assert_int_equal(enc(&m), FP_E_RANGE);
    m = data_msg(0, 0xFFFFFFE0u, 64);
    assert_int_equal(enc(&m), FP_E_RANGE);
    m = data_msg(0, FP_H745.area_size - 32, 64);
    assert_int_equal(enc(&m), FP_E_RANGE);
    m = data_msg(0, FP_H745.area_size - 64, 64);
    assert_true(enc(&m) > 0);
    /* across a sector, hence across the banks too */
    m = data_msg(0, 0x20000u - 32, 64);
    assert_int_equal(enc(&m), FP_E_CROSS);
    m = data_msg(0, 0xC0000u - 32, 64);
    assert_int_equal(enc(&m), FP_E_CROSS);
    m = data_msg(0, 0x20000u - 64, 64);
    assert_true(enc(&m) > 0);
}

/* DATA against the transfer: image words, page mask, decoding, padding. */
static void test_data_transfer(void **state)
{
    struct fp_image im = { 0x20000u + 100, 0, 0x2 }; /* sector 1 only */
    struct fp_msg m;
    uint8_t comp[FP_RAW_MAX + 64];
    uLongf cn;
    (void)state;

    m = data_msg(0, 0x20000u, 128);
    assert_int_equal(fp_data_check_image(&FP_H745, &im, &m.u.data), 0);
    m = data_msg(0, 0x1F000u, 128); /* sector 0: not in the mask */
    assert_int_equal(fp_data_check_image(&FP_H745, &im, &m.u.data), FP_E_PAGE);
    /* the image's last word ends at 0x20080: a frame to there is fine,
     * one word more is not */
    m = data_msg(0, 0x20060u, 32);
    assert_int_equal(fp_data_check_image(&FP_H745, &im, &m.u.data), 0);
    m = data_msg(0, 0x20060u, 64);
    assert_int_equal(fp_data_check_image(&FP_H745, &im, &m.u.data), FP_E_RANGE);
    m = data_msg(0, 0x20080u, 32);
    assert_int_equal(fp_data_check_image(&FP_H745, &im, &m.u.data), FP_E_RANGE);
    /* unpack: raw */
    m = data_msg(0, 0x20000u, 64);
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), 0);
    assert_memory_equal(raw, payload, 64);
    m.u.data.raw_crc ^= 1;
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), FP_E_RAW_CRC);
    /* the last word: bytes past the image (0x20064..) must be 0xFF */
    m = data_msg(0, 0x20060u, 32);
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), FP_E_PAD);
    memset(payload + 4, 0xFF, 28);
    m.u.data.raw_crc = crc32_zlib(0, payload, 32);
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), 0);
    payload[31] = 0xFE;
    m.u.data.raw_crc = crc32_zlib(0, payload, 32);
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), FP_E_PAD);
    /* deflate: zlib's raw stream decodes to raw_len bytes */
    im.len = FP_H745.area_size, im.page_mask = 0x3FFF;
    m = data_msg(0, 0x40000u, 4096);
    memset(payload + 1000, 0, 3096);
    m.u.data.raw_crc = crc32_zlib(0, payload, 4096);
    {
        z_stream s;

        memset(&s, 0, sizeof(s));
        assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
        s.next_in = payload;
        s.avail_in = 4096;
        s.next_out = comp;
        s.avail_out = sizeof(comp);
        assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
        cn = sizeof(comp) - s.avail_out;
        deflateEnd(&s);
    }
    m.u.data.codec = FP_CODEC_DEFLATE;
    m.u.data.payload = comp;
    m.u.data.payload_len = (uint16_t)cn;
    assert_true(enc(&m) > 0);
    memset(raw, 0, sizeof(raw));
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), 0);
    assert_memory_equal(raw, payload, 4096);
    /* a frame that says more than its stream holds */
    m.u.data.raw_len = 4128;
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), FP_E_RAW_LEN);
    /* ... or less: the decoder stops at raw_len (raw keeps its canary) */
    m.u.data.raw_len = 4064;
    raw[4064] = 0x5A;
    assert_int_equal(fp_data_unpack(&im, &m.u.data, &ws, raw), INFL_E_OUTPUT);
    assert_int_equal(raw[4064], 0x5A);
    /* a damaged stream */
    m.u.data.raw_len = 4096;
    comp[cn / 2] ^= 0x55;
    assert_true(fp_data_unpack(&im, &m.u.data, &ws, raw) != 0);
}

/* Each region forward only, independently of the other. */
static void test_order(void **state)
{
    const uint32_t zero[2] = { 0, 0 }, resume[2] = { 0x20000u, 0x40000u };
    struct fp_order o;
    struct fp_msg a = data_msg(0, 0, 8192), b;
    (void)state;

    fp_order_init(&o, &FP_H745, zero);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &a.u.data), 0);
    /* the same frame again: its words are programmed */
    assert_int_equal(fp_order_accept(&o, &FP_H745, &a.u.data), FP_E_BACKWARDS);
    b = data_msg(1, 8192 - 32, 64);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), FP_E_BACKWARDS);
    /* bank 2 in between: its own position */
    b = data_msg(2, 0xC0000u, 8192);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), 0);
    b = data_msg(3, 8192, 32);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), 0);
    /* a gap forward (an all-0xFF stretch not sent) */
    b = data_msg(4, 0x10000u, 32);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), 0);
    assert_int_equal(o.next[0], 0x10020u);
    assert_int_equal(o.next[1], 0xC2000u);
    b = data_msg(5, 0xC0000u, 32);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), FP_E_BACKWARDS);
    /* resumed: from done[] */
    fp_order_init(&o, &FP_H745, resume);
    assert_int_equal(o.next[0], 0x20000u);
    assert_int_equal(o.next[1], 0x100000u);
    b = data_msg(0, 0x1E000u, 8192);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), FP_E_BACKWARDS);
    b = data_msg(0, 0x20000u, 8192);
    assert_int_equal(fp_order_accept(&o, &FP_H745, &b.u.data), 0);
}

/* A receiver as the device runs it: header, resync on a bad one, frame. */
static unsigned receive_all(const uint8_t *s, size_t n, uint32_t *seqs, unsigned max)
{
    size_t pos = 0;
    unsigned got = 0;

    while (pos < n) {
        int len = fp_header(s + pos, n - pos);
        struct fp_msg d;

        if (len == FP_E_SHORT)
            break;
        if (len < 0) {
            pos += fp_resync(s + pos, n - pos);
            continue;
        }
        if ((size_t)len > n - pos)
            break;
        if (fp_decode(s + pos, n - pos, &FP_H745, FP_TO_DEVICE, &d) == len) {
            assert_true(got < max);
            seqs[got++] = d.u.data.seq;
            pos += (size_t)len;
        } else {
            /* a good header on a damaged frame: hunt from the next byte
             * (the header may be noise that passed its check) */
            pos += fp_resync(s + pos, n - pos);
        }
    }
    return got;
}

static void test_resync(void **state)
{
    static uint8_t stream[64 * 1024];
    uint32_t x = 1, seqs[64];
    size_t n = 0;
    unsigned want = 0;
    (void)state;

    assert_int_equal(fp_resync((const uint8_t *)"\xE7\x00\xE7\x7E", 4), 2);
    assert_int_equal(fp_resync((const uint8_t *)"\x00\x00\xE7", 3), 2);
    assert_int_equal(fp_resync((const uint8_t *)"\xE7\xE7\x00", 3), 3);
    assert_int_equal(fp_resync((const uint8_t *)"\xE7", 1), 1);
    assert_int_equal(fp_resync(NULL, 0), 1);
    /* frames with noise between them, the noise full of start bytes, and
     * every third frame damaged */
    for (uint32_t seq = 0; seq < 40; seq++) {
        struct fp_msg m = data_msg(seq, seq * 256u, 256);
        int len;

        for (unsigned k = lcg(&x) % 20; k; k--)
            stream[n++] = (lcg(&x) & 1) ? FP_SOF0 : (uint8_t)lcg(&x);
        len = fp_encode(&m, &FP_H745, stream + n, sizeof(stream) - n);
        assert_true(len > 0);
        if (seq % 3 == 2)
            stream[n + 8 + lcg(&x) % 200] ^= 0x10;
        else
            want++;
        n += (size_t)len;
    }
    assert_int_equal(receive_all(stream, n, seqs, 64), want);
    for (unsigned i = 0, s = 0; i < want; i++, s++) {
        if (s % 3 == 2)
            s++;
        assert_int_equal(seqs[i], s);
    }
}

/* The end-to-end CRCs against the plain definition over a padded copy. */
static void test_crcs(void **state)
{
    static uint8_t image[0x1C0000], padded[0x1C0000];
    uint32_t x = 3;
    (void)state;

    for (size_t i = 0; i < sizeof(image); i++)
        image[i] = (uint8_t)lcg(&x);
    static const uint32_t lens[] = { 1,        31,       127,      128,      129,       0x20000u,
                                     0xBFFFFu, 0xC0000u, 0xC0001u, 0xC0081u, 0x1BFFFFu, 0x1C0000u };
    for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint32_t len = lens[k];

        memset(padded, 0xFF, sizeof(padded));
        memcpy(padded, image, len);
        for (unsigned r = 0; r < 2; r++) {
            uint32_t start = fp_region_start(&FP_H745, r),
                     end = start + fp_region_size(&FP_H745, r);
            uint32_t want =
                len <= start ? 0 : (len >= end ? end - start : ((len - start + 127u) & ~127u));
            uint32_t cl = fp_region_crc_len(&FP_H745, len, r);

            if (want > end - start)
                want = end - start;
            assert_int_equal(cl, want);
            assert_int_equal(cl % FP_CRC_BURST, 0);
            assert_int_equal(fp_region_crc(&FP_H745, image, len, r),
                             crc32_h7flash(CRC32_H7FLASH_INIT, padded + start, cl));
        }
        for (unsigned i = 0; i < fp_image_sectors(&FP_H745, len); i++)
            assert_int_equal(fp_sector_crc(&FP_H745, image, len, i),
                             crc32_h7flash(CRC32_H7FLASH_INIT, padded + i * 0x20000u, 0x20000u));
    }
    /* an empty region: the unit's initial value */
    assert_int_equal(fp_region_crc(&FP_H745, image, 100, 1), CRC32_H7FLASH_INIT);
    /* the unit's known vector (docs/FLASH_MODEL.md): 128 zero bytes */
    memset(image, 0, 128);
    assert_int_equal(fp_region_crc(&FP_H745, image, 128, 0), 0x11E66C62u);
}

static void test_names(void **state)
{
    (void)state;

    for (int e = FP_E_SHORT; e >= FP_E_ARG; e--) {
        assert_int_not_equal(strncmp(fp_strerror(e), "unknown", 7), 0);
        assert_string_equal(proto_strerror(e), fp_strerror(e));
    }
    assert_int_equal(strncmp(fp_strerror(FP_E_ARG - 1), "unknown", 7), 0);
    assert_true(FP_E_SHORT < PROTO_ERR_FP_BASE && FP_E_ARG > PROTO_ERR_INFL_BASE);
    assert_string_equal(fp_type_name(FP_DATA), "DATA");
    assert_string_equal(fp_type_name(FP_STATUS), "STATUS");
    assert_string_equal(fp_type_name(0x86), "unknown");
    /* the entry command is one AN3155 does not use */
    assert_string_equal(an3155_cmd_name(FP_AN3155_CMD), "unknown");
}

/* Frames written by tests/fuzz/mkseeds_fastp.py from docs/PROTOCOL.md
 * (struct and zlib in Python): the seeds "w_*" are {0, frame}; each
 * decodes and encodes back to the same bytes. */
static void test_independent_encoder(void **state)
{
    DIR *dir = opendir(FASTP_CORPUS);
    struct dirent *e;
    unsigned seen = 0;
    (void)state;

    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        static uint8_t buf[FP_FRAME_MAX + 2], again[FP_FRAME_MAX];
        char path[512];
        struct fp_msg m;
        FILE *f;
        size_t n;
        int rc;

        if (strncmp(e->d_name, "w_", 2) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", FASTP_CORPUS, e->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_true(n > 1 && buf[0] == 0);
        rc = fp_decode(buf + 1, n - 1, &FP_H745, dir_of(buf[3]), &m);
        if (rc != (int)(n - 1))
            fprintf(stderr, "%s: %d (%s)\n", e->d_name, rc, fp_strerror(rc));
        assert_int_equal(rc, (int)(n - 1));
        assert_int_equal(fp_encode(&m, &FP_H745, again, sizeof(again)), rc);
        assert_memory_equal(again, buf + 1, n - 1);
        seen++;
    }
    closedir(dir);
    /* every type (20) and a few variants */
    assert_true(seen >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),      cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_layout),        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_header_rules),  cmocka_unit_test(test_reserved),
        cmocka_unit_test(test_field_rules),   cmocka_unit_test(test_data_rules),
        cmocka_unit_test(test_data_transfer), cmocka_unit_test(test_order),
        cmocka_unit_test(test_resync),        cmocka_unit_test(test_crcs),
        cmocka_unit_test(test_names),         cmocka_unit_test(test_independent_encoder),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
