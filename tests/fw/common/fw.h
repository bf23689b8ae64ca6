/*
 * Minimal support for the virtual-board test firmwares: registers,
 * semihosting output, the stop convention, clock and USART3 set-up.
 */
#ifndef FW_H
#define FW_H

#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))

/* SCS */
#define SYST_CSR   REG(0xE000E010u)
#define SYST_RVR   REG(0xE000E014u)
#define SYST_CVR   REG(0xE000E018u)
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG(0xE000E180u + 4u * (n))
#define NVIC_ISPR(n) REG(0xE000E200u + 4u * (n))
#define NVIC_IPR8(n) (*(volatile uint8_t *)(0xE000E400u + (n)))
#define SCB_CPUID  REG(0xE000ED00u)
#define SCB_ICSR   REG(0xE000ED04u)
#define SCB_VTOR   REG(0xE000ED08u)
#define SCB_AIRCR  REG(0xE000ED0Cu)
#define SCB_CCR    REG(0xE000ED14u)
#define SCB_SHPR2  REG(0xE000ED1Cu)
#define SCB_SHPR3  REG(0xE000ED20u)
#define SCB_SHCSR  REG(0xE000ED24u)
#define SCB_CFSR   REG(0xE000ED28u)
#define SCB_HFSR   REG(0xE000ED2Cu)
#define SCB_BFAR   REG(0xE000ED38u)
#define SCB_CPACR  REG(0xE000ED88u)
#define SCB_CCSIDR REG(0xE000ED80u)
#define SCB_CSSELR REG(0xE000ED84u)
#define SCB_ICIALLU  REG(0xE000EF50u)
#define SCB_DCIMVAC  REG(0xE000EF5Cu)
#define SCB_DCISW    REG(0xE000EF60u)
#define SCB_DCCIMVAC REG(0xE000EF70u)
#define DEMCR      REG(0xE000EDFCu)
#define DWT_CTRL   REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_LAR    REG(0xE0001FB0u)

/* RCC / PWR / SYSCFG */
#define RCC_BASE     0x58024400u
#define RCC_CR       REG(RCC_BASE + 0x00u)
#define RCC_CFGR     REG(RCC_BASE + 0x10u)
#define RCC_D1CFGR   REG(RCC_BASE + 0x18u)
#define RCC_D2CFGR   REG(RCC_BASE + 0x1Cu)
#define RCC_D3CFGR   REG(RCC_BASE + 0x20u)
#define RCC_PLLCKSELR REG(RCC_BASE + 0x28u)
#define RCC_PLLCFGR  REG(RCC_BASE + 0x2Cu)
#define RCC_PLL1DIVR REG(RCC_BASE + 0x30u)
#define RCC_RSR      REG(RCC_BASE + 0xD0u)
#define RCC_AHB4ENR  REG(RCC_BASE + 0xE0u)
#define RCC_APB1LENR REG(RCC_BASE + 0xE8u)
#define RCC_APB4ENR  REG(RCC_BASE + 0xF4u)
#define RCC_RSR_SFTRSTF  (1u << 24)
#define RCC_RSR_IWDG1RSTF (1u << 26)
#define RCC_RSR_PORRSTF  (1u << 23)
#define PWR_CSR1     REG(0x58024804u)
#define PWR_CR3      REG(0x5802480Cu)
#define PWR_D3CR     REG(0x58024818u)
#define SYSCFG_PWRCR REG(0x5800042Cu)
#define FLASH_ACR_REG REG(0x52002000u)

/* USART3 */
#define USART3_BASE 0x40004800u
#define USART3_CR1  REG(USART3_BASE + 0x00u)
#define USART3_BRR  REG(USART3_BASE + 0x0Cu)
#define USART3_ISR  REG(USART3_BASE + 0x1Cu)
#define USART3_ICR  REG(USART3_BASE + 0x20u)
#define USART3_RDR  REG(USART3_BASE + 0x24u)
#define USART3_TDR  REG(USART3_BASE + 0x28u)
#define USART3_IRQn 39

/* IWDG1 */
#define IWDG_KR  REG(0x58004800u)
#define IWDG_PR  REG(0x58004804u)
#define IWDG_RLR REG(0x58004808u)

#define FW_RAMFUNC __attribute__((section(".ramfunc"), noinline))

void fw_puts(const char *s);
void fw_puthex(uint32_t v);
void fw_putdec(uint32_t v);
/* Stop the board: bkpt #0x42 with r0 = code (0 = success). */
__attribute__((noreturn)) void fw_exit(uint32_t code);
/* Check helper: prints the name and counts failures. */
void fw_check(int ok, const char *what);
extern unsigned fw_failures;

/* Clock tree as a NUCLEO-H745ZI-Q firmware sets it: HSE bypass 8 MHz,
 * PLL1 960 MHz VCO, 480 MHz core, 240 MHz AHB, 120 MHz APB1, VOS0. */
void fw_clock_480mhz(void);
extern uint32_t fw_core_hz;
void fw_cycles_start(void);
static inline uint32_t fw_cycles(void) { return DWT_CYCCNT; }

void fw_uart_init(uint32_t pclk_hz, uint32_t baud);
void fw_uart_putc(char c);
void fw_uart_puts(const char *s);

int main(void);

#endif
