/* Image B (bank 2): runs after image A's jump, with its own vector table. */
#include "fw.h"

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

int main(void)
{
    fw_puts("image B at 0x08100000\n");
    fw_check(MMIO32(SCB_BASE + SCB_VTOR) == 0x08100000u, "VTOR points at image B");
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    fw_check(sp > 0x20018000u && sp <= 0x20020000u, "MSP from image B's vector table");
    MMIO32(SYSTICK_BASE + SYST_RVR) = 64000u - 1;
    MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
    MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (ticks < 3)
        __asm volatile("wfi");
    MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
    fw_check(1, "SysTick through image B's vector table");
    return (int)fw_failures;
}
