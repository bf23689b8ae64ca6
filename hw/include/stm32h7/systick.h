/*
 * Cortex-M7 SysTick timer: register offsets from SYSTICK_BASE and bits.
 * Armv7-M Architecture Reference Manual B3.3, names as there.
 */
#ifndef STM32H7_SYSTICK_H
#define STM32H7_SYSTICK_H

#include "stm32h7/memorymap.h"

#define SYST_CSR   0x0u
#define SYST_RVR   0x4u
#define SYST_CVR   0x8u
#define SYST_CALIB 0xCu

#define SYST_CSR_ENABLE     (1u << 0)
#define SYST_CSR_TICKINT    (1u << 1)
#define SYST_CSR_CLKSOURCE  (1u << 2) /* 1: processor clock */
#define SYST_CSR_COUNTFLAG  (1u << 16)
#define SYST_RVR_RELOAD_Msk 0x00FFFFFFu

#endif /* STM32H7_SYSTICK_H */
