/*
 * CRC-32 as used by h7iap for images and update records: the zlib/Ethernet
 * CRC (polynomial 0x04C11DB7 reflected = 0xEDB88320, init 0xFFFFFFFF, final
 * xor 0xFFFFFFFF). Same value as h7f_crc32() in the driver and as
 * `crc32` in Python's zlib / binascii, so host tools can check it.
 *
 * Chaining: crc = proto_crc32_update(PROTO_CRC32_INIT, a, na);
 *           crc = proto_crc32_update(crc, b, nb);
 *           value = proto_crc32_final(crc);
 * proto_crc32() does all three for one buffer.
 */
#ifndef PROTO_CRC32_H
#define PROTO_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_CRC32_INIT 0xFFFFFFFFu

uint32_t proto_crc32_update(uint32_t crc, const void *data, size_t n);

static inline uint32_t proto_crc32_final(uint32_t crc)
{
	return crc ^ 0xFFFFFFFFu;
}

uint32_t proto_crc32(const void *data, size_t n);

/* CRC-32 of n bytes all equal to b, continued from crc (erased flash). */
uint32_t proto_crc32_fill(uint32_t crc, uint8_t b, size_t n);

#endif /* PROTO_CRC32_H */
