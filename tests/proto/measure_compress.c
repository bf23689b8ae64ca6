/*
 * fastp_measure FILE...: how zlib and LZ4 compress images in the fast
 * protocol's DATA frames, and how fast the decoders run on this host
 * (docs/PROTOCOL.md "Compression" has the figures and the choice).
 *
 * Per file and frame size (4 KB, 8 KB): each frame compressed on its own
 * (a frame that does not shrink goes raw, as the host tool sends it);
 * payload = compressed bytes / image bytes; wire = bytes on the wire
 * (payload + FP_OVERHEAD + FP_DATA_HDR per frame) / the wire bytes of the
 * raw transfer, so 1 / wire is the gain in effective rate on a wire-bound
 * link. Then the decoders over the same 8 KB frames: proto/inflate.c,
 * zlib's inflate, LZ4_decompress_safe (MB of output per second).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lz4.h>
#include <lz4hc.h>
#include <zlib.h>

#include "fastp.h"
#include "inflate.h"

#define CAP (FP_RAW_MAX * 2)

enum codec { C_LZ4, C_LZ4HC, C_ZLIB6, C_ZLIB9, C_N };
static const char *const names[C_N] = { "lz4", "lz4hc-12", "zlib-6", "zlib-9" };

static size_t zcomp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    z_stream s;
    size_t r;

    memset(&s, 0, sizeof(s));
    if (deflateInit2(&s, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(2);
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = CAP;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END)
        exit(2);
    r = CAP - s.avail_out;
    deflateEnd(&s);
    return r;
}

static size_t comp(enum codec c, const uint8_t *in, size_t n, uint8_t *out)
{
    switch (c) {
    case C_LZ4: return (size_t)LZ4_compress_default((const char *)in, (char *)out, (int)n, CAP);
    case C_LZ4HC: return (size_t)LZ4_compress_HC((const char *)in, (char *)out, (int)n, CAP, 12);
    case C_ZLIB6: return zcomp(in, n, out, 6);
    default: return zcomp(in, n, out, 9);
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint8_t *load(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p;
    long len;

    if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0) {
        perror(path);
        exit(1);
    }
    rewind(f);
    p = malloc((size_t)len);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len)
        exit(1);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void ratios(const char *name, const uint8_t *img, size_t n)
{
    static uint8_t out[CAP];
    static const size_t sizes[] = { 4096, 8192 };

    for (unsigned s = 0; s < 2; s++) {
        size_t fs = sizes[s], raw_wire = 0;
        size_t pay[C_N] = { 0 }, wire[C_N] = { 0 };

        for (size_t off = 0; off < n; off += fs) {
            size_t len = n - off < fs ? n - off : fs;

            raw_wire += len + FP_OVERHEAD + FP_DATA_HDR;
            for (int c = 0; c < C_N; c++) {
                size_t k = comp((enum codec)c, img + off, len, out);

                if (k == 0 || k >= len)
                    k = len;
                pay[c] += k;
                wire[c] += k + FP_OVERHEAD + FP_DATA_HDR;
            }
        }
        printf("%-28s %8zu B  frame %4zu:", name, n, fs);
        for (int c = 0; c < C_N; c++)
            printf("  %s %.3f/%.3f", names[c], (double)pay[c] / (double)n,
                   (double)wire[c] / (double)raw_wire);
        printf("   (payload/wire)\n");
    }
}

static void speeds(const char *name, const uint8_t *img, size_t n)
{
    static struct infl_ws ws;
    static uint8_t out[FP_RAW_MAX];
    size_t frames = (n + FP_RAW_MAX - 1) / FP_RAW_MAX, total = 0;
    uint8_t *z = malloc(frames * CAP), *l = malloc(frames * CAP);
    size_t *zn = malloc(frames * sizeof(size_t)), *ln = malloc(frames * sizeof(size_t));
    size_t *rn = malloc(frames * sizeof(size_t));
    double t0, t[3], tc[2];
    unsigned reps = 0;

    if (!z || !l || !zn || !ln || !rn)
        exit(1);
    t0 = now();
    for (size_t i = 0; i < frames; i++) {
        size_t off = i * FP_RAW_MAX;

        rn[i] = n - off < FP_RAW_MAX ? n - off : FP_RAW_MAX;
        zn[i] = comp(C_ZLIB9, img + off, rn[i], z + i * CAP);
    }
    tc[0] = now() - t0;
    t0 = now();
    for (size_t i = 0; i < frames; i++) {
        size_t off = i * FP_RAW_MAX;

        ln[i] = comp(C_LZ4HC, img + off, rn[i], l + i * CAP);
    }
    tc[1] = now() - t0;
    /* each decoder at least 0.3 s */
    for (int d = 0; d < 3; d++) {
        t0 = now();
        reps = 0;
        do {
            for (size_t i = 0; i < frames; i++) {
                size_t got = 0;

                if (d == 0) {
                    if (infl_raw(&ws, z + i * CAP, zn[i], out, rn[i], &got) || got != rn[i])
                        exit(3);
                } else if (d == 1) {
                    z_stream s;

                    memset(&s, 0, sizeof(s));
                    inflateInit2(&s, -15);
                    s.next_in = z + i * CAP;
                    s.avail_in = (uInt)zn[i];
                    s.next_out = out;
                    s.avail_out = (uInt)rn[i];
                    if (inflate(&s, Z_FINISH) != Z_STREAM_END)
                        exit(3);
                    inflateEnd(&s);
                } else if (LZ4_decompress_safe((const char *)l + i * CAP, (char *)out, (int)ln[i],
                                               (int)rn[i]) != (int)rn[i]) {
                    exit(3);
                }
            }
            reps++;
        } while (now() - t0 < 0.3);
        t[d] = (now() - t0) / reps;
    }
    total = n;
    printf("%-28s decode MB/s: proto/inflate %.0f, zlib inflate %.0f, lz4 %.0f;"
           " compress MB/s: zlib-9 %.1f, lz4hc-12 %.1f\n",
           name, total / t[0] / 1e6, total / t[1] / 1e6, total / t[2] / 1e6, total / tc[0] / 1e6,
           total / tc[1] / 1e6);
    free(z), free(l), free(zn), free(ln), free(rn);
}

int main(int argc, char **argv)
{
    uint8_t *rnd;
    uint32_t x = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: fastp_measure FILE...  (plus 1 MiB of random bytes)\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        size_t n;
        uint8_t *img = load(argv[i], &n);
        const char *base = strrchr(argv[i], '/');

        ratios(base ? base + 1 : argv[i], img, n);
        speeds(base ? base + 1 : argv[i], img, n);
        free(img);
    }
    rnd = malloc(1u << 20);
    if (!rnd)
        return 1;
    for (size_t i = 0; i < (1u << 20); i++) {
        x = x * 1103515245u + 12345u;
        rnd[i] = (uint8_t)(x >> 16);
    }
    ratios("random", rnd, 1u << 20);
    free(rnd);
    return 0;
}
