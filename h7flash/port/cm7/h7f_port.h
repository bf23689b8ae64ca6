/*
 * h7flash port for the STM32H745 Cortex-M7: volatile accesses, barriers,
 * DWT cycle counter for time, SCB D-cache maintenance by address.
 */
#ifndef H7F_PORT_H
#define H7F_PORT_H

#include <stdint.h>

#define H7F_RAMFUNC __attribute__((section(".ramfunc"), noinline))

/* Core clock in MHz, for h7f_io_now_us(); the startup code sets it. */
extern uint32_t h7f_port_cpu_mhz;
/* Called in every busy-wait loop; weak default does nothing. The
 * bootloader provides one that refreshes the watchdog. */
void h7f_port_poll_hook(void);

#define H7F_SCB_CCR        0xE000ED14u
#define H7F_SCB_CCR_DC     (1u << 16)
#define H7F_SCB_DCIMVAC    0xE000EF5Cu
#define H7F_SCB_CFSR       0xE000ED28u
#define H7F_SCB_CFSR_BFSR_MASK 0x0000FF00u
#define H7F_SCB_CCR_BFHFNMIGN (1u << 8)
#define H7F_DWT_CYCCNT     0xE0001004u

static inline uint32_t h7f_io_read32(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void h7f_io_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

static inline void h7f_io_flash_write32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

static inline void h7f_io_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void h7f_io_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }

/* Read a flash word with bus faults ignored (facts 7.3, Zephyr's method):
 * FAULTMASK set and SCB->CCR.BFHFNMIGN=1 make a double-ECC read return
 * without a fault; the precise bus error is then found in CFSR.BFSR. */
int h7f_io_flash_read32(uint32_t addr, uint32_t *v);

uint32_t h7f_io_now_us(void);
void h7f_io_dcache_invalidate(uint32_t addr, uint32_t len);

static inline void h7f_io_poll(void) { h7f_port_poll_hook(); }

#endif
