/*
 * STM32H745 (CM7) registers used by the bootloader and the example
 * application outside the FLASH controller (that one is in
 * hw/include/stm32h7/flash.h). Names as in RM0399 / CMSIS stm32h745xx.h.
 */
#ifndef BOOT_HW_H
#define BOOT_HW_H

#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))

/* RCC */
#define RCC_BASE          0x58024400u
#define RCC_CR            REG(RCC_BASE + 0x000u)
#define RCC_CR_HSION      (1u << 0)
#define RCC_CR_HSIRDY     (1u << 2)
#define RCC_CR_HSEON      (1u << 16)
#define RCC_CR_HSERDY     (1u << 17)
#define RCC_CR_HSEBYP     (1u << 18)
#define RCC_CR_PLL1ON     (1u << 24)
#define RCC_CR_PLL1RDY    (1u << 25)
#define RCC_CFGR          REG(RCC_BASE + 0x010u)
#define RCC_CFGR_SW_Msk   7u
#define RCC_CFGR_SW_HSI   0u
#define RCC_CFGR_SW_PLL1  3u
#define RCC_CFGR_SWS_Pos  3u
#define RCC_D1CFGR        REG(RCC_BASE + 0x018u)
#define RCC_D2CFGR        REG(RCC_BASE + 0x01Cu)
#define RCC_D3CFGR        REG(RCC_BASE + 0x020u)
#define RCC_PLLCKSELR     REG(RCC_BASE + 0x028u)
#define RCC_PLLCFGR       REG(RCC_BASE + 0x02Cu)
#define RCC_PLL1DIVR      REG(RCC_BASE + 0x030u)
#define RCC_PLL1FRACR     REG(RCC_BASE + 0x034u)
#define RCC_D2CCIP2R      REG(RCC_BASE + 0x054u)
#define RCC_APB1LRSTR     REG(RCC_BASE + 0x090u)
#define RCC_GCR           REG(RCC_BASE + 0x0A0u)
#define RCC_GCR_BOOT_C2   (1u << 3)
#define RCC_RSR           REG(RCC_BASE + 0x0D0u)
#define RCC_AHB4ENR       REG(RCC_BASE + 0x0E0u)
#define RCC_AHB4ENR_GPIODEN (1u << 3)
#define RCC_APB1LENR      REG(RCC_BASE + 0x0E8u)
#define RCC_APB1LENR_USART3EN (1u << 18)

/* PWR */
#define PWR_BASE          0x58024800u
#define PWR_CSR1          REG(PWR_BASE + 0x04u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3           REG(PWR_BASE + 0x0Cu)
#define PWR_CR3_BYPASS    (1u << 0)
#define PWR_CR3_LDOEN     (1u << 1)
#define PWR_CR3_SDEN      (1u << 2)
#define PWR_D3CR          REG(PWR_BASE + 0x18u)
#define PWR_D3CR_VOS_Msk  (3u << 14)
#define PWR_D3CR_VOS1     (3u << 14)
#define PWR_D3CR_VOSRDY   (1u << 13)

/* IWDG1 */
#define IWDG1_BASE        0x58004800u
#define IWDG_KR           REG(IWDG1_BASE + 0x00u)
#define IWDG_PR           REG(IWDG1_BASE + 0x04u)
#define IWDG_RLR          REG(IWDG1_BASE + 0x08u)
#define IWDG_SR           REG(IWDG1_BASE + 0x0Cu)
#define IWDG_KEY_START    0xCCCCu
#define IWDG_KEY_UNLOCK   0x5555u
#define IWDG_KEY_REFRESH  0xAAAAu

/* GPIOD */
#define GPIOD_BASE        0x58020C00u
#define GPIOD_MODER       REG(GPIOD_BASE + 0x00u)
#define GPIOD_OSPEEDR     REG(GPIOD_BASE + 0x08u)
#define GPIOD_PUPDR       REG(GPIOD_BASE + 0x0Cu)
#define GPIOD_AFRH        REG(GPIOD_BASE + 0x24u)

/* USART3 */
#define USART3_BASE       0x40004800u
#define USART_CR1         REG(USART3_BASE + 0x00u)
#define USART_CR1_UE      (1u << 0)
#define USART_CR1_RE      (1u << 2)
#define USART_CR1_TE      (1u << 3)
#define USART_CR1_RXNEIE  (1u << 5)
#define USART_CR1_PS      (1u << 9)
#define USART_CR1_PCE     (1u << 10)
#define USART_CR1_M0      (1u << 12)
#define USART_CR1_M1      (1u << 28)
#define USART_CR1_FIFOEN  (1u << 29)
#define USART_CR2         REG(USART3_BASE + 0x04u)
#define USART_CR2_ABREN   (1u << 20)      /* auto-baud, ABRMOD = 00: start bit */
#define USART_CR3         REG(USART3_BASE + 0x08u)
#define USART_CR3_EIE     (1u << 0)
#define USART_BRR         REG(USART3_BASE + 0x0Cu)
#define USART_ISR         REG(USART3_BASE + 0x1Cu)
#define USART_ISR_PE      (1u << 0)
#define USART_ISR_FE      (1u << 1)
#define USART_ISR_NE      (1u << 2)
#define USART_ISR_ORE     (1u << 3)
#define USART_ISR_RXNE    (1u << 5)
#define USART_ISR_TC      (1u << 6)
#define USART_ISR_TXE     (1u << 7)
#define USART_ISR_ABRE    (1u << 14)
#define USART_ISR_ABRF    (1u << 15)
#define USART_RQR         REG(USART3_BASE + 0x18u)
#define USART_RQR_ABRRQ   (1u << 0)
#define USART_ICR         REG(USART3_BASE + 0x20u)
#define USART_RDR         REG(USART3_BASE + 0x24u)
#define USART_TDR         REG(USART3_BASE + 0x28u)
#define USART3_IRQn       39u

/* Cortex-M7 system control space */
#define SYST_CSR          REG(0xE000E010u)
#define SYST_RVR          REG(0xE000E014u)
#define SYST_CVR          REG(0xE000E018u)
#define NVIC_ISER(n)      REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)      REG(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n)      REG(0xE000E280u + 4u * (n))
#define NVIC_IPR_BYTE(n)  (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_ICSR          REG(0xE000ED04u)
#define SCB_ICSR_PENDSVCLR (1u << 27)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_VTOR          REG(0xE000ED08u)
#define SCB_AIRCR         REG(0xE000ED0Cu)
#define SCB_AIRCR_RESET   0x05FA0004u  /* VECTKEY | SYSRESETREQ */
#define SCB_CCR           REG(0xE000ED14u)
#define SCB_CCR_DC        (1u << 16)
#define SCB_CCR_IC        (1u << 17)
#define SCB_SHCSR         REG(0xE000ED24u)
#define SCB_CCSIDR        REG(0xE000ED80u)
#define SCB_CSSELR        REG(0xE000ED84u)
#define SCB_ICIALLU       REG(0xE000EF50u)
#define SCB_DCCISW        REG(0xE000EF74u)

static inline void hw_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void hw_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }
static inline void hw_irq_off(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void hw_irq_on(void) { __asm volatile("cpsie i" ::: "memory"); }

/* Core clock after clock_init() (Hz). */
#define BOOT_CORE_HZ      400000000u
#define BOOT_PCLK1_HZ     100000000u
#define BOOT_BAUD         115200u

/* boot/target/clock.c */
void clock_init(void);
void clock_deinit(void);
/* boot/target/usart.c */
void usart_init(void);
void usart_deinit(void);
/* boot/target/iwdg.c */
void iwdg_start(void);
void iwdg_refresh(void);

#endif /* BOOT_HW_H */
