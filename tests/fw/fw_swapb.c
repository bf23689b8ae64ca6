/* Bank swap, second image: linked at 0x08000000 like any application, but
 * loaded into physical bank 2 (fw_swapb_bank2.elf); it runs only when the
 * banks are swapped. */
#include "fw.h"

#define FLASH_OPTCR REG(0x52002018u)

int main(void)
{
    fw_puts("bank 2 image running at 0x08000000\n");
    fw_check((FLASH_OPTCR & (1u << 31)) != 0, "OPTCR.SWAP_BANK reads 1");
    fw_puts((RCC_RSR & RCC_RSR_SFTRSTF) ? "after a software reset\n" : "after power-on\n");
    return (int)fw_failures;
}
