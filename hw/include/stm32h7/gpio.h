/*
 * STM32H745 general-purpose I/O (GPIOA..GPIOK): register offsets from a
 * port's base and field encodings. RM0399 GPIO chapter, GPIO register map.
 * Each pin has a 2-bit field in MODER, OSPEEDR, PUPDR and a 4-bit field in
 * AFRL (pins 0-7) or AFRH (pins 8-15).
 */
#ifndef STM32H7_GPIO_H
#define STM32H7_GPIO_H

#include <stdint.h>

#include "stm32h7/memorymap.h"

#define GPIO_PORT_SIZE 0x400u /* GPIOA_BASE + n * GPIO_PORT_SIZE */

#define GPIO_MODER   0x00u
#define GPIO_OTYPER  0x04u
#define GPIO_OSPEEDR 0x08u
#define GPIO_PUPDR   0x0Cu
#define GPIO_IDR     0x10u
#define GPIO_ODR     0x14u
#define GPIO_BSRR    0x18u /* bits 0-15 set, 16-31 reset ODR bits */
#define GPIO_LCKR    0x1Cu
#define GPIO_AFRL    0x20u
#define GPIO_AFRH    0x24u

/* Field of pin n (0-15) holding v: MODER, OSPEEDR, PUPDR (2 bits a pin),
 * AFRL for pins 0-7 and AFRH for pins 8-15 (4 bits a pin). */
#define GPIO_PIN2(n, v)  ((uint32_t)(v) << (2u * (n)))
#define GPIO_PIN2_Msk(n) GPIO_PIN2((n), 3u)
#define GPIO_AF(n, af)   ((uint32_t)(af) << (4u * ((n)&7u)))
#define GPIO_AF_Msk(n)   GPIO_AF((n), 0xFu)

/* MODER, per pin */
#define GPIO_MODE_INPUT  0u
#define GPIO_MODE_OUTPUT 1u
#define GPIO_MODE_AF     2u
#define GPIO_MODE_ANALOG 3u
/* OSPEEDR, per pin */
#define GPIO_OSPEED_LOW    0u
#define GPIO_OSPEED_MEDIUM 1u
/* PUPDR, per pin */
#define GPIO_PUPD_NONE     0u
#define GPIO_PUPD_PULLUP   1u
#define GPIO_PUPD_PULLDOWN 2u

#endif /* STM32H7_GPIO_H */
