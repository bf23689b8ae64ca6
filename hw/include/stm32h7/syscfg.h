/*
 * STM32H745 system configuration controller (SYSCFG): register offsets
 * from SYSCFG_BASE and bits. RM0399 SYSCFG chapter, SYSCFG register map.
 */
#ifndef STM32H7_SYSCFG_H
#define STM32H7_SYSCFG_H

#include "stm32h7/memorymap.h"

#define SYSCFG_PWRCR      0x2Cu
#define SYSCFG_PWRCR_ODEN (1u << 0) /* overdrive: with VOS1, voltage scale 0 */

#endif /* STM32H7_SYSCFG_H */
