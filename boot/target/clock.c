/*
 * Clock tree (NUCLEO-H745ZI-Q): HSE bypass 8 MHz from the ST-LINK MCO ->
 * PLL1 (M=2: 4 MHz reference, N=200: VCO 800 MHz, P=2) -> 400 MHz system
 * clock, AXI/AHB 200 MHz, APB1..4 100 MHz (USART3 kernel clock = PCLK1).
 * Supply: direct SMPS (the board's default), voltage scale 1 (400 MHz is
 * the VOS1 maximum). Flash: 2 wait states and WRHIGHFREQ=2 for 185-225 MHz
 * AXI (RM0399 4.3.8, docs/H7_FLASH.md 6.4). If the HSE does not start,
 * HSI 64 MHz / 16 feeds the PLL instead (same frequencies).
 */
#include "stm32h7/flash.h"
#include "hw.h"

#define FLASH_ACR_REG REG(H7_FLASH_R_BASE + FLASH_ACR)

static int wait_set(volatile uint32_t *r, uint32_t mask, uint32_t loops)
{
	while (loops--)
		if (*r & mask)
			return 0;
	return -1;
}

void clock_init(void)
{
	uint32_t src = 2u, divm = 2u;   /* HSE, /2 */

	/* Supply configuration is write-once after power-on. */
	PWR_CR3 = (PWR_CR3 & ~(PWR_CR3_BYPASS | PWR_CR3_LDOEN | PWR_CR3_SDEN)) | PWR_CR3_SDEN;
	(void)wait_set(&PWR_CSR1, PWR_CSR1_ACTVOSRDY, 1000000u);
	PWR_D3CR = (PWR_D3CR & ~PWR_D3CR_VOS_Msk) | PWR_D3CR_VOS1;
	(void)wait_set(&PWR_D3CR, PWR_D3CR_VOSRDY, 1000000u);

	RCC_CR |= RCC_CR_HSEBYP;
	RCC_CR |= RCC_CR_HSEON;
	if (wait_set(&RCC_CR, RCC_CR_HSERDY, 1000000u)) {
		RCC_CR &= ~RCC_CR_HSEON;
		src = 0u;       /* HSI 64 MHz */
		divm = 16u;
	}
	RCC_CR &= ~RCC_CR_PLL1ON;
	RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(3u | (0x3Fu << 4))) | src | (divm << 4);
	/* PLL1: reference 4-8 MHz range (RGE=2), wide VCO, integer mode,
	 * P, Q, R outputs enabled. */
	RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (2u << 2) | (1u << 16) | (1u << 17) | (1u << 18);
	RCC_PLL1DIVR = (200u - 1u) | ((2u - 1u) << 9) | ((4u - 1u) << 16) | ((2u - 1u) << 24);
	RCC_PLL1FRACR = 0;
	RCC_CR |= RCC_CR_PLL1ON;
	(void)wait_set(&RCC_CR, RCC_CR_PLL1RDY, 1000000u);

	/* Flash latency before the clock goes up. */
	FLASH_ACR_REG = 2u | (2u << FLASH_ACR_WRHIGHFREQ_Pos);
	while ((FLASH_ACR_REG & (FLASH_ACR_LATENCY_Msk | FLASH_ACR_WRHIGHFREQ_Msk)) !=
	       (2u | (2u << FLASH_ACR_WRHIGHFREQ_Pos)))
		;
	/* D1CPRE /1, HPRE /2, D1PPRE /2; D2PPRE1/2 /2; D3PPRE /2 */
	RCC_D1CFGR = (0u << 8) | 0x8u | (4u << 4);
	RCC_D2CFGR = (4u << 4) | (4u << 8);
	RCC_D3CFGR = (4u << 4);
	RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL1;
	for (uint32_t n = 1000000u; n; n--)
		if (((RCC_CFGR >> RCC_CFGR_SWS_Pos) & 7u) == RCC_CFGR_SW_PLL1)
			break;
}

/* Back to the reset clock (HSI 64 MHz, PLL off, prescalers /1) before
 * starting the application, so it starts as from a reset. The flash keeps
 * 2 wait states: valid at any lower clock. */
void clock_deinit(void)
{
	RCC_CR |= RCC_CR_HSION;
	(void)wait_set(&RCC_CR, RCC_CR_HSIRDY, 1000000u);
	RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_HSI;
	for (uint32_t n = 1000000u; n; n--)
		if (((RCC_CFGR >> RCC_CFGR_SWS_Pos) & 7u) == RCC_CFGR_SW_HSI)
			break;
	RCC_D1CFGR = 0;
	RCC_D2CFGR = 0;
	RCC_D3CFGR = 0;
	RCC_CR &= ~(RCC_CR_PLL1ON | RCC_CR_HSEON);
}
