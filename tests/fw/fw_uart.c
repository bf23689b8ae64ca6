/* USART3 details a host drives through the pty (tests/vboard, uart):
 *  A: without FIFO, 8 bytes arrive while the firmware does not read:
 *     RDR keeps the first, ORE is set, the rest is lost.
 *  B: with FIFOEN, 20 bytes: 16 are kept, ORE is set.
 *  C: 8E1; the host (a pty client in 8N1) sends 0x00, 0x01, 0x03: with
 *     --check-line-format the stop bit is read as the parity bit, so 0x00
 *     and 0x03 have a parity error; without, the bytes arrive as sent.
 * Results are printed through semihosting. */
#include "fw.h"

static void wait_us(uint32_t us)
{
    uint32_t c0 = MMIO32(DWT_BASE + DWT_CYCCNT);
    while (MMIO32(DWT_BASE + DWT_CYCCNT) - c0 < us * 480u) {
    }
}

/* Read what is there: returns the count, sets *ore. */
static unsigned drain(char *buf, unsigned max, int *ore)
{
    unsigned n = 0;
    *ore = (MMIO32(USART3_BASE + USART_ISR) & USART_ISR_ORE) != 0;
    while ((MMIO32(USART3_BASE + USART_ISR) & USART_ISR_RXNE) && n < max)
        buf[n++] = (char)MMIO32(USART3_BASE + USART_RDR);
    MMIO32(USART3_BASE + USART_ICR) = USART_ICR_ORECF;
    return n;
}

static void report(const char *tag, unsigned n, int ore, const char *buf)
{
    fw_puts(tag);
    fw_puts(" n=");
    fw_putdec(n);
    fw_puts(ore ? " ORE first=" : " noORE first=");
    char c[2] = { n ? buf[0] : '-', 0 };
    fw_puts(c);
    fw_puts("\n");
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    fw_uart_init(120000000u, 115200);
    char buf[32];
    int ore;

    fw_uart_puts("A\r\n");
    wait_us(8000);
    unsigned n = drain(buf, sizeof buf, &ore);
    report("A", n, ore, buf);

    MMIO32(USART3_BASE + USART_CR1) = 0;
    MMIO32(USART3_BASE + USART_CR1) = USART_CR1_FIFOEN | USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
    fw_uart_puts("B\r\n");
    wait_us(8000);
    n = drain(buf, sizeof buf, &ore);
    report("B", n, ore, buf);

    MMIO32(USART3_BASE + USART_CR1) = 0;
    MMIO32(USART3_BASE + USART_CR1) =
        USART_CR1_M0 | USART_CR1_PCE | USART_CR1_TE | USART_CR1_RE | USART_CR1_UE; /* 8E1 */
    fw_uart_puts("C\r\n");
    for (int k = 0; k < 3; k++) {
        while (!(MMIO32(USART3_BASE + USART_ISR) & USART_ISR_RXNE)) {
        }
        uint32_t isr = MMIO32(USART3_BASE + USART_ISR);
        uint32_t d = MMIO32(USART3_BASE + USART_RDR) & 0xFF;
        MMIO32(USART3_BASE + USART_ICR) = USART_ICR_PECF;
        fw_puts("C byte=");
        fw_puthex(d);
        fw_puts((isr & USART_ISR_PE) ? " PE\n" : " ok\n");
        fw_uart_putc('.');
    }
    while (!(MMIO32(USART3_BASE + USART_ISR) & USART_ISR_TC)) {
    }
    return 0;
}
