/*
 * STM32H745 hardware semaphore (HSEM): register offsets from HSEM_BASE
 * and bits. RM0399 HSEM chapter, HSEM register map.
 */
#ifndef STM32H7_HSEM_H
#define STM32H7_HSEM_H

#include "stm32h7/memorymap.h"

#define HSEM_R(n)   (0x000u + 4u * (n)) /* n = 0..31: 2-step lock */
#define HSEM_RLR(n) (0x080u + 4u * (n)) /* read: 1-step lock */
#define HSEM_NUM    32u

#define HSEM_R_PROCID_Msk 0xFFu
#define HSEM_R_COREID_Pos 8u
#define HSEM_R_COREID_Msk (0xFu << 8)
#define HSEM_R_LOCK       (1u << 31)
#define HSEM_COREID_CM7   3u
#define HSEM_COREID_CM4   1u

#endif /* STM32H7_HSEM_H */
