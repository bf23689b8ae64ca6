/*
 * h7app: the example application the bootloader installs. Runs on the
 * reset clock (HSI 64 MHz: the bootloader hands over with the clock tree
 * back in its reset state), prints its banner on USART3 (8N1, polled, at
 * the rate the bootloader measured, else 115200), keeps IWDG1 refreshed (the bootloader started it), and returns
 * to the bootloader when the host sends 'b': handoff words at
 * BOOT_HANDOFF_ADDR, then a system reset.
 */
#include <stdint.h>

#include "h7_layout.h"
#include "stm32h7/gpio.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/mmio.h"
#include "stm32h7/nvic.h"
#include "stm32h7/rcc.h"
#include "stm32h7/scb.h"
#include "stm32h7/usart.h"

#ifndef H7APP_VERSION
#define H7APP_VERSION "1.0.0"
#endif

#define USART3_R(off) MMIO32(USART3_BASE + (off))

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;

/* The layout as app.ld must match it (its ASSERTs). */
__attribute__((used)) static void layout_for_ld(void)
{
    H7_LAYOUT_LD_SYMBOL(h7_ld_app_start, BOOT_APP_START);
    H7_LAYOUT_LD_SYMBOL(h7_ld_app_size, BOOT_APP_SIZE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_axisram_base, H7_AXISRAM_BASE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_axisram_size, H7_AXISRAM_SIZE);
}
void app_reset(void);
static void app_fault(void);

__attribute__((section(".isr_vector"), used)) const void *const app_vectors[EXC_IRQ0] = {
    &_estack,
    (const void *)app_reset,
    (const void *)app_fault,
    (const void *)app_fault,
    (const void *)app_fault,
    (const void *)app_fault,
    (const void *)app_fault,
};

static void app_fault(void)
{
    for (;;)
        ;
}

static void putc_(char c)
{
    while (!(USART3_R(USART_ISR) & USART_ISR_TXE))
        ;
    USART3_R(USART_TDR) = (uint8_t)c;
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static const char banner[] =
    "\r\nh7app " H7APP_VERSION " (STM32H745 CM7, running at 0x08040000)\r\n"
    "press 'b' to return to the bootloader\r\n";

__attribute__((noreturn)) static void app_main(void)
{
    MMIO32(RCC_BASE + RCC_AHB4ENR) |= RCC_AHB4ENR_GPIODEN;
    MMIO32(RCC_BASE + RCC_APB1LENR) |= RCC_APB1LENR_USART3EN;
    (void)MMIO32(RCC_BASE + RCC_APB1LENR);
    /* PD8 TX, PD9 RX: alternate function 7 */
    MMIO32(GPIOD_BASE + GPIO_AFRH) =
        (MMIO32(GPIOD_BASE + GPIO_AFRH) & ~(GPIO_AF_Msk(8) | GPIO_AF_Msk(9))) | GPIO_AF(8, 7u) |
        GPIO_AF(9, 7u);
    MMIO32(GPIOD_BASE + GPIO_MODER) =
        (MMIO32(GPIOD_BASE + GPIO_MODER) & ~(GPIO_PIN2_Msk(8) | GPIO_PIN2_Msk(9))) |
        GPIO_PIN2(8, GPIO_MODE_AF) | GPIO_PIN2(9, GPIO_MODE_AF);
    /* The host's rate as the bootloader measured it (auto-baud), else
	 * 115200; HSI 64 MHz kernel clock. */
    volatile uint32_t *hb = (volatile uint32_t *)BOOT_HANDOFF_BAUD_ADDR;
    uint32_t baud = 115200u;

    if (hb[1] == ~hb[0] && hb[0] >= BOOT_BAUD_MIN && hb[0] <= BOOT_BAUD_MAX)
        baud = hb[0];
    USART3_R(USART_CR1) = 0;
    USART3_R(USART_BRR) = (RCC_HSI_HZ + baud / 2u) / baud;
    USART3_R(USART_CR1) = USART_CR1_RE | USART_CR1_TE | USART_CR1_UE; /* 8N1 */
    puts_(banner);
    for (;;) {
        MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
        if (USART3_R(USART_ISR) & USART_ISR_ORE)
            USART3_R(USART_ICR) = USART_ICR_ORECF; /* overrun: just clear */
        if (USART3_R(USART_ISR) & USART_ISR_RXNE) {
            char c = (char)(USART3_R(USART_RDR) & 0xFFu);

            if (c == 'b' || c == 'B') {
                volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;

                puts_("h7app: returning to the bootloader\r\n");
                while (!(USART3_R(USART_ISR) & USART_ISR_TC))
                    ;
                h[0] = BOOT_HANDOFF_ENTER;
                h[1] = ~BOOT_HANDOFF_ENTER;
                __asm volatile("dsb 0xF" ::: "memory");
                MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
                for (;;)
                    ;
            }
            if (c == '\r' || c == 'v')
                puts_(banner);
        }
    }
}

__attribute__((noreturn)) void app_reset(void)
{
    uint32_t *s, *d;

    for (s = &_sidata, d = &_sdata; d < &_edata;)
        *d++ = *s++;
    for (d = &_sbss; d < &_ebss;)
        *d++ = 0;
    MMIO32(SCB_BASE + SCB_VTOR) = (uint32_t)app_vectors;
    app_main();
    for (;;)
        ;
}
