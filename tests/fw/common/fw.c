/* Support code for the test firmwares: see fw.h. */
#include "fw.h"

unsigned fw_failures;
uint32_t fw_core_hz = 64000000u;

static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt #0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void fw_puts(const char *s)
{
    semihost(0x04, s);
}

void fw_puthex(uint32_t v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    buf[10] = 0;
    fw_puts(buf);
}

void fw_putdec(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fw_puts(buf + i);
}

void fw_exit(uint32_t code)
{
    register uint32_t r0 __asm("r0") = code;
    for (;;)
        __asm volatile("bkpt #0x42" : : "r"(r0));
}

void fw_check(int ok, const char *what)
{
    fw_puts(ok ? "ok   " : "FAIL ");
    fw_puts(what);
    fw_puts("\n");
    if (!ok)
        fw_failures++;
}

void fw_cycles_start(void)
{
    DEMCR |= 1u << 24;          /* TRCENA */
    DWT_LAR = 0xC5ACCE55u;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
}

void fw_clock_480mhz(void)
{
    PWR_CR3 = (PWR_CR3 & ~0x7u) | 0x2u;                 /* LDO supply */
    while (!(PWR_CSR1 & (1u << 13))) {}                 /* ACTVOSRDY */
    PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | (3u << 14);   /* VOS1 */
    while (!(PWR_D3CR & (1u << 13))) {}
    SYSCFG_PWRCR |= 1u;                                 /* ODEN: VOS0 */
    while (!(PWR_D3CR & (1u << 13))) {}
    RCC_CR |= (1u << 18) | (1u << 16);                  /* HSEBYP, HSEON */
    while (!(RCC_CR & (1u << 17))) {}                   /* HSERDY */
    RCC_PLLCKSELR = (1u << 4) | 2u;                     /* DIVM1 = 1, HSE */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (3u << 2) | (1u << 16);  /* 8-16 MHz input, DIVP1EN */
    RCC_PLL1DIVR = (119u << 0) | (1u << 9) | (3u << 16) | (1u << 24); /* N=120, P=2, Q=4, R=2 */
    RCC_CR |= 1u << 24;                                 /* PLL1ON */
    while (!(RCC_CR & (1u << 25))) {}                   /* PLL1RDY */
    FLASH_ACR_REG = 0x24u;                                 /* 4 WS, WRHIGHFREQ 2 */
    RCC_D1CFGR = (0u << 8) | (4u << 4) | 8u;            /* core /1, D1PPRE /2, HPRE /2 */
    RCC_D2CFGR = (4u << 4) | (4u << 8);                 /* APB1 /2, APB2 /2 */
    RCC_D3CFGR = 4u << 4;
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;                   /* SW = PLL1 */
    while (((RCC_CFGR >> 3) & 7u) != 3u) {}
    fw_core_hz = 480000000u;
}

void fw_uart_init(uint32_t pclk_hz, uint32_t baud)
{
    RCC_AHB4ENR |= 1u << 3;         /* GPIOD: PD8/PD9 AF7 */
    REG(0x58020C00u) = (REG(0x58020C00u) & ~(0xFu << 16)) | (0xAu << 16);
    REG(0x58020C24u) = (REG(0x58020C24u) & ~0xFFu) | 0x77u;
    RCC_APB1LENR |= 1u << 18;       /* USART3EN */
    USART3_CR1 = 0;
    USART3_BRR = (pclk_hz + baud / 2) / baud;
    USART3_CR1 = (1u << 3) | (1u << 2) | 1u;     /* TE, RE, UE */
}

void fw_uart_putc(char c)
{
    while (!(USART3_ISR & (1u << 7))) {}
    USART3_TDR = (uint8_t)c;
}

void fw_uart_puts(const char *s)
{
    while (*s)
        fw_uart_putc(*s++);
}
