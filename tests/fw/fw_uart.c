/* USART3 details a host drives through the pty (tests/vboard, uart):
 *  A: without FIFO, 8 bytes arrive while the firmware does not read:
 *     RDR keeps the first, ORE is set, the rest is lost.
 *  B: with FIFOEN, 20 bytes: 16 are kept, ORE is set.
 *  C: 8E1; the host (a pty client in 8N1) sends 0x00, 0x01, 0x03: with
 *     --check-line-format the stop bit is read as the parity bit, so 0x00
 *     and 0x03 have a parity error; without, the bytes arrive as sent.
 * Results are printed through semihosting. */
#include "fw.h"

#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_PS (1u << 9)
#define CR1_PCE (1u << 10)
#define CR1_M0 (1u << 12)
#define CR1_FIFOEN (1u << 29)
#define ISR_PE (1u << 0)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)

static void wait_us(uint32_t us)
{
    uint32_t c0 = DWT_CYCCNT;
    while (DWT_CYCCNT - c0 < us * 480u) {}
}

/* Read what is there: returns the count, sets *ore. */
static unsigned drain(char *buf, unsigned max, int *ore)
{
    unsigned n = 0;
    *ore = (USART3_ISR & ISR_ORE) != 0;
    while ((USART3_ISR & ISR_RXNE) && n < max)
        buf[n++] = (char)USART3_RDR;
    USART3_ICR = ISR_ORE;
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

    USART3_CR1 = 0;
    USART3_CR1 = CR1_FIFOEN | CR1_TE | CR1_RE | CR1_UE;
    fw_uart_puts("B\r\n");
    wait_us(8000);
    n = drain(buf, sizeof buf, &ore);
    report("B", n, ore, buf);

    USART3_CR1 = 0;
    USART3_CR1 = CR1_M0 | CR1_PCE | CR1_TE | CR1_RE | CR1_UE;   /* 8E1 */
    fw_uart_puts("C\r\n");
    for (int k = 0; k < 3; k++) {
        while (!(USART3_ISR & ISR_RXNE)) {}
        uint32_t isr = USART3_ISR;
        uint32_t d = USART3_RDR & 0xFF;
        USART3_ICR = ISR_PE;
        fw_puts("C byte=");
        fw_puthex(d);
        fw_puts((isr & ISR_PE) ? " PE\n" : " ok\n");
        fw_uart_putc('.');
    }
    while (!(USART3_ISR & (1u << 6))) {}
    return 0;
}
