/*
 * Cortex-M7 data watchpoint and trace unit (DWT): register offsets from
 * DWT_BASE and bits. Armv7-M Architecture Reference Manual C1.8; the lock
 * access registers are CoreSight's.
 */
#ifndef STM32H7_DWT_H
#define STM32H7_DWT_H

#include "stm32h7/memorymap.h"

#define DWT_CTRL   0x000u
#define DWT_CYCCNT 0x004u
#define DWT_LAR    0xFB0u
#define DWT_LSR    0xFB4u

#define DWT_CTRL_CYCCNTENA   (1u << 0)
#define DWT_CTRL_NUMCOMP_Pos 28u
#define DWT_LAR_KEY          0xC5ACCE55u /* unlocks the DWT registers */

#endif /* STM32H7_DWT_H */
