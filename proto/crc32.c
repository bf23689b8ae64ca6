/* CRC-32 (zlib), 16-entry table: small enough for the bootloader, about
 * 2 table steps per byte. */
#include "crc32.h"

static const uint32_t crc32_nibble[16] = {
	0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
	0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
	0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
	0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

static inline uint32_t crc32_byte(uint32_t crc, uint8_t b)
{
	crc ^= b;
	crc = (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
	crc = (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
	return crc;
}

uint32_t proto_crc32_update(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n--)
		crc = crc32_byte(crc, *p++);
	return crc;
}

uint32_t proto_crc32(const void *data, size_t n)
{
	return proto_crc32_final(proto_crc32_update(PROTO_CRC32_INIT, data, n));
}

uint32_t proto_crc32_fill(uint32_t crc, uint8_t b, size_t n)
{
	while (n--)
		crc = crc32_byte(crc, b);
	return crc;
}
