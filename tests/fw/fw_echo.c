/* USART3 echo through interrupts: every received byte is sent back
 * upper-cased; the line "quit" stops the board. Prints "READY\r\n" first.
 * 115200 8N1 from the 120 MHz APB1 clock. */
#include "fw.h"

static volatile uint8_t rxbuf[256];
static volatile uint32_t rx_head, rx_tail;

void USART3_IRQHandler(void)
{
    uint32_t isr = MMIO32(USART3_BASE + USART_ISR);
    if (isr & USART_ISR_ORE)
        MMIO32(USART3_BASE + USART_ICR) = USART_ICR_ORECF;
    while (MMIO32(USART3_BASE + USART_ISR) & USART_ISR_RXNE) {
        rxbuf[rx_head & 255] = (uint8_t)MMIO32(USART3_BASE + USART_RDR);
        rx_head++;
    }
}

int main(void)
{
    fw_clock_480mhz();
    fw_uart_init(120000000u, 115200);
    MMIO32(SYSTICK_BASE + SYST_RVR) = 480000u - 1; /* a 1 kHz tick, as a real firmware has */
    MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
    MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    MMIO32(USART3_BASE + USART_CR1) |= USART_CR1_RXNEIE;
    MMIO32(NVIC_BASE + NVIC_ISER(USART3_IRQn / 32)) = 1u << (USART3_IRQn % 32);
    fw_uart_puts("READY\r\n");
    char line[16];
    unsigned n = 0;
    for (;;) {
        __asm volatile("cpsid i");
        if (rx_tail == rx_head) {
            __asm volatile("wfi");
            __asm volatile("cpsie i");
            continue;
        }
        __asm volatile("cpsie i");
        char c = (char)rxbuf[rx_tail & 255];
        rx_tail++;
        if (fw_echo_line(c, line, sizeof line, &n, true))
            break;
    }
    fw_uart_flush();
    return 0;
}

void SysTick_Handler(void) {}
