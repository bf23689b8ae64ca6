/*
 * STM32H745 reset and clock control (RCC): register offsets from RCC_BASE
 * and bits. RM0399 section 9 (RCC), RCC register map; names as in RM0399.
 */
#ifndef STM32H7_RCC_H
#define STM32H7_RCC_H

#include "stm32h7/memorymap.h"

/* Internal oscillators (DS12110: HSI 64 MHz, CSI 4 MHz, LSI 32 kHz). The
 * core runs on the HSI after reset. */
#define RCC_HSI_HZ 64000000u
#define RCC_CSI_HZ 4000000u
#define RCC_LSI_HZ 32000u

#define RCC_CR        0x000u
#define RCC_CFGR      0x010u
#define RCC_D1CFGR    0x018u
#define RCC_D2CFGR    0x01Cu
#define RCC_D3CFGR    0x020u
#define RCC_PLLCKSELR 0x028u
#define RCC_PLLCFGR   0x02Cu
#define RCC_PLL1DIVR  0x030u
#define RCC_PLL1FRACR 0x034u
#define RCC_PLL2DIVR  0x038u
#define RCC_PLL2FRACR 0x03Cu
#define RCC_PLL3DIVR  0x040u
#define RCC_PLL3FRACR 0x044u
#define RCC_D2CCIP2R  0x054u
#define RCC_CSR       0x074u
#define RCC_APB1LRSTR 0x090u
#define RCC_GCR       0x0A0u
#define RCC_RSR       0x0D0u
#define RCC_AHB4ENR   0x0E0u
#define RCC_APB1LENR  0x0E8u
#define RCC_APB4ENR   0x0F4u
#define RCC_C1_RSR    0x130u /* RCC_RSR as the CM7 sees it */

/* RCC_CR */
#define RCC_CR_HSION      (1u << 0)
#define RCC_CR_HSIKERON   (1u << 1)
#define RCC_CR_HSIRDY     (1u << 2)
#define RCC_CR_HSIDIV_Pos 3u /* HSI 64 MHz >> HSIDIV */
#define RCC_CR_HSIDIV_Msk (3u << 3)
#define RCC_CR_HSIDIVF    (1u << 5)
#define RCC_CR_CSION      (1u << 7)
#define RCC_CR_CSIRDY     (1u << 8)
#define RCC_CR_HSI48ON    (1u << 12)
#define RCC_CR_HSI48RDY   (1u << 13)
#define RCC_CR_D1CKRDY    (1u << 14)
#define RCC_CR_D2CKRDY    (1u << 15)
#define RCC_CR_HSEON      (1u << 16)
#define RCC_CR_HSERDY     (1u << 17)
#define RCC_CR_HSEBYP     (1u << 18)
#define RCC_CR_HSECSSON   (1u << 19)
#define RCC_CR_PLL1ON     (1u << 24)
#define RCC_CR_PLL1RDY    (1u << 25)
#define RCC_CR_PLL2ON     (1u << 26)
#define RCC_CR_PLL2RDY    (1u << 27)
#define RCC_CR_PLL3ON     (1u << 28)
#define RCC_CR_PLL3RDY    (1u << 29)

/* RCC_CFGR: system clock switch SW and its status SWS (same encoding) */
#define RCC_CFGR_SW_Msk  7u
#define RCC_CFGR_SW_HSI  0u
#define RCC_CFGR_SW_CSI  1u
#define RCC_CFGR_SW_HSE  2u
#define RCC_CFGR_SW_PLL1 3u
#define RCC_CFGR_SWS_Pos 3u
#define RCC_CFGR_SWS_Msk (7u << 3)

/* RCC_D1CFGR, RCC_D2CFGR, RCC_D3CFGR: bus prescalers */
#define RCC_D1CFGR_HPRE_Pos    0u /* AHB: 0xxx /1, 1000 /2 ... 1111 /512 */
#define RCC_D1CFGR_HPRE_Msk    (0xFu << 0)
#define RCC_D1CFGR_D1PPRE_Pos  4u /* APB3: 0xx /1, 100 /2 ... 111 /16 */
#define RCC_D1CFGR_D1PPRE_Msk  (7u << 4)
#define RCC_D1CFGR_D1CPRE_Pos  8u /* CPU: encoding as HPRE */
#define RCC_D1CFGR_D1CPRE_Msk  (0xFu << 8)
#define RCC_D2CFGR_D2PPRE1_Pos 4u /* APB1 */
#define RCC_D2CFGR_D2PPRE1_Msk (7u << 4)
#define RCC_D2CFGR_D2PPRE2_Pos 8u /* APB2 */
#define RCC_D2CFGR_D2PPRE2_Msk (7u << 8)
#define RCC_D3CFGR_D3PPRE_Pos  4u /* APB4 */
#define RCC_D3CFGR_D3PPRE_Msk  (7u << 4)

/* RCC_PLLCKSELR: PLL source and the reference dividers DIVMn (0: off) */
#define RCC_PLLCKSELR_PLLSRC_Msk 3u
#define RCC_PLLCKSELR_PLLSRC_HSI 0u
#define RCC_PLLCKSELR_PLLSRC_CSI 1u
#define RCC_PLLCKSELR_PLLSRC_HSE 2u
#define RCC_PLLCKSELR_DIVM1_Pos  4u
#define RCC_PLLCKSELR_DIVM1_Msk  (0x3Fu << 4)
#define RCC_PLLCKSELR_DIVM2_Pos  12u
#define RCC_PLLCKSELR_DIVM3_Pos  20u
#define RCC_PLLCKSELR_DIVM_Msk   0x3Fu /* each DIVMn field, at its _Pos */

/* RCC_PLLCFGR: PLLn fields are 4 bits apart (n = 1..3) */
#define RCC_PLLCFGR_PLL1FRACEN  (1u << 0)
#define RCC_PLLCFGR_PLL1VCOSEL  (1u << 1) /* 0: wide VCO range */
#define RCC_PLLCFGR_PLL1RGE_Pos 2u        /* 2: 4-8 MHz reference */
#define RCC_PLLCFGR_PLL1RGE_Msk (3u << 2)
#define RCC_PLLCFGR_PLL1_Msk    0xFu /* FRACEN, VCOSEL, RGE of PLL1 */
#define RCC_PLLCFGR_PLLn_SHIFT  4u
#define RCC_PLLCFGR_DIVP1EN     (1u << 16)
#define RCC_PLLCFGR_DIVQ1EN     (1u << 17)
#define RCC_PLLCFGR_DIVR1EN     (1u << 18)

/* RCC_PLLnDIVR: each divider field holds the division minus one */
#define RCC_PLLDIVR_DIVN_Pos   0u
#define RCC_PLLDIVR_DIVN_Msk   0x1FFu
#define RCC_PLLDIVR_DIVP_Pos   9u
#define RCC_PLLDIVR_DIVQ_Pos   16u
#define RCC_PLLDIVR_DIVR_Pos   24u
#define RCC_PLLDIVR_DIVPQR_Msk 0x7Fu /* each of P, Q, R, at its _Pos */
/* RCC_PLLnFRACR */
#define RCC_PLLFRACR_FRACN_Pos 3u
#define RCC_PLLFRACR_FRACN_Msk (0x1FFFu << 3)

/* RCC_D2CCIP2R: USART2/3/4/5/7/8 kernel clock (0: PCLK1, 1: PLL2Q,
 * 2: PLL3Q, 3: HSI, 4: CSI, 5: LSE) */
#define RCC_D2CCIP2R_USART234578SEL_Msk 7u

/* RCC_CSR */
#define RCC_CSR_LSION  (1u << 0)
#define RCC_CSR_LSIRDY (1u << 1)

/* RCC_GCR */
#define RCC_GCR_BOOT_C1 (1u << 2)
#define RCC_GCR_BOOT_C2 (1u << 3) /* start the Cortex-M4 */

/* RCC_RSR / RCC_C1_RSR: reset flags, RMVF clears them */
#define RCC_RSR_RMVF      (1u << 16)
#define RCC_RSR_C1RSTF    (1u << 17)
#define RCC_RSR_C2RSTF    (1u << 18)
#define RCC_RSR_D1RSTF    (1u << 19)
#define RCC_RSR_D2RSTF    (1u << 20)
#define RCC_RSR_BORRSTF   (1u << 21)
#define RCC_RSR_PINRSTF   (1u << 22)
#define RCC_RSR_PORRSTF   (1u << 23)
#define RCC_RSR_SFT1RSTF  (1u << 24) /* software reset requested by the CM7 */
#define RCC_RSR_SFT2RSTF  (1u << 25)
#define RCC_RSR_IWDG1RSTF (1u << 26)
#define RCC_RSR_IWDG2RSTF (1u << 27)
#define RCC_RSR_WWDG1RSTF (1u << 28)
#define RCC_RSR_WWDG2RSTF (1u << 29)
#define RCC_RSR_LPWR1RSTF (1u << 30)
#define RCC_RSR_LPWR2RSTF (1u << 31)

/* Enables and resets */
#define RCC_AHB4ENR_GPIOAEN     (1u << 0)
#define RCC_AHB4ENR_GPIODEN     (1u << 3)
#define RCC_AHB4ENR_HSEMEN      (1u << 25)
#define RCC_APB1LENR_USART3EN   (1u << 18)
#define RCC_APB1LRSTR_USART3RST (1u << 18)
#define RCC_APB4ENR_SYSCFGEN    (1u << 1)

#endif /* STM32H7_RCC_H */
