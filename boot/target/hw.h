/*
 * Bootloader target code (boot/target/): the hardware description it uses
 * (hw/include/stm32h7, docs/DESIGN.md "Hardware description"), barriers,
 * the clock figures clock_init() sets up, and the target-only functions.
 */
#ifndef BOOT_HW_H
#define BOOT_HW_H

#include <stdint.h>

#include "stm32h7/flash.h"
#include "stm32h7/gpio.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/mmio.h"
#include "stm32h7/nvic.h"
#include "stm32h7/pwr.h"
#include "stm32h7/rcc.h"
#include "stm32h7/scb.h"
#include "stm32h7/systick.h"
#include "stm32h7/usart.h"

static inline void hw_dsb(void)
{
    __asm volatile("dsb 0xF" ::: "memory");
}
static inline void hw_isb(void)
{
    __asm volatile("isb 0xF" ::: "memory");
}
static inline void hw_irq_off(void)
{
    __asm volatile("cpsid i" ::: "memory");
}
static inline void hw_irq_on(void)
{
    __asm volatile("cpsie i" ::: "memory");
}

/* Core clock after clock_init() (Hz). */
#define BOOT_CORE_HZ 400000000u
#define BOOT_BAUD    115200u
/* BOOT_PCLK1_HZ (USART3's kernel clock): boot/serial.h. */

/* boot/target/clock.c */
void clock_init(void);
void clock_deinit(void);
/* boot/target/usart.c */
void usart_init(void);
void usart_deinit(void);
/* boot/target/iwdg.c */
void iwdg_start(void);
void iwdg_refresh(void);

#endif /* BOOT_HW_H */
