/*
 * STM32H745 USART (USART3 on the NUCLEO-H745ZI-Q's ST-LINK virtual COM
 * port): register offsets from an instance's base and bits. RM0399 USART
 * chapter, USART register map; names as in RM0399 (FIFO-mode aliases
 * such as RXFNE for RXNE are not repeated).
 */
#ifndef STM32H7_USART_H
#define STM32H7_USART_H

#include "stm32h7/memorymap.h"

#define USART_CR1   0x00u
#define USART_CR2   0x04u
#define USART_CR3   0x08u
#define USART_BRR   0x0Cu
#define USART_GTPR  0x10u
#define USART_RTOR  0x14u
#define USART_RQR   0x18u
#define USART_ISR   0x1Cu
#define USART_ICR   0x20u
#define USART_RDR   0x24u
#define USART_TDR   0x28u
#define USART_PRESC 0x2Cu

/* USART_CR1 */
#define USART_CR1_UE     (1u << 0)
#define USART_CR1_UESM   (1u << 1)
#define USART_CR1_RE     (1u << 2)
#define USART_CR1_TE     (1u << 3)
#define USART_CR1_IDLEIE (1u << 4)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_TCIE   (1u << 6)
#define USART_CR1_TXEIE  (1u << 7)
#define USART_CR1_PEIE   (1u << 8)
#define USART_CR1_PS     (1u << 9) /* 1: odd parity */
#define USART_CR1_PCE    (1u << 10)
#define USART_CR1_M0     (1u << 12) /* M1:M0 = 00 8 bits, 01 9 bits, 10 7 bits */
#define USART_CR1_OVER8  (1u << 15)
#define USART_CR1_M1     (1u << 28)
#define USART_CR1_FIFOEN (1u << 29)

/* USART_CR2 */
#define USART_CR2_STOP_Pos   12u /* 00: 1 stop bit, 10: 2 stop bits */
#define USART_CR2_STOP_Msk   (3u << 12)
#define USART_CR2_STOP_2     (2u << 12)
#define USART_CR2_ABREN      (1u << 20) /* auto-baud */
#define USART_CR2_ABRMOD_Pos 21u        /* 00: start bit, 01: falling edges, 10: 0x7F, 11: 0x55 */
#define USART_CR2_ABRMOD_Msk (3u << 21)

/* USART_CR3 */
#define USART_CR3_EIE    (1u << 0)
#define USART_CR3_OVRDIS (1u << 12)

/* USART_BRR */
#define USART_BRR_Msk 0xFFFFu

/* USART_RQR */
#define USART_RQR_ABRRQ (1u << 0)
#define USART_RQR_RXFRQ (1u << 3)
#define USART_RQR_TXFRQ (1u << 4)

/* USART_ISR */
#define USART_ISR_PE    (1u << 0)
#define USART_ISR_FE    (1u << 1)
#define USART_ISR_NE    (1u << 2)
#define USART_ISR_ORE   (1u << 3)
#define USART_ISR_IDLE  (1u << 4)
#define USART_ISR_RXNE  (1u << 5)
#define USART_ISR_TC    (1u << 6)
#define USART_ISR_TXE   (1u << 7)
#define USART_ISR_ABRE  (1u << 14)
#define USART_ISR_ABRF  (1u << 15)
#define USART_ISR_BUSY  (1u << 16)
#define USART_ISR_TEACK (1u << 21)
#define USART_ISR_REACK (1u << 22)
#define USART_ISR_TXFE  (1u << 23)
#define USART_ISR_RXFF  (1u << 24)

/* USART_ICR: write 1 to clear the ISR flag at the same position */
#define USART_ICR_PECF   (1u << 0)
#define USART_ICR_FECF   (1u << 1)
#define USART_ICR_NECF   (1u << 2)
#define USART_ICR_ORECF  (1u << 3)
#define USART_ICR_IDLECF (1u << 4)
#define USART_ICR_TCCF   (1u << 6)

/* USART_RDR, USART_TDR: data in bits 8:0 */
#define USART_RDR_Msk 0x1FFu

#endif /* STM32H7_USART_H */
