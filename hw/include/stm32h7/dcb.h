/*
 * Cortex-M7 debug control block: register offsets from DCB_BASE
 * (0xE000EDF0) and bits. Armv7-M Architecture Reference Manual C1.6
 * (debug system registers), names as there.
 */
#ifndef STM32H7_DCB_H
#define STM32H7_DCB_H

#include "stm32h7/memorymap.h"

#define DCB_DHCSR 0x0u
#define DCB_DCRSR 0x4u
#define DCB_DCRDR 0x8u
#define DCB_DEMCR 0xCu

#define DCB_DEMCR_TRCENA (1u << 24) /* enables the DWT and ITM */

#endif /* STM32H7_DCB_H */
