/*
 * The A/B slot trailer: the state of one application slot of the A/B
 * layout (proto/h7_layout.h "A/B layout"), kept in the slot's own last
 * flash words, each a 32-byte flash word programmed at most once between
 * erases of the slot's last sector (docs/PROTOCOL.md "A/B updates").
 *
 *   word  what        written by
 *   0     IMAGE       the updater, after the image was verified
 *   1-3   TRIAL i     the bootloader, before the i-th trial boot
 *   4-5   CONFIRM     the confirm (first empty one of the two)
 *   6     REJECT      the bootloader, when the trial failed
 *   7     reserved
 *
 * Word (little endian, 32 bytes):
 *
 *   off  size  field
 *   0    4     magic      AB_MAGIC "H7AB"
 *   4    1     version    AB_VERSION
 *   5    1     kind       AB_KIND_*
 *   6    2     index      TRIAL: 0..2; else 0
 *   8    4     sequence   the image's update number
 *   12   4     length     IMAGE: image bytes; else 0xFFFFFFFF
 *   16   4     crc        IMAGE: CRC-32 (zlib) of the image
 *   20   4     crc_unit   IMAGE: what the FLASH CRC unit reads over the
 *                         image padded with 0xFF to 128 bytes
 *                         (crc32_h7flash, crc/crc32.h); else 0xFFFFFFFF
 *   24   4     reserved   0xFFFFFFFF
 *   28   4     rec_crc    CRC-32 (zlib) of bytes 0..27
 *
 * Reading a trailer: a word is empty (all 0xFF), valid, or torn (anything
 * else, an ECC error included). An IMAGE that is not valid makes the slot
 * empty/invalid; a TRIAL or REJECT word counts when it is not empty (a
 * torn one was being written: the event it records had begun); a CONFIRM
 * counts only when valid (a torn confirm is retried in the second word).
 * Every counted word must carry the IMAGE word's sequence.
 */
#ifndef PROTO_AB_SLOT_H
#define PROTO_AB_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "update_record.h" /* ur_read_slot_fn, UR_E_* codes */

#define AB_WORD_SIZE 32u
#define AB_MAGIC     0x42413748u /* "H7AB" little endian */
#define AB_VERSION   1u

enum ab_kind {
    AB_KIND_IMAGE = 0x49,   /* 'I' */
    AB_KIND_TRIAL = 0x54,   /* 'T' */
    AB_KIND_CONFIRM = 0x43, /* 'C' */
    AB_KIND_REJECT = 0x52,  /* 'R' */
};

/* Word positions in the trailer. */
#define AB_W_IMAGE       0u
#define AB_W_TRIAL0      1u
#define AB_TRIALS        3u /* trial boots an image gets before it is rejected */
#define AB_W_CONFIRM0    (AB_W_TRIAL0 + AB_TRIALS)
#define AB_CONFIRMS      3u /* two cuts in a row can tear two of them */
#define AB_W_REJECT      (AB_W_CONFIRM0 + AB_CONFIRMS)
#define AB_TRAILER_WORDS 8u
#define AB_TRAILER_SIZE  (AB_TRAILER_WORDS * AB_WORD_SIZE)
_Static_assert(AB_W_REJECT < AB_TRAILER_WORDS, "the trailer holds every word");

struct ab_word {
    uint8_t kind;
    uint16_t index;
    uint32_t sequence;
    uint32_t length;
    uint32_t crc;
    uint32_t crc_unit;
};

void ab_word_encode(const struct ab_word *w, uint8_t out[AB_WORD_SIZE]);
/* 0, or UR_E_EMPTY / UR_E_MAGIC / UR_E_CRC / UR_E_FIELD. */
int ab_word_decode(const uint8_t in[AB_WORD_SIZE], struct ab_word *w);

/* What the trailer says about the slot (before the image is checked). */
enum ab_slot_state {
    AB_SLOT_EMPTY = 0, /* no valid IMAGE word */
    AB_SLOT_TRIAL,     /* image, not confirmed, not rejected */
    AB_SLOT_CONFIRMED, /* image confirmed */
    AB_SLOT_REJECTED,  /* image rejected (its trial failed) */
};

struct ab_trailer {
    enum ab_slot_state state;
    struct ab_word image; /* state != EMPTY */
    unsigned trials;      /* TRIAL words used (0..AB_TRIALS) */
    unsigned confirms;    /* CONFIRM words used, valid or torn */
    bool reject_used;     /* the REJECT word is not empty */
    uint32_t torn;        /* bit i: word i is torn */
};

/* Read the AB_TRAILER_WORDS words through read (word i = "slot" i; a read
 * error counts as a torn word) and say what they mean. */
void ab_trailer_scan(ur_read_slot_fn read, void *ctx, struct ab_trailer *t);

const char *ab_slot_state_name(enum ab_slot_state s);

/* Sequence a newer than b (wrapping, as TCP compares them). */
static inline bool ab_seq_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

#endif /* PROTO_AB_SLOT_H */
