/*
 * Cortex-M7 system control block (SCB) and the other system control
 * space registers: offsets from SCB_BASE (0xE000ED00) or SCS_BASE, and
 * bits. Armv7-M Architecture Reference Manual B3.2 (System Control
 * Space), names as there: CPUID, ICSR, ..., the floating-point context
 * registers and the cache maintenance operations at 0xE000EF50.
 */
#ifndef STM32H7_SCB_H
#define STM32H7_SCB_H

#include "stm32h7/memorymap.h"

/* Offsets from SCS_BASE */
#define SCS_ICTR  0x004u
#define SCS_ACTLR 0x008u

/* Offsets from SCB_BASE */
#define SCB_CPUID    0x000u
#define SCB_ICSR     0x004u
#define SCB_VTOR     0x008u
#define SCB_AIRCR    0x00Cu
#define SCB_SCR      0x010u
#define SCB_CCR      0x014u
#define SCB_SHPR1    0x018u /* priority bytes of exceptions 4..7 */
#define SCB_SHPR2    0x01Cu /* 8..11 */
#define SCB_SHPR3    0x020u /* 12..15 */
#define SCB_SHCSR    0x024u
#define SCB_CFSR     0x028u /* MMFSR 7:0, BFSR 15:8, UFSR 31:16 */
#define SCB_HFSR     0x02Cu
#define SCB_DFSR     0x030u
#define SCB_MMFAR    0x034u
#define SCB_BFAR     0x038u
#define SCB_AFSR     0x03Cu
#define SCB_ID_PFR0  0x040u
#define SCB_ID_PFR1  0x044u
#define SCB_ID_DFR0  0x048u
#define SCB_ID_AFR0  0x04Cu
#define SCB_ID_MMFR0 0x050u
#define SCB_CLIDR    0x078u
#define SCB_CTR      0x07Cu
#define SCB_CCSIDR   0x080u
#define SCB_CSSELR   0x084u
#define SCB_CPACR    0x088u
#define SCB_FPCCR    0x234u
#define SCB_FPCAR    0x238u
#define SCB_FPDSCR   0x23Cu
#define SCB_MVFR0    0x240u
#define SCB_MVFR1    0x244u
#define SCB_MVFR2    0x248u
/* Cache maintenance operations (write-only) */
#define SCB_ICIALLU  0x250u /* invalidate the I-cache */
#define SCB_ICIMVAU  0x258u
#define SCB_DCIMVAC  0x25Cu /* invalidate D-cache line by address */
#define SCB_DCISW    0x260u /* invalidate by set/way */
#define SCB_DCCMVAU  0x264u
#define SCB_DCCMVAC  0x268u
#define SCB_DCCSW    0x26Cu
#define SCB_DCCIMVAC 0x270u /* clean and invalidate by address */
#define SCB_DCCISW   0x274u /* clean and invalidate by set/way */
#define SCB_BPIALL   0x278u

/* SCB_ICSR */
#define SCB_ICSR_VECTACTIVE_Msk 0x1FFu
#define SCB_ICSR_PENDSTCLR      (1u << 25)
#define SCB_ICSR_PENDSTSET      (1u << 26)
#define SCB_ICSR_PENDSVCLR      (1u << 27)
#define SCB_ICSR_PENDSVSET      (1u << 28)
#define SCB_ICSR_NMIPENDSET     (1u << 31)

/* SCB_VTOR */
#define SCB_VTOR_TBLOFF_Msk 0xFFFFFF80u

/* SCB_AIRCR: writes need VECTKEY in bits 31:16 */
#define SCB_AIRCR_VECTKEY      (0x05FAu << 16)
#define SCB_AIRCR_VECTKEYSTAT  (0xFA05u << 16) /* read back */
#define SCB_AIRCR_VECTKEY_Msk  (0xFFFFu << 16)
#define SCB_AIRCR_SYSRESETREQ  (1u << 2)
#define SCB_AIRCR_PRIGROUP_Pos 8u
#define SCB_AIRCR_PRIGROUP_Msk (7u << 8)

/* SCB_CCR */
#define SCB_CCR_UNALIGN_TRP (1u << 3)
#define SCB_CCR_DIV_0_TRP   (1u << 4)
#define SCB_CCR_BFHFNMIGN   (1u << 8) /* precise bus faults ignored at FAULTMASK */
#define SCB_CCR_STKALIGN    (1u << 9)
#define SCB_CCR_DC          (1u << 16) /* D-cache enable */
#define SCB_CCR_IC          (1u << 17) /* I-cache enable */
#define SCB_CCR_BP          (1u << 18)

/* SCB_SHCSR */
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)

/* SCB_CFSR */
#define SCB_CFSR_IACCVIOL    (1u << 0)
#define SCB_CFSR_DACCVIOL    (1u << 1)
#define SCB_CFSR_MMARVALID   (1u << 7)
#define SCB_CFSR_BFSR_Msk    0x0000FF00u
#define SCB_CFSR_IBUSERR     (1u << 8)
#define SCB_CFSR_PRECISERR   (1u << 9)
#define SCB_CFSR_IMPRECISERR (1u << 10)
#define SCB_CFSR_BFARVALID   (1u << 15)
#define SCB_CFSR_UNDEFINSTR  (1u << 16)
#define SCB_CFSR_INVSTATE    (1u << 17)
#define SCB_CFSR_INVPC       (1u << 18)
#define SCB_CFSR_NOCP        (1u << 19)
#define SCB_CFSR_UNALIGNED   (1u << 24)
#define SCB_CFSR_DIVBYZERO   (1u << 25)

/* SCB_HFSR */
#define SCB_HFSR_VECTTBL  (1u << 1)
#define SCB_HFSR_FORCED   (1u << 30)
#define SCB_HFSR_DEBUGEVT (1u << 31)

/* SCB_CCSIDR (of the cache SCB_CSSELR selects: 0 L1 data, 1 L1 instruction) */
#define SCB_CCSIDR_ASSOC_Pos 3u /* ways - 1 */
#define SCB_CCSIDR_ASSOC_Msk 0x3FFu
#define SCB_CCSIDR_NSETS_Pos 13u /* sets - 1 */
#define SCB_CCSIDR_NSETS_Msk 0x7FFFu
#define SCB_CSSELR_IND       (1u << 0)

/* SCB_DCISW, SCB_DCCSW, SCB_DCCISW operand on the Cortex-M7 L1 D-cache
 * (32-byte lines, 4 ways) */
#define SCB_DCSW_SET_Pos 5u
#define SCB_DCSW_WAY_Pos 30u
#define SCB_DCACHE_LINE  32u

/* SCB_CPACR: CP10 and CP11 (the FPU) full access */
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

/* SCB_FPCCR */
#define SCB_FPCCR_LSPEN (1u << 30)
#define SCB_FPCCR_ASPEN (1u << 31)

#endif /* STM32H7_SCB_H */
