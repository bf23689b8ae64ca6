/* Bank swap, image in bank 1: sets SWAP_BANK_OPT through the option bytes
 * and resets. After the reset 0x08000000 shows physical bank 2, where
 * fw_swapb (linked at 0x08000000, loaded into bank 2) runs. */
#include "fw.h"

int main(void)
{
    fw_puts("bank 1 image: setting SWAP_BANK\n");
    if (MMIO32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_SWAP_BANK) {
        fw_puts("already swapped?\n");
        return 1;
    }
    if (MMIO32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK) {
        MMIO32(H7_FLASH_R_BASE + FLASH_OPTKEYR) = FLASH_OPT_KEY1;
        MMIO32(H7_FLASH_R_BASE + FLASH_OPTKEYR) = FLASH_OPT_KEY2;
    }
    MMIO32(H7_FLASH_R_BASE + FLASH_OPTSR_PRG) |= FLASH_OPTSR_SWAP_BANK_OPT;
    MMIO32(H7_FLASH_R_BASE + FLASH_OPTCR) |= FLASH_OPTCR_OPTSTART;
    while (MMIO32(H7_FLASH_R_BASE + FLASH_OPTSR_CUR) & FLASH_OPTSR_OPT_BUSY) {
    }
    fw_check((MMIO32(H7_FLASH_R_BASE + FLASH_OPTSR_CUR) & FLASH_OPTSR_SWAP_BANK_OPT) != 0,
             "SWAP_BANK_OPT programmed");
    MMIO32(H7_FLASH_R_BASE + FLASH_OPTCR) |= FLASH_OPTCR_OPTLOCK;
    MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb 0xF" ::: "memory");
    for (;;) {
    }
}
