/*
 * h7app: the example application the bootloader installs. Runs on the
 * reset clock (HSI 64 MHz: the bootloader hands over with the clock tree
 * back in its reset state), prints its banner on USART3 (8N1, polled, at
 * the rate the bootloader measured, else 115200), keeps IWDG1 refreshed (the bootloader started it), and returns
 * to the bootloader when the host sends 'b': handoff words at
 * BOOT_HANDOFF_ADDR, then a system reset.
 *
 * The same source, linked at 0x08020000 (app_ab.ld: h7app_ab,
 * h7app_ab_noconfirm), runs in the A/B layout (docs/PROTOCOL.md "A/B
 * updates"): h7boot_ab leaves the image's state in the handoff words
 * (BOOT_HANDOFF_AB_TRIAL or _CONFIRMED, and its sequence). An image on
 * trial confirms itself (the confirm API: app_confirm(), the handoff word
 * BOOT_HANDOFF_CONFIRM and a reset; h7boot_ab programs the CONFIRM word and
 * starts the image again) once it is up, unless built with
 * H7APP_AUTO_CONFIRM=0 (h7app_ab_noconfirm); then the host confirms it
 * ('c', h7iap confirm), or it is rolled back after its trials. 'w' stops
 * refreshing the watchdog (a hung image: rollback test).
 *
 * The trial budget: an image on trial that is not confirmed within
 * H7APP_TRIAL_BUDGET_MS (SysTick, 1 ms ticks of the 64 MHz core clock)
 * stops refreshing IWDG1; the watchdog reset makes h7boot_ab reject it and
 * swap back. The budget is the image's own policy, as the watchdog is the
 * only thing the bootloader leaves running (docs/PROTOCOL.md "A/B
 * updates").
 */
#include <stdbool.h>
#include <stdint.h>

#include "h7_layout.h"
#include "stm32h7/gpio.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/mmio.h"
#include "stm32h7/nvic.h"
#include "stm32h7/rcc.h"
#include "stm32h7/scb.h"
#include "stm32h7/systick.h"
#include "stm32h7/usart.h"

#ifndef H7APP_VERSION
#define H7APP_VERSION "1.0.0"
#endif
#ifndef H7APP_AUTO_CONFIRM
#define H7APP_AUTO_CONFIRM 1
#endif
#define H7APP_TRIAL_BUDGET_MS 20000u

#define USART3_R(off) MMIO32(USART3_BASE + (off))

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;

/* The layout as app.ld must match it (its ASSERTs). */
__attribute__((used)) static void layout_for_ld(void)
{
    H7_LAYOUT_LD_SYMBOL(h7_ld_app_start, BOOT_APP_START);
    H7_LAYOUT_LD_SYMBOL(h7_ld_app_size, BOOT_APP_SIZE);
    H7_LAYOUT_LD_SYMBOL(h7_ld_ab_slot_start, BOOT_AB_SLOT_START);
    H7_LAYOUT_LD_SYMBOL(h7_ld_ab_image_max, BOOT_AB_IMAGE_MAX);
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

static void put_hex(uint32_t v)
{
    puts_("0x");
    for (int i = 28; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15u]);
}

static void put_dec(uint32_t v)
{
    char b[11];
    int i = 0;

    do
        b[i++] = (char)('0' + v % 10u);
    while ((v /= 10u) != 0);
    while (i)
        putc_(b[--i]);
}

/* A/B state from h7boot_ab: 0 (not an A/B start), BOOT_HANDOFF_AB_TRIAL or
 * BOOT_HANDOFF_AB_CONFIRMED; the image's sequence. */
static uint32_t ab_state, ab_seq;

static void banner(void)
{
    puts_("\r\nh7app " H7APP_VERSION " (STM32H745 CM7, running at ");
    put_hex((uint32_t)app_vectors);
    puts_(")\r\n");
    if (ab_state) {
        puts_("h7app: A/B image #");
        put_dec(ab_seq);
        puts_(ab_state == BOOT_HANDOFF_AB_TRIAL ? ", on trial\r\n" : ", confirmed\r\n");
    }
    puts_("press 'b' to return to the bootloader\r\n");
}

/* Ask the bootloader for something across a reset (handoff words). */
__attribute__((noreturn)) static void to_bootloader(uint32_t req)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;

    while (!(USART3_R(USART_ISR) & USART_ISR_TC))
        ;
    h[0] = req;
    h[1] = ~req;
    __asm volatile("dsb 0xF" ::: "memory");
    MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    for (;;)
        ;
}

/* The confirm API of the A/B layout: the image on trial tells h7boot_ab
 * that it works (the bootloader programs its CONFIRM word, then starts it
 * again, confirmed). */
__attribute__((noreturn)) static void app_confirm(void)
{
    puts_("h7app: confirming image #");
    put_dec(ab_seq);
    puts_("\r\n");
    to_bootloader(BOOT_HANDOFF_CONFIRM);
}

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
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;

    if (h[0] == BOOT_HANDOFF_AB_TRIAL || h[0] == BOOT_HANDOFF_AB_CONFIRMED) {
        ab_state = h[0];
        ab_seq = h[1];
    }
    h[0] = 0;
    h[1] = 0;
    banner();
    /* Up and talking: an image on trial confirms itself. */
    if (ab_state == BOOT_HANDOFF_AB_TRIAL && H7APP_AUTO_CONFIRM)
        app_confirm();
    bool hung = false;
    uint32_t trial_ms = 0;

    MMIO32(SYSTICK_BASE + SYST_RVR) = RCC_HSI_HZ / 1000u - 1u;
    MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
    MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE;
    for (;;) {
        if (!hung)
            MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
        if (ab_state == BOOT_HANDOFF_AB_TRIAL && !hung &&
            (MMIO32(SYSTICK_BASE + SYST_CSR) & SYST_CSR_COUNTFLAG) &&
            ++trial_ms >= H7APP_TRIAL_BUDGET_MS) {
            puts_("h7app: not confirmed within the trial budget: no more watchdog refreshes\r\n");
            hung = true;
        }
        if (USART3_R(USART_ISR) & USART_ISR_ORE)
            USART3_R(USART_ICR) = USART_ICR_ORECF; /* overrun: just clear */
        if (USART3_R(USART_ISR) & USART_ISR_RXNE) {
            char c = (char)(USART3_R(USART_RDR) & 0xFFu);

            if (c == 'b' || c == 'B') {
                puts_("h7app: returning to the bootloader\r\n");
                to_bootloader(BOOT_HANDOFF_ENTER);
            }
            if (c == 'c' || c == 'C') {
                if (ab_state == BOOT_HANDOFF_AB_TRIAL)
                    app_confirm();
                puts_(ab_state ? "h7app: confirmed already\r\n"
                               : "h7app: not started by h7boot_ab, nothing to confirm\r\n");
            }
            if (c == 'w' || c == 'W') {
                puts_("h7app: no more watchdog refreshes\r\n");
                hung = true;
            }
            if (c == '\r' || c == 'v')
                banner();
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
