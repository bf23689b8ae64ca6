/*
 * The project's one CRC-32 (polynomial 0x04C11DB7), in its two uses:
 *
 * crc32_zlib(): CRC-32 as zlib, Ethernet and Python's zlib.crc32 compute
 *   it (reflected, init 0xFFFFFFFF, final xor 0xFFFFFFFF; check value
 *   0xCBF43926 over "123456789"). Images and update records
 *   (proto/update_record.h), the driver's h7f_crc32() and its writer's
 *   stream CRC. Chained like zlib's crc32(): start from 0 and feed the
 *   result back in:
 *       crc = crc32_zlib(0, a, na);
 *       crc = crc32_zlib(crc, b, nb);
 *
 * crc32_stm32(): the STM32 CRC unit in its reset configuration, which
 *   AN3155 Get Checksum (0xA1) specifies and ST's ROM bootloader and
 *   stm32flash (-C) compute: not reflected, init 0xFFFFFFFF, no final
 *   xor, over 32-bit little-endian words, most significant bit first
 *   (CRC-32/MPEG-2 of each word). n must be a multiple of 4 (the rest is
 *   ignored). The register value goes in and out as it is:
 *       crc = crc32_stm32(CRC32_STM32_INIT, a, na);
 *       crc = crc32_stm32(crc, b, nb);
 *
 * One table serves both: the unit's register is the bit reversal of the
 * reflected one, so a word shifted in most significant bit first is its
 * bit reversal shifted in least significant bit first.
 *
 * Freestanding (stddef.h, stdint.h only): the driver, the formats, the
 * bootloader, the host tool and the tests link it; docs/DESIGN.md "CRC-32".
 */
#ifndef CRC32_H
#define CRC32_H

#include <stddef.h>
#include <stdint.h>

#define CRC32_STM32_INIT 0xFFFFFFFFu

uint32_t crc32_zlib(uint32_t crc, const void *data, size_t n);
uint32_t crc32_stm32(uint32_t crc, const void *data, size_t n);

/* crc32_h7flash(): what the embedded flash's own CRC unit (FLASH_CRCDATA,
 *   h7f_crc_unit()) reads back over the same bytes, ST AN5507 section 4
 *   (docs/FLASH_MODEL.md "CRC unit"): register 0 after CLEAN_CRC, then per
 *   32-bit little-endian word the crc32_stm32() step and an XOR with
 *   0x55555555; no final xor. 128 zero bytes give 0x11E66C62. n must be a
 *   multiple of 4 (the unit reads whole bursts of 128 bytes). Chained:
 *       crc = crc32_h7flash(CRC32_H7FLASH_INIT, a, na);
 *       crc = crc32_h7flash(crc, b, nb);
 */
#define CRC32_H7FLASH_INIT  0u
#define CRC32_H7FLASH_BURST 128u /* the unit reads whole bursts of 4 flash words */
/* The bytes the unit reads over n bytes from a burst boundary. */
#define CRC32_H7FLASH_SPAN(n) (((n) + (CRC32_H7FLASH_BURST - 1u)) & ~(CRC32_H7FLASH_BURST - 1u))

uint32_t crc32_h7flash(uint32_t crc, const void *data, size_t n);

/* crc32_h7flash() of a || b from that of a and that of b (each from
 *   CRC32_H7FLASH_INIT), nb the length of b: one bank's CRC unit cannot
 *   start from the other's value, so an image across the bank boundary is
 *   two unit runs combined (h7f_crc_unit_span()). As zlib's
 *   crc32_combine(): the register update is affine, its linear part a
 *   multiplication by x^32 per word, so crc(a || b) = crc(a) x^(8 nb) mod P
 *   + crc(b). nb a multiple of 4. */
uint32_t crc32_h7flash_combine(uint32_t crc_a, uint32_t crc_b, uint32_t nb);

/* The image CRC of the update record (proto/update_record.h, version 2)
 *   and of h7iap: crc32_h7flash() over the n image bytes followed by 0xFF
 *   up to the next multiple of CRC32_H7FLASH_BURST, i.e. what the flash CRC
 *   unit reads over the image's bursts after a program into erased
 *   sectors. */
uint32_t crc32_h7flash_image(const void *image, size_t n);

#endif /* CRC32_H */
