/*
 * Volatile access to a memory-mapped register, for code that runs on the
 * STM32H745 itself (firmware). Host code (model, virtual board) uses the
 * same address and offset constants as plain numbers.
 *
 *   MMIO32(RCC_BASE + RCC_CR) |= RCC_CR_HSEON;
 */
#ifndef STM32H7_MMIO_H
#define STM32H7_MMIO_H

#include <stdint.h>

#define MMIO8(addr)  (*(volatile uint8_t *)(uintptr_t)(addr))
#define MMIO16(addr) (*(volatile uint16_t *)(uintptr_t)(addr))
#define MMIO32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#endif /* STM32H7_MMIO_H */
