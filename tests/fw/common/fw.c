/* Support code for the test firmwares: see fw.h. */
#include "fw.h"

unsigned fw_failures;
uint32_t fw_core_hz = RCC_HSI_HZ;

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

int fw_flash_program_word(uint32_t addr, uint32_t first, uint32_t step)
{
    flash_unlock();
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = 0x1FFF0000u;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64 | FLASH_CR_PG;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    for (uint32_t i = 0; i < H7_FLASH_WORD / 4u; i++)
        *(volatile uint32_t *)(addr + 4u * i) = first + i * step;
    __asm volatile("dsb 0xF" ::: "memory");
    while (MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & (FLASH_SR_BSY | FLASH_SR_QW | FLASH_SR_WBNE)) {
    }
    uint32_t sr = MMIO32(H7_FLASH_REG(1u, FLASH_SR));
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_LOCK;
    return (sr & FLASH_SR_ALL_ERRORS) ? -1 : 0;
}

void fw_dcache_enable(void)
{
    __asm volatile("dsb 0xF" ::: "memory");
    MMIO32(SCB_BASE + SCB_CSSELR) = 0; /* L1 data cache */
    __asm volatile("dsb 0xF" ::: "memory");
    uint32_t ccsidr = MMIO32(SCB_BASE + SCB_CCSIDR);
    uint32_t sets = (ccsidr >> SCB_CCSIDR_NSETS_Pos) & SCB_CCSIDR_NSETS_Msk;
    do {
        uint32_t ways = (ccsidr >> SCB_CCSIDR_ASSOC_Pos) & SCB_CCSIDR_ASSOC_Msk;
        do {
            MMIO32(SCB_BASE + SCB_DCISW) = (sets << SCB_DCSW_SET_Pos) | (ways << SCB_DCSW_WAY_Pos);
        } while (ways--);
    } while (sets--);
    __asm volatile("dsb 0xF" ::: "memory");
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_DC;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
}

void fw_cycles_start(void)
{
    MMIO32(DCB_BASE + DCB_DEMCR) |= DCB_DEMCR_TRCENA;
    MMIO32(DWT_BASE + DWT_LAR) = DWT_LAR_KEY;
    MMIO32(DWT_BASE + DWT_CYCCNT) = 0;
    MMIO32(DWT_BASE + DWT_CTRL) |= DWT_CTRL_CYCCNTENA;
}

#define RCC_R(off) MMIO32(RCC_BASE + (off))
#define PWR_R(off) MMIO32(PWR_BASE + (off))

void fw_clock_480mhz(void)
{
    PWR_R(PWR_CR3) = (PWR_R(PWR_CR3) & ~(PWR_CR3_BYPASS | PWR_CR3_LDOEN | PWR_CR3_SDEN)) |
                     PWR_CR3_LDOEN; /* LDO supply */
    while (!(PWR_R(PWR_CSR1) & PWR_CSR1_ACTVOSRDY)) {
    }
    PWR_R(PWR_D3CR) = (PWR_R(PWR_D3CR) & ~PWR_D3CR_VOS_Msk) | PWR_D3CR_VOS1;
    while (!(PWR_R(PWR_D3CR) & PWR_D3CR_VOSRDY)) {
    }
    MMIO32(SYSCFG_BASE + SYSCFG_PWRCR) |= SYSCFG_PWRCR_ODEN; /* VOS0 */
    while (!(PWR_R(PWR_D3CR) & PWR_D3CR_VOSRDY)) {
    }
    RCC_R(RCC_CR) |= RCC_CR_HSEBYP | RCC_CR_HSEON;
    while (!(RCC_R(RCC_CR) & RCC_CR_HSERDY)) {
    }
    RCC_R(RCC_PLLCKSELR) = (1u << RCC_PLLCKSELR_DIVM1_Pos) | RCC_PLLCKSELR_PLLSRC_HSE;
    RCC_R(RCC_PLLCFGR) = (RCC_R(RCC_PLLCFGR) & ~RCC_PLLCFGR_PLL1_Msk) |
                         (3u << RCC_PLLCFGR_PLL1RGE_Pos) | RCC_PLLCFGR_DIVP1EN; /* 8-16 MHz input */
    RCC_R(RCC_PLL1DIVR) = ((120u - 1u) << RCC_PLLDIVR_DIVN_Pos) |
                          ((2u - 1u) << RCC_PLLDIVR_DIVP_Pos) |
                          ((4u - 1u) << RCC_PLLDIVR_DIVQ_Pos) | ((2u - 1u) << RCC_PLLDIVR_DIVR_Pos);
    RCC_R(RCC_CR) |= RCC_CR_PLL1ON;
    while (!(RCC_R(RCC_CR) & RCC_CR_PLL1RDY)) {
    }
    MMIO32(H7_FLASH_R_BASE + FLASH_ACR) = 4u | (2u << FLASH_ACR_WRHIGHFREQ_Pos); /* 4 WS */
    RCC_R(RCC_D1CFGR) = (0u << RCC_D1CFGR_D1CPRE_Pos) | (4u << RCC_D1CFGR_D1PPRE_Pos) |
                        (8u << RCC_D1CFGR_HPRE_Pos); /* core /1, D1PPRE /2, HPRE /2 */
    RCC_R(RCC_D2CFGR) =
        (4u << RCC_D2CFGR_D2PPRE1_Pos) | (4u << RCC_D2CFGR_D2PPRE2_Pos); /* /2, /2 */
    RCC_R(RCC_D3CFGR) = 4u << RCC_D3CFGR_D3PPRE_Pos;
    RCC_R(RCC_CFGR) = (RCC_R(RCC_CFGR) & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL1;
    while (((RCC_R(RCC_CFGR) >> RCC_CFGR_SWS_Pos) & RCC_CFGR_SW_Msk) != RCC_CFGR_SW_PLL1) {
    }
    fw_core_hz = 480000000u;
}

void fw_uart_init(uint32_t pclk_hz, uint32_t baud)
{
    RCC_R(RCC_AHB4ENR) |= RCC_AHB4ENR_GPIODEN; /* PD8/PD9: AF7 */
    MMIO32(GPIOD_BASE + GPIO_MODER) =
        (MMIO32(GPIOD_BASE + GPIO_MODER) & ~(GPIO_PIN2_Msk(8) | GPIO_PIN2_Msk(9))) |
        GPIO_PIN2(8, GPIO_MODE_AF) | GPIO_PIN2(9, GPIO_MODE_AF);
    MMIO32(GPIOD_BASE + GPIO_AFRH) =
        (MMIO32(GPIOD_BASE + GPIO_AFRH) & ~(GPIO_AF_Msk(8) | GPIO_AF_Msk(9))) | GPIO_AF(8, 7u) |
        GPIO_AF(9, 7u);
    RCC_R(RCC_APB1LENR) |= RCC_APB1LENR_USART3EN;
    MMIO32(USART3_BASE + USART_CR1) = 0;
    MMIO32(USART3_BASE + USART_BRR) = (pclk_hz + baud / 2) / baud;
    MMIO32(USART3_BASE + USART_CR1) = USART_CR1_TE | USART_CR1_RE | USART_CR1_UE;
}

void fw_uart_putc(char c)
{
    while (!(MMIO32(USART3_BASE + USART_ISR) & USART_ISR_TXE)) {
    }
    MMIO32(USART3_BASE + USART_TDR) = (uint8_t)c;
}

void fw_uart_puts(const char *s)
{
    while (*s)
        fw_uart_putc(*s++);
}

void fw_uart_flush(void)
{
    while (!(MMIO32(USART3_BASE + USART_ISR) & USART_ISR_TC)) {
    }
}

bool fw_echo_line(char c, char *line, unsigned cap, unsigned *n, bool cr_ends)
{
    fw_uart_putc((c >= 'a' && c <= 'z') ? (char)(c - 32) : c);
    if (c == '\n' || (cr_ends && c == '\r')) {
        bool quit = *n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't';
        *n = 0;
        return quit;
    }
    if (*n < cap)
        line[(*n)++] = c;
    return false;
}

void fw_start_image(uint32_t vtor)
{
    const uint32_t *vec = (const uint32_t *)vtor;

    __asm volatile("cpsid i" ::: "memory");
    MMIO32(SCB_BASE + SCB_VTOR) = vtor;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    __asm volatile("msr msp, %0\n"
                   "cpsie i\n"
                   "bx %1\n"
                   :
                   : "r"(vec[0]), "r"(vec[1])
                   : "memory");
    __builtin_unreachable();
}
