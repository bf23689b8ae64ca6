/*
 * h7flash: register-level driver and streaming writer for the STM32H745
 * embedded flash (2 banks x 8 x 128 KB sectors, 32-byte flash words).
 *
 * Contract common to every call:
 * - Addresses are CPU addresses in 0x08000000..0x081FFFFF. Register set 1
 *   drives the bank mapped at 0x08000000, set 2 the one at 0x08100000.
 * - Each operation unlocks the bank if (and only if) it is locked, clears
 *   every stale SR flag through CCR, re-checks LOCK and PG right before the
 *   stores, waits for WBNE, QW and BSY to clear with a timeout derived from
 *   the datasheet maximum, and relocks the bank before returning (keeping
 *   the first error). Lock state after every call: locked.
 * - Returns 0 or a negative H7F_E_* code; h7f_strerror() names it.
 * - Caller-protected sectors (the bootloader's own, bank 1 sectors 0-1 by
 *   default) are refused with H7F_E_PROTECTED before any register access.
 */
#ifndef H7FLASH_H
#define H7FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stm32h7/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: negative, one meaning each; errno values where one fits. */
enum h7f_err {
    H7F_OK = 0,
    H7F_E_INVAL = -22,        /* bad argument (NULL, misuse of the writer) */
    H7F_E_ALIGN = -1001,      /* address not 32-byte aligned for the word API */
    H7F_E_RANGE = -34,        /* outside 0x08000000..0x081FFFFF */
    H7F_E_PROTECTED = -13,    /* sector protected for this caller */
    H7F_E_NOT_VIRGIN = -1002, /* target flash word is not erased */
    H7F_E_TIMEOUT = -110,     /* operation did not finish in the datasheet max (x2) */
    H7F_E_LOCKED = -1003,     /* bank stays locked (keys disabled until reset) */
    H7F_E_VERIFY = -1004,     /* read-back differs from what was written */
    H7F_E_NOSPC = -28,        /* writer: more data than the opened length */
    H7F_E_SEQUENCE = -1005,   /* writer: address before the stream position
                                    (those bytes or their flash word are written) */
    /* One code per SR error flag (RM0399 4.9.5). */
    H7F_E_WRPERR = -1017,
    H7F_E_PGSERR = -1018,
    H7F_E_STRBERR = -1019,
    H7F_E_INCERR = -1021,
    H7F_E_OPERR = -1022,
    H7F_E_RDPERR = -1023,
    H7F_E_RDSERR = -1024,
    H7F_E_SNECCERR = -1025,
    H7F_E_DBECCERR = -1026,
    H7F_E_CRCRDERR = -1028,
    H7F_E_OPTCHANGEERR = -1030,
};

const char *h7f_strerror(int err);

/* Driver instance: configuration and the last diagnostic. */
struct h7f {
    uint32_t protected_mask; /* bit (bank-1)*8+sector: refused (default 0x3) */
    uint32_t psize;          /* FLASH_CR_PSIZE_X8..X64 (default X64) */
    uint32_t last_sr;        /* raw SR seen with the last error */
    uint32_t last_addr;      /* address concerned by the last error */
};

/* Defaults: protect bank 1 sectors 0-1, PSIZE x64. No register access. */
void h7f_init(struct h7f *f);

/* Program one 32-byte flash word at a 32-byte aligned address (data32: any
 * alignment). Refused before any store: H7F_E_ALIGN, H7F_E_RANGE,
 * H7F_E_PROTECTED, H7F_E_WRPERR (WPSN or PCROP), H7F_E_NOT_VIRGIN (the
 * word is read first, past the D-cache, with ECC checking). Afterwards the
 * word is invalidated in the D-cache and read back: H7F_E_VERIFY.
 * All-0xFF data is not programmed: the erased word already reads so, and a
 * word programmed with 0xFF would read as erased yet could never be
 * programmed again before an erase (docs/DRIVER.md, rule 13). */
int h7f_program_word(struct h7f *f, uint32_t addr, const void *data32);

/* Erase the 128 KB sector containing addr / a whole bank (1 or 2). The
 * erased range is invalidated in the D-cache. */
int h7f_erase_sector(struct h7f *f, uint32_t addr);
int h7f_erase_bank(struct h7f *f, unsigned bank);

/* Erase every sector overlapping [addr, addr+len). The sectors of bank 1
 * and bank 2 are erased at the same time (the banks are independent); a
 * bank covered completely gets one bank erase. *erased (may be NULL)
 * receives the sectors erased, bit (bank-1)*8+sector, also on error. */
int h7f_erase_range(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *erased);

/* Background erase of the part of [addr, addr+len) that lies in addr's
 * bank, one sector (or one bank erase when the range covers the whole
 * bank) at a time. start checks the range and the protections, starts
 * nothing and returns at once (an error leaves the job finished); poll collects a finished
 * erase (flags, D-cache invalidation), starts the next one, and returns 1
 * while erases remain (wait=false), 0 when all are done, or the first
 * error. Between polls the bank is locked with the erase running; poll
 * with wait=true before reading or writing that bank. */
struct h7f_erase_job {
    uint32_t next, last; /* sector addresses: running or next, last */
    uint32_t t0;         /* start of the running erase (us) */
    uint32_t erased;     /* sectors done, bit (bank-1)*8+sector */
    int err;             /* first error */
    bool pending;        /* not finished */
    bool busy;           /* an erase runs now */
    bool ber;            /* the whole bank: one bank erase */
};
int h7f_erase_job_start(struct h7f *f, struct h7f_erase_job *j, uint32_t addr, uint32_t len);
int h7f_erase_job_poll(struct h7f *f, struct h7f_erase_job *j, bool wait);

/* Blank check: 0 when [addr, addr+len) reads all 0xFF; H7F_E_NOT_VIRGIN
 * with *first_bad (may be NULL) at the first non-0xFF flash word; ECC
 * errors as their codes. addr, len multiples of 32. */
int h7f_blank_check(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *first_bad);

/* Read with ECC errors reported as errors (H7F_E_DBECCERR, H7F_E_SNECCERR
 * with *bad_addr = the flash word), never as a crash. Any alignment. With
 * H7F_E_SNECCERR the corrected data is in out; with H7F_E_DBECCERR the read
 * stops. */
int h7f_read(struct h7f *f, uint32_t addr, void *out, size_t len, uint32_t *bad_addr);

/* CRC-32 (poly 0x04C11DB7, init 0xFFFFFFFF, reflected, final xor: the
 * zlib/Ethernet CRC) of [addr, addr+len), computed in software over reads
 * with ECC checking. */
int h7f_crc32(struct h7f *f, uint32_t addr, size_t len, uint32_t *crc);

/* The embedded flash's CRC unit over [addr, addr+len): no CPU reads, no
 * data through the bus (RM0399 "CRC computation", docs/H7_FLASH.md
 * 2.10). addr and len are multiples of 128 bytes (a burst of 4 flash words,
 * the smallest the unit reads), inside one bank; *crc is FLASH_CRCDATA in
 * ST's AN5507 convention, which crc32_h7flash() (crc/crc32.h) computes from
 * the bytes. The whole CRCCR is written (the burst size is never ORed into
 * the reset value, HAL_FLASHEx_ComputeCRC's defect, docs/FLASH_MODEL.md).
 * A protected (PCROP, secure) area in the range: H7F_E_CRCRDERR. The bank
 * is busy meanwhile (40 ns per flash word: 164 us per 128 KB sector). */
int h7f_crc_unit(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *crc);
/* The same over a range that may cross the bank boundary: each bank's
 * unit over its part, the two combined (crc32_h7flash_combine()), so *crc
 * is crc32_h7flash() of the whole range. */
int h7f_crc_unit_span(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *crc);

/* Option bytes. */
struct h7f_options {
    uint32_t optsr;        /* OPTSR_CUR */
    uint32_t wpsn[2];      /* WPSN_CUR1/2: bit = 1 not protected */
    uint32_t boot7, boot4; /* BOOT7_CUR, BOOT4_CUR */
    bool swap_bank;        /* OPTCR.SWAP_BANK: mapping in force now */
};
int h7f_opt_read(struct h7f *f, struct h7f_options *o);
/* Set write protection of a bank (mask: bit n = 1 protects sector n). */
int h7f_opt_set_wrp(struct h7f *f, unsigned bank, uint8_t protect_mask);
/* Program SWAP_BANK_OPT; takes effect at the next reset. */
int h7f_opt_set_swap(struct h7f *f, bool swap);
/* Program the CM4's boot address for BOOT0 = 0 (BOOT4 ADD0: address bits
 * 31:16, so addr must be 64 KB aligned); nothing when it holds it already. */
int h7f_opt_set_boot_cm4(struct h7f *f, uint32_t addr);

/* ---- streaming writer ------------------------------------------------ */

#define H7F_LEN_UNKNOWN 0xFFFFFFFFu

enum h7f_writer_flags {
    H7F_WR_ERASE_UPFRONT = 1u << 0, /* erase every sector of the range at open */
    H7F_WR_VERIFY_CRC = 1u << 1,    /* finish(): CRC-32 over the whole range */
    H7F_WR_NO_ERASE = 1u << 2,      /* target already erased: blank-check only */
    /* Lazy erase, and while bank 1 is written the range's bank-2 sectors
     * are erased in the background (known length only). */
    H7F_WR_ERASE_AHEAD = 1u << 3,
    /* finish(): the flash CRC unit over the words and the erased rest of
     * their last 128-byte burst (start a multiple of 128) must equal
     * report.crc_unit; no CPU read of the range. */
    H7F_WR_VERIFY_UNIT = 1u << 4,
};

struct h7f_writer_report {
    uint32_t bytes; /* stream bytes: accepted from the caller, gaps included */
    uint32_t words; /* flash words programmed */
    uint32_t sectors_erased;
    int err;           /* first error, 0 if none */
    uint32_t err_addr; /* address of the first error */
    uint32_t crc;      /* CRC-32 of the stream bytes (gaps included, final padding excluded) */
    /* crc32_h7flash() of the flash words programmed (padding included);
     * after finish() with H7F_WR_VERIFY_UNIT, over the whole last burst:
     * crc32_h7flash_image() of the stream, what the flash CRC unit reads. */
    uint32_t crc_unit;
};

struct h7f_writer {
    struct h7f *f;
    uint32_t start, length, flags;
    uint32_t next;  /* address of the next byte of the stream */
    uint32_t floor; /* lowest address a write may use (>= next:
                                  above it after a flushed partial word) */
    uint8_t buf[H7_FLASH_WORD];
    uint32_t fill;              /* bytes in buf: the word at next - fill */
    uint32_t erased_mask;       /* bit (bank-1)*8+sector: erased by this writer */
    struct h7f_erase_job ahead; /* H7F_WR_ERASE_AHEAD: bank 2 in the background */
    struct h7f_erase_job lazy;  /* h7f_writer_ready(): one sector in the background */
    bool ahead_started;
    bool open;
    bool gaps; /* H7F_WR_NO_ERASE skipped whole words: their
                                  bytes are not in rep.crc until finish() */
    struct h7f_writer_report rep;
};

/* Open a write of length bytes (or H7F_LEN_UNKNOWN) at start (32-byte
 * aligned). Refuses ranges outside the flash or touching protected sectors
 * before anything is erased. */
int h7f_writer_open(struct h7f_writer *w, struct h7f *f, uint32_t start, uint32_t length,
                    uint32_t flags);
/* Any sizes and alignments, any number of times: the bytes continue the
 * stream at its position (h7f_writer_next()). */
int h7f_writer_write(struct h7f_writer *w, const void *buf, size_t n);
/* The same at addr, which must not lie before h7f_writer_next(): the
 * stream only moves forward, so no byte and no flash word is written twice
 * (H7F_E_SEQUENCE otherwise: nothing is written and the writer stays
 * usable). The bytes skipped are stream bytes, counted in the report's
 * bytes and CRC, never programmed on their own: in the erase modes their
 * sectors are erased and they count as 0xFF; in H7F_WR_NO_ERASE whole
 * flash words skipped keep what the flash holds, are not read, and
 * finish() with H7F_WR_VERIFY_CRC then reports the CRC read back from
 * flash instead of comparing (each programmed word is verified anyway);
 * the part of the buffered word before addr, and the rest of a word left
 * behind, are 0xFF padding. */
int h7f_writer_write_at(struct h7f_writer *w, uint32_t addr, const void *buf, size_t n);
/* Move the stream to addr without data: write_at with n = 0. */
int h7f_writer_seek(struct h7f_writer *w, uint32_t addr);
/* Program the buffered partial flash word now, padded with 0xFF. The rest
 * of that word can no longer be written: h7f_writer_next() moves to its
 * end. No-op without a partial word. */
int h7f_writer_flush(struct h7f_writer *w);
/* Lowest address the next write may use. */
uint32_t h7f_writer_next(const struct h7f_writer *w);
/* The partial flash word waiting in the writer (programmed by the write
 * that completes it, by flush() or by finish()): the stream bytes it holds,
 * 0 when none, and its address in *word (may be NULL). */
uint32_t h7f_writer_pending(const struct h7f_writer *w, uint32_t *word);
/* Without waiting: 1 when a write reaching addr's flash word (addr at or
 * after h7f_writer_next()) would program it at once, 0 while the erase
 * its sector needs runs, or the writer's first error. In the lazy erase
 * modes it starts that erase in the background (one sector; a caller
 * that holds the bytes in RAM keeps receiving meanwhile) unless another
 * one of this writer is still running; H7F_WR_ERASE_AHEAD's bank 2 job
 * counts as that erase for bank 2. A write that reaches the sector before
 * the erase ended waits for it. */
int h7f_writer_ready(struct h7f_writer *w, uint32_t addr);
/* Drop an open write: wait for its background erases (never leave one
 * running), program nothing more, report unchanged. */
void h7f_writer_abort(struct h7f_writer *w);
/* Pad the last partial word with 0xFF, program it, verify (with
 * H7F_WR_VERIFY_CRC: the CRC-32 over [start, start + report.bytes) read
 * back from flash must equal the CRC of the stream, gaps as 0xFF). */
int h7f_writer_finish(struct h7f_writer *w);
const struct h7f_writer_report *h7f_writer_report(const struct h7f_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* H7FLASH_H */
