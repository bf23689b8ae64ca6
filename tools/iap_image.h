/*
 * h7iap: firmware images. Raw binary, Intel HEX and ELF32 files are loaded
 * into a list of segments (address, bytes), sorted and non-overlapping.
 * The format is detected from the content, never from the file name:
 *   "\x7fELF"                      ELF: PT_LOAD segments with file bytes,
 *                                  placed at p_paddr (the load address)
 *   ':' then a valid HEX record    Intel HEX (types 00, 01, 02, 03, 04, 05)
 *   anything else                  raw binary at the --address given
 */
#ifndef TOOLS_IAP_IMAGE_H
#define TOOLS_IAP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "iap.h"

enum iap_format { IAP_FMT_BIN, IAP_FMT_HEX, IAP_FMT_ELF };

struct iap_seg {
    uint32_t addr;
    uint32_t len;
    uint8_t *data;
};

struct iap_image {
    struct iap_seg *segs;
    size_t n;
    enum iap_format fmt;
};

const char *iap_format_name(enum iap_format f);
enum iap_format iap_detect_format(const uint8_t *buf, size_t len);

/*
 * Parse buf (len bytes, in memory). bin_addr is where a raw binary goes.
 * On success img holds sorted, merged, non-overlapping segments (free with
 * iap_image_free); on an error img is empty. Errors, with a message:
 * IAP_IMAGE_ERR_FORMAT (malformed; an ELF header field outside the file,
 * segments sharing file bytes), _EMPTY, _OVERLAP (names the addresses),
 * _HUGE, _NOMEM. Every size and offset of the input is checked before
 * memory is taken: the image never holds more bytes than buf.
 */
enum iap_image_err iap_image_parse(const uint8_t *buf, size_t len, uint32_t bin_addr,
                                   struct iap_image *img);
/* The same from a file (at most 64 MB: else _HUGE); _OPEN, _READ. */
enum iap_image_err iap_image_load(const char *path, uint32_t bin_addr, struct iap_image *img);
void iap_image_free(struct iap_image *img);

/* Total payload bytes, lowest address and end (exclusive, 64-bit). */
uint64_t iap_image_bytes(const struct iap_image *img);
uint32_t iap_image_lo(const struct iap_image *img);
uint64_t iap_image_hi(const struct iap_image *img);

/*
 * Check that every byte lies in [lo, hi). An image that starts below lo or
 * at/after hi is IAP_IMAGE_ERR_ADDRESS; one that starts inside but runs
 * past hi is IAP_IMAGE_ERR_TOO_LARGE. Messages name the addresses as 0x%08x.
 */
enum iap_image_err iap_image_check_region(const struct iap_image *img, uint32_t lo, uint32_t hi);

/*
 * Programming plan: every segment widened to whole flash words (word bytes,
 * a power of two), the added bytes 0xFF, and segments that then share or
 * touch a word merged into one. Each flash word appears in exactly one
 * block, so writing every block once never programs a word twice.
 */
enum iap_image_err iap_image_pad(const struct iap_image *img, uint32_t word, struct iap_image *out);

/*
 * The 128 KB pages (AN3155 H7 numbering) to erase before writing the image:
 * bit p set for every page from the image's first to its last, the pages
 * of gaps between segments included. The bootloader commits an image only
 * if it holds no byte the host did not send other than erased 0xFF, so a
 * gap must not keep what an older image left there.
 */
uint32_t iap_image_pages(const struct iap_image *img);

#endif
