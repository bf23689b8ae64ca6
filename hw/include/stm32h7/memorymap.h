/*
 * STM32H745 memory map as the Cortex-M7 sees it: memory regions, the
 * flash array's organisation and the base address of every peripheral
 * this project touches. RM0399 section 2.3 (memory map and register
 * boundary addresses), 4.3.4 (flash memory organisation, docs/H7_FLASH.md
 * 1); the
 * Cortex-M7 private peripheral bus: Armv7-M Architecture Reference
 * Manual B3.2 (System Control Space), C1 (debug).
 *
 * Register offsets and bits are in one header per peripheral (flash.h,
 * rcc.h, ...), each relative to the base defined here.
 */
#ifndef STM32H7_MEMORYMAP_H
#define STM32H7_MEMORYMAP_H

/* ---- memories --------------------------------------------------------- */
#define H7_ITCM_BASE    0x00000000u
#define H7_ITCM_SIZE    0x00010000u /* 64 KB */
#define H7_SYSMEM_BASE  0x1FF00000u /* system memory (ST ROM bootloader) */
#define H7_SYSMEM_SIZE  0x00020000u
#define H7_DTCM_BASE    0x20000000u
#define H7_DTCM_SIZE    0x00020000u /* 128 KB */
#define H7_AXISRAM_BASE 0x24000000u /* D1 AXI SRAM */
#define H7_AXISRAM_SIZE 0x00080000u /* 512 KB */
#define H7_SRAM1_BASE   0x30000000u /* D2 SRAM1, SRAM2, SRAM3: contiguous */
#define H7_SRAM1_SIZE   0x00020000u
#define H7_SRAM2_BASE   0x30020000u
#define H7_SRAM2_SIZE   0x00020000u
#define H7_SRAM3_BASE   0x30040000u
#define H7_SRAM3_SIZE   0x00008000u
#define H7_SRAM4_BASE   0x38000000u /* D3 SRAM4 */
#define H7_SRAM4_SIZE   0x00010000u
#define H7_BKPSRAM_BASE 0x38800000u /* backup SRAM */
#define H7_BKPSRAM_SIZE 0x00001000u

/* ---- embedded flash: 2 banks x 8 sectors x 128 KB, 256-bit words ------ */
#define H7_FLASH_BASE       0x08000000u
#define H7_FLASH_SIZE       0x00200000u
#define H7_FLASH_END        0x081FFFFFu /* last byte */
#define H7_BANK_SIZE        0x00100000u
#define H7_BANK1_BASE       0x08000000u
#define H7_BANK2_BASE       0x08100000u
#define H7_SECTOR_SIZE      0x00020000u
#define H7_SECTORS_PER_BANK 8u
#define H7_FLASH_WORD       32u /* bytes in one 256-bit flash word */
#define H7_WORDS_PER_SECTOR (H7_SECTOR_SIZE / H7_FLASH_WORD)
#define H7_WORDS_PER_BANK   (H7_BANK_SIZE / H7_FLASH_WORD)

/* ---- peripherals (0x40000000-0x5FFFFFFF) ------------------------------ */
#define H7_PERIPH_BASE 0x40000000u
#define H7_PERIPH_SIZE 0x20000000u

#define USART3_BASE     0x40004800u /* D2 APB1 */
#define H7_FLASH_R_BASE 0x52002000u /* D1 AHB3: FLASH register block */
#define H7_FLASH_R_SIZE 0x00001000u
#define SYSCFG_BASE     0x58000400u /* D3 APB4 */
#define IWDG1_BASE      0x58004800u /* D3 APB4: the CM7's watchdog */
#define GPIOA_BASE      0x58020000u /* D3 AHB4: GPIOA..GPIOK, 1 KB each */
#define GPIOD_BASE      0x58020C00u
#define RCC_BASE        0x58024400u /* D3 AHB4 */
#define PWR_BASE        0x58024800u /* D3 AHB4 */
#define HSEM_BASE       0x58026400u /* D3 AHB4 */
#define DBGMCU_BASE     0x5C001000u

/* ---- Cortex-M7 private peripheral bus --------------------------------- */
#define H7_PPB_BASE  0xE0000000u
#define H7_PPB_SIZE  0x00100000u
#define ITM_BASE     0xE0000000u
#define DWT_BASE     0xE0001000u
#define SCS_BASE     0xE000E000u /* System Control Space */
#define SYSTICK_BASE 0xE000E010u
#define NVIC_BASE    0xE000E100u
#define SCB_BASE     0xE000ED00u
#define MPU_BASE     0xE000ED90u
#define DCB_BASE     0xE000EDF0u /* debug control block: DHCSR..DEMCR */

#endif /* STM32H7_MEMORYMAP_H */
