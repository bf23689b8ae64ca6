/* Runs the image at 0x08000000 (the bootloader) with both L1 caches on:
 * started by h7vboard --boot 0x081E0000 (the last sector of bank 2),
 * it enables the I- and D-cache as CMSIS does and hands over as a boot
 * ROM would: VTOR, MSP, the reset handler. After a reset the board starts
 * here again. tests/vboard (cacheboot): the bootloader updates the
 * application and reads it back right with the caches on. */
#include "fw.h"

int main(void)
{
    MMIO32(SCB_BASE + SCB_ICIALLU) = 0;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_IC;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    fw_dcache_enable();
    fw_puts("caches on, starting the image at 0x08000000\n");
    fw_start_image(H7_FLASH_BASE);
}
