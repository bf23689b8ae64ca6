/* Bank swap, image in bank 1: sets SWAP_BANK_OPT through the option bytes
 * and resets. After the reset 0x08000000 shows physical bank 2, where
 * fw_swapb (linked at 0x08000000, loaded into bank 2) runs. */
#include "fw.h"

#define FLASH_OPTKEYR   REG(0x52002008u)
#define FLASH_OPTCR     REG(0x52002018u)
#define FLASH_OPTSR_CUR REG(0x5200201Cu)
#define FLASH_OPTSR_PRG REG(0x52002020u)

int main(void)
{
    fw_puts("bank 1 image: setting SWAP_BANK\n");
    if (FLASH_OPTCR & (1u << 31)) {
        fw_puts("already swapped?\n");
        return 1;
    }
    if (FLASH_OPTCR & 1u) {
        FLASH_OPTKEYR = 0x08192A3Bu;
        FLASH_OPTKEYR = 0x4C5D6E7Fu;
    }
    FLASH_OPTSR_PRG |= 1u << 31;
    FLASH_OPTCR |= 1u << 1;                     /* OPTSTART */
    while (FLASH_OPTSR_CUR & 1u) {}             /* OPT_BUSY */
    fw_check((FLASH_OPTSR_CUR & (1u << 31)) != 0, "SWAP_BANK_OPT programmed");
    FLASH_OPTCR |= 1u;                          /* OPTLOCK */
    SCB_AIRCR = 0x05FA0004u;
    __asm volatile("dsb 0xF" ::: "memory");
    for (;;) {}
}
