/*
 * A DEFLATE decoder (RFC 1951, raw: no zlib or gzip wrapper) for the
 * compressed DATA frames of the h7iap fast protocol (fastp.h,
 * docs/PROTOCOL.md "h7iap fast protocol", "Compression"). The host
 * compresses each frame on its own with zlib (deflateInit2(..., -15, ...));
 * the bootloader decodes it with this file, into the frame's output slot.
 *
 * One call decodes one whole stream: the input must end with the final
 * block (at most 7 padding bits after it, no byte more), and the output
 * must fit out_cap. A stream decodes here exactly when zlib's raw inflate
 * decodes it completely (Z_STREAM_END with every input byte used) into the
 * same capacity, with the same bytes: the same rules for code sets
 * (over-subscribed refused; incomplete refused except a single code of
 * one bit for literal/length and distance codes), at most 286
 * literal/length and 30 distance codes, no distance before the start of
 * the output, symbols 286, 287 and distances 30, 31 refused
 * (tests/proto/test_inflate.c checks it against zlib, tests/fuzz/fuzz_fastp.c
 * keeps checking it).
 *
 * Hostile input: every input byte is read after a bounds check, every
 * output byte is written after one; a distance never reaches before out;
 * no recursion, no allocation, no state outside ws. Freestanding.
 */
#ifndef PROTO_INFLATE_H
#define PROTO_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "proto_err.h"

/* Range -3401..-3499 (proto_err.h). */
enum infl_err {
    INFL_OK = 0,
    INFL_E_INPUT = PROTO_ERR_INFL_BASE - 1,     /* input ended inside the stream */
    INFL_E_OUTPUT = PROTO_ERR_INFL_BASE - 2,    /* more output than out_cap */
    INFL_E_BTYPE = PROTO_ERR_INFL_BASE - 3,     /* block type 3 (reserved) */
    INFL_E_STORED = PROTO_ERR_INFL_BASE - 4,    /* stored block: NLEN is not ~LEN */
    INFL_E_COUNTS = PROTO_ERR_INFL_BASE - 5,    /* more than 286 lit/len or 30 distance codes */
    INFL_E_CLEN = PROTO_ERR_INFL_BASE - 6,      /* code length code: bad set or code */
    INFL_E_REPEAT = PROTO_ERR_INFL_BASE - 7,    /* length repeat: nothing before, or too many */
    INFL_E_NO_EOB = PROTO_ERR_INFL_BASE - 8,    /* no code for end-of-block (256) */
    INFL_E_LITSET = PROTO_ERR_INFL_BASE - 9,    /* lit/len code over-subscribed or incomplete */
    INFL_E_DISTSET = PROTO_ERR_INFL_BASE - 10,  /* distance code over-subscribed or incomplete */
    INFL_E_SYMBOL = PROTO_ERR_INFL_BASE - 11,   /* undefined lit/len code, or 286, 287 */
    INFL_E_DIST = PROTO_ERR_INFL_BASE - 12,     /* undefined distance code, or 30, 31 */
    INFL_E_FAR = PROTO_ERR_INFL_BASE - 13,      /* distance before the start of the output */
    INFL_E_TRAILING = PROTO_ERR_INFL_BASE - 14, /* bytes after the final block */
    INFL_E_ARG = PROTO_ERR_INFL_BASE - 15,      /* NULL pointer */
};

#define INFL_MAXBITS 15u  /* longest Huffman code */
#define INFL_NLIT    288u /* literal/length symbols, 286 and 287 only in fixed blocks */
#define INFL_NDIST   32u  /* distance symbols, 30 and 31 only in fixed blocks */

/* Canonical Huffman code: count[len] codes of each length, symbols in
 * code order. */
struct infl_code {
    uint16_t count[INFL_MAXBITS + 1u];
    uint16_t *sym;
};

/* Workspace: the two codes of the current block (about 1.4 KB). Owned by
 * the caller (the bootloader keeps one static), reused across calls. */
struct infl_ws {
    uint16_t litsym[INFL_NLIT];
    uint16_t distsym[INFL_NDIST];
    uint8_t lens[INFL_NLIT + INFL_NDIST];
    struct infl_code lit, dist;
};

/* Decode the raw DEFLATE stream in[0..in_len) into out[0..out_cap).
 * 0 and *out_len = bytes written, or a negative INFL_E_* (out may then
 * hold part of the output, never more than out_cap bytes). */
int infl_raw(struct infl_ws *ws, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
             size_t *out_len);

/* Short text for an enum infl_err code (never NULL). */
const char *infl_strerror(int err);

#endif /* PROTO_INFLATE_H */
