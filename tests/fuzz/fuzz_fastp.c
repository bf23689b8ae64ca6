/*
 * Fuzz harness: the fast protocol's codec (proto/fastp.h) and its DEFLATE
 * decoder (proto/inflate.h), the code that reads every byte of a DATA
 * frame before it can reach flash. The first input byte picks the mode:
 *
 *   0  the rest is wire bytes: decoded as a frame for either direction;
 *   1  the rest is {type, tag, image_len u32, page_mask u32, body}: the
 *      harness gives the body a valid header and CRC, so that the fuzzer
 *      works on the fields; a DATA frame goes on through the transfer
 *      checks and is decoded into a buffer of exactly raw_len bytes;
 *   2  the rest is {cap u16, stream}: proto/inflate against zlib's raw
 *      inflate into cap bytes;
 *   3  the rest is a byte stream through a receiver loop (header, resync,
 *      frame) as the device runs it.
 *
 * Invariants, besides memory safety (ASan/UBSan; output buffers are
 * allocated at their exact size, so a write past one is caught):
 * - what decodes encodes back to the same bytes; decoded fields lie in
 *   their documented ranges (a DATA frame inside the area and one sector,
 *   a window no larger than the device's slots);
 * - a DATA payload that unpacks has raw_len bytes whose CRC is raw_crc and
 *   0xFF past the image end; raw payloads unpack to themselves;
 * - proto/inflate decodes a stream exactly when zlib decodes it completely
 *   (every input byte used) into the same capacity, to the same bytes;
 * - the receiver always moves forward and ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "crc32.h"
#include "fastp.h"
#include "../proto/fastp_h745.h"
#include "inflate.h"

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_fastp: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

static struct infl_ws ws;

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void data_path(const struct fp_data *d, uint32_t image_len, uint32_t page_mask)
{
    struct fp_image im = { image_len, 0, page_mask };
    uint8_t *out;
    int rc;

    if (fp_image_check(&FP_H745, &im) || fp_data_check_image(&FP_H745, &im, d))
        return;
    CHECK(d->offset + d->raw_len <= ((image_len + 31u) & ~31u));
    CHECK(page_mask >> (d->offset / FP_H745.sector_size) & 1u);
    out = malloc(d->raw_len);
    CHECK(out);
    rc = fp_data_unpack(&im, d, &ws, out);
    if (rc == 0) {
        CHECK(crc32_zlib(0, out, d->raw_len) == d->raw_crc);
        for (uint32_t i = 0; i < d->raw_len; i++)
            CHECK(d->offset + i < image_len || out[i] == 0xFF);
        if (d->codec == FP_CODEC_RAW)
            CHECK(memcmp(out, d->payload, d->raw_len) == 0);
    } else {
        CHECK(rc < 0);
    }
    free(out);
    /* forward order: a frame is never taken twice */
    {
        struct fp_order o;
        const uint32_t zero[2] = { 0, 0 };

        fp_order_init(&o, &FP_H745, zero);
        CHECK(fp_order_accept(&o, &FP_H745, d) == 0);
        CHECK(fp_order_accept(&o, &FP_H745, d) == FP_E_BACKWARDS);
    }
}

/* A decoded frame: its fields in range, and it encodes back to wire[0..n). */
static void decoded(const struct fp_msg *m, const uint8_t *wire, int n)
{
    static uint8_t again[FP_FRAME_MAX];

    CHECK(n >= (int)FP_OVERHEAD && n <= (int)FP_FRAME_MAX);
    CHECK(fp_encode(m, &FP_H745, again, sizeof(again)) == n);
    CHECK(memcmp(again, wire, (size_t)n) == 0);
    if (m->type == FP_DATA) {
        const struct fp_data *d = &m->u.data;

        CHECK(d->offset % FP_WORD == 0 && d->raw_len % FP_WORD == 0);
        CHECK(d->raw_len >= FP_WORD && d->raw_len <= FP_H745.raw_max);
        CHECK(d->offset < FP_H745.area_size && d->raw_len <= FP_H745.area_size - d->offset);
        CHECK(d->offset / FP_H745.sector_size ==
              (d->offset + d->raw_len - 1u) / FP_H745.sector_size);
        CHECK(d->payload == wire + FP_HDR_LEN + FP_DATA_HDR);
        CHECK(d->payload_len == n - (int)(FP_OVERHEAD + FP_DATA_HDR));
    }
    if (m->type == FP_STATUS)
        CHECK(m->u.status.limit - m->u.status.cum <= FP_H745.slots);
}

static void wire_frame(const uint8_t *d, size_t n)
{
    struct fp_msg m;

    for (int dir = FP_TO_DEVICE; dir <= FP_TO_HOST; dir++) {
        int rc = fp_decode(d, n, &FP_H745, (enum fp_dir)dir, &m);

        if (rc > 0) {
            CHECK((size_t)rc <= n);
            CHECK((m.type >= FP_REPLY) == (dir == FP_TO_HOST));
            decoded(&m, d, rc);
        }
        /* without the geometry the same frame decodes the same or is
         * refused for want of it */
        if (fp_decode(d, n, NULL, (enum fp_dir)dir, &m) > 0)
            CHECK(rc > 0);
    }
}

static void forged_frame(const uint8_t *d, size_t n)
{
    static uint8_t f[FP_FRAME_MAX];
    struct fp_msg m;
    size_t blen;
    uint32_t c;
    int rc;

    if (n < 10)
        return;
    blen = n - 10 > FP_BODY_MAX ? FP_BODY_MAX : n - 10;
    f[0] = FP_SOF0;
    f[1] = FP_SOF1;
    f[2] = d[0];
    f[3] = d[1];
    f[4] = (uint8_t)blen;
    f[5] = (uint8_t)(blen >> 8);
    c = crc32_zlib(0, f, 6);
    f[6] = (uint8_t)c;
    f[7] = (uint8_t)(c >> 8);
    memcpy(f + FP_HDR_LEN, d + 10, blen);
    c = crc32_zlib(0, f, FP_HDR_LEN + blen);
    for (unsigned i = 0; i < 4; i++)
        f[FP_HDR_LEN + blen + i] = (uint8_t)(c >> (8 * i));
    CHECK(fp_header(f, FP_HDR_LEN) == (int)(FP_OVERHEAD + blen));
    rc = fp_decode(f, FP_OVERHEAD + blen, &FP_H745, d[0] >= FP_REPLY ? FP_TO_HOST : FP_TO_DEVICE,
                   &m);
    if (rc <= 0) {
        CHECK(rc < 0 && rc != FP_E_CRC && rc != FP_E_HCRC && rc != FP_E_SOF && rc != FP_E_SHORT);
        return;
    }
    CHECK(rc == (int)(FP_OVERHEAD + blen));
    decoded(&m, f, rc);
    if (m.type == FP_DATA)
        data_path(&m.u.data, get32(d + 2), get32(d + 6));
}

static void inflate_vs_zlib(const uint8_t *d, size_t n)
{
    size_t cap, got = 0;
    uint8_t *ours, *theirs;
    z_stream s;
    int rc, zrc;

    if (n < 2)
        return;
    cap = (size_t)d[0] | (size_t)d[1] << 8;
    d += 2, n -= 2;
    ours = malloc(cap ? cap : 1);
    theirs = malloc(cap ? cap : 1);
    CHECK(ours && theirs);
    rc = infl_raw(&ws, d, n, ours, cap, &got);
    CHECK(rc <= 0 && got <= cap);
    memset(&s, 0, sizeof(s));
    CHECK(inflateInit2(&s, -15) == Z_OK);
    s.next_in = (Bytef *)d;
    s.avail_in = (uInt)n;
    s.next_out = theirs;
    s.avail_out = (uInt)cap;
    zrc = inflate(&s, Z_FINISH);
    if (rc == 0) {
        CHECK(zrc == Z_STREAM_END && s.avail_in == 0);
        CHECK(got == cap - s.avail_out);
        CHECK(memcmp(ours, theirs, got) == 0);
    } else {
        CHECK(!(zrc == Z_STREAM_END && s.avail_in == 0));
    }
    inflateEnd(&s);
    free(ours);
    free(theirs);
}

static void receiver(const uint8_t *d, size_t n)
{
    size_t pos = 0;

    while (pos < n) {
        int len = fp_header(d + pos, n - pos);
        struct fp_msg m;
        size_t step;

        if (len == FP_E_SHORT)
            break;
        if (len > 0 && (size_t)len <= n - pos &&
            fp_decode(d + pos, n - pos, &FP_H745, FP_TO_DEVICE, &m) == len) {
            decoded(&m, d + pos, len);
            step = (size_t)len;
        } else if (len > 0 && (size_t)len > n - pos) {
            break;
        } else {
            step = fp_resync(d + pos, n - pos);
        }
        CHECK(step >= 1 && step <= n - pos);
        pos += step;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] & 3u) {
    case 0: wire_frame(data + 1, size - 1); break;
    case 1: forged_frame(data + 1, size - 1); break;
    case 2: inflate_vs_zlib(data + 1, size - 1); break;
    default: receiver(data + 1, size - 1); break;
    }
    return 0;
}
