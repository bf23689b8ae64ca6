/*
 * h7iap: the steps commands are made of (erase, write, verify, read),
 * with progress. Built on iap_client; used by h7iap.c and the tests.
 * Functions return 0, an IAP_OP_ERR_* code, or the client's or the line's
 * code that stopped them (see iap.h).
 */
#ifndef TOOLS_IAP_OPS_H
#define TOOLS_IAP_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "an3155.h"
#include "h7_layout.h"
#include "iap_client.h"
#include "iap_image.h"
#include "update_record.h"

/*
 * Parse an erase list: "app" (pages 2..15), or numbers and ranges of
 * 128 KB pages "2,3,8-15". Pages 0 and 1 (the bootloader) are refused with
 * IAP_OP_ERR_BOOT_SECTOR, numbers past 15 and bad syntax with
 * IAP_OP_ERR_SECTORS.
 */
enum iap_op_err iap_parse_sectors(const char *s, uint32_t *mask);

/* Erase the pages in mask with one Extended Erase (both banks at once). */
int iap_do_erase(struct iap_client *c, uint32_t mask);
/* Write every block of a padded image once, 256 bytes per command. */
int iap_do_write(struct iap_client *c, const struct iap_image *padded);
/*
 * Compare flash with a padded image: Get Checksum per block when the
 * bootloader offers it (use_checksum), else (or on a CRC mismatch, to find
 * the place) Read Memory. IAP_OP_ERR_VERIFY names the first differing
 * address.
 */
int iap_do_verify(struct iap_client *c, const struct iap_image *padded, bool use_checksum);
/* Read len bytes from addr into out, 256 bytes per command, with progress. */
int iap_do_read(struct iap_client *c, uint32_t addr, uint32_t len, uint8_t *out);

/*
 * The newest update record in the h7iap bootloader's log (BOOT_LOG_BASE,
 * proto/h7_layout.h), read with 32-byte Read Memory commands by
 * ur_find_newest() (proto/update_record.h); a NACKed read counts as a torn
 * slot.
 */
int iap_read_log(struct iap_client *c, struct ur_newest *log);

#endif
