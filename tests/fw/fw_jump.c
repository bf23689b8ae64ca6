/* Image A (bank 1): hands over to image B at 0x08100000 as a boot loader
 * does: VTOR, MSP, branch to the reset handler. */
#include "fw.h"

int main(void)
{
    fw_puts("image A at 0x08000000\n");
    const uint32_t *vec = (const uint32_t *)0x08100000u;
    if (vec[0] == 0xFFFFFFFFu || (vec[1] & 0xFFF00000u) != 0x08100000u) {
        fw_puts("no image at 0x08100000\n");
        return 1;
    }
    MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
    fw_start_image(0x08100000u);
}
