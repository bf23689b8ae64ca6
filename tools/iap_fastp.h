/*
 * h7iap: the client of the h7iap fast protocol (docs/PROTOCOL.md "h7iap
 * fast protocol"; frames: proto/fastp.h). Entered from an AN3155 session
 * (iap_connect done) with command 0xE1 when the bootloader lists it.
 *
 * One call flashes an image: entry, HELLO, an optional baud switch with
 * the spec's fallback, QUERY (resume when the device holds an open
 * transfer of the same image), SECTORS (smart: sectors whose flash CRC
 * already matches are left out of the page mask), BEGIN, DATA frames of
 * up to raw_max bytes (each deflated on its own with zlib when that is
 * smaller), both regions interleaved in proportion to their bytes, the
 * window kept full, repeats on a selective acknowledgement or a timeout,
 * END (the flash CRC unit's CRC per region against the host's), BYE.
 * Functions return 0, an IAP_FASTP_ERR_* code, or the line's code, with a
 * message (iap.h).
 */
#ifndef TOOLS_IAP_FASTP_H
#define TOOLS_IAP_FASTP_H

#include <stdbool.h>
#include <stdint.h>

#include "iap_client.h"
#include "iap_image.h"

struct iap_fastp_opts {
    unsigned baud_fast;  /* rate to switch to after HELLO; 0 or the entry rate: none */
    unsigned entry_baud; /* the AN3155 session's rate (wire time, fallback) */
    bool smart;          /* SECTORS first, skip sectors that already match */
    bool compress;       /* deflate frames when the device offers it */
    bool resume;         /* continue an open transfer of the same image */
    int level;           /* zlib level, 0..9 */
    /* Silence after which the link counts as lost (reconnect and resume):
     * FP_REQ_TRIES x FP_T_REPLY_MS = 3 s by default; more for a board whose
     * time runs slower than ours (an emulator: h7iap -t). Requests are still
     * repeated after each FP_T_REPLY_MS of silence. */
    int link_timeout_ms;
};

/* Defaults: 2 Mbaud, smart, compressed, resume, level 9. */
void iap_fastp_defaults(struct iap_fastp_opts *o, unsigned entry_baud);

struct iap_fastp_stats {
    unsigned baud;                 /* the rate the data ran at */
    bool baud_fallback;            /* the switch failed: stayed at the entry rate */
    bool resumed;                  /* BEGIN continued an open transfer */
    uint32_t resume_done[2];       /* its done[] (bytes per region not sent again) */
    uint32_t image_len, page_mask; /* BEGIN's */
    unsigned sectors, skipped;     /* sectors of the image; left out (already matching) */
    uint32_t frames;               /* DATA frames of the transfer */
    uint32_t sent;                 /* DATA frames written, repeats included */
    uint32_t repeats;              /* of which repeats (sack or timeout) */
    uint64_t raw_bytes;            /* image bytes carried by the frames */
    uint64_t payload_bytes;        /* their payloads on the wire (compressed or raw) */
    uint64_t data_wire_bytes;      /* DATA frames' bytes written, repeats included */
    uint16_t bad_frames;           /* the device's count of dropped frames */
};

/*
 * Flash the padded image (whole 32-byte words, inside the device's area)
 * over c, which iap_connect() set up on a bootloader that lists 0xE1.
 * On success the device committed the image (COMPLETE record) and the
 * session is back in the AN3155 loop at the entry rate (BYE), ready for
 * Go. st may be NULL.
 */
int iap_fastp_flash(struct iap_client *c, const struct iap_image *padded,
                    const struct iap_fastp_opts *o, struct iap_fastp_stats *st);

/* Names of the FLASH_SR error bits in sr ("WRPERR PGSERR", "none"). */
const char *iap_flash_sr_names(uint32_t sr, char *buf, size_t n);

#endif
