/* Bank swap, second image: linked at 0x08000000 like any application, but
 * loaded into physical bank 2 (fw_swapb_bank2.elf); it runs only when the
 * banks are swapped. */
#include "fw.h"

int main(void)
{
    fw_puts("bank 2 image running at 0x08000000\n");
    fw_check((MMIO32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_SWAP_BANK) != 0,
             "OPTCR.SWAP_BANK reads 1");
    fw_puts((MMIO32(RCC_BASE + RCC_RSR) & RCC_RSR_SFT1RSTF) ? "after a software reset\n"
                                                            : "after power-on\n");
    return (int)fw_failures;
}
