/*
 * Minimal support for the virtual-board test firmwares: the hardware
 * description (hw/include/stm32h7), semihosting output, the stop
 * convention, clock and USART3 set-up.
 */
#ifndef FW_H
#define FW_H

#include <stdbool.h>
#include <stdint.h>

#include "stm32h7/dcb.h"
#include "stm32h7/dwt.h"
#include "stm32h7/flash.h"
#include "stm32h7/gpio.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/mmio.h"
#include "stm32h7/nvic.h"
#include "stm32h7/pwr.h"
#include "stm32h7/rcc.h"
#include "stm32h7/scb.h"
#include "stm32h7/syscfg.h"
#include "stm32h7/systick.h"
#include "stm32h7/usart.h"

#define FW_RAMFUNC __attribute__((section(".ramfunc"), noinline))

void fw_puts(const char *s);
void fw_puthex(uint32_t v);
void fw_putdec(uint32_t v);
/* Stop the board: bkpt #0x42 with r0 = code (0 = success). */
__attribute__((noreturn)) void fw_exit(uint32_t code);
/* Check helper: prints the name and counts failures. */
void fw_check(int ok, const char *what);
extern unsigned fw_failures;

/* Clock tree as a NUCLEO-H745ZI-Q firmware sets it: HSE bypass 8 MHz,
 * PLL1 960 MHz VCO, 480 MHz core, 240 MHz AHB, 120 MHz APB1, VOS0. */
void fw_clock_480mhz(void);
extern uint32_t fw_core_hz;
void fw_cycles_start(void);
static inline uint32_t fw_cycles(void)
{
    return MMIO32(DWT_BASE + DWT_CYCCNT);
}

void fw_uart_init(uint32_t pclk_hz, uint32_t baud);
void fw_uart_putc(char c);
void fw_uart_puts(const char *s);
/* Wait until the last byte has left the wire (ISR.TC). */
void fw_uart_flush(void);
/* The echo tests' line discipline: send c back in upper case, collect the
 * line in line[cap]; '\n' (and '\r' when cr_ends) ends it. True when the
 * line that ended is "quit". */
bool fw_echo_line(char c, char *line, unsigned cap, unsigned *n, bool cr_ends);

/* Programs the flash word at addr (bank 1, 32-byte aligned) with the
 * words first, first + step, ... directly through the registers (no
 * driver), then locks bank 1. Returns -1 if an error flag was raised. */
int fw_flash_program_word(uint32_t addr, uint32_t first, uint32_t step);
/* Invalidates the whole D-cache by set/way, then enables it. */
void fw_dcache_enable(void);
/* Start the image whose vector table is at vtor: interrupts off, VTOR,
 * MSP from its first word, branch to its reset vector. Does not return. */
__attribute__((noreturn)) void fw_start_image(uint32_t vtor);

/* Bank 1's FLASH_CR1 unlocked (key sequence) if it is locked. */
static inline void flash_unlock(void)
{
    if (MMIO32(H7_FLASH_REG(1u, FLASH_CR)) & FLASH_CR_LOCK) {
        MMIO32(H7_FLASH_REG(1u, FLASH_KEYR)) = FLASH_KEY1;
        MMIO32(H7_FLASH_REG(1u, FLASH_KEYR)) = FLASH_KEY2;
    }
}

int main(void);

#endif
