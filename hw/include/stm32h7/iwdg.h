/*
 * STM32H745 independent watchdog (IWDG1 for the Cortex-M7): register
 * offsets from IWDG1_BASE, keys and bits. RM0399 section 48 (IWDG),
 * 48.4.6 IWDG register map. Clocked by the LSI (32 kHz).
 */
#ifndef STM32H7_IWDG_H
#define STM32H7_IWDG_H

#include "stm32h7/memorymap.h"

#define IWDG_KR   0x00u
#define IWDG_PR   0x04u
#define IWDG_RLR  0x08u
#define IWDG_SR   0x0Cu
#define IWDG_WINR 0x10u

/* IWDG_KR keys */
#define IWDG_KEY_REFRESH 0xAAAAu
#define IWDG_KEY_UNLOCK  0x5555u /* write access to PR, RLR, WINR */
#define IWDG_KEY_START   0xCCCCu
#define IWDG_KR_KEY_Msk  0xFFFFu

/* IWDG_PR: LSI / (4 << PR) */
#define IWDG_PR_Msk   7u
#define IWDG_PR_DIV64 4u
/* IWDG_RLR, IWDG_WINR: 12-bit counter values */
#define IWDG_RLR_Msk  0xFFFu
#define IWDG_WINR_Msk 0xFFFu

/* IWDG_SR: an update of PR, RLR or WINR is in progress */
#define IWDG_SR_PVU (1u << 0)
#define IWDG_SR_RVU (1u << 1)
#define IWDG_SR_WVU (1u << 2)

#endif /* STM32H7_IWDG_H */
