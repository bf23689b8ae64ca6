/* Test fixtures for h7iap: HEX and ELF files built at test time. */
#define _DEFAULT_SOURCE
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void hex_rec(char **p, uint8_t type, uint16_t off, const uint8_t *d, uint8_t n)
{
    uint8_t sum = (uint8_t)(n + (off >> 8) + (off & 0xFF) + type);
    *p += sprintf(*p, ":%02X%04X%02X", n, off, type);
    for (int i = 0; i < n; i++) {
        *p += sprintf(*p, "%02X", d[i]);
        sum = (uint8_t)(sum + d[i]);
    }
    *p += sprintf(*p, "%02X\n", (uint8_t)(0x100 - sum));
}

char *fx_hex(const struct fx_seg *segs, size_t n)
{
    size_t total = 64;
    for (size_t i = 0; i < n; i++)
        total += segs[i].len * 3 + 64;
    char *out = malloc(total), *p = out;
    uint32_t hi = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t o = 0; o < segs[i].len;) {
            uint32_t a = segs[i].addr + o;
            if (a >> 16 != hi) {
                hi = a >> 16;
                uint8_t d[2] = { (uint8_t)(hi >> 8), (uint8_t)hi };
                hex_rec(&p, 0x04, 0, d, 2);
            }
            uint32_t k = segs[i].len - o;
            if (k > 16)
                k = 16;
            if ((a & 0xFFFF) + k > 0x10000)
                k = 0x10000 - (a & 0xFFFF);
            hex_rec(&p, 0x00, (uint16_t)a, segs[i].data + o, (uint8_t)k);
            o += k;
        }
    }
    uint8_t st[4] = { 0x08, 0x04, 0x01, 0x01 };
    hex_rec(&p, 0x05, 0, st, 4);
    hex_rec(&p, 0x01, 0, NULL, 0);
    return out;
}

static void w32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

uint8_t *fx_elf(const struct fx_seg *segs, size_t n, uint32_t vaddr_bias, size_t *len)
{
    size_t nph = n + 1, phoff = 52, dataoff = phoff + 32 * nph;
    size_t total = dataoff;
    for (size_t i = 0; i < n; i++)
        total += segs[i].len;
    uint8_t *b = calloc(1, total);
    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 1; /* ELFCLASS32 */
    b[5] = 1; /* little endian */
    b[6] = 1;
    w16(b + 16, 2);  /* ET_EXEC */
    w16(b + 18, 40); /* EM_ARM */
    w32(b + 20, 1);
    w32(b + 24, segs[0].addr | 1);
    w32(b + 28, (uint32_t)phoff);
    w16(b + 40, 52);
    w16(b + 42, 32);
    w16(b + 44, (uint16_t)nph);
    size_t off = dataoff;
    for (size_t i = 0; i < n; i++) {
        uint8_t *ph = b + phoff + 32 * i;
        w32(ph, 1); /* PT_LOAD */
        w32(ph + 4, (uint32_t)off);
        w32(ph + 8, segs[i].addr + vaddr_bias);
        w32(ph + 12, segs[i].addr);
        w32(ph + 16, segs[i].len);
        w32(ph + 20, segs[i].len);
        w32(ph + 24, 5);
        w32(ph + 28, 4);
        memcpy(b + off, segs[i].data, segs[i].len);
        off += segs[i].len;
    }
    /* .bss: PT_LOAD in RAM with no file bytes: must not be programmed. */
    uint8_t *ph = b + phoff + 32 * n;
    w32(ph, 1);
    w32(ph + 4, (uint32_t)dataoff);
    w32(ph + 8, 0x24000000);
    w32(ph + 12, 0x24000000);
    w32(ph + 16, 0);
    w32(ph + 20, 0x400);
    w32(ph + 24, 6);
    w32(ph + 28, 4);
    *len = total;
    return b;
}

void fx_fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

int fx_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    fclose(f);
    return w == len ? 0 : -1;
}

static char dir[64];

const char *fx_tmpdir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/h7iap-test-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

void fx_cleanup(void)
{
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
        dir[0] = '\0';
    }
}
