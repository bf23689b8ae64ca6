/*
 * Every header of the hardware description compiles on its own and with
 * the others (no name defined twice), and its derived constants agree with
 * the addresses RM0399 and the Armv7-M manual give. Built in the host and
 * the target build (object library h7hw_check); nothing links it.
 */
#include "stm32h7/dbgmcu.h"
#include "stm32h7/dcb.h"
#include "stm32h7/dwt.h"
#include "stm32h7/flash.h"
#include "stm32h7/gpio.h"
#include "stm32h7/hsem.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/memorymap.h"
#include "stm32h7/mmio.h"
#include "stm32h7/mpu.h"
#include "stm32h7/nvic.h"
#include "stm32h7/pwr.h"
#include "stm32h7/rcc.h"
#include "stm32h7/scb.h"
#include "stm32h7/syscfg.h"
#include "stm32h7/systick.h"
#include "stm32h7/usart.h"

_Static_assert(H7_BANK1_BASE == H7_FLASH_BASE, "bank 1 starts the array");
_Static_assert(H7_BANK2_BASE == H7_BANK1_BASE + H7_BANK_SIZE, "bank 2 follows bank 1");
_Static_assert(H7_FLASH_SIZE == 2u * H7_BANK_SIZE, "two banks");
_Static_assert(H7_FLASH_END == H7_FLASH_BASE + H7_FLASH_SIZE - 1u, "last byte");
_Static_assert(H7_BANK_SIZE == H7_SECTORS_PER_BANK * H7_SECTOR_SIZE, "8 sectors a bank");
_Static_assert(H7_FLASH_REG(2u, FLASH_CR) == 0x5200210Cu, "FLASH_CR2");
_Static_assert(H7_SRAM2_BASE == H7_SRAM1_BASE + H7_SRAM1_SIZE, "SRAM1-3 contiguous");
_Static_assert(H7_SRAM3_BASE == H7_SRAM2_BASE + H7_SRAM2_SIZE, "SRAM1-3 contiguous");
_Static_assert(GPIOD_BASE == GPIOA_BASE + 3u * GPIO_PORT_SIZE, "GPIOD is port 3");
_Static_assert(SYSTICK_BASE == SCS_BASE + 0x010u, "SysTick in the SCS");
_Static_assert(NVIC_BASE + NVIC_STIR == 0xE000EF00u, "STIR");
_Static_assert(NVIC_BASE + NVIC_IPR_BYTE(0u) == 0xE000E400u, "NVIC_IPR0");
_Static_assert(SCB_BASE + SCB_ICIALLU == 0xE000EF50u, "ICIALLU");
_Static_assert(SCB_BASE + SCB_DCCISW == 0xE000EF74u, "DCCISW");
_Static_assert(SCB_BASE + SCB_FPCCR == 0xE000EF34u, "FPCCR");
_Static_assert(DCB_BASE + DCB_DEMCR == 0xE000EDFCu, "DEMCR");
_Static_assert(MPU_BASE + MPU_RASR_A3 == 0xE000EDB8u, "MPU_RASR_A3");
_Static_assert((SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ) == 0x05FA0004u, "reset request");
_Static_assert((USART_ICR_PECF | USART_ICR_FECF | USART_ICR_NECF | USART_ICR_ORECF) ==
                   (USART_ISR_PE | USART_ISR_FE | USART_ISR_NE | USART_ISR_ORE),
               "ICR clears the ISR flag at the same position");
