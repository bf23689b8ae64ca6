/*
 * STM32H745 microcontroller debug unit (DBGMCU): register offsets from
 * DBGMCU_BASE and fields. RM0399 debug infrastructure chapter, DBGMCU
 * registers.
 */
#ifndef STM32H7_DBGMCU_H
#define STM32H7_DBGMCU_H

#include "stm32h7/memorymap.h"

#define DBGMCU_IDC            0x00u
#define DBGMCU_IDC_DEV_ID_Msk 0xFFFu /* 0x450: STM32H745/H755/H747/H757 */
#define DBGMCU_IDC_REV_ID_Pos 16u

#endif /* STM32H7_DBGMCU_H */
