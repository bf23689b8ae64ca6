/*
 * Memory layout of the h7iap bootloader on the STM32H745 (CM7 view).
 *
 *   0x08000000 +------------------------+ bank 1 sector 0
 *              | bootloader code        |  never erased or written by the
 *              | (vectors, text, rodata)|  bootloader itself
 *   0x08020000 +------------------------+ bank 1 sector 1
 *              | update record log      |  4096 x 32-byte records, append
 *              |                        |  only; erased only when full, at
 *              |                        |  the start of an update
 *   0x08040000 +------------------------+ bank 1 sectors 2-7
 *              | application image      |  written by YMODEM / AN3155
 *   0x08100000 +  (bank boundary)       + bank 2 sectors 0-7 (CM4 boot
 *              |                        |  address 0x08100000)
 *   0x08200000 +------------------------+
 *
 *   0x00000000  ITCM 64 KB   .ramfunc (flash driver, USART ISR, watchdog)
 *   0x20000000  DTCM 16 KB   bootloader RAM: vector table copy, data, bss,
 *                            stack, handoff word (last 16 bytes)
 *   0x20004000  DTCM rest    free for AN3155 Read/Write/Go (stm32flash
 *                            puts its code at 0x20004100)
 *   0x24000000  AXI SRAM     free for AN3155; the example app's RAM
 */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

#include <stdint.h>

#define BOOT_FLASH_BASE    0x08000000u
#define BOOT_FLASH_END     0x08200000u  /* exclusive */
#define BOOT_CODE_BASE     0x08000000u
#define BOOT_CODE_SIZE     0x00020000u
#define BOOT_LOG_BASE      0x08020000u
#define BOOT_LOG_SIZE      0x00020000u
#define BOOT_LOG_SLOTS     (BOOT_LOG_SIZE / 32u)
#define BOOT_APP_START     0x08040000u
#define BOOT_APP_END       0x08200000u  /* exclusive */
#define BOOT_APP_SIZE      (BOOT_APP_END - BOOT_APP_START)  /* 1.75 MB */
#define BOOT_CM4_VECTORS   0x08100000u  /* CM4 boot address (BOOT4 ADD0) */

/* h7f protected_mask values: bit (bank-1)*8 + sector. */
#define BOOT_PROT_APP      0x3u  /* app writes: sectors 0-1 refused */
#define BOOT_PROT_LOG      0x1u  /* record log writes: sector 0 refused */

/* RAM regions (end exclusive). */
#define BOOT_DTCM_BASE     0x20000000u
#define BOOT_DTCM_END      0x20020000u
#define BOOT_RAM_OWN_END   0x20004000u  /* bootloader's own DTCM */
#define BOOT_AXI_BASE      0x24000000u
#define BOOT_AXI_END       0x24080000u
#define BOOT_SRAM123_BASE  0x30000000u
#define BOOT_SRAM123_END   0x30048000u
#define BOOT_SRAM4_BASE    0x38000000u
#define BOOT_SRAM4_END     0x38010000u

/*
 * Handoff between the application and the bootloader across a reset: two
 * words at the end of the bootloader's DTCM, not initialised by either
 * startup code. The application writes {BOOT_HANDOFF_ENTER, ~it} and
 * resets; the bootloader clears both words when it reads them.
 */
#define BOOT_HANDOFF_ADDR  0x20003FF0u
#define BOOT_HANDOFF_ENTER 0xB007E17Eu  /* stay in the bootloader */

/*
 * The host's line rate, {baud, ~baud}, in the same no-init words: the
 * bootloader measures it (USART auto-baud on the host's first byte) and
 * writes it before every jump and reset, so the next bootloader run and
 * the application talk at the rate the host uses.
 */
#define BOOT_HANDOFF_BAUD_ADDR 0x20003FF8u
#define BOOT_BAUD_MIN      1200u
#define BOOT_BAUD_MAX      12500000u

#endif /* BOOT_LAYOUT_H */
