/*
 * Cortex-M7 memory protection unit (MPU): register offsets from MPU_BASE.
 * Armv7-M Architecture Reference Manual B3.5, names as there.
 */
#ifndef STM32H7_MPU_H
#define STM32H7_MPU_H

#include "stm32h7/memorymap.h"

#define MPU_TYPE    0x00u
#define MPU_CTRL    0x04u
#define MPU_RNR     0x08u
#define MPU_RBAR    0x0Cu
#define MPU_RASR    0x10u
#define MPU_RBAR_A1 0x14u
#define MPU_RASR_A1 0x18u
#define MPU_RBAR_A2 0x1Cu
#define MPU_RASR_A2 0x20u
#define MPU_RBAR_A3 0x24u
#define MPU_RASR_A3 0x28u

#endif /* STM32H7_MPU_H */
