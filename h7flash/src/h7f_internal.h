/*
 * h7flash internals shared by the low-level driver and the streaming writer.
 */
#ifndef H7F_INTERNAL_H
#define H7F_INTERNAL_H

#include "h7flash/h7flash.h"
#include "h7flash/io.h"

/* Helpers used inside H7F_RAMFUNC code must not end up as out-of-line
 * copies in flash. */
#define H7F_INLINE static inline __attribute__((always_inline))

/* Timeouts: datasheet maximum (x8 parallelism, the slowest) times two
 * (DS12110 Table 53; docs/H7_FLASH.md 6.1). Only reached when something
 * is wrong. */
#define H7F_TMO_PROGRAM_US (2u * 580u)
#define H7F_TMO_SECTOR_US  (2u * 4000000u)
#define H7F_TMO_BANK_US    (2u * 26000000u)
/* Option-byte change: not in the datasheet; OpenOCD allows 10 s
 * (docs/H7_FLASH.md 5.3). */
#define H7F_TMO_OPTION_US 10000000u

/* SR flags that report the outcome of our own program/erase operation.
 * The read-side flags (RDPERR, RDSERR, SNECCERR, DBECCERR) can be raised
 * by any master at any time (speculative M7 reads, a debugger's memory
 * view: docs/H7_FLASH.md 3.7, 8.2.1) and say nothing about the operation;
 * the driver verifies the data by reading it back instead. */
#define H7F_SR_OP_ERRORS \
    (FLASH_SR_WRPERR | FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR | FLASH_SR_OPERR)
#define H7F_SR_ECC     (FLASH_SR_SNECCERR | FLASH_SR_DBECCERR)
#define H7F_SR_PENDING (FLASH_SR_BSY | FLASH_SR_QW | FLASH_SR_WBNE)

H7F_INLINE unsigned h7f_bank_of(uint32_t addr)
{
    return addr >= H7_BANK2_BASE ? 2u : 1u;
}

H7F_INLINE unsigned h7f_sector_of(uint32_t addr)
{
    return (unsigned)(((addr - H7_FLASH_BASE) % H7_BANK_SIZE) / H7_SECTOR_SIZE);
}

/* Bit of a sector in h7f.protected_mask and h7f_writer.erased_mask. */
H7F_INLINE uint32_t h7f_sector_bit(uint32_t addr)
{
    return 1u << ((h7f_bank_of(addr) - 1u) * H7_SECTORS_PER_BANK + h7f_sector_of(addr));
}

H7F_INLINE uint32_t h7f_bank_base(unsigned bank)
{
    return bank == 2u ? H7_BANK2_BASE : H7_BANK1_BASE;
}

/* The only place where hardware flags become error codes. */
int h7f_flags_to_err(uint32_t sr, uint32_t optsr);

/* 0 if [addr, addr+len) lies inside the flash, H7F_E_RANGE otherwise. */
int h7f_check_range(uint32_t addr, uint32_t len);
/* Range check plus the caller's protected sectors. */
int h7f_check_writable(const struct h7f *f, uint32_t addr, uint32_t len);

/* CRC-32 (zlib): crc32_zlib() of the project's one CRC-32 (crc/crc32.h,
 * dependency-free). Start with crc = 0. */
#include "crc32.h"

#endif /* H7F_INTERNAL_H */
