/* The host's DTCM and AXI SRAM behind the bootloader library's RAM hooks
 * (host_ram.c). */
#ifndef TESTS_BOOT_HOST_RAM_H
#define TESTS_BOOT_HOST_RAM_H

#include <stdint.h>

#define BFX_DTCM_BYTES 0x20000u
#define BFX_AXI_BYTES  0x80000u

extern uint8_t bfx_dtcm[BFX_DTCM_BYTES];
extern uint8_t bfx_axi[BFX_AXI_BYTES];

/* Both zeroed (a power-on). */
void bfx_ram_clear(void);

#endif
