/*
 * STM32H745 embedded flash controller (FLASH): register offsets, keys and
 * bits. RM0399 4.9 (FLASH registers), docs/H7_FLASH.md 2; names as in
 * RM0399 (CMSIS stm32h745xx.h spells them the same). The array's
 * organisation and the register block's base are in memorymap.h.
 *
 * Bank 1's register set (and the common registers) is at H7_FLASH_R_BASE,
 * bank 2's at +0x100: FLASH_CR is FLASH_CR1 for bank 1, FLASH_CR2 for bank 2.
 */
#ifndef STM32H7_FLASH_H
#define STM32H7_FLASH_H

#include "stm32h7/memorymap.h"

/* Bank 2's register set is at +0x100 from bank 1's (RM0399 4.9). */
#define H7_FLASH_BANK2_OFF 0x100u

/* Offsets from H7_FLASH_R_BASE (bank 1 / common). Bank 2: add 0x100. */
#define FLASH_ACR       0x000u
#define FLASH_KEYR      0x004u
#define FLASH_OPTKEYR   0x008u
#define FLASH_CR        0x00Cu
#define FLASH_SR        0x010u
#define FLASH_CCR       0x014u
#define FLASH_OPTCR     0x018u
#define FLASH_OPTSR_CUR 0x01Cu
#define FLASH_OPTSR_PRG 0x020u
#define FLASH_OPTCCR    0x024u
#define FLASH_PRAR_CUR  0x028u
#define FLASH_PRAR_PRG  0x02Cu
#define FLASH_SCAR_CUR  0x030u
#define FLASH_SCAR_PRG  0x034u
#define FLASH_WPSN_CUR  0x038u
#define FLASH_WPSN_PRG  0x03Cu
#define FLASH_BOOT7_CUR 0x040u
#define FLASH_BOOT7_PRG 0x044u
#define FLASH_BOOT4_CUR 0x048u
#define FLASH_BOOT4_PRG 0x04Cu
#define FLASH_CRCCR     0x050u
#define FLASH_CRCSADD   0x054u
#define FLASH_CRCEADD   0x058u
#define FLASH_CRCDATA   0x05Cu
#define FLASH_ECC_FA    0x060u

/* Absolute register address of bank b (1 or 2). */
#define H7_FLASH_REG(bank, off) (H7_FLASH_R_BASE + ((bank) == 2u ? H7_FLASH_BANK2_OFF : 0u) + (off))

/* Keys (RM0399 4.9.2, 4.9.3). */
#define FLASH_KEY1     0x45670123u
#define FLASH_KEY2     0xCDEF89ABu
#define FLASH_OPT_KEY1 0x08192A3Bu
#define FLASH_OPT_KEY2 0x4C5D6E7Fu

/* FLASH_ACR (RM0399 4.9.1). */
#define FLASH_ACR_LATENCY_Msk    0x0000000Fu
#define FLASH_ACR_WRHIGHFREQ_Pos 4u
#define FLASH_ACR_WRHIGHFREQ_Msk 0x00000030u

/* FLASH_CRx (RM0399 4.9.4). */
#define FLASH_CR_LOCK       (1u << 0)
#define FLASH_CR_PG         (1u << 1)
#define FLASH_CR_SER        (1u << 2)
#define FLASH_CR_BER        (1u << 3)
#define FLASH_CR_PSIZE_Pos  4u
#define FLASH_CR_PSIZE_Msk  (3u << 4)
#define FLASH_CR_PSIZE_X8   (0u << 4)
#define FLASH_CR_PSIZE_X16  (1u << 4)
#define FLASH_CR_PSIZE_X32  (2u << 4)
#define FLASH_CR_PSIZE_X64  (3u << 4)
#define FLASH_CR_FW         (1u << 6)
#define FLASH_CR_START      (1u << 7)
#define FLASH_CR_SNB_Pos    8u
#define FLASH_CR_SNB_Msk    (7u << 8)
#define FLASH_CR_CRC_EN     (1u << 15)
#define FLASH_CR_EOPIE      (1u << 16)
#define FLASH_CR_WRPERRIE   (1u << 17)
#define FLASH_CR_PGSERRIE   (1u << 18)
#define FLASH_CR_STRBERRIE  (1u << 19)
#define FLASH_CR_INCERRIE   (1u << 21)
#define FLASH_CR_OPERRIE    (1u << 22)
#define FLASH_CR_RDPERRIE   (1u << 23)
#define FLASH_CR_RDSERRIE   (1u << 24)
#define FLASH_CR_SNECCERRIE (1u << 25)
#define FLASH_CR_DBECCERRIE (1u << 26)
#define FLASH_CR_CRCENDIE   (1u << 27)
#define FLASH_CR_CRCRDERRIE (1u << 28)
/* Every interrupt enable (bits 16-28 but 20). */
#define FLASH_CR_ALL_IE                                                             \
    (FLASH_CR_EOPIE | FLASH_CR_WRPERRIE | FLASH_CR_PGSERRIE | FLASH_CR_STRBERRIE |  \
     FLASH_CR_INCERRIE | FLASH_CR_OPERRIE | FLASH_CR_RDPERRIE | FLASH_CR_RDSERRIE | \
     FLASH_CR_SNECCERRIE | FLASH_CR_DBECCERRIE | FLASH_CR_CRCENDIE | FLASH_CR_CRCRDERRIE)
#define FLASH_CR_RESET 0x00000031u

/* FLASH_SRx (RM0399 4.9.5), read-only. */
#define FLASH_SR_BSY      (1u << 0)
#define FLASH_SR_WBNE     (1u << 1)
#define FLASH_SR_QW       (1u << 2)
#define FLASH_SR_CRC_BUSY (1u << 3)
#define FLASH_SR_EOP      (1u << 16)
#define FLASH_SR_WRPERR   (1u << 17)
#define FLASH_SR_PGSERR   (1u << 18)
#define FLASH_SR_STRBERR  (1u << 19)
#define FLASH_SR_INCERR   (1u << 21)
#define FLASH_SR_OPERR    (1u << 22)
#define FLASH_SR_RDPERR   (1u << 23)
#define FLASH_SR_RDSERR   (1u << 24)
#define FLASH_SR_SNECCERR (1u << 25)
#define FLASH_SR_DBECCERR (1u << 26)
#define FLASH_SR_CRCEND   (1u << 27)
#define FLASH_SR_CRCRDERR (1u << 28)
/* Every error flag (everything a driver must clear before an operation). */
#define FLASH_SR_ALL_ERRORS                                                                    \
    (FLASH_SR_WRPERR | FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR | FLASH_SR_OPERR | \
     FLASH_SR_RDPERR | FLASH_SR_RDSERR | FLASH_SR_SNECCERR | FLASH_SR_DBECCERR |               \
     FLASH_SR_CRCRDERR)
#define FLASH_SR_ALL_FLAGS (FLASH_SR_ALL_ERRORS | FLASH_SR_EOP | FLASH_SR_CRCEND)

/* FLASH_CCRx (RM0399 4.9.6): write 1 to clear the SR flag at the same
 * position. */
#define FLASH_CCR_CLR_EOP      FLASH_SR_EOP
#define FLASH_CCR_CLR_WRPERR   FLASH_SR_WRPERR
#define FLASH_CCR_CLR_PGSERR   FLASH_SR_PGSERR
#define FLASH_CCR_CLR_STRBERR  FLASH_SR_STRBERR
#define FLASH_CCR_CLR_INCERR   FLASH_SR_INCERR
#define FLASH_CCR_CLR_OPERR    FLASH_SR_OPERR
#define FLASH_CCR_CLR_RDPERR   FLASH_SR_RDPERR
#define FLASH_CCR_CLR_RDSERR   FLASH_SR_RDSERR
#define FLASH_CCR_CLR_SNECCERR FLASH_SR_SNECCERR
#define FLASH_CCR_CLR_DBECCERR FLASH_SR_DBECCERR
#define FLASH_CCR_CLR_CRCEND   FLASH_SR_CRCEND
#define FLASH_CCR_CLR_CRCRDERR FLASH_SR_CRCRDERR
#define FLASH_CCR_CLR_ALL      FLASH_SR_ALL_FLAGS

/* FLASH_OPTCR (RM0399 4.9.7). */
#define FLASH_OPTCR_OPTLOCK        (1u << 0)
#define FLASH_OPTCR_OPTSTART       (1u << 1)
#define FLASH_OPTCR_MER            (1u << 4)
#define FLASH_OPTCR_OPTCHANGEERRIE (1u << 30)
#define FLASH_OPTCR_SWAP_BANK      (1u << 31)

/* FLASH_OPTSR_CUR/PRG (RM0399 4.9.8, 4.9.9). */
#define FLASH_OPTSR_OPT_BUSY        (1u << 0)
#define FLASH_OPTSR_BOR_LEV_Msk     (3u << 2)
#define FLASH_OPTSR_IWDG1_SW        (1u << 4)
#define FLASH_OPTSR_IWDG2_SW        (1u << 5)
#define FLASH_OPTSR_NRST_STOP_D1    (1u << 6)
#define FLASH_OPTSR_NRST_STBY_D1    (1u << 7)
#define FLASH_OPTSR_RDP_Pos         8u
#define FLASH_OPTSR_RDP_Msk         (0xFFu << 8)
#define FLASH_OPTSR_FZ_IWDG_STOP    (1u << 17)
#define FLASH_OPTSR_FZ_IWDG_SDBY    (1u << 18)
#define FLASH_OPTSR_ST_RAM_SIZE_Msk (3u << 19)
#define FLASH_OPTSR_SECURITY        (1u << 21)
#define FLASH_OPTSR_BCM4            (1u << 22)
#define FLASH_OPTSR_BCM7            (1u << 23)
#define FLASH_OPTSR_NRST_STOP_D2    (1u << 24)
#define FLASH_OPTSR_NRST_STBY_D2    (1u << 25)
#define FLASH_OPTSR_IO_HSLV         (1u << 29)
#define FLASH_OPTSR_OPTCHANGEERR    (1u << 30)
#define FLASH_OPTSR_SWAP_BANK_OPT   (1u << 31)

/* FLASH_OPTCCR. */
#define FLASH_OPTCCR_CLR_OPTCHANGEERR (1u << 30)

/* FLASH_PRAR_CUR/PRG (PCROP area) and FLASH_SCAR_CUR/PRG (secure area),
 * RM0399 4.9.11-4.9.14:
 * start and end in 256-byte units from the bank's start, and the
 * "erase at protection level regression" bit. */
#define FLASH_PRAR_PROT_AREA_START_Msk 0x00000FFFu
#define FLASH_PRAR_PROT_AREA_END_Pos   16u
#define FLASH_PRAR_PROT_AREA_END_Msk   0x0FFF0000u
#define FLASH_PRAR_DMEP                (1u << 31)
#define FLASH_SCAR_SEC_AREA_START_Msk  0x00000FFFu
#define FLASH_SCAR_SEC_AREA_END_Pos    16u
#define FLASH_SCAR_SEC_AREA_END_Msk    0x0FFF0000u
#define FLASH_SCAR_DMES                (1u << 31)

/* FLASH_WPSN: bit n = 1 means sector n NOT protected (RM0399 4.9.15). */
#define FLASH_WPSN_WRPSN_Msk 0xFFu

/* FLASH_BOOT7/BOOT4: address bits [31:16] for BOOT0=0 (ADD0) and BOOT0=1 (ADD1). */
#define FLASH_BOOT_ADD0_Msk 0x0000FFFFu
#define FLASH_BOOT_ADD1_Pos 16u
#define FLASH_BOOT_ADD1_Msk 0xFFFF0000u

/* FLASH_CRCCR (RM0399 FLASH_CRCCR1, docs/H7_FLASH.md 2.10). */
#define FLASH_CRCCR_CRC_SECT_Msk  (7u << 0)
#define FLASH_CRCCR_CRC_BY_SECT   (1u << 8)
#define FLASH_CRCCR_ADD_SECT      (1u << 9)
#define FLASH_CRCCR_CLEAN_SECT    (1u << 10)
#define FLASH_CRCCR_START_CRC     (1u << 16)
#define FLASH_CRCCR_CLEAN_CRC     (1u << 17)
#define FLASH_CRCCR_CRC_BURST_Pos 20u
#define FLASH_CRCCR_CRC_BURST_Msk (3u << 20)
#define FLASH_CRCCR_ALL_BANK      (1u << 22)
#define FLASH_CRCCR_RESET         0x001C0000u

/* FLASH_ECC_FA: failing flash-word index within the bank. */
#define FLASH_ECC_FA_FAIL_ECC_ADDR_Msk 0x7FFFu

#endif /* STM32H7_FLASH_H */
