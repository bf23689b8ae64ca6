/*
 * h7flash port for the STM32H745 Cortex-M7: volatile accesses, barriers,
 * DWT cycle counter for time, SCB D-cache maintenance by address.
 *
 * Everything the driver calls while its own bank is busy is either inline
 * here (always_inline, so it lands inside the caller's RAM copy) or marked
 * H7F_RAMFUNC in h7f_port.c. The application's linker script must place
 * the ".ramfunc" input sections in ITCM (or AXI SRAM) and copy them at
 * startup, like .data.
 */
#ifndef H7F_PORT_H
#define H7F_PORT_H

#include <stdint.h>

#define H7F_RAMFUNC     __attribute__((section(".ramfunc"), noinline))
#define H7F_PORT_INLINE static inline __attribute__((always_inline))

/* Core clock in MHz, for h7f_io_now_us(); the startup code sets it
 * (default 64: the HSI clock the M7 runs on after reset). */
extern uint32_t h7f_port_cpu_mhz;
/* Called in every busy-wait loop; weak default does nothing. The
 * bootloader provides one that refreshes the watchdog; it runs while a
 * bank is busy, so it must live in RAM too (H7F_RAMFUNC). */
void h7f_port_poll_hook(void);

H7F_PORT_INLINE uint32_t h7f_io_read32(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

H7F_PORT_INLINE void h7f_io_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

H7F_PORT_INLINE void h7f_io_flash_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

H7F_PORT_INLINE void h7f_io_dsb(void)
{
    __asm volatile("dsb 0xF" ::: "memory");
}
H7F_PORT_INLINE void h7f_io_isb(void)
{
    __asm volatile("isb 0xF" ::: "memory");
}

/* Read a flash word with bus faults ignored (Zephyr's method,
 * docs/H7_FLASH.md 3.8): FAULTMASK set and SCB->CCR.BFHFNMIGN=1 make a
 * double-ECC read return without a fault; the precise bus error is then
 * found in CFSR.BFSR. */
int h7f_io_flash_read32(uint32_t addr, uint32_t *v);

uint32_t h7f_io_now_us(void);
void h7f_io_dcache_invalidate(uint32_t addr, uint32_t len);

H7F_PORT_INLINE void h7f_io_poll(void)
{
    h7f_port_poll_hook();
}

#endif
