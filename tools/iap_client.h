/*
 * h7iap: AN3155 client. Speaks to the h7iap bootloader and to the ST ROM
 * bootloader alike, over any iap_transport. Every function returns 0, an
 * IAP_CLIENT_ERR_* code, or the IAP_PORT_ERR_* code of the line that
 * failed under it, with a message (see iap.h).
 *
 * Rules kept here (docs/PRIOR_ART.md 0 and 2.3):
 *  - a Write Memory is sent once; a NACK or a lost reply is reported, never
 *    "fixed" by sending the same words again (an H7 flash word is
 *    programmed once per erase);
 *  - writes are whole 32-byte flash words (the caller pads, see
 *    iap_image_pad) and at most 256 bytes.
 */
#ifndef TOOLS_IAP_CLIENT_H
#define TOOLS_IAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iap_transport.h"

struct iap_client {
    struct iap_transport *t;
    int ack_timeout_ms;   /* command, address, write data replies */
    int erase_timeout_ms; /* per 128 KB page */
    int sync_timeout_ms;  /* per 0x7F attempt */
    int sync_attempts;
    /* Before syncing, send this key (0: none) and let the board settle:
	 * h7app returns to the bootloader on 'b' (--enter-bootloader). */
    uint8_t enter_key;
    /* Filled by iap_connect(). */
    bool synced;
    uint8_t version; /* from Get */
    uint8_t cmds[64];
    size_t n_cmds;
    uint16_t pid;  /* from Get ID */
    uint8_t gv[3]; /* Get Version: version, option 1, option 2 */
};

void iap_client_init(struct iap_client *c, struct iap_transport *t);

/* Sync (0x7F), then Get, Get Version and Get ID. */
int iap_connect(struct iap_client *c);
int iap_sync(struct iap_client *c);
int iap_cmd_get(struct iap_client *c);
int iap_cmd_get_version(struct iap_client *c);
int iap_cmd_get_id(struct iap_client *c);
bool iap_has_cmd(const struct iap_client *c, uint8_t cmd);

/* An extension command without arguments (e.g. 0xE1, the fast protocol:
 * tools/iap_fastp.h): sent with its complement, 0 on ACK. */
int iap_cmd_plain(struct iap_client *c, uint8_t cmd);
/* Read Memory: n in 1..256. */
int iap_read_mem(struct iap_client *c, uint32_t addr, uint8_t *buf, size_t n);
/* Write Memory: n in 1..256, sent exactly once. */
int iap_write_mem(struct iap_client *c, uint32_t addr, const uint8_t *buf, size_t n);
/* Extended Erase of n pages (or the legacy Erase if that is all there is). */
int iap_erase_pages(struct iap_client *c, const uint16_t *pages, size_t n);
/* Go; addr AN3155_H7_RESET_ADDR asks for a reset. */
int iap_go(struct iap_client *c, uint32_t addr);
/* Confirm (0xE2, h7boot_ab only): the running image on trial confirmed. */
int iap_confirm(struct iap_client *c);
/* Get Checksum (0xA1): CRC of len bytes (multiple of 4) at addr. */
int iap_checksum(struct iap_client *c, uint32_t addr, uint32_t len, uint32_t *crc);

#endif
