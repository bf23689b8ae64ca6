/*
 * Fuzz harness: the wire and record decoders of proto/ (AN3155 frames,
 * YMODEM blocks and header, update records and the log scan), the code
 * that reads every byte a host sends before anything else looks at it.
 * The first input byte picks the decoder, the rest is its input.
 * Invariants, besides memory safety (ASan/UBSan):
 * - whatever a decoder accepts, its encoder gives back (round trip), and
 *   a decoded value lies in the range the decoder documents;
 * - the log scan's counts and indices stay inside the log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "crc32.h"
#include "update_record.h"
#include "ymodem.h"

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_proto: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

static void an_frames(const uint8_t *d, size_t n)
{
    uint8_t out[AN3155_MAX_DATA + 8u];
    uint32_t a;
    size_t len;
    uint8_t cmd;

    if (n >= 2 && an3155_cmd_decode(d, &cmd) == AN3155_OK) {
        an3155_cmd_encode(cmd, out);
        CHECK(memcmp(out, d, 2) == 0);
    }
    if (n >= AN3155_ADDR_FRAME_LEN && an3155_addr_decode(d, &a) == AN3155_OK) {
        an3155_addr_encode(a, out);
        CHECK(memcmp(out, d, AN3155_ADDR_FRAME_LEN) == 0);
    }
    if (n >= 2 && an3155_readlen_decode(d, &len) == AN3155_OK) {
        CHECK(len >= 1 && len <= AN3155_MAX_DATA);
        CHECK(an3155_readlen_encode(len, out) == AN3155_OK);
        CHECK(memcmp(out, d, 2) == 0);
    }
    if (n >= 2) {
        size_t dn = (size_t)d[0] + 1u;

        if (n >= dn + 2u && an3155_data_check(d[0], d + 1, d[1 + dn]) == AN3155_OK) {
            CHECK(an3155_data_encode(d + 1, dn, out) == (int)(dn + 2u));
            CHECK(memcmp(out, d, dn + 2u) == 0);
        }
    }
    if (n >= 3) {
        uint16_t gpid;

        if (an3155_gid_decode(d, &gpid) == AN3155_OK) {
            an3155_gid_encode(gpid, out);
            CHECK(memcmp(out, d, 3) == 0);
        }
    }
}

static void an_erase(const uint8_t *d, size_t n)
{
    static uint16_t pages[0x10000];
    static uint8_t re[2u + 2u * 0x10000u + 1u];
    uint16_t special = 0, word;
    size_t count = 0;
    int rest, rc;

    if (n < 2)
        return;
    word = (uint16_t)(d[0] << 8 | d[1]);
    rest = an3155_ext_erase_rest_len(word);
    if (rest < 0 || (size_t)rest + 2u > n)
        return;
    rc = an3155_ext_erase_decode(d, 2u + (size_t)rest, pages, 16, &count, &special);
    if (rc != AN3155_OK)
        return;
    CHECK(count <= 16);
    if (special) {
        CHECK(count == 0);
        CHECK(an3155_ext_erase_special_encode(special, re) == 3);
        CHECK(memcmp(re, d, 3) == 0);
    } else {
        CHECK(count == (size_t)word + 1u);
        CHECK(an3155_ext_erase_encode(pages, count, re) == (int)(2u + 2u * count + 1u));
        CHECK(memcmp(re, d, 2u + 2u * count + 1u) == 0);
    }
}

static void ym(const uint8_t *d, size_t n)
{
    static uint8_t frame[YM_FRAME_MAX], re[YM_FRAME_MAX];
    struct ym_header h, h2;
    uint8_t hdr[YM_BLOCK_1K];
    size_t blen;

    if (n == 0)
        return;
    blen = ym_block_len(d[0]);
    if (blen && n >= blen + YM_OVERHEAD) {
        memcpy(frame, d, blen + YM_OVERHEAD);
        if (ym_block_check(frame) == YM_OK) {
            CHECK(blen == YM_BLOCK_128 || blen == YM_BLOCK_1K);
            CHECK(ym_block_encode(frame[1], frame + 3, blen, blen, 0, re) ==
                  (int)(blen + YM_OVERHEAD));
            CHECK(memcmp(re, frame, blen + YM_OVERHEAD) == 0);
        }
    }
    /* Header data: 128 or 1024 bytes, the rest of the input padded. */
    blen = n - 1 > YM_BLOCK_128 ? YM_BLOCK_1K : YM_BLOCK_128;
    memset(hdr, 0, sizeof(hdr));
    memcpy(hdr, d + 1, n - 1 < blen ? n - 1 : blen);
    if (ym_header_parse(hdr, blen, &h) == YM_OK) {
        CHECK(memchr(h.name, 0, sizeof(h.name)) != NULL);
        CHECK(h.end_of_batch == (hdr[0] == 0));
        if (h.end_of_batch || !h.has_size || strlen(h.name) + 24u > YM_BLOCK_128)
            return;
        /* What the parser kept re-encodes to a header it parses the same. */
        CHECK(ym_header_encode(h.name, h.size, hdr, YM_BLOCK_128) == YM_OK);
        CHECK(ym_header_parse(hdr, YM_BLOCK_128, &h2) == YM_OK);
        CHECK(h2.has_size && h2.size == h.size && strcmp(h2.name, h.name) == 0);
    }
}

struct slots {
    const uint8_t *d;
    size_t n;
};

static int read_slot(void *ctx, uint32_t slot, uint8_t out[UR_SIZE])
{
    const struct slots *s = ctx;
    size_t off = (size_t)slot * UR_SIZE;

    memset(out, 0xFF, UR_SIZE);
    if (off < s->n)
        memcpy(out, s->d + off, s->n - off < UR_SIZE ? s->n - off : UR_SIZE);
    /* A slot whose first byte is 0x00 reads as an ECC error. */
    return out[0] == 0x00 && off < s->n ? -1 : 0;
}

static int rec_cmp(const struct ur_record *a, const struct ur_record *b)
{
    return a->state != b->state || a->sequence != b->sequence || a->start != b->start ||
           a->length != b->length || a->image_crc != b->image_crc;
}

static void records(const uint8_t *d, size_t n)
{
    struct slots s = { d, n };
    struct ur_scan sc;
    struct ur_record r, r2;
    uint8_t buf[UR_SIZE];
    uint32_t slots = (uint32_t)(n / UR_SIZE) + 2u;

    if (n >= UR_SIZE && ur_decode(d, &r) == UR_OK) {
        CHECK(r.state == UR_STATE_STARTED || r.state == UR_STATE_COMPLETE);
        ur_encode(&r, buf);
        CHECK(ur_decode(buf, &r2) == UR_OK);
        CHECK(rec_cmp(&r, &r2) == 0);
    }
    if (n >= UR_SIZE && ur_is_empty(d)) {
        for (unsigned i = 0; i < UR_SIZE; i++)
            CHECK(d[i] == 0xFF);
    }
    ur_scan_log(read_slot, &s, slots, &sc);
    CHECK(sc.slots == slots);
    CHECK(sc.next_free <= slots);
    CHECK(sc.valid + sc.torn <= sc.next_free);
    if (sc.have_newest) {
        CHECK(sc.newest_slot < sc.next_free);
        CHECK(sc.newest.sequence <= sc.max_sequence);
        CHECK(read_slot(&s, sc.newest_slot, buf) == 0);
        CHECK(ur_decode(buf, &r) == UR_OK);
        CHECK(rec_cmp(&r, &sc.newest) == 0);
        /* Newest: no valid record in a later slot. */
        for (uint32_t i = sc.newest_slot + 1u; i < slots; i++)
            CHECK(read_slot(&s, i, buf) != 0 || ur_decode(buf, &r) != UR_OK);
    } else {
        CHECK(sc.valid == 0);
    }
    /* Everything after next_free is empty. */
    for (uint32_t i = sc.next_free; i < slots; i++) {
        CHECK(read_slot(&s, i, buf) == 0);
        CHECK(ur_is_empty(buf));
    }
}

static void crcs(const uint8_t *d, size_t n)
{
    /* Chained and one-shot give the same. */
    size_t k = n / 2;

    CHECK(crc32_zlib(0, d, n) == crc32_zlib(crc32_zlib(0, d, k), d + k, n - k));
    CHECK(crc32_stm32(crc32_stm32(CRC32_STM32_INIT, d, k & ~(size_t)3), d + (k & ~(size_t)3),
                      (n - (k & ~(size_t)3)) & ~(size_t)3) ==
          crc32_stm32(CRC32_STM32_INIT, d, n & ~(size_t)3));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 5u) {
    case 0: an_frames(data + 1, size - 1); break;
    case 1: an_erase(data + 1, size - 1); break;
    case 2: ym(data + 1, size - 1); break;
    case 3: records(data + 1, size - 1); break;
    default: crcs(data + 1, size - 1); break;
    }
    return 0;
}
