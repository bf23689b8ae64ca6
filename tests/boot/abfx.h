/*
 * Test support of the A/B layout (boot/ab/ab.h), shared by the host tests
 * (tests/boot/test_ab.c) and the power-loss sweep (tests/powerloss/
 * test_ab.c): images linked for the running slot, the bootloader pattern
 * in sector 0 of both banks, and what the slot at 0x08020000 holds.
 */
#ifndef ABFX_H
#define ABFX_H

#include <stdbool.h>
#include <stdint.h>

#include "ab.h"
#include "h7sim.h"

/* Pseudo-random bytes from seed with a vector table for a start at
 * BOOT_AB_SLOT_START (SP at the top of DTCM, reset vector inside), and a
 * CM4 table at BOOT_AB_CM4_VECTORS when the image covers it. */
void abfx_image(uint8_t *buf, uint32_t len, uint32_t seed);

/* ab_init, with the bootloader's length set to the test pattern's (its
 * copies are compared over that). */
void abfx_ab_init(struct ab_ctx *c);

/* Back door: the same bootloader pattern in sector 0 of both banks. */
void abfx_boot_code_install(struct h7sim *sim);
bool abfx_boot_code_intact(const struct h7sim *sim);
/* The pattern in the sector 0 at logical base (the bank mapped there). */
bool abfx_boot_code_at(const struct h7sim *sim, uint32_t base);
/* Erase the bootloader copy at 0x08100000 through the driver (as a part
 * whose second bank was never given the bootloader). */
void abfx_boot_copy_erase(void);

/* Whether the slot at logical base holds img (len bytes). */
bool abfx_slot_holds(const struct h7sim *sim, uint32_t base, const uint8_t *img, uint32_t len);

/* The update as a protocol front end drives it: begin, 1024-byte writes,
 * commit (SWAP_BANK toggled). stop < len: the host stops after stop bytes
 * (no commit, returns 0). */
int abfx_update(struct ab_ctx *c, const uint8_t *img, uint32_t len, uint32_t stop);

#endif
