/* USART3 auto-baud: the receiver measures the host's rate on the first
 * byte (CR2.ABREN, ABRMOD=00: start bit; the byte's bit 0 must be 1), then
 * echoes upper-cased and reports "BRR=<n>" once; "quit" stops the board.
 * Polled with the RX FIFO on, 120 MHz kernel clock. */
#include <stdbool.h>

#include "fw.h"

#define USART3_CR2 REG(0x40004804u)
#define USART3_BRR_R REG(0x4000480Cu)

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
    USART3_CR1 = 0;
    USART3_CR2 = 1u << 20;                  /* ABREN, ABRMOD = 00 */
    /* FIFOEN: the 16-byte RX FIFO absorbs the host's burst while the
     * polled loop is busy sending. */
    USART3_CR1 = (1u << 29) | (1u << 3) | (1u << 2) | 1u;
    char line[16];
    unsigned n = 0;
    bool reported = false;
    for (;;) {
        uint32_t isr = USART3_ISR;
        if (isr & (1u << 3))
            USART3_ICR = 1u << 3;
        if (!(isr & (1u << 5)))
            continue;
        if (!reported && (isr & (1u << 15))) {      /* ABRF */
            reported = true;
            if (isr & (1u << 14)) {                 /* ABRE */
                return 1;
            }
        }
        char c = (char)USART3_RDR;
        if (c == '\r' && reported && n == 0) {
            fw_uart_puts("BRR=");
            put_dec(USART3_BRR_R);
            fw_uart_puts("\r\n");
            continue;
        }
        fw_uart_putc((c >= 'a' && c <= 'z') ? (char)(c - 32) : c);
        if (c == '\n') {
            if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't')
                break;
            n = 0;
        } else if (n < sizeof line) {
            line[n++] = c;
        }
    }
    while (!(USART3_ISR & (1u << 6))) {}
    return 0;
}
