/*
 * Clock tree (NUCLEO-H745ZI-Q): HSE bypass 8 MHz from the ST-LINK MCO ->
 * PLL1 (M=2: 4 MHz reference, N=200: VCO 800 MHz, P=2) -> 400 MHz system
 * clock, AXI/AHB 200 MHz, APB1..4 100 MHz (USART3 kernel clock = PCLK1).
 * Supply: direct SMPS (the board's default), voltage scale 1 (400 MHz is
 * the VOS1 maximum). Flash: 2 wait states and WRHIGHFREQ=2 for 185-225 MHz
 * AXI (RM0399 4.3.8, docs/H7_FLASH.md 6.4). If the HSE does not start,
 * HSI 64 MHz / 16 feeds the PLL instead (same frequencies).
 */
#include "hw.h"

#define RCC_R(off)  MMIO32(RCC_BASE + (off))
#define PWR_R(off)  MMIO32(PWR_BASE + (off))
#define FLASH_ACR_R MMIO32(H7_FLASH_R_BASE + FLASH_ACR)

/* Flash: 2 wait states, WRHIGHFREQ = 2. */
#define ACR_400MHZ (2u | (2u << FLASH_ACR_WRHIGHFREQ_Pos))
/* Dividers: the fields hold the division minus one. */
#define DIV(n) ((n)-1u)
/* Bus prescaler encodings (RCC_DxCFGR): AHB /2 = 0x8, APB /2 = 4. */
#define HPRE_DIV2 0x8u
#define PPRE_DIV2 4u

static int wait_set(volatile uint32_t *r, uint32_t mask, uint32_t loops)
{
    while (loops--)
        if (*r & mask)
            return 0;
    return -1;
}

void clock_init(void)
{
    uint32_t src = RCC_PLLCKSELR_PLLSRC_HSE, divm = 2u;

    /* Supply configuration is write-once after power-on. */
    PWR_R(PWR_CR3) =
        (PWR_R(PWR_CR3) & ~(PWR_CR3_BYPASS | PWR_CR3_LDOEN | PWR_CR3_SDEN)) | PWR_CR3_SDEN;
    (void)wait_set(&PWR_R(PWR_CSR1), PWR_CSR1_ACTVOSRDY, 1000000u);
    PWR_R(PWR_D3CR) = (PWR_R(PWR_D3CR) & ~PWR_D3CR_VOS_Msk) | PWR_D3CR_VOS1;
    (void)wait_set(&PWR_R(PWR_D3CR), PWR_D3CR_VOSRDY, 1000000u);

    RCC_R(RCC_CR) |= RCC_CR_HSEBYP;
    RCC_R(RCC_CR) |= RCC_CR_HSEON;
    if (wait_set(&RCC_R(RCC_CR), RCC_CR_HSERDY, 1000000u)) {
        RCC_R(RCC_CR) &= ~RCC_CR_HSEON;
        src = RCC_PLLCKSELR_PLLSRC_HSI; /* 64 MHz */
        divm = 16u;
    }
    RCC_R(RCC_CR) &= ~RCC_CR_PLL1ON;
    RCC_R(RCC_PLLCKSELR) =
        (RCC_R(RCC_PLLCKSELR) & ~(RCC_PLLCKSELR_PLLSRC_Msk | RCC_PLLCKSELR_DIVM1_Msk)) | src |
        (divm << RCC_PLLCKSELR_DIVM1_Pos);
    /* PLL1: reference 4-8 MHz range (RGE=2), wide VCO, integer mode,
	 * P, Q, R outputs enabled. */
    RCC_R(RCC_PLLCFGR) = (RCC_R(RCC_PLLCFGR) & ~RCC_PLLCFGR_PLL1_Msk) |
                         (2u << RCC_PLLCFGR_PLL1RGE_Pos) | RCC_PLLCFGR_DIVP1EN |
                         RCC_PLLCFGR_DIVQ1EN | RCC_PLLCFGR_DIVR1EN;
    RCC_R(RCC_PLL1DIVR) = (DIV(200u) << RCC_PLLDIVR_DIVN_Pos) | (DIV(2u) << RCC_PLLDIVR_DIVP_Pos) |
                          (DIV(4u) << RCC_PLLDIVR_DIVQ_Pos) | (DIV(2u) << RCC_PLLDIVR_DIVR_Pos);
    RCC_R(RCC_PLL1FRACR) = 0;
    RCC_R(RCC_CR) |= RCC_CR_PLL1ON;
    (void)wait_set(&RCC_R(RCC_CR), RCC_CR_PLL1RDY, 1000000u);

    /* Flash latency before the clock goes up. */
    FLASH_ACR_R = ACR_400MHZ;
    while ((FLASH_ACR_R & (FLASH_ACR_LATENCY_Msk | FLASH_ACR_WRHIGHFREQ_Msk)) != ACR_400MHZ)
        ;
    /* D1CPRE /1, HPRE /2, D1PPRE /2; D2PPRE1/2 /2; D3PPRE /2 */
    RCC_R(RCC_D1CFGR) = (0u << RCC_D1CFGR_D1CPRE_Pos) | (HPRE_DIV2 << RCC_D1CFGR_HPRE_Pos) |
                        (PPRE_DIV2 << RCC_D1CFGR_D1PPRE_Pos);
    RCC_R(RCC_D2CFGR) =
        (PPRE_DIV2 << RCC_D2CFGR_D2PPRE1_Pos) | (PPRE_DIV2 << RCC_D2CFGR_D2PPRE2_Pos);
    RCC_R(RCC_D3CFGR) = (PPRE_DIV2 << RCC_D3CFGR_D3PPRE_Pos);
    RCC_R(RCC_CFGR) = (RCC_R(RCC_CFGR) & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL1;
    for (uint32_t n = 1000000u; n; n--)
        if (((RCC_R(RCC_CFGR) >> RCC_CFGR_SWS_Pos) & RCC_CFGR_SW_Msk) == RCC_CFGR_SW_PLL1)
            break;
}

/* Back to the reset clock (HSI 64 MHz, PLL off, prescalers /1) before
 * starting the application, so it starts as from a reset. The flash keeps
 * 2 wait states: valid at any lower clock. */
void clock_deinit(void)
{
    RCC_R(RCC_CR) |= RCC_CR_HSION;
    (void)wait_set(&RCC_R(RCC_CR), RCC_CR_HSIRDY, 1000000u);
    RCC_R(RCC_CFGR) = (RCC_R(RCC_CFGR) & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_HSI;
    for (uint32_t n = 1000000u; n; n--)
        if (((RCC_R(RCC_CFGR) >> RCC_CFGR_SWS_Pos) & RCC_CFGR_SW_Msk) == RCC_CFGR_SW_HSI)
            break;
    RCC_R(RCC_D1CFGR) = 0;
    RCC_R(RCC_D2CFGR) = 0;
    RCC_R(RCC_D3CFGR) = 0;
    RCC_R(RCC_CR) &= ~(RCC_CR_PLL1ON | RCC_CR_HSEON);
}
