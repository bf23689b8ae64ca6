/*
 * STM32H745 power control (PWR): register offsets from PWR_BASE and bits.
 * RM0399 PWR chapter, PWR register map; names as in RM0399.
 */
#ifndef STM32H7_PWR_H
#define STM32H7_PWR_H

#include "stm32h7/memorymap.h"

#define PWR_CR1   0x00u
#define PWR_CSR1  0x04u
#define PWR_CR2   0x08u
#define PWR_CR3   0x0Cu
#define PWR_CPUCR 0x10u
#define PWR_D3CR  0x18u

/* PWR_CSR1 */
#define PWR_CSR1_ACTVOSRDY  (1u << 13)
#define PWR_CSR1_ACTVOS_Pos 14u
#define PWR_CSR1_ACTVOS_Msk (3u << 14)

/* PWR_CR3: supply configuration (write-once after power-on) */
#define PWR_CR3_BYPASS (1u << 0)
#define PWR_CR3_LDOEN  (1u << 1)
#define PWR_CR3_SDEN   (1u << 2) /* SMPS step-down converter */

/* PWR_D3CR: voltage scaling VOS (01: scale 3, 10: scale 2, 11: scale 1) */
#define PWR_D3CR_VOSRDY  (1u << 13)
#define PWR_D3CR_VOS_Pos 14u
#define PWR_D3CR_VOS_Msk (3u << 14)
#define PWR_D3CR_VOS3    (1u << 14)
#define PWR_D3CR_VOS2    (2u << 14)
#define PWR_D3CR_VOS1    (3u << 14)

#endif /* STM32H7_PWR_H */
