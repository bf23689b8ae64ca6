/*
 * h7app: the example application the bootloader installs. Runs on the
 * reset clock (HSI 64 MHz: the bootloader hands over with the clock tree
 * back in its reset state), prints its banner on USART3 (8N1, polled, at
 * the rate the bootloader measured, else 115200), keeps IWDG1 refreshed (the bootloader started it), and returns
 * to the bootloader when the host sends 'b': handoff words at
 * BOOT_HANDOFF_ADDR, then a system reset.
 */
#include <stdint.h>

#include "boot/layout.h"

#ifndef H7APP_VERSION
#define H7APP_VERSION "1.0.0"
#endif

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_AHB4ENR   REG(0x58024400u + 0x0E0u)
#define RCC_APB1LENR  REG(0x58024400u + 0x0E8u)
#define GPIOD_MODER   REG(0x58020C00u + 0x00u)
#define GPIOD_AFRH    REG(0x58020C00u + 0x24u)
#define USART_CR1     REG(0x40004800u + 0x00u)
#define USART_BRR     REG(0x40004800u + 0x0Cu)
#define USART_ISR     REG(0x40004800u + 0x1Cu)
#define USART_ICR     REG(0x40004800u + 0x20u)
#define USART_RDR     REG(0x40004800u + 0x24u)
#define USART_TDR     REG(0x40004800u + 0x28u)
#define IWDG_KR       REG(0x58004800u)
#define SCB_VTOR      REG(0xE000ED08u)
#define SCB_AIRCR     REG(0xE000ED0Cu)

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
void app_reset(void);
static void app_fault(void);

__attribute__((section(".isr_vector"), used))
const void *const app_vectors[16] = {
	&_estack, (const void *)app_reset, (const void *)app_fault, (const void *)app_fault,
	(const void *)app_fault, (const void *)app_fault, (const void *)app_fault,
};

static void app_fault(void)
{
	for (;;)
		;
}

static void putc_(char c)
{
	while (!(USART_ISR & (1u << 7)))
		;
	USART_TDR = (uint8_t)c;
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static const char banner[] = "\r\nh7app " H7APP_VERSION " (STM32H745 CM7, running at 0x08040000)\r\n"
			     "press 'b' to return to the bootloader\r\n";

__attribute__((noreturn)) static void app_main(void)
{
	RCC_AHB4ENR |= 1u << 3;         /* GPIOD */
	RCC_APB1LENR |= 1u << 18;       /* USART3 */
	(void)RCC_APB1LENR;
	GPIOD_AFRH = (GPIOD_AFRH & ~0xFFu) | 0x77u;
	GPIOD_MODER = (GPIOD_MODER & ~(0xFu << 16)) | (0xAu << 16);
	/* The host's rate as the bootloader measured it (auto-baud), else
	 * 115200; HSI 64 MHz kernel clock. */
	volatile uint32_t *hb = (volatile uint32_t *)BOOT_HANDOFF_BAUD_ADDR;
	uint32_t baud = 115200u;

	if (hb[1] == ~hb[0] && hb[0] >= BOOT_BAUD_MIN && hb[0] <= BOOT_BAUD_MAX)
		baud = hb[0];
	USART_CR1 = 0;
	USART_BRR = (64000000u + baud / 2u) / baud;
	USART_CR1 = (1u << 2) | (1u << 3) | 1u;        /* RE, TE, UE: 8N1 */
	puts_(banner);
	for (;;) {
		IWDG_KR = 0xAAAAu;
		if (USART_ISR & (1u << 3))
			USART_ICR = 1u << 3;    /* overrun: just clear */
		if (USART_ISR & (1u << 5)) {
			char c = (char)(USART_RDR & 0xFFu);

			if (c == 'b' || c == 'B') {
				volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;

				puts_("h7app: returning to the bootloader\r\n");
				while (!(USART_ISR & (1u << 6)))
					;
				h[0] = BOOT_HANDOFF_ENTER;
				h[1] = ~BOOT_HANDOFF_ENTER;
				__asm volatile("dsb 0xF" ::: "memory");
				SCB_AIRCR = 0x05FA0004u;
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
	SCB_VTOR = (uint32_t)app_vectors;
	app_main();
	for (;;)
		;
}
