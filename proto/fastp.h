/*
 * The h7iap fast protocol: frames, their fields and every rule a frame
 * must keep (docs/PROTOCOL.md "h7iap fast protocol" is the specification:
 * entry, state machines, timing, window, resume; this file is its codec).
 * Shared by the bootloader (device side) and the h7iap host tool; no
 * allocation, no stdio, freestanding.
 *
 * Frame (all multi-byte fields little endian):
 *
 *   off  size  field
 *   0    1     sof0   FP_SOF0 0xE7
 *   1    1     sof1   FP_SOF1 0x7E
 *   2    1     type   enum fp_type; < 0x80 host to device, >= 0x80 device to host
 *   3    1     tag    request number, echoed by its reply (DATA, STATUS: 0 or any)
 *   4    2     len    body length, 0..FP_BODY_MAX
 *   6    2     hcrc   low 16 bits of crc32_zlib(bytes 0..5)
 *   8    len   body   per type (below)
 *   8+len 4    crc    crc32_zlib(bytes 0..8+len-1)
 *
 * Bodies ("u32" little endian; every reserved field must be 0):
 *
 *   HELLO     0x01  4  u16 version (FP_VERSION), u16 flags 0
 *   HELLO_R   0x81 36  u16 version, u16 flags (FP_HF_*), u16 raw_max, u16 slots,
 *                      u32 area_base, u32 area_size, u32 bank_split, u32 sector_size,
 *                      u32 uart_clk, u32 baud_max, u32 baud_now
 *   BAUD      0x02  4  u32 baud
 *   BAUD_R    0x82  4  u32 baud (the rate the device sets)
 *   PING      0x03  4  u32 token
 *   PONG      0x83  4  u32 token (PING's)
 *   QUERY     0x04  0
 *   RESUME_R  0x84 24  u8 state (FP_RS_*), 3 reserved, u32 image_len, u32 image_crc,
 *                      u32 page_mask, u32 done[0], u32 done[1]
 *   SECTORS   0x05  4  u8 first, u8 count, u16 reserved
 *   SECTORS_R 0x85 4+8n  u8 first, u8 count n, u16 reserved, n x {u32 crc, u32 sr}
 *   BEGIN     0x06 24  u32 image_len, u32 image_crc, u32 page_mask, u8 flags (FP_BF_*),
 *                      3 reserved, u32 resume[0], u32 resume[1]
 *   DATA      0x07 16+n  u32 seq, u32 offset, u16 raw_len, u8 codec (FP_CODEC_*),
 *                      u8 reserved, u32 raw_crc, payload[n]
 *   STATUS    0x87 36  u32 cum, u32 limit, u64 sack,
 *                      2 x {u32 done, u8 state (FP_BANK_*), u8 page, u16 erase_ms},
 *                      u16 bad_frames, u16 reserved
 *   END       0x08 12  u32 frames, u32 crc[0], u32 crc[1]
 *   END_R     0x88 12  i32 result, u32 crc[0], u32 crc[1]
 *   GO        0x09  4  u32 addr
 *   GO_R      0x89  0
 *   BYE       0x0A  0
 *   BYE_R     0x8A  0
 *   ERROR     0xEE 20  i32 code, u32 sr, u32 addr, u32 seq, u8 req, u8 fatal, u16 reserved
 *
 * Offsets are bytes from the area's start (area_base); the area is split
 * into two regions at bank_split (region 0 = bank 1, region 1 = bank 2),
 * each written forward only; "sector i" is the i-th sector of the area
 * (bit i of a page mask).
 */
#ifndef PROTO_FASTP_H
#define PROTO_FASTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crc32.h"
#include "inflate.h"
#include "proto_err.h"

/* AN3155 command that enters the protocol (listed in Get; docs/PROTOCOL.md). */
#define FP_AN3155_CMD 0xE1u
#define FP_VERSION    1u

#define FP_SOF0        0xE7u
#define FP_SOF1        0x7Eu
#define FP_HDR_LEN     8u
#define FP_CRC_LEN     4u
#define FP_OVERHEAD    (FP_HDR_LEN + FP_CRC_LEN)
#define FP_WORD        32u   /* flash word: offsets and raw lengths are multiples */
#define FP_RAW_MAX     8192u /* largest raw_len of a DATA frame */
#define FP_DATA_HDR    16u
#define FP_BODY_MAX    (FP_DATA_HDR + FP_RAW_MAX)
#define FP_FRAME_MAX   (FP_OVERHEAD + FP_BODY_MAX)
#define FP_SECTORS_MAX 32u /* sectors of an area: page masks are 32 bits */
#define FP_SACK_BITS   64u
#define FP_SLOTS_MAX   4096u               /* largest window a device may announce */
#define FP_CRC_BURST   CRC32_H7FLASH_BURST /* the flash CRC unit reads 128-byte bursts */
#define FP_REGIONS     2u

/* Timing (docs/PROTOCOL.md "h7iap fast protocol", "Timing"). */
#define FP_T_SILENCE_MS   2000u /* device: no valid frame for this long: back to AN3155 */
#define FP_T_STATUS_MS    100u  /* device: STATUS at least this often while busy */
#define FP_T_KEEPALIVE_MS 500u  /* host: PING when it has sent nothing for this long */
#define FP_T_REPLY_MS     1000u /* host: silence after a request: send it again */
#define FP_REQ_TRIES      3u /* host: silent sends of one request before the link counts as lost */
#define FP_T_BUSY_MAX_MS  30000u /* host: device time (STATUS ticks) a request may stay unanswered */
#define FP_T_FRAME_GAP_MS \
    50u /* receiver: a frame stalled this long past its wire time is dropped */
#define FP_T_BAUD_PING_MS    20u /* host: PING period right after a baud switch ... */
#define FP_BAUD_PINGS        10u /* ... this many times before it falls back */
#define FP_BAUD_TOL_PERMILLE 20u /* a rate the UART sets within 2 % of the asked one */

enum fp_type {
    FP_HELLO = 0x01,
    FP_BAUD = 0x02,
    FP_PING = 0x03,
    FP_QUERY = 0x04,
    FP_SECTORS = 0x05,
    FP_BEGIN = 0x06,
    FP_DATA = 0x07,
    FP_END = 0x08,
    FP_GO = 0x09,
    FP_BYE = 0x0A,
    FP_HELLO_R = 0x81,
    FP_BAUD_R = 0x82,
    FP_PONG = 0x83,
    FP_RESUME_R = 0x84,
    FP_SECTORS_R = 0x85,
    FP_STATUS = 0x87, /* answers BEGIN and DATA; also sent unprompted */
    FP_END_R = 0x88,
    FP_GO_R = 0x89,
    FP_BYE_R = 0x8A,
    FP_ERROR = 0xEE,
};

#define FP_REPLY 0x80u /* type bit: device to host */

enum fp_dir { FP_TO_DEVICE, FP_TO_HOST };

#define FP_HF_DEFLATE (1u << 0) /* HELLO_R: DATA frames may use FP_CODEC_DEFLATE */
#define FP_HF_ALL     FP_HF_DEFLATE
#define FP_BF_RESUME  (1u << 0) /* BEGIN: continue the open transfer */
#define FP_BF_ALL     FP_BF_RESUME

enum fp_codec { FP_CODEC_RAW = 0, FP_CODEC_DEFLATE = 1 };

/* RESUME_R state: what the device knows of an unfinished fast transfer. */
enum fp_resume_state {
    FP_RS_NONE = 0, /* none open: BEGIN without FP_BF_RESUME only */
    FP_RS_RAM = 1,  /* open since before the link was lost: done[] exact */
    FP_RS_LOG = 2,  /* recovered from the record log after a reset: done[] at sector starts */
};

/* STATUS: what each bank is doing. */
enum fp_bank_state {
    FP_BANK_IDLE = 0,        /* waiting for data (or nothing to write) */
    FP_BANK_ERASING = 1,     /* page: the sector being erased (FP_PAGE_BANK: all of it) */
    FP_BANK_PROGRAMMING = 2, /* page: the sector being programmed */
    FP_BANK_DONE = 3,        /* every sector of the page mask in this region written */
    FP_BANK_FAILED = 4,      /* a flash operation failed (an ERROR says which) */
};
#define FP_BANK_STATE_MAX FP_BANK_FAILED
#define FP_PAGE_NONE      0xFFu
#define FP_PAGE_BANK      0xFEu

/* Range -3301..-3399 (proto_err.h). */
enum fp_err {
    FP_OK = 0,
    FP_E_SHORT = PROTO_ERR_FP_BASE - 1,      /* fewer bytes than the frame needs */
    FP_E_SOF = PROTO_ERR_FP_BASE - 2,        /* not a start of frame */
    FP_E_HCRC = PROTO_ERR_FP_BASE - 3,       /* header check mismatch */
    FP_E_LEN = PROTO_ERR_FP_BASE - 4,        /* body length too long or wrong for the type */
    FP_E_CRC = PROTO_ERR_FP_BASE - 5,        /* frame CRC-32 mismatch */
    FP_E_TYPE = PROTO_ERR_FP_BASE - 6,       /* unknown type, or the other direction's */
    FP_E_FIELD = PROTO_ERR_FP_BASE - 7,      /* reserved field not 0, unknown flag, codec, state */
    FP_E_ALIGN = PROTO_ERR_FP_BASE - 8,      /* offset or length not a multiple of 32 */
    FP_E_RANGE = PROTO_ERR_FP_BASE - 9,      /* outside the area, the image or the region */
    FP_E_CROSS = PROTO_ERR_FP_BASE - 10,     /* DATA frame crosses a sector boundary */
    FP_E_PAGE = PROTO_ERR_FP_BASE - 11,      /* sector not in the page mask, or a bad mask */
    FP_E_SIZE = PROTO_ERR_FP_BASE - 12,      /* raw_len or payload length out of range */
    FP_E_RAW_LEN = PROTO_ERR_FP_BASE - 13,   /* payload decodes to another length than raw_len */
    FP_E_RAW_CRC = PROTO_ERR_FP_BASE - 14,   /* decoded bytes do not match raw_crc */
    FP_E_PAD = PROTO_ERR_FP_BASE - 15,       /* bytes past the image end are not 0xFF */
    FP_E_BACKWARDS = PROTO_ERR_FP_BASE - 16, /* offset before the region's write position */
    FP_E_WINDOW = PROTO_ERR_FP_BASE - 17,    /* sequence number at or past the limit */
    FP_E_GEOM = PROTO_ERR_FP_BASE - 18,      /* geometry inconsistent, or unknown yet */
    FP_E_STATE = PROTO_ERR_FP_BASE - 19,     /* request not allowed in this state */
    FP_E_RESUME = PROTO_ERR_FP_BASE - 20,    /* resume fields differ from the open transfer */
    FP_E_VERIFY = PROTO_ERR_FP_BASE - 21,    /* END: flash CRC differs from the host's */
    FP_E_BAUD = PROTO_ERR_FP_BASE - 22,      /* rate not possible on this UART */
    FP_E_VERSION = PROTO_ERR_FP_BASE - 23,   /* protocol version not spoken */
    FP_E_ARG = PROTO_ERR_FP_BASE - 24,       /* caller passed an impossible value */
};

/* The area a device offers, as HELLO_R announces it. */
struct fp_geom {
    uint32_t area_base;   /* address of offset 0, sector aligned */
    uint32_t area_size;   /* whole sectors, at most FP_SECTORS_MAX */
    uint32_t bank_split;  /* offset where region 1 (bank 2) starts; area_size: none */
    uint32_t sector_size; /* power of two, at least FP_RAW_MAX */
    uint16_t raw_max;     /* largest raw_len the device takes: 32..FP_RAW_MAX, words */
    uint16_t slots;       /* frames the device buffers: 1..FP_SLOTS_MAX */
};

/* The image of a transfer, as BEGIN announces it. */
struct fp_image {
    uint32_t len;       /* bytes, 1..area_size */
    uint32_t crc;       /* crc32_h7flash_image() of the len bytes: identity, and the
                         * COMPLETE record's (the unit's over the image) */
    uint32_t page_mask; /* bit i: sector i is erased and written; only sectors of the image */
};

struct fp_hello {
    uint16_t version, flags;
};
struct fp_hello_r {
    uint16_t version, flags;
    struct fp_geom geom;
    uint32_t uart_clk, baud_max, baud_now;
};
struct fp_resume_r {
    uint8_t state;
    struct fp_image image;
    uint32_t done[FP_REGIONS]; /* bytes from each region's start verified in flash */
};
struct fp_sectors {
    uint8_t first, count;
};
struct fp_sectors_r {
    uint8_t first, count;
    uint32_t crc[FP_SECTORS_MAX]; /* crc32_h7flash() of the whole sector */
    uint32_t sr[FP_SECTORS_MAX];  /* FLASH_SR error bits seen reading it (0: none) */
};
struct fp_begin {
    struct fp_image image;
    uint8_t flags;
    uint32_t resume[FP_REGIONS]; /* FP_BF_RESUME: RESUME_R's done[]; else 0 */
};
struct fp_data {
    uint32_t seq, offset;
    uint16_t raw_len;
    uint8_t codec;
    uint32_t raw_crc; /* crc32_zlib() of the raw_len decoded bytes */
    const uint8_t *payload;
    uint16_t payload_len;
};
struct fp_bank_status {
    uint32_t done; /* bytes from the region's start verified in flash */
    uint8_t state, page;
    uint16_t erase_ms; /* time spent in the current erase */
};
struct fp_status {
    uint32_t cum;   /* every frame with seq < cum received and checked */
    uint32_t limit; /* the host may send seq < limit */
    uint64_t sack;  /* bit i: frame cum + 1 + i received and checked */
    struct fp_bank_status bank[FP_REGIONS];
    uint16_t bad_frames; /* frames dropped for CRC or length since BEGIN (saturates) */
};
struct fp_end {
    uint32_t frames;          /* DATA frames of the transfer: seq 0 .. frames-1 */
    uint32_t crc[FP_REGIONS]; /* the host's fp_region_crc() */
};
struct fp_end_r {
    int32_t result;           /* 0: committed; else why not */
    uint32_t crc[FP_REGIONS]; /* what the flash CRC unit read */
};
struct fp_error {
    int32_t code;  /* fp_err, the bootloader's or h7flash's code (docs/DESIGN.md "Error codes") */
    uint32_t sr;   /* FLASH_SR error bits behind a flash error, else 0 */
    uint32_t addr; /* flash address concerned, else 0 */
    uint32_t seq;  /* DATA frame concerned, else 0xFFFFFFFF */
    uint8_t req;   /* type of the request concerned, 0 if none */
    uint8_t fatal; /* 1: the transfer was dropped */
};

/* One frame, decoded or to encode. */
struct fp_msg {
    uint8_t type, tag;
    union {
        struct fp_hello hello;
        struct fp_hello_r hello_r;
        uint32_t baud;  /* BAUD, BAUD_R */
        uint32_t token; /* PING, PONG */
        struct fp_resume_r resume_r;
        struct fp_sectors sectors;
        struct fp_sectors_r sectors_r;
        struct fp_begin begin;
        struct fp_data data;
        struct fp_status status;
        struct fp_end end;
        struct fp_end_r end_r;
        uint32_t addr; /* GO */
        struct fp_error error;
    } u;
};

/* ---- frames ---- */

/* Header check of buf[0..n): the whole frame's length (FP_OVERHEAD + len),
 * or FP_E_SHORT (n < FP_HDR_LEN), FP_E_SOF, FP_E_HCRC, FP_E_LEN. */
int fp_header(const uint8_t *buf, size_t n);

/* Bytes a receiver drops after a bad header to reach the next possible
 * start of frame (1..n; n when none is in sight). */
size_t fp_resync(const uint8_t *buf, size_t n);

/*
 * Decode the frame at buf[0..n) (n may hold more than one frame): the
 * frame's length on success, else a negative fp_err. Checks the header,
 * the CRC, the direction, the body length of the type and every field
 * rule this file states for it. geom: the device's geometry (the
 * device's own, or the host's copy of HELLO_R); NULL before it is known,
 * and then RESUME_R, SECTORS, SECTORS_R, BEGIN, DATA and STATUS are
 * refused (FP_E_GEOM). A DATA frame's payload points into buf.
 */
int fp_decode(const uint8_t *buf, size_t n, const struct fp_geom *geom, enum fp_dir dir,
              struct fp_msg *m);

/* Encode m into out[0..cap): the frame's length, or the error fp_decode
 * would give the frame (so what encodes decodes back to m), or FP_E_ARG
 * (cap too small). */
int fp_encode(const struct fp_msg *m, const struct fp_geom *geom, uint8_t *out, size_t cap);

/* ---- geometry ---- */

/* 0 or FP_E_GEOM. */
int fp_geom_check(const struct fp_geom *g);
/* Region (0: bank 1, 1: bank 2) of an offset inside the area. */
unsigned fp_region_of(const struct fp_geom *g, uint32_t offset);
/* Start offset and size of region r (size 0: the area has no region r). */
uint32_t fp_region_start(const struct fp_geom *g, unsigned r);
uint32_t fp_region_size(const struct fp_geom *g, unsigned r);
/* Bytes of region r that the image's flash words cover: what a transfer
 * writes there at most, and the largest done[r]. */
uint32_t fp_region_image_len(const struct fp_geom *g, uint32_t image_len, unsigned r);
/* Sectors of the image (sector i holds offsets [i*sector, (i+1)*sector)). */
unsigned fp_image_sectors(const struct fp_geom *g, uint32_t image_len);

/* 0, or why BEGIN or RESUME_R could not announce this image:
 * FP_E_RANGE (length), FP_E_PAGE (a mask bit outside the image). */
int fp_image_check(const struct fp_geom *g, const struct fp_image *im);

/* ---- checks of DATA frames against the transfer ---- */

/* The frame lies inside the image's flash words and in a sector of the
 * page mask: 0, FP_E_RANGE, FP_E_PAGE. (fp_decode checked the rest.) */
int fp_data_check_image(const struct fp_geom *g, const struct fp_image *im,
                        const struct fp_data *d);

/* Decode d's payload into out[0..d->raw_len) (a copy when raw, inflate
 * when deflate) and check it: raw_len bytes exactly (FP_E_RAW_LEN, or the
 * decoder's INFL_E_* code), raw_crc (FP_E_RAW_CRC), 0xFF at every image
 * offset >= im->len (FP_E_PAD). ws: inflate's workspace. */
int fp_data_unpack(const struct fp_image *im, const struct fp_data *d, struct infl_ws *ws,
                   uint8_t *out);

/* Forward-only write positions of the two regions. */
struct fp_order {
    uint32_t next[FP_REGIONS]; /* offset the next frame of each region may start at */
};
/* Positions at the start of a transfer: region r from its start plus
 * done[r] (0 for a new transfer, RESUME_R's done[] for a resumed one). */
void fp_order_init(struct fp_order *o, const struct fp_geom *g, const uint32_t done[FP_REGIONS]);
/* Frames taken in sequence order: 0 and the position moves past the
 * frame, or FP_E_BACKWARDS (offset before it; nothing changes). Gaps
 * forward are allowed (their words stay erased). */
int fp_order_accept(struct fp_order *o, const struct fp_geom *g, const struct fp_data *d);

/* ---- end-to-end check ---- */

/* Bytes of region r that END's CRC covers: the image's bytes there
 * rounded up to whole CRC bursts (FP_CRC_BURST), within the region. */
uint32_t fp_region_crc_len(const struct fp_geom *g, uint32_t image_len, unsigned r);
/* The CRC END carries for region r (the host computes it from its image):
 * crc32_h7flash() over fp_region_crc_len() bytes from the region's start,
 * the image's bytes followed by 0xFF. CRC32_H7FLASH_INIT for an empty
 * region. */
uint32_t fp_region_crc(const struct fp_geom *g, const uint8_t *image, uint32_t image_len,
                       unsigned r);
/* The CRC SECTORS_R reports for sector i when the sector holds what the
 * image puts there (the image's bytes, then 0xFF to the sector's end). */
uint32_t fp_sector_crc(const struct fp_geom *g, const uint8_t *image, uint32_t image_len,
                       unsigned i);

/* Short text for an enum fp_err code (never NULL). */
const char *fp_strerror(int err);
/* Name of a frame type ("DATA"), "unknown" if none. */
const char *fp_type_name(uint8_t type);

#endif /* PROTO_FASTP_H */
