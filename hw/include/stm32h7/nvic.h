/*
 * Cortex-M7 nested vectored interrupt controller (NVIC): register offsets
 * from NVIC_BASE (Armv7-M Architecture Reference Manual B3.4, names as
 * there), exception numbers (B1.5.2) and the STM32H745 interrupt lines
 * this project uses (RM0399 NVIC chapter, vector table for the CM7).
 */
#ifndef STM32H7_NVIC_H
#define STM32H7_NVIC_H

#include "stm32h7/memorymap.h"

/* n = 0..7: interrupts 32n..32n+31, one bit each */
#define NVIC_ISER(n)       (0x000u + 4u * (n))
#define NVIC_ICER(n)       (0x080u + 4u * (n))
#define NVIC_ISPR(n)       (0x100u + 4u * (n))
#define NVIC_ICPR(n)       (0x180u + 4u * (n))
#define NVIC_IABR(n)       (0x200u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (0x300u + (irq)) /* one priority byte per interrupt */
#define NVIC_STIR          0xE00u           /* 0xE000EF00 */
#define NVIC_PRIO_BITS     4u               /* the STM32H745 implements bits 7:4 */

/* Exception numbers (the vector table index; IPSR holds the active one) */
#define EXC_RESET      1u
#define EXC_NMI        2u
#define EXC_HARDFAULT  3u
#define EXC_MEMMANAGE  4u
#define EXC_BUSFAULT   5u
#define EXC_USAGEFAULT 6u
#define EXC_SVCALL     11u
#define EXC_DEBUGMON   12u
#define EXC_PENDSV     14u
#define EXC_SYSTICK    15u
#define EXC_IRQ0       16u /* interrupt n is exception 16 + n */

/* STM32H745 CM7 interrupt lines */
#define FLASH_IRQn  4u
#define USART3_IRQn 39u
#define H7_NUM_IRQ  150u /* the CM7's lines: vector table of 16 + 150 */

#endif /* STM32H7_NVIC_H */
