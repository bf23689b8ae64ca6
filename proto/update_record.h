/*
 * The update record: what the bootloader remembers about the last update,
 * in an append-only log of 32-byte records (one H7 flash word each, every
 * word programmed exactly once between erases of the log sector).
 *
 * Record (little endian, 32 bytes = one flash word):
 *
 *   off  size  field
 *   0    4     magic      UR_MAGIC "H7UR"
 *   4    1     version    UR_VERSION (2); UR_VERSION_1 still read
 *   5    1     state      UR_STATE_STARTED | UR_STATE_COMPLETE | UR_STATE_PROGRESS
 *   6    2     flags      0xFFFF; a fast transfer's STARTED: UR_FLAG_RESUMABLE
 *   8    4     sequence   update number, +1 per update, kept across log erases
 *   12   4     start      image start address
 *   16   4     length     image length in bytes (STARTED: planned, 0xFFFFFFFF unknown)
 *   20   4     image_crc  version 2: crc32_h7flash_image() of the image
 *                          (crc/crc32.h), what the flash CRC unit reads
 *                          over it (h7f_crc_unit_span); version 1: CRC-32
 *                          (zlib) of the image (STARTED: 0xFFFFFFFF; a fast
 *                          transfer's: BEGIN's image CRC, the same kind)
 *   24   4     extra      0xFFFFFFFF; a fast transfer's STARTED: page mask,
 *                          its PROGRESS: image length
 *   28   4     rec_crc    CRC-32 of bytes 0..27
 *
 * PROGRESS (docs/PROTOCOL.md "h7iap fast protocol", "Resume"): sequence
 * and image_crc of its STARTED, start = a region's start, length = the
 * bytes from start programmed and verified.
 *
 * Log: slot i at base + 32*i. A slot is empty (reads all 0xFF), valid
 * (magic, version, state and rec_crc check) or torn (anything else,
 * including a word the flash reports as unreadable: ECC error). The log is
 * in time order: the record in the highest valid slot is the newest.
 * Appends go to the slot after the highest non-empty one, so a torn slot is
 * never programmed again.
 */
#ifndef PROTO_UPDATE_RECORD_H
#define PROTO_UPDATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_err.h"

#define UR_SIZE           32u
#define UR_MAGIC          0x52553748u /* "H7UR" little endian */
#define UR_VERSION        2u          /* image_crc: crc32_h7flash_image() */
#define UR_VERSION_1      1u          /* image_crc: crc32_zlib(), still booted */
#define UR_STATE_STARTED  0x5Au
#define UR_STATE_COMPLETE 0xC3u
#define UR_STATE_PROGRESS 0x96u
#define UR_FLAG_RESUMABLE 0x0001u /* bytes 6-7 of a fast transfer's STARTED */
#define UR_FLAGS_NONE     0xFFFFu
#define UR_EXTRA_NONE     0xFFFFFFFFu
#define UR_LEN_UNKNOWN    0xFFFFFFFFu

struct ur_record {
    uint8_t state;
    uint32_t sequence;
    uint32_t start;
    uint32_t length;
    uint32_t image_crc;
    uint8_t version; /* decoded; to encode, 0 means UR_VERSION */
};

/* Range -3001..-3099 (proto_err.h). */
enum ur_err {
    UR_OK = 0,
    UR_E_EMPTY = PROTO_ERR_UR_BASE - 1, /* all 0xFF */
    UR_E_MAGIC = PROTO_ERR_UR_BASE - 2,
    UR_E_CRC = PROTO_ERR_UR_BASE - 3,
    UR_E_FIELD = PROTO_ERR_UR_BASE - 4,      /* version or state unknown */
    UR_E_UNREADABLE = PROTO_ERR_UR_BASE - 5, /* slot cannot be read (ECC
						   error, NACK): torn */
};

/* Bytes 6-7 and 24-27: the fast protocol's fields (UR_FLAGS_NONE and
 * UR_EXTRA_NONE in every other record). */
struct ur_ext {
    uint16_t flags;
    uint32_t extra;
};

/* Short text for an enum ur_err code (never NULL). */
const char *ur_strerror(int err);

void ur_encode(const struct ur_record *r, uint8_t out[UR_SIZE]);
/* The same with the fast protocol's fields (x NULL: none). */
void ur_encode_ext(const struct ur_record *r, const struct ur_ext *x, uint8_t out[UR_SIZE]);
/* 0, or why the slot is not a valid record (UR_VERSION or UR_VERSION_1). */
int ur_decode(const uint8_t in[UR_SIZE], struct ur_record *r);
/* The same, with the fast protocol's fields (x may be NULL). */
int ur_decode_ext(const uint8_t in[UR_SIZE], struct ur_record *r, struct ur_ext *x);
bool ur_is_empty(const uint8_t in[UR_SIZE]);
/* The little-endian 32-bit fields of the on-flash formats (this record and
 * the A/B slot trailer, proto/ab_slot.h). */
void ur_put32(uint8_t *p, uint32_t v);
uint32_t ur_get32(const uint8_t *p);

/* Reads slot i (UR_SIZE bytes) into out: 0; UR_E_UNREADABLE when the
 * flash cannot return it (ECC error, a NACKed read): the slot counts as
 * torn; any other code when the reading itself failed (a dead line). */
typedef int (*ur_read_slot_fn)(void *ctx, uint32_t slot, uint8_t out[UR_SIZE]);

struct ur_scan {
    uint32_t slots;     /* capacity of the log */
    uint32_t next_free; /* slot for the next append; == slots: full */
    uint32_t valid;     /* valid records seen */
    uint32_t torn;      /* non-empty slots that are not valid records */
    bool have_newest;
    uint32_t newest_slot;
    struct ur_record newest; /* the newest valid record */
    uint32_t max_sequence;   /* highest sequence among valid records */
};

/* The bootloader's view: every slot read (each failure counts as torn),
 * for the newest record, the highest sequence and the next free slot. */
void ur_scan_log(ur_read_slot_fn read, void *ctx, uint32_t slots, struct ur_scan *s);

/*
 * A host's view over a slow link (h7iap info): slots fill from 0 upwards,
 * so the first empty slot is found by a binary search, then the newest
 * valid record among the UR_NEWEST_BACK slots below it. A torn slot is
 * one that is not empty.
 */
#define UR_NEWEST_BACK 64u

enum ur_newest_state {
    UR_NEWEST_EMPTY,    /* no slot used */
    UR_NEWEST_RECORD,   /* rec is the newest valid record, in slot */
    UR_NEWEST_NO_VALID, /* used slots, no valid record among the last ones */
};

struct ur_newest {
    enum ur_newest_state state;
    uint32_t used;  /* slots in use (the first empty slot) */
    uint32_t slots; /* slots in the log */
    uint32_t slot;
    struct ur_record rec;
};

/* 0, or the code of a read that failed otherwise than UR_E_UNREADABLE. */
int ur_find_newest(ur_read_slot_fn read, void *ctx, uint32_t slots, struct ur_newest *n);

#endif /* PROTO_UPDATE_RECORD_H */
