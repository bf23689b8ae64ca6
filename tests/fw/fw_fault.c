/* Bus faults: with FAULTMASK and CCR.BFHFNMIGN a load from no memory
 * returns 0 and sets CFSR.PRECISERR|BFARVALID; without, it faults, the
 * HardFault handler is "b .", and the board stops with a register dump
 * (exit code 2). */
#include "fw.h"

#define NOWHERE 0x60000000u /* FMC bank 1: nothing enabled there */

int main(void)
{
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_BFHFNMIGN;
    __asm volatile("cpsid f" ::: "memory");
    uint32_t v = *(volatile uint32_t *)NOWHERE;
    __asm volatile("cpsie f" ::: "memory");
    uint32_t cfsr = MMIO32(SCB_BASE + SCB_CFSR);
    fw_check(v == 0, "ignored bus error reads 0");
    fw_check((cfsr & (SCB_CFSR_PRECISERR | SCB_CFSR_BFARVALID)) ==
                 (SCB_CFSR_PRECISERR | SCB_CFSR_BFARVALID),
             "CFSR.PRECISERR|BFARVALID");
    fw_check(MMIO32(SCB_BASE + SCB_BFAR) == NOWHERE, "BFAR holds the address");
    MMIO32(SCB_BASE + SCB_CFSR) = cfsr;
    fw_check(MMIO32(SCB_BASE + SCB_CFSR) == 0, "CFSR cleared");
    MMIO32(SCB_BASE + SCB_CCR) &= ~SCB_CCR_BFHFNMIGN;
    if (fw_failures)
        return (int)fw_failures;
    fw_puts("now faulting\n");
    v = *(volatile uint32_t *)NOWHERE;
    fw_puts("still running?\n");
    return 0x55;
}
