/* CRC-32, polynomial 0x04C11DB7, reflected form 0xEDB88320; 16-entry
 * table: small enough for the bootloader, two table steps per byte. */
#include "crc32.h"

static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

/* The reflected register after 8 more bits (the lowest first). */
static inline __attribute__((always_inline)) uint32_t crc32_8bits(uint32_t crc)
{
    crc = (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
    return (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
}

uint32_t crc32_zlib(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;

    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc = crc32_8bits(crc ^ p[i]);
    }
    return ~crc;
}

static uint32_t bitrev32(uint32_t x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}

static uint32_t stm32_word(uint32_t crc, const uint8_t *p)
{
    uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

    crc ^= bitrev32(w);
    for (unsigned b = 0; b < 4; b++)
        crc = crc32_8bits(crc);
    return crc;
}

uint32_t crc32_h7flash(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    /* The register is kept reflected here: 0x55555555 reflected is
	 * 0xAAAAAAAA. */
    crc = bitrev32(crc);
    for (; n >= 4; n -= 4, p += 4)
        crc = stm32_word(crc, p) ^ 0xAAAAAAAAu;
    return bitrev32(crc);
}

/* a * b mod P, polynomials in the unit's (not reflected) order. */
static uint32_t mulmodp(uint32_t a, uint32_t b)
{
    uint32_t r = 0;

    for (uint32_t m = 0x80000000u; m; m >>= 1) {
        r = (r << 1) ^ ((r & 0x80000000u) ? 0x04C11DB7u : 0u);
        if (b & m)
            r ^= a;
    }
    return r;
}

uint32_t crc32_h7flash_combine(uint32_t crc_a, uint32_t crc_b, uint32_t nb)
{
    uint32_t x = 2u, p = 1u; /* x^1, x^0 */

    /* x^(8 nb) by squaring: nb's bits, each worth 8 bits of data. */
    for (uint32_t e = nb; e; e >>= 1) {
        if (e & 1u)
            p = mulmodp(p, x);
        x = mulmodp(x, x);
    }
    for (unsigned i = 0; i < 3; i++)
        p = mulmodp(p, p); /* ^8 */
    return mulmodp(crc_a, p) ^ crc_b;
}

uint32_t crc32_h7flash_image(const void *image, size_t n)
{
    static const uint8_t ff[32] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    const uint8_t *p = image;
    uint8_t w[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    size_t pad = (CRC32_H7FLASH_BURST - n % CRC32_H7FLASH_BURST) % CRC32_H7FLASH_BURST;
    uint32_t crc = crc32_h7flash(CRC32_H7FLASH_INIT, p, n & ~(size_t)3u);

    if (n & 3u) {
        for (size_t i = 0; i < (n & 3u); i++)
            w[i] = p[(n & ~(size_t)3u) + i];
        crc = crc32_h7flash(crc, w, 4);
        pad -= 4u - (n & 3u);
    }
    for (; pad; pad -= pad < sizeof ff ? pad : sizeof ff)
        crc = crc32_h7flash(crc, ff, pad < sizeof ff ? pad : sizeof ff);
    return crc;
}

uint32_t crc32_stm32(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;

    crc = bitrev32(crc);
    for (; n >= 4; n -= 4, p += 4)
        crc = stm32_word(crc, p);
    return bitrev32(crc);
}
