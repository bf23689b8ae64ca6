/*
 * The h7iap layout of the STM32H745 (Cortex-M7 view): where the bootloader,
 * its update record log and the application live in flash, and the RAM the
 * bootloader keeps for itself and shares with the application. The one
 * definition for the firmware, the host tool, the tests and the benchmarks
 * (Python: proto/h7_layout.py reads this file); built on the device's
 * memory map (hw/include/stm32h7/memorymap.h, RM0399 2.3 and 4.3.4).
 *
 *   sector  address
 *   0       0x08000000  bootloader code     never erased or written by the
 *                                           bootloader itself
 *   1       0x08020000  update record log   4096 x 32-byte records, append
 *                                           only (proto/update_record.h)
 *   2-7     0x08040000  application image   bank 1 ...
 *   8-15    0x08100000  ...                 bank 2 (CM4 boot address)
 *           0x08200000  end
 *
 * Sectors are the 128 KB erase units numbered 0-15 across both banks, as
 * AN3155 clients number their "pages" (proto/an3155.h).
 *
 *   0x00000000  ITCM 64 KB   bootloader .ramfunc (flash driver, USART ISR,
 *                            watchdog refresh)
 *   0x20000000  DTCM 16 KB   bootloader RAM: vector table copy, data, bss,
 *                            stack; its last 16 bytes are the handoff words
 *   0x20004000  DTCM rest    free for the host (AN3155 Read/Write/Go;
 *                            stm32flash puts its code at 0x20004100)
 *   0x24000000  AXI SRAM     free for the host; the example application's RAM
 *
 * The linker scripts (boot/target/boot.ld, app/app.ld) repeat the flash
 * and RAM origins as numbers.
 */
#ifndef PROTO_H7_LAYOUT_H
#define PROTO_H7_LAYOUT_H

#include "stm32h7/memorymap.h"
#include "ab_slot.h"
#include "update_record.h"

/* ---- flash ---------------------------------------------------------------- */
#define BOOT_SECTORS        (H7_FLASH_SIZE / H7_SECTOR_SIZE) /* 16 */
#define BOOT_SECTOR_ADDR(n) (H7_FLASH_BASE + (n)*H7_SECTOR_SIZE)

#define BOOT_CODE_SECTOR      0u
#define BOOT_LOG_SECTOR       1u
#define BOOT_APP_FIRST_SECTOR 2u

#define BOOT_CODE_BASE   BOOT_SECTOR_ADDR(BOOT_CODE_SECTOR)
#define BOOT_CODE_SIZE   H7_SECTOR_SIZE
#define BOOT_LOG_BASE    BOOT_SECTOR_ADDR(BOOT_LOG_SECTOR)
#define BOOT_LOG_SIZE    H7_SECTOR_SIZE
#define BOOT_LOG_SLOTS   (BOOT_LOG_SIZE / UR_SIZE) /* 4096 */
#define BOOT_APP_START   BOOT_SECTOR_ADDR(BOOT_APP_FIRST_SECTOR)
#define BOOT_APP_END     (H7_FLASH_BASE + H7_FLASH_SIZE) /* exclusive */
#define BOOT_APP_SIZE    (BOOT_APP_END - BOOT_APP_START) /* 1.75 MB */
#define BOOT_CM4_VECTORS H7_BANK2_BASE                   /* CM4 boot address (BOOT4 ADD0) */

/* Sector masks, bit n = sector n (the h7f protected_mask convention, bit
 * (bank-1)*8 + sector). */
#define BOOT_SECTOR_MASK(first, end) ((1u << (end)) - (1u << (first)))
#define BOOT_MASK_APP                BOOT_SECTOR_MASK(BOOT_APP_FIRST_SECTOR, BOOT_SECTORS)
#define BOOT_MASK_BANK1              BOOT_SECTOR_MASK(0u, H7_SECTORS_PER_BANK)
#define BOOT_PROT_APP \
    BOOT_SECTOR_MASK(0u, BOOT_APP_FIRST_SECTOR)             /* app writes: sectors 0-1 refused */
#define BOOT_PROT_LOG BOOT_SECTOR_MASK(0u, BOOT_LOG_SECTOR) /* record log: sector 0 refused */

/* One record per flash word: each slot is programmed once per erase. */
_Static_assert(UR_SIZE == H7_FLASH_WORD, "an update record is one flash word");
_Static_assert(BOOT_LOG_SECTOR + 1u == BOOT_APP_FIRST_SECTOR, "the log sits below the application");

/* ---- the A/B layout (docs/PROTOCOL.md "A/B updates") ------------------------
 *
 * The second layout, for the A/B bootloader: the same sector 0 bootloader
 * in both banks (either bank can be mapped at 0x08000000: SWAP_BANK,
 * RM0399 4.3.13), an application slot in sectors 1-7 of each bank. The
 * running slot is always the one at 0x08020000 (the application is linked
 * there), the other one is written through the window at 0x08120000,
 * whatever the swap state. Each slot ends with its trailer
 * (proto/ab_slot.h), so each bank carries its own state and no log is
 * ever erased.
 *
 *   logical     bank at 0x08000000        bank at 0x08100000
 *   sector 0    bootloader (running)      bootloader (copy)
 *   1-7         running slot, 896 KB      other slot (the update target)
 *   4           CM4 vectors (if any)
 *   last 256 B  its trailer               its trailer
 */
#define BOOT_AB_SLOT_FIRST_SECTOR 1u /* in each bank */
#define BOOT_AB_SLOT_SECTORS      (H7_SECTORS_PER_BANK - BOOT_AB_SLOT_FIRST_SECTOR)
#define BOOT_AB_SLOT_START        BOOT_SECTOR_ADDR(BOOT_AB_SLOT_FIRST_SECTOR) /* 0x08020000 */
#define BOOT_AB_OTHER_START       (BOOT_AB_SLOT_START + H7_BANK_SIZE)         /* 0x08120000 */
#define BOOT_AB_SLOT_SIZE         (BOOT_AB_SLOT_SECTORS * H7_SECTOR_SIZE)     /* 896 KB */
#define BOOT_AB_IMAGE_MAX         (BOOT_AB_SLOT_SIZE - AB_TRAILER_SIZE)
#define BOOT_AB_TRAILER_OFF       BOOT_AB_IMAGE_MAX /* in the slot */
/* Writes of the A/B update engine: only the other bank's slot. */
#define BOOT_AB_MASK_OTHER \
    BOOT_SECTOR_MASK(H7_SECTORS_PER_BANK + BOOT_AB_SLOT_FIRST_SECTOR, BOOT_SECTORS)
#define BOOT_AB_PROT_OTHER (BOOT_SECTOR_MASK(0u, BOOT_SECTORS) & ~BOOT_AB_MASK_OTHER)
/* Trailer words of both slots (program only): the last sector of each bank. */
#define BOOT_AB_MASK_TRAILERS ((1u << (H7_SECTORS_PER_BANK - 1u)) | (1u << (BOOT_SECTORS - 1u)))
#define BOOT_AB_PROT_TRAILERS (BOOT_SECTOR_MASK(0u, BOOT_SECTORS) & ~BOOT_AB_MASK_TRAILERS)
/* The bootloader copy in the other bank (sector 0 at 0x08100000): written
 * only to make it equal to the running one, before any swap. */
#define BOOT_AB_MASK_BOOTCOPY (1u << H7_SECTORS_PER_BANK)
#define BOOT_AB_PROT_BOOTCOPY (BOOT_SECTOR_MASK(0u, BOOT_SECTORS) & ~BOOT_AB_MASK_BOOTCOPY)
/* The CM4's vector table in the running slot (sector 4 of the bank at
 * 0x08000000): a logical address, so the CM4 boot address (BOOT_CM4_ADD0,
 * 16 KB units) follows the swap; released only for a confirmed image. */
#define BOOT_AB_CM4_VECTORS BOOT_SECTOR_ADDR(4u) /* 0x08080000 */
_Static_assert(BOOT_AB_IMAGE_MAX % 128u == 0u, "the CRC unit reads whole 128-byte bursts");

/* ---- RAM ------------------------------------------------------------------- */
#define BOOT_RAM_BASE H7_DTCM_BASE
#define BOOT_RAM_SIZE 0x00004000u /* the bootloader's own DTCM */
#define BOOT_RAM_END  (BOOT_RAM_BASE + BOOT_RAM_SIZE)

/*
 * Handoff between the application and the bootloader across a reset: words
 * at the end of the bootloader's DTCM, not initialised by either startup
 * code. The application writes {BOOT_HANDOFF_ENTER, ~it} and resets; the
 * bootloader clears both words when it reads them.
 */
#define BOOT_HANDOFF_ADDR  (BOOT_RAM_END - 16u) /* 0x20003FF0 */
#define BOOT_HANDOFF_ENTER 0xB007E17Eu          /* stay in the bootloader */
/* A/B layout (h7boot_ab, docs/PROTOCOL.md "A/B updates"): the running
 * image on trial asks the bootloader to confirm it ({CONFIRM, ~it}, then a
 * reset: ab_confirm, then the boot decision again). Before it starts an
 * image, h7boot_ab leaves {AB_TRIAL or AB_CONFIRMED, the image's sequence}
 * in the same two words, so the image knows whether it must confirm. */
#define BOOT_HANDOFF_CONFIRM      0xB007C0F1u
#define BOOT_HANDOFF_AB_TRIAL     0xAB0057A1u
#define BOOT_HANDOFF_AB_CONFIRMED 0xAB00C0F1u

/*
 * The host's line rate, {baud, ~baud}, in the same no-init words: the
 * bootloader measures it (USART auto-baud on the host's first byte) and
 * writes it before every jump and reset, so the next bootloader run and
 * the application talk at the rate the host uses.
 */
#define BOOT_HANDOFF_BAUD_ADDR (BOOT_RAM_END - 8u) /* 0x20003FF8 */
#define BOOT_BAUD_MIN          1200u
#define BOOT_BAUD_MAX          12500000u

/* The linker scripts (boot/target/boot.ld, app/app.ld) write their
 * origins as numbers: ld cannot read this header. Each firmware turns the
 * values it is linked for into absolute symbols with this macro (inside a
 * function, extended asm), and its script ASSERTs its MEMORY against them,
 * so a layout change that the script misses fails the link. */
#define H7_LAYOUT_LD_SYMBOL(name, value) \
    __asm__ volatile(".globl " #name "\n.set " #name ", %c0" : : "i"(value))

#endif /* PROTO_H7_LAYOUT_H */
