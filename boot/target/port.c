/*
 * What both bootloader firmwares (h7boot: main.c, h7boot_ab: main_ab.c)
 * give the core: the boot_port_* hooks of boot/boot.h, and the layout
 * symbols boot.ld checks with its ASSERTs.
 */
#include <string.h>

#include "boot/boot.h"
#include "hw.h"

void boot_port_idle(void)
{
    iwdg_refresh();
}

void boot_port_ram_read(uint32_t addr, void *out, size_t n)
{
    memcpy(out, (const void *)addr, n);
}

void boot_port_ram_write(uint32_t addr, const void *in, size_t n)
{
    memcpy((void *)addr, in, n);
}

/* The layout as boot.ld must match it (its ASSERTs). */
__attribute__((used)) static void layout_for_ld(void)
{
    H7_LAYOUT_LD_SYMBOL(h7_ld_code_base, BOOT_CODE_BASE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_code_size, BOOT_CODE_SIZE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_ram_base, BOOT_RAM_BASE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_handoff, BOOT_HANDOFF_ADDR);
    H7_LAYOUT_LD_SYMBOL(h7_ld_itcm_end, H7_ITCM_BASE + H7_ITCM_SIZE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_axi_base, H7_AXISRAM_BASE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_axi_size, H7_AXISRAM_SIZE);
}
