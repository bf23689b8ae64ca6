/* crc/crc32 (both uses), proto/ymodem, proto/update_record, proto/proto_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "an3155.h"
#include "crc32.h"
#include "proto_err.h"
#include "update_record.h"
#include "ymodem.h"

/* Bit-serial references of the two CRC-32 uses, written from their
 * definitions (crc/crc32.h), to check the one table-driven engine. */
static uint32_t ref_zlib(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;

    while (n--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++)
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static uint32_t ref_stm32(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i += 4) {
        crc ^= (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
               (uint32_t)p[i + 3] << 24;
        for (int b = 0; b < 32; b++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    return crc;
}

static void test_crc32_known(void **state)
{
    static uint8_t d[1024];
    uint32_t x = 1;
    (void)state;

    assert_int_equal(crc32_zlib(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(crc32_zlib(0, "", 0), 0u);
    /* chaining equals one shot */
    assert_int_equal(crc32_zlib(crc32_zlib(0, "1234", 4), "56789", 5), 0xCBF43926u);
    /* the STM32 CRC unit over the word 0 from reset (AN3155 Get Checksum) */
    assert_int_equal(crc32_stm32(CRC32_STM32_INIT, "\0\0\0\0", 4), 0xC704DD7Bu);
    assert_int_equal(crc32_stm32(CRC32_STM32_INIT, "", 0), CRC32_STM32_INIT);
    /* a partial word is ignored */
    assert_int_equal(crc32_stm32(CRC32_STM32_INIT, "\0\0\0\0\1\2", 6), 0xC704DD7Bu);
    for (size_t i = 0; i < sizeof(d); i++) {
        x = x * 1103515245u + 12345u;
        d[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof(d); n += 37) {
        assert_int_equal(crc32_zlib(0, d, n), ref_zlib(d, n));
        assert_int_equal(crc32_stm32(CRC32_STM32_INIT, d, n), ref_stm32(CRC32_STM32_INIT, d, n));
        assert_int_equal(crc32_stm32(0x12345678u, d, n), ref_stm32(0x12345678u, d, n));
        assert_int_equal(crc32_stm32(crc32_stm32(CRC32_STM32_INIT, d, n & ~3u), d + (n & ~3u),
                                     sizeof(d) - (n & ~3u)),
                         crc32_stm32(CRC32_STM32_INIT, d, sizeof(d)));
    }
}

/* AN5507's software model of the flash CRC unit, bit-serial. */
static uint32_t ref_h7flash(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i += 4)
        crc = ref_stm32(crc, p + i, 4) ^ 0x55555555u;
    return crc;
}

/* The flash CRC unit's convention (crc32_h7flash): the STM32H753
 * measurement (docs/FLASH_MODEL.md "CRC unit"), the bit-serial model,
 * chaining. */
static void test_crc32_h7flash(void **state)
{
    static uint8_t z[128], d[4096];
    uint32_t x = 7;
    (void)state;

    assert_int_equal(crc32_h7flash(CRC32_H7FLASH_INIT, z, sizeof(z)), 0x11E66C62u);
    assert_int_equal(crc32_h7flash(CRC32_H7FLASH_INIT, "", 0), 0u);
    for (size_t i = 0; i < sizeof(d); i++) {
        x = x * 1103515245u + 12345u;
        d[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof(d); n += 132) {
        assert_int_equal(crc32_h7flash(0, d, n), ref_h7flash(0, d, n));
        assert_int_equal(crc32_h7flash(crc32_h7flash(0, d, n), d + n, sizeof(d) - n),
                         crc32_h7flash(0, d, sizeof(d)));
    }
    /* Not the AN3155 checksum of the same bytes. */
    assert_int_not_equal(crc32_h7flash(0, d, 128), crc32_stm32(CRC32_STM32_INIT, d, 128));
    /* Combined from two parts (two banks' units) as over the whole. */
    for (size_t n = 0; n <= sizeof(d); n += 388)
        for (size_t m = 0; n + m <= sizeof(d); m += 1028)
            assert_int_equal(crc32_h7flash_combine(crc32_h7flash(0, d, n),
                                                   crc32_h7flash(0, d + n, m), (uint32_t)m),
                             crc32_h7flash(0, d, n + m));
    /* The image CRC: 0xFF to the end of the last 128-byte burst. */
    {
        uint8_t img[256];

        for (size_t n = 0; n <= 256; n += 13) {
            memset(img, 0xFF, sizeof(img));
            memcpy(img, d, n);
            assert_int_equal(crc32_h7flash_image(d, n),
                             crc32_h7flash(0, img, CRC32_H7FLASH_SPAN(n)));
        }
        assert_int_equal(crc32_h7flash_image(d, 0), CRC32_H7FLASH_INIT);
    }
}

static void test_crc16_known(void **state)
{
    (void)state;
    /* CRC-16/XMODEM check value */
    assert_int_equal(ym_crc16(0, "123456789", 9), 0x31C3);
}

static void test_block_roundtrip(void **state)
{
    uint8_t data[1024], frame[YM_FRAME_MAX];
    (void)state;
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7u);
    assert_int_equal(ym_block_encode(5, data, 1024, 1024, 0x1A, frame), 1029);
    assert_int_equal(frame[0], YM_STX);
    assert_int_equal(frame[1], 5);
    assert_int_equal(frame[2], 0xFA);
    assert_int_equal(ym_block_check(frame), YM_OK);
    frame[500] ^= 1;
    assert_int_equal(ym_block_check(frame), YM_E_CRC);
    frame[500] ^= 1;
    frame[2] = 0;
    assert_int_equal(ym_block_check(frame), YM_E_SEQ);

    /* short data padded with CPMEOF in a 128-byte block */
    assert_int_equal(ym_block_encode(0xFF, data, 3, 128, YM_CPMEOF, frame), 133);
    assert_int_equal(frame[0], YM_SOH);
    assert_int_equal(frame[3 + 3], YM_CPMEOF);
    assert_int_equal(frame[3 + 127], YM_CPMEOF);
    assert_int_equal(ym_block_check(frame), YM_OK);
    assert_int_equal(ym_block_encode(0, data, 200, 128, 0, frame), YM_E_ARG);
    assert_int_equal(ym_block_encode(0, data, 10, 100, 0, frame), YM_E_ARG);
    frame[0] = 'x';
    assert_int_equal(ym_block_check(frame), YM_E_START);
}

static void test_header(void **state)
{
    uint8_t d[128];
    struct ym_header h;
    (void)state;

    /* as `sb -k` sends it */
    static const char sb[] = "y.bin\0"
                             "300000 15301631765 100644 0 1 300000";
    memset(d, 0, sizeof(d));
    memcpy(d, sb, sizeof(sb));
    assert_int_equal(ym_header_parse(d, 128, &h), YM_OK);
    assert_false(h.end_of_batch);
    assert_string_equal(h.name, "y.bin");
    assert_true(h.has_size);
    assert_int_equal(h.size, 300000);

    assert_int_equal(ym_header_encode("app.bin", 1835008, d, 128), YM_OK);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_OK);
    assert_string_equal(h.name, "app.bin");
    assert_int_equal(h.size, 1835008);

    /* end of batch */
    assert_int_equal(ym_header_encode(NULL, 0, d, 128), YM_OK);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_OK);
    assert_true(h.end_of_batch);

    /* no size */
    memset(d, 0, sizeof(d));
    memcpy(d, "n", 2);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_OK);
    assert_false(h.has_size);

    /* size overflow, garbage, no NUL */
    memset(d, 0, sizeof(d));
    memcpy(d,
           "n\0"
           "99999999999",
           13);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_E_HEADER);
    memset(d, 0, sizeof(d));
    memcpy(d,
           "n\0"
           "12x",
           5);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_E_HEADER);
    memset(d, 'a', sizeof(d));
    assert_int_equal(ym_header_parse(d, 128, &h), YM_E_HEADER);

    /* long names are truncated, still terminated */
    memset(d, 0, sizeof(d));
    memset(d, 'b', 100);
    assert_int_equal(ym_header_parse(d, 128, &h), YM_OK);
    assert_int_equal(strlen(h.name), YM_NAME_MAX - 1);
    /* a name that does not fit with its size */
    char big[130];
    memset(big, 'c', 129);
    big[129] = 0;
    assert_int_equal(ym_header_encode(big, 1, d, 128), YM_E_ARG);
}

static void test_record_roundtrip(void **state)
{
    struct ur_record r = { UR_STATE_COMPLETE, 7, 0x08040000u, 12345, 0xDEADBEEFu, 0 }, o;
    uint8_t b[UR_SIZE];
    (void)state;

    ur_encode(&r, b);
    assert_int_equal(b[0], 0x48); /* 'H' */
    assert_int_equal(ur_decode(b, &o), UR_OK);
    assert_int_equal(o.state, r.state);
    assert_int_equal(o.sequence, 7);
    assert_int_equal(o.start, 0x08040000u);
    assert_int_equal(o.length, 12345);
    assert_int_equal(o.image_crc, 0xDEADBEEFu);
    assert_int_equal(b[4], UR_VERSION);
    assert_int_equal(o.version, UR_VERSION);
    /* version 1 records (zlib image CRC) are still read, as such; an
     * unknown version is not */
    r.version = UR_VERSION_1;
    ur_encode(&r, b);
    assert_int_equal(ur_decode(b, &o), UR_OK);
    assert_int_equal(o.version, UR_VERSION_1);
    r.version = UR_VERSION + 1u;
    ur_encode(&r, b);
    assert_int_equal(ur_decode(b, &o), UR_E_FIELD);
    r.version = 0;
    ur_encode(&r, b);
    /* every single-bit flip is detected */
    for (unsigned i = 0; i < UR_SIZE * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_not_equal(ur_decode(b, &o), UR_OK);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    memset(b, 0xFF, sizeof(b));
    assert_int_equal(ur_decode(b, &o), UR_E_EMPTY);
    assert_true(ur_is_empty(b));
    r.state = 0x11;
    ur_encode(&r, b);
    assert_int_equal(ur_decode(b, &o), UR_E_FIELD);
}

/* A log in RAM; slots listed in `bad` read as unreadable (ECC), a slot
 * listed in `dead` as a failed read (the line is gone); reads counted. */
struct mlog {
    uint8_t slot[200][UR_SIZE];
    int bad[200];
    uint32_t dead;
    unsigned reads;
};

/* An erased log that reads without errors. */
static void mlog_erase(struct mlog *m)
{
    memset(m->slot, 0xFF, sizeof(m->slot));
    memset(m->bad, 0, sizeof(m->bad));
    m->dead = UINT32_MAX;
}

static int mread(void *ctx, uint32_t i, uint8_t out[UR_SIZE])
{
    struct mlog *m = ctx;

    m->reads++;
    if (m->dead == i)
        return 0x301;
    memcpy(out, m->slot[i], UR_SIZE);
    return m->bad[i] ? UR_E_UNREADABLE : 0;
}

static void put(struct mlog *m, unsigned i, uint8_t st, uint32_t seq)
{
    struct ur_record r = { st, seq, 0x08040000u, 100 + seq, seq * 3u, 0 };

    ur_encode(&r, m->slot[i]);
}

static void test_log_scan(void **state)
{
    static struct mlog m;
    struct ur_scan s;
    (void)state;

    mlog_erase(&m);
    ur_scan_log(mread, &m, 64, &s);
    assert_false(s.have_newest);
    assert_int_equal(s.next_free, 0);

    put(&m, 0, UR_STATE_STARTED, 1);
    put(&m, 1, UR_STATE_COMPLETE, 1);
    put(&m, 2, UR_STATE_STARTED, 2);
    ur_scan_log(mread, &m, 64, &s);
    assert_true(s.have_newest);
    assert_int_equal(s.newest_slot, 2);
    assert_int_equal(s.newest.state, UR_STATE_STARTED);
    assert_int_equal(s.next_free, 3);
    assert_int_equal(s.valid, 3);
    assert_int_equal(s.max_sequence, 2);

    /* torn COMPLETE after STARTED: newest valid stays STARTED, the torn
	 * slot is skipped by the next append */
    put(&m, 3, UR_STATE_COMPLETE, 2);
    m.slot[3][9] ^= 0x40;
    ur_scan_log(mread, &m, 64, &s);
    assert_int_equal(s.newest_slot, 2);
    assert_int_equal(s.newest.state, UR_STATE_STARTED);
    assert_int_equal(s.torn, 1);
    assert_int_equal(s.next_free, 4);

    /* an unreadable (double-ECC) slot counts as torn, even if it would
	 * read as 0xFF */
    memset(m.slot[4], 0xFF, UR_SIZE);
    m.bad[4] = 1;
    ur_scan_log(mread, &m, 64, &s);
    assert_int_equal(s.torn, 2);
    assert_int_equal(s.next_free, 5);

    /* a complete record after the torn ones is the newest */
    put(&m, 5, UR_STATE_COMPLETE, 2);
    ur_scan_log(mread, &m, 64, &s);
    assert_int_equal(s.newest_slot, 5);
    assert_int_equal(s.newest.state, UR_STATE_COMPLETE);
    assert_int_equal(s.newest.length, 102);

    /* full log */
    for (unsigned i = 6; i < 64; i++)
        put(&m, i, UR_STATE_COMPLETE, 3);
    ur_scan_log(mread, &m, 64, &s);
    assert_int_equal(s.next_free, 64);
}

/* Each format's codes lie in its own range, differ from every other
 * format's, and proto_strerror() names each with its format's text. */
static void test_error_ranges(void **state)
{
    static const struct {
        int lo, hi; /* range, exclusive */
        const char *(*name)(int);
        int codes[5];
    } fmt[3] = {
        { PROTO_ERR_YM_BASE,
          PROTO_ERR_UR_BASE,
          ur_strerror,
          { UR_E_EMPTY, UR_E_MAGIC, UR_E_CRC, UR_E_FIELD, UR_E_FIELD } },
        { PROTO_ERR_AN3155_BASE,
          PROTO_ERR_YM_BASE,
          ym_strerror,
          { YM_E_SEQ, YM_E_CRC, YM_E_START, YM_E_HEADER, YM_E_ARG } },
        { PROTO_ERR_END,
          PROTO_ERR_AN3155_BASE,
          an3155_strerror,
          { AN3155_ERR_XOR, AN3155_ERR_COMPL, AN3155_ERR_LENGTH, AN3155_ERR_ARG,
            AN3155_ERR_SPECIAL } },
    };
    (void)state;

    for (unsigned f = 0; f < 3; f++) {
        for (unsigned i = 0; i < 5; i++) {
            int e = fmt[f].codes[i];

            assert_true(e > fmt[f].lo && e < fmt[f].hi);
            assert_non_null(proto_strerror(e));
            assert_string_equal(proto_strerror(e), fmt[f].name(e));
            assert_int_not_equal(strncmp(proto_strerror(e), "unknown", 7), 0);
            for (unsigned g = 0; g < 3; g++)
                if (g != f)
                    assert_int_equal(strncmp(fmt[g].name(e), "unknown", 7), 0);
        }
    }
    assert_string_equal(proto_strerror(UR_E_CRC), "record CRC mismatch");
    assert_string_equal(proto_strerror(YM_E_CRC), "YMODEM CRC-16 mismatch");
    assert_string_equal(proto_strerror(AN3155_ERR_XOR), "checksum mismatch");
    /* Codes of other layers are not the formats': the chain goes on. */
    assert_null(proto_strerror(0));
    assert_null(proto_strerror(-1));
    assert_null(proto_strerror(-1004));
    assert_null(proto_strerror(-2001));
    assert_null(proto_strerror(PROTO_ERR_UR_BASE));
    assert_null(proto_strerror(PROTO_ERR_YM_BASE));
    assert_null(proto_strerror(PROTO_ERR_END));
    assert_null(proto_strerror(0x301));
}

/* The host's search: binary search for the first empty slot, then back
 * to the newest valid record; unreadable slots are torn, a failed read
 * stops it. */
static void test_find_newest(void **state)
{
    static struct mlog m;
    struct ur_newest n;
    (void)state;

    mlog_erase(&m);
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0);
    assert_int_equal(n.state, UR_NEWEST_EMPTY);
    assert_int_equal(n.slots, 200);

    for (unsigned i = 0; i < 137; i++)
        put(&m, i, i % 2 ? UR_STATE_COMPLETE : UR_STATE_STARTED, 1 + i / 2);
    m.reads = 0;
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0);
    assert_int_equal(n.state, UR_NEWEST_RECORD);
    assert_int_equal(n.used, 137);
    assert_int_equal(n.slot, 136);
    assert_int_equal(n.rec.state, UR_STATE_STARTED);
    assert_int_equal(n.rec.sequence, 69);
    assert_true(m.reads <= 10); /* 1 + log2(200) + 1, not 137 */

    /* torn and unreadable slots on top: the newest valid one below */
    m.slot[137][3] = 0;
    m.bad[138] = 1;
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0);
    assert_int_equal(n.used, 139);
    assert_int_equal(n.slot, 136);

    /* a full log with nothing valid among its last UR_NEWEST_BACK slots */
    for (unsigned i = 200 - UR_NEWEST_BACK; i < 200; i++)
        m.bad[i] = 1;
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0);
    assert_int_equal(n.state, UR_NEWEST_NO_VALID);
    assert_int_equal(n.used, 200);
    m.bad[200 - UR_NEWEST_BACK] = 0; /* slot 136 again: in reach */
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0);
    assert_int_equal(n.state, UR_NEWEST_RECORD);
    assert_int_equal(n.slot, 136);

    /* a read that fails otherwise ends the search with its code */
    m.dead = 0;
    assert_int_equal(ur_find_newest(mread, &m, 200, &n), 0x301);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known),  cmocka_unit_test(test_crc32_h7flash),
        cmocka_unit_test(test_crc16_known),  cmocka_unit_test(test_block_roundtrip),
        cmocka_unit_test(test_header),       cmocka_unit_test(test_record_roundtrip),
        cmocka_unit_test(test_log_scan),     cmocka_unit_test(test_find_newest),
        cmocka_unit_test(test_error_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
