/*
 * AN3155: the STM32 USART bootloader protocol, as spoken by the h7iap
 * bootloader (server, boot/) and the h7iap host tool (client, tools/).
 *
 * Defined once here: command codes, reply bytes, the checksummed frames and
 * the H7 page numbering used by Extended Erase. Everything in this file is
 * freestanding (no stdio, no malloc, no errno) so the bootloader links it.
 *
 * Wire rules (AN3155 rev 14, section numbers in brackets):
 *
 *   sync          host: 0x7F                      target: ACK           [2]
 *   command       host: cmd, cmd ^ 0xFF           target: ACK | NACK    [3]
 *   address frame host: a31..24 a23..16 a15..8 a7..0 xor(4 bytes)       [3.4]
 *   data frame    host: N-1, data[N], xor(N-1, data[N])   1 <= N <= 256 [3.6]
 *   read length   host: N-1, (N-1) ^ 0xFF                 1 <= N <= 256 [3.4]
 *   ext. erase    host: M-1 (2 B, big endian), page[M] (2 B BE each),
 *                       xor(all preceding bytes)          1 <= M        [3.8]
 *                 or a special code 0xFFFF (mass), 0xFFFE (bank 1),
 *                       0xFFFD (bank 2) followed by xor of its 2 bytes
 *   Get           target: ACK, N, version, cmd[N], ACK                   [3.1]
 *   Get Version   target: ACK, version, 0x00, 0x00, ACK                  [3.2]
 *   Get ID        target: ACK, 1, PID[15:8], PID[7:0], ACK               [3.3]
 *   Get Checksum  host: address frame, ACK, length frame (bytes, multiple of
 *                 4, big endian + xor), ACK; target: ACK when computed, then
 *                 crc[31:24] .. crc[7:0], xor(4 bytes)                   [3.13]
 *                 The CRC is the STM32 CRC unit's in its reset
 *                 configuration: crc32_stm32() from CRC32_STM32_INIT
 *                 (crc/crc32.h); ST's ROM and stm32flash -C compute it so.
 *
 * Reset convention (h7iap): Go to H7_FLASH_BASE (0x08000000, the
 * bootloader's own vector table) asks for a system reset. The h7iap
 * bootloader ACKs the address, then does a system reset (SYSRESETREQ); the
 * ST ROM bootloader runs user flash from its reset vector, which also
 * restarts the bootloader. Go to any other address starts the image there.
 *
 * All multi-byte values on the wire are big endian (the one exception to the
 * project's little-endian rule, because AN3155 says so).
 */
#ifndef PROTO_AN3155_H
#define PROTO_AN3155_H

#include <stddef.h>
#include <stdint.h>

#include "proto_err.h"
#include "stm32h7/memorymap.h"

/* Reply bytes and sync. */
#define AN3155_SYNC 0x7Fu
#define AN3155_ACK  0x79u
#define AN3155_NACK 0x1Fu
#define AN3155_BUSY 0x76u /* no-stretch variants only; we never send it */

/* Command codes [AN3155 table 2]. */
enum an3155_cmd {
    AN3155_CMD_GET = 0x00,
    AN3155_CMD_GET_VERSION = 0x01,
    AN3155_CMD_GET_ID = 0x02,
    AN3155_CMD_READ = 0x11,
    AN3155_CMD_GO = 0x21,
    AN3155_CMD_WRITE = 0x31,
    AN3155_CMD_ERASE = 0x43,
    AN3155_CMD_EXT_ERASE = 0x44,
    AN3155_CMD_SPECIAL = 0x50,
    AN3155_CMD_EXT_SPECIAL = 0x51,
    AN3155_CMD_WRITE_PROTECT = 0x63,
    AN3155_CMD_WRITE_UNPROT = 0x73,
    AN3155_CMD_READOUT_PROT = 0x82,
    AN3155_CMD_READOUT_UNPROT = 0x92,
    AN3155_CMD_GET_CHECKSUM = 0xA1,
    /*
	 * h7iap extension, advertised in the Get list when implemented: after
	 * a NACK the host may ask why. Reply (8 bytes): ACK, reason (enum
	 * an3155_reason), address[31:24], [23:16], [15:8], [7:0] the reason
	 * refers to (0 or 0xFFFFFFFF: none), xor of the 5 bytes reason..[7:0], ACK. The reason is cleared by this command
	 * and set by every NACK. ST's ROM does not have it; clients must
	 * look for it in Get before using it.
	 */
    AN3155_CMD_H7_GET_REASON = 0xE0,
    /*
     * h7iap extension of the A/B bootloader (h7boot_ab, docs/PROTOCOL.md
     * "A/B updates"), advertised in its Get list only: confirm the image
     * in the running slot, which is on trial (the CONFIRM word of its
     * trailer). Command frame, ACK, then ACK when the image is confirmed
     * (also when it was already), NACK (reason NO_IMAGE: no image on
     * trial; FLASH: the word could not be programmed) otherwise. The
     * next reset starts the image confirmed. 0xE1 is the fast protocol
     * (proto/fastp.h).
     */
    AN3155_CMD_H7_CONFIRM = 0xE2,
};

/* Why the last command was NACKed (h7iap extension, see above). */
enum an3155_reason {
    AN3155_REASON_NONE = 0x00,       /* no NACK since the last query */
    AN3155_REASON_BAD_CMD = 0x01,    /* unknown command or bad complement */
    AN3155_REASON_CHECKSUM = 0x02,   /* xor of a frame did not match */
    AN3155_REASON_ADDRESS = 0x03,    /* address outside the allowed area */
    AN3155_REASON_LENGTH = 0x04,     /* N out of range or crosses the area end */
    AN3155_REASON_ALIGN = 0x05,      /* address or length not aligned */
    AN3155_REASON_NOT_ERASED = 0x06, /* flash word already programmed */
    AN3155_REASON_FLASH = 0x07,      /* the flash controller reported an error */
    AN3155_REASON_PROTECTED = 0x08,  /* write or readout protection */
    AN3155_REASON_PAGE = 0x09,       /* erase page number not allowed */
    AN3155_REASON_NO_IMAGE = 0x0A,   /* Go: no valid application image */
    AN3155_REASON_TIMEOUT = 0x0B,    /* host went silent inside a command */
    AN3155_REASON_RAM_OFF = 0x0C,    /* Write Memory / Go into RAM disabled (build option) */
    AN3155_REASON_SEQUENCE = 0x0D,   /* write before the transfer's position */
    AN3155_REASON_VERIFY = 0x0E,     /* image CRC read back differs from the data sent */
    AN3155_REASON_TRANSFER = 0x0F,   /* an earlier write failed: erase to start again */
};

/* Return codes of the helpers: 0 or one of these (negative, range
 * -3201..-3299: proto_err.h). */
enum an3155_err {
    AN3155_OK = 0,
    AN3155_ERR_XOR = PROTO_ERR_AN3155_BASE - 1,     /* checksum byte does not match */
    AN3155_ERR_COMPL = PROTO_ERR_AN3155_BASE - 2,   /* second byte is not the complement */
    AN3155_ERR_LENGTH = PROTO_ERR_AN3155_BASE - 3,  /* count out of range for this frame */
    AN3155_ERR_ARG = PROTO_ERR_AN3155_BASE - 4,     /* caller passed an impossible value */
    AN3155_ERR_SPECIAL = PROTO_ERR_AN3155_BASE - 5, /* ext. erase: reserved special code */
};

/* Largest payload of one Read or Write Memory command. */
#define AN3155_MAX_DATA 256u
/* Largest frame this file builds: data frame = 1 + 256 + 1. */
#define AN3155_DATA_FRAME_MAX (AN3155_MAX_DATA + 2u)
#define AN3155_ADDR_FRAME_LEN 5u

/* Bootloader protocol version reported by Get and Get Version (3.1). */
#define AN3155_VERSION 0x31u

/* Get ID: product ID of the STM32H74x/H75x family (H745 included). */
#define AN3155_PID_H74X 0x450u

/* Extended Erase special codes (sent instead of M-1). */
#define AN3155_ERASE_MASS  0xFFFFu
#define AN3155_ERASE_BANK1 0xFFFEu
#define AN3155_ERASE_BANK2 0xFFFDu
/* Codes 0xFFF0..0xFFFC are reserved by AN3155: never a page count. */
#define AN3155_ERASE_SPECIAL_MIN 0xFFF0u

/*
 * Flash geometry as AN3155 clients see it on STM32H745 (stm32flash's device
 * table: 128 KB "pages", i.e. pages are the 128 KB sectors, numbered across
 * both banks): page p starts at H7_FLASH_BASE + p * H7_SECTOR_SIZE, so bank
 * 2 sector 0 (0x08100000) is page 8. What the h7iap bootloader keeps in
 * which page is proto/h7_layout.h (pages 0-1 bootloader, 2-15 application).
 * Writes are padded to the programming unit, H7_FLASH_WORD (32 bytes).
 */
/* Go target that means "reset" (see the reset convention above). */
#define AN3155_H7_RESET_ADDR H7_FLASH_BASE

/* XOR of n bytes, starting from seed (0 for a fresh frame). */
uint8_t an3155_xor(uint8_t seed, const uint8_t *p, size_t n);

/* Command frame: out = {cmd, ~cmd}. */
void an3155_cmd_encode(uint8_t cmd, uint8_t out[2]);
/* Checks in[1] == ~in[0]; stores the command. 0 or AN3155_ERR_COMPL. */
int an3155_cmd_decode(const uint8_t in[2], uint8_t *cmd);

/* Address frame (also used for Go, Get Checksum length and its reply). */
void an3155_addr_encode(uint32_t addr, uint8_t out[AN3155_ADDR_FRAME_LEN]);
/* 0 or AN3155_ERR_XOR. */
int an3155_addr_decode(const uint8_t in[AN3155_ADDR_FRAME_LEN], uint32_t *addr);

/*
 * Data frame of Write Memory: out = {n-1, data[n], xor}. n in 1..256.
 * Returns the frame length (n + 2), or AN3155_ERR_LENGTH.
 */
int an3155_data_encode(const uint8_t *data, size_t n, uint8_t *out);
/*
 * Check a received data frame split the way a server reads it: nm1 is the
 * first byte (N-1), data the N bytes, x the last byte. 0 or AN3155_ERR_XOR.
 */
int an3155_data_check(uint8_t nm1, const uint8_t *data, uint8_t x);

/* Read Memory length frame: out = {n-1, ~(n-1)}; n in 1..256. */
int an3155_readlen_encode(size_t n, uint8_t out[2]);
/* Stores n (1..256). 0 or AN3155_ERR_COMPL. */
int an3155_readlen_decode(const uint8_t in[2], size_t *n);

/*
 * Extended Erase, page list. pages[n] with n >= 1 (n <= 0xFFF0). Writes
 * 2 + 2n + 1 bytes to out (out must hold that many). Returns the length or
 * AN3155_ERR_LENGTH.
 */
int an3155_ext_erase_encode(const uint16_t *pages, size_t n, uint8_t *out);
/* Extended Erase special code: out = {hi, lo, hi ^ lo}. Returns 3, or
 * AN3155_ERR_SPECIAL when code is not 0xFFFF/0xFFFE/0xFFFD. */
int an3155_ext_erase_special_encode(uint16_t code, uint8_t out[3]);
/*
 * A server reads the first two bytes (word = big-endian value), then asks
 * how many more bytes the frame has: 1 for a special code (its xor), 2*(M)+1
 * for a page list. Returns that count, or AN3155_ERR_SPECIAL for a
 * reserved code (0xFFF0..0xFFFC).
 */
int an3155_ext_erase_rest_len(uint16_t word);
/*
 * Decode a complete Extended Erase frame (len bytes). On success either
 * *special is set to the special code and *count to 0, or *special is 0
 * and count pages are stored (at most max_pages; more is AN3155_ERR_LENGTH).
 */
int an3155_ext_erase_decode(const uint8_t *frame, size_t len, uint16_t *pages, size_t max_pages,
                            size_t *count, uint16_t *special);

/*
 * Get reply body after the first ACK: {n_cmds, version, cmds[n_cmds]}.
 * (AN3155's N counts the bytes that follow minus one, which is n_cmds.)
 * Writes 2 + n_cmds bytes and returns that length; the server adds the
 * ACKs around it.
 */
int an3155_get_encode(uint8_t version, const uint8_t *cmds, size_t n_cmds, uint8_t *out);

/* Get ID reply body after the first ACK: {1, pid_hi, pid_lo}. */
void an3155_gid_encode(uint16_t pid, uint8_t out[3]);
/* 0 or AN3155_ERR_LENGTH if the count byte is not 1. */
int an3155_gid_decode(const uint8_t in[3], uint16_t *pid);

/* Page (128 KB sector across both banks) holding addr; -1 outside flash. */
int an3155_h7_page_of(uint32_t addr);
/* Start address of page p (p < BOOT_SECTORS, proto/h7_layout.h). */
uint32_t an3155_h7_page_addr(unsigned p);

/* Short text for a return code / a NACK reason (never NULL). */
const char *an3155_strerror(int err);
const char *an3155_reason_str(uint8_t reason);
/* Name of a command code ("Write Memory"), "unknown" if not listed. */
const char *an3155_cmd_name(uint8_t cmd);

#endif /* PROTO_AN3155_H */
