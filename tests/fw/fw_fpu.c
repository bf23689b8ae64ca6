/* FP context across interrupts: the extended frame (S0-S15, FPSCR) is
 * stacked when CONTROL.FPCA is set; thread mode on PSP. */
#include "fw.h"

static volatile uint32_t ticks;
static volatile float handler_result;
static uint32_t psp_stack[256] __attribute__((aligned(8)));

void SysTick_Handler(void)
{
    /* Clobber the caller-saved FP registers. */
    register float a __asm("s0") = 1.5f;
    register float b __asm("s1") = 2.25f;
    __asm volatile("vadd.f32 s2, s0, s1\n"
                   "vmov.f32 s3, s2\n vmov.f32 s4, s2\n vmov.f32 s5, s2\n"
                   "vmov.f32 s6, s2\n vmov.f32 s7, s2\n vmov.f32 s8, s2\n"
                   "vmov.f32 s9, s2\n vmov.f32 s10, s2\n vmov.f32 s11, s2\n"
                   "vmov.f32 s12, s2\n vmov.f32 s13, s2\n vmov.f32 s14, s2\n vmov.f32 s15, s2\n"
                   : "+t"(a), "+t"(b)
                   :
                   : "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
                     "s14", "s15");
    handler_result = a + b;
    ticks++;
}

static int fp_loop(void)
{
    /* Keep values live in s0..s15 while ticks arrive. */
    int bad = 0;
    for (int n = 0; n < 200; n++) {
        float r0, r15;
        __asm volatile("vmov.f32 s0, #1.0\n vmov.f32 s15, #2.0\n"
                       "vmov.f32 s7, #3.0\n"
                       "mov r3, #20000\n"
                       "1: subs r3, r3, #1\n bne 1b\n"
                       "vmov.f32 %0, s0\n vmov.f32 %1, s15\n"
                       : "=t"(r0), "=t"(r15)
                       :
                       : "r3", "s0", "s7", "s15", "cc");
        if (r0 != 1.0f || r15 != 2.0f)
            bad++;
    }
    return bad;
}

void psp_part(void);
void psp_part(void)
{
    uint32_t top = (uint32_t)&psp_stack[256];
    uint32_t control, sp;
    __asm volatile("mrs %0, control\n mov %1, sp" : "=r"(control), "=r"(sp));
    fw_check((control & 2) != 0, "CONTROL.SPSEL=1");
    fw_check(sp > (uint32_t)psp_stack && sp <= top, "SP is PSP in thread mode");
    uint32_t t = ticks;
    int bad = fp_loop();
    fw_check(ticks > t + 5, "ticks arrived on PSP");
    fw_check(bad == 0, "S0/S15 intact across interrupts (PSP)");
    __asm volatile("mov %0, sp" : "=r"(sp));
    fw_check(sp > (uint32_t)psp_stack && sp <= top, "still on PSP after the interrupts");
}

int main(void)
{
    fw_clock_480mhz();
    MMIO32(SYSTICK_BASE + SYST_RVR) = 48000u - 1; /* 10 kHz */
    MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
    MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;

    int bad = fp_loop();
    fw_check(ticks > 5, "ticks arrived during the FP loop");
    fw_check(bad == 0, "S0/S15 intact across interrupts (MSP)");
    fw_check(handler_result == 3.75f, "handler computed with the FPU");

    /* Thread mode on PSP: psp_part runs on its own stack. */
    uint32_t top = (uint32_t)&psp_stack[256];
    __asm volatile("msr psp, %0\n"
                   "mrs r0, control\n orr r0, r0, #2\n msr control, r0\n isb\n"
                   "bl psp_part\n"
                   "mrs r0, control\n bic r0, r0, #2\n msr control, r0\n isb"
                   :
                   : "r"(top)
                   : "r0", "r1", "r2", "r3", "r12", "lr", "cc", "memory");
    MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
    return (int)fw_failures;
}
