/*
 * YMODEM (Chuck Forsberg's "XMODEM/YMODEM PROTOCOL REFERENCE", 1988) as
 * spoken by the bootloader menu and `sb`/`rb` from lrzsz: CRC-16 mode,
 * 128-byte (SOH) and 1024-byte (STX) blocks, batch header block 0.
 *
 * Block on the wire:
 *
 *   +-----+-----+------+-------------------------+--------+--------+
 *   | SOH | seq | ~seq | data: 128 (SOH)         | crc hi | crc lo |
 *   | STX |     |      |       1024 (STX)        |        |        |
 *   +-----+-----+------+-------------------------+--------+--------+
 *
 * seq counts 0 (header), 1, 2, ... 255, 0, 1 ... (wraps: a data block with
 * seq 0 is block 256, never a header once data has started).
 * Header data: "name\0size mtime mode ...\0" padded with 0; an empty name
 * (first byte 0) ends the batch. Data is padded with CPMEOF (0x1A) to the
 * block size; the true length is the header's size.
 *
 * CRC-16: polynomial 0x1021, init 0, no reflection (CRC-16/XMODEM), sent
 * big endian.
 */
#ifndef PROTO_YMODEM_H
#define PROTO_YMODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_err.h"

#define YM_SOH    0x01u
#define YM_STX    0x02u
#define YM_EOT    0x04u
#define YM_ACK    0x06u
#define YM_NAK    0x15u
#define YM_CAN    0x18u
#define YM_CRC    0x43u /* 'C': receiver asks for CRC-16 mode */
#define YM_CPMEOF 0x1Au

#define YM_BLOCK_128 128u
#define YM_BLOCK_1K  1024u
#define YM_OVERHEAD  5u /* start, seq, ~seq, crc hi, crc lo */
#define YM_FRAME_MAX (YM_BLOCK_1K + YM_OVERHEAD)
#define YM_NAME_MAX  64u /* longest file name kept, with its NUL */

/* Range -3101..-3199 (proto_err.h). */
enum ym_err {
    YM_OK = 0,
    YM_E_SEQ = PROTO_ERR_YM_BASE - 1,    /* seq and ~seq do not match */
    YM_E_CRC = PROTO_ERR_YM_BASE - 2,    /* CRC-16 mismatch */
    YM_E_START = PROTO_ERR_YM_BASE - 3,  /* first byte is not SOH/STX */
    YM_E_HEADER = PROTO_ERR_YM_BASE - 4, /* header block: no NUL after the name, bad size */
    YM_E_ARG = PROTO_ERR_YM_BASE - 5,    /* caller passed an impossible value */
};

/* Short text for an enum ym_err code (never NULL). */
const char *ym_strerror(int err);

uint16_t ym_crc16(uint16_t crc, const void *data, size_t n);

/* Data bytes a block with this start byte carries: 128, 1024, 0 if not a
 * block start. */
size_t ym_block_len(uint8_t start);

/*
 * Build a block: start byte from len (128 or 1024), data[n] (n <= len)
 * padded with pad. Returns the frame length (len + 5) or YM_E_ARG.
 */
int ym_block_encode(uint8_t seq, const void *data, size_t n, size_t len, uint8_t pad, uint8_t *out);

/*
 * Check the body of a received block. frame points to the start byte and
 * holds ym_block_len(frame[0]) + 5 bytes. 0, YM_E_START, YM_E_SEQ or
 * YM_E_CRC.
 */
int ym_block_check(const uint8_t *frame);

/* Parsed header block (block 0). */
struct ym_header {
    bool end_of_batch;      /* empty name: no more files */
    char name[YM_NAME_MAX]; /* truncated to fit, always NUL terminated */
    bool has_size;          /* a decimal size followed the name */
    uint32_t size;
};

/* Parse header data (len bytes, 128 or 1024). 0 or YM_E_HEADER. A size
 * larger than 0xFFFFFFFF or with non-digits is YM_E_HEADER. */
int ym_header_parse(const uint8_t *data, size_t len, struct ym_header *h);

/*
 * Header data as `sb` writes it: "name\0size\0" then zeros up to len
 * (128). Name NULL or "" gives the end-of-batch header (all zeros).
 * Returns YM_OK or YM_E_ARG when it does not fit.
 */
int ym_header_encode(const char *name, uint32_t size, uint8_t *data, size_t len);

#endif /* PROTO_YMODEM_H */
