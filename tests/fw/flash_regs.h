/* FLASH register helpers for the test firmwares (bank-1 register set). */
#ifndef FLASH_REGS_FW_H
#define FLASH_REGS_FW_H
#include "fw.h"

#define FLASH_KEYR1 REG(0x52002004u)
#define FLASH_CR1   REG(0x5200200Cu)
#define FLASH_SR1   REG(0x52002010u)
#define FLASH_CCR1  REG(0x52002014u)
#define CR_LOCK  (1u << 0)
#define CR_PG    (1u << 1)
#define CR_SER   (1u << 2)
#define CR_X64   (3u << 4)
#define CR_START (1u << 7)
#define SR_BSY   (1u << 0)
#define SR_WBNE  (1u << 1)
#define SR_QW    (1u << 2)
#define SR_ERRS  0x17EE0000u

static inline void flash_unlock(void)
{
    if (FLASH_CR1 & CR_LOCK) {
        FLASH_KEYR1 = 0x45670123u;
        FLASH_KEYR1 = 0xCDEF89ABu;
    }
}
#endif
