/* USART3 auto-baud: the receiver measures the host's rate on the first
 * byte (CR2.ABREN, ABRMOD=00: start bit; the byte's bit 0 must be 1), then
 * echoes upper-cased and reports "BRR=<n>" once; "quit" stops the board.
 * Polled with the RX FIFO on, 120 MHz kernel clock. */
#include <stdbool.h>

#include "fw.h"

static void put_dec(uint32_t v)
{
    char d[10];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        fw_uart_putc(d[--n]);
}

int main(void)
{
    fw_clock_480mhz();
    fw_uart_init(120000000u, 115200);
    MMIO32(USART3_BASE + USART_CR1) = 0;
    MMIO32(USART3_BASE + USART_CR2) = USART_CR2_ABREN; /* ABRMOD = 00: start bit */
    /* FIFOEN: the 16-byte RX FIFO absorbs the host's burst while the
     * polled loop is busy sending. */
    MMIO32(USART3_BASE + USART_CR1) = USART_CR1_FIFOEN | USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
    char line[16];
    unsigned n = 0;
    bool reported = false;
    for (;;) {
        uint32_t isr = MMIO32(USART3_BASE + USART_ISR);
        if (isr & USART_ISR_ORE)
            MMIO32(USART3_BASE + USART_ICR) = USART_ICR_ORECF;
        if (!(isr & USART_ISR_RXNE))
            continue;
        if (!reported && (isr & USART_ISR_ABRF)) {
            reported = true;
            if (isr & USART_ISR_ABRE) {
                return 1;
            }
        }
        char c = (char)MMIO32(USART3_BASE + USART_RDR);
        if (c == '\r' && reported && n == 0) {
            fw_uart_puts("BRR=");
            put_dec(MMIO32(USART3_BASE + USART_BRR));
            fw_uart_puts("\r\n");
            continue;
        }
        if (fw_echo_line(c, line, sizeof line, &n, false))
            break;
    }
    fw_uart_flush();
    return 0;
}
