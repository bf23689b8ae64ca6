/*
 * h7flash port for the STM32H745 Cortex-M7: the accessors that are not
 * inline. All of them may run while a bank is busy: RAM resident.
 */
#include <stdbool.h>

#include "h7f_port.h"
#include "stm32h7/dcb.h"
#include "stm32h7/dwt.h"
#include "stm32h7/scb.h"

uint32_t h7f_port_cpu_mhz = 64u;

__attribute__((weak)) H7F_RAMFUNC void h7f_port_poll_hook(void) {}

H7F_PORT_INLINE uint32_t reg(uint32_t a)
{
    return *(volatile uint32_t *)a;
}
H7F_PORT_INLINE void reg_set(uint32_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

H7F_RAMFUNC int h7f_io_flash_read32(uint32_t addr, uint32_t *v)
{
    uint32_t faultmask;
    __asm volatile("mrs %0, faultmask" : "=r"(faultmask));
    __asm volatile("cpsid f" ::: "memory");
    /* docs/H7_FLASH.md 3.8: a double-ECC word answers with a precise bus
     * error; with FAULTMASK set and BFHFNMIGN=1 the load completes (with
     * junk) and the error is only recorded in CFSR.BFSR (PM0253). */
    reg_set(SCB_BASE + SCB_CFSR, SCB_CFSR_BFSR_Msk);
    reg_set(SCB_BASE + SCB_CCR, reg(SCB_BASE + SCB_CCR) | SCB_CCR_BFHFNMIGN);
    h7f_io_dsb();
    h7f_io_isb();
    uint32_t val = *(volatile uint32_t *)addr;
    h7f_io_dsb();
    uint32_t bfsr = reg(SCB_BASE + SCB_CFSR) & SCB_CFSR_BFSR_Msk;
    reg_set(SCB_BASE + SCB_CFSR, bfsr);
    reg_set(SCB_BASE + SCB_CCR, reg(SCB_BASE + SCB_CCR) & ~SCB_CCR_BFHFNMIGN);
    h7f_io_dsb();
    h7f_io_isb();
    if (!(faultmask & 1u))
        __asm volatile("cpsie f" ::: "memory");
    *v = val;
    return (bfsr & SCB_CFSR_PRECISERR) ? -1 : 0;
}

/* Microseconds from the DWT cycle counter, extended past its 32-bit wrap
 * (8.9 s at 480 MHz): callers poll far more often than that. */
H7F_RAMFUNC uint32_t h7f_io_now_us(void)
{
    static bool on;
    static uint32_t last, rem, us;
    if (!on) {
        reg_set(DCB_BASE + DCB_DEMCR, reg(DCB_BASE + DCB_DEMCR) | DCB_DEMCR_TRCENA);
        reg_set(DWT_BASE + DWT_LAR, DWT_LAR_KEY);
        reg_set(DWT_BASE + DWT_CTRL, reg(DWT_BASE + DWT_CTRL) | DWT_CTRL_CYCCNTENA);
        last = reg(DWT_BASE + DWT_CYCCNT);
        on = true;
    }
    uint32_t now = reg(DWT_BASE + DWT_CYCCNT);
    uint32_t mhz = h7f_port_cpu_mhz ? h7f_port_cpu_mhz : 1u;
    rem += now - last;
    last = now;
    uint32_t d = rem / mhz;
    us += d;
    rem -= d * mhz;
    return us;
}

H7F_RAMFUNC void h7f_io_dcache_invalidate(uint32_t addr, uint32_t len)
{
    /* Invalidating with the D-cache off faulted in Zephyr
     * (docs/H7_FLASH.md 7.1). */
    if (!(reg(SCB_BASE + SCB_CCR) & SCB_CCR_DC) || len == 0)
        return;
    h7f_io_dsb();
    const uint32_t line = SCB_DCACHE_LINE;
    for (uint32_t a = addr & ~(line - 1u); a - (addr & ~(line - 1u)) < len + (addr & (line - 1u));
         a += line)
        reg_set(SCB_BASE + SCB_DCIMVAC, a);
    h7f_io_dsb();
    h7f_io_isb();
}
