/*
 * The bootloader library's platform hooks (boot/boot.h "port") on the
 * host, for every test that links the library: DTCM and AXI SRAM as
 * arrays (AN3155 Read/Write Memory of host RAM, Go into RAM); an access
 * outside them stops the test. The firmware's are in boot/target/main.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "host_ram.h"

uint8_t bfx_dtcm[BFX_DTCM_BYTES];
uint8_t bfx_axi[BFX_AXI_BYTES];

static uint8_t *ram_ptr(uint32_t a, size_t n)
{
    if (a >= H7_DTCM_BASE && a + n <= H7_DTCM_BASE + H7_DTCM_SIZE)
        return bfx_dtcm + (a - H7_DTCM_BASE);
    if (a >= H7_AXISRAM_BASE && a + n <= H7_AXISRAM_BASE + H7_AXISRAM_SIZE)
        return bfx_axi + (a - H7_AXISRAM_BASE);
    fprintf(stderr, "RAM access outside the host's RAM: 0x%08x\n", (unsigned)a);
    abort();
}

void boot_port_ram_read(uint32_t addr, void *out, size_t n)
{
    memcpy(out, ram_ptr(addr, n), n);
}

void boot_port_ram_write(uint32_t addr, const void *in, size_t n)
{
    memcpy(ram_ptr(addr, n), in, n);
}

void boot_port_idle(void) {}

void bfx_ram_clear(void)
{
    memset(bfx_dtcm, 0, sizeof(bfx_dtcm));
    memset(bfx_axi, 0, sizeof(bfx_axi));
}
