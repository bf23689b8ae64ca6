#include "abfx.h"

#include <string.h>

#include "crc32.h"

#define BOOT_PATTERN_LEN 256u
#define BOOT_LEN         1024u /* the pattern and erased words after it */
_Static_assert(BOOT_PATTERN_LEN <= BOOT_LEN, "the copies are compared over the pattern");

void abfx_image(uint8_t *buf, uint32_t len, uint32_t seed)
{
    /* A linear congruential sequence, four bytes per step. */
    uint32_t x = crc32_zlib(0, &seed, sizeof(seed));

    for (uint32_t i = 0; i < len; i++) {
        if ((i & 3u) == 0)
            x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(x >> (8u * (i & 3u)));
    }
    if (len >= 8) {
        uint32_t sp = H7_DTCM_BASE + H7_DTCM_SIZE;
        uint32_t pc = BOOT_AB_SLOT_START + (len > 0x200 ? 0x1C1u : 9u);

        memcpy(buf, &sp, 4);
        memcpy(buf + 4, &pc, 4);
    }
    if (len >= BOOT_AB_CM4_VECTORS - BOOT_AB_SLOT_START + 0x200u) {
        uint32_t off = BOOT_AB_CM4_VECTORS - BOOT_AB_SLOT_START;
        uint32_t sp = H7_SRAM1_BASE + H7_SRAM1_SIZE, pc = BOOT_AB_CM4_VECTORS + 0x101u;

        memcpy(buf + off, &sp, 4);
        memcpy(buf + off + 4, &pc, 4);
    }
}

static void boot_pattern(uint8_t *p)
{
    for (unsigned i = 0; i < BOOT_PATTERN_LEN; i++)
        p[i] = (uint8_t)(0x5A ^ (i * 7u));
}

void abfx_ab_init(struct ab_ctx *c)
{
    ab_init(c);
    c->boot_len = BOOT_LEN;
}

void abfx_boot_code_install(struct h7sim *sim)
{
    uint8_t p[BOOT_PATTERN_LEN];

    boot_pattern(p);
    (void)h7sim_backdoor_program(sim, H7_BANK1_BASE, p, sizeof(p));
    (void)h7sim_backdoor_program(sim, H7_BANK2_BASE, p, sizeof(p));
}

bool abfx_boot_code_at(const struct h7sim *sim, uint32_t base)
{
    uint8_t p[BOOT_PATTERN_LEN], q[BOOT_PATTERN_LEN];

    boot_pattern(p);
    h7sim_peek(sim, base, q, sizeof(q));
    return memcmp(p, q, sizeof(p)) == 0 &&
           h7sim_word_state(sim, base + BOOT_PATTERN_LEN) == H7SIM_WORD_VIRGIN;
}

bool abfx_boot_code_intact(const struct h7sim *sim)
{
    return abfx_boot_code_at(sim, H7_BANK1_BASE) && abfx_boot_code_at(sim, H7_BANK2_BASE);
}

void abfx_boot_copy_erase(void)
{
    struct h7f f;

    h7f_init(&f);
    f.protected_mask = 0;
    (void)h7f_erase_sector(&f, H7_BANK2_BASE);
}

bool abfx_slot_holds(const struct h7sim *sim, uint32_t base, const uint8_t *img, uint32_t len)
{
    uint8_t buf[1024];

    for (uint32_t off = 0; off < len; off += sizeof(buf)) {
        uint32_t n = len - off < sizeof(buf) ? len - off : (uint32_t)sizeof(buf);

        h7sim_peek(sim, base + off, buf, n);
        if (memcmp(buf, img + off, n) != 0)
            return false;
    }
    return true;
}

int abfx_update(struct ab_ctx *c, const uint8_t *img, uint32_t len, uint32_t stop)
{
    int rc = ab_update_begin(c, len);

    for (uint32_t off = 0; rc == 0 && off < len && off < stop; off += 1024u) {
        uint32_t n = len - off < 1024u ? len - off : 1024u;

        if (n > stop - off)
            n = stop - off;
        rc = ab_update_write(c, img + off, n);
    }
    if (rc || stop < len)
        return rc;
    return ab_update_commit(c);
}
