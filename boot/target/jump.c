/*
 * Start an image: the application (vector table at 0x08040000, checked by
 * boot_app_check) or code an AN3155 host put in RAM (stm32flash -R). Every
 * peripheral the bootloader touched goes back to its reset state first, so
 * the image starts as after a reset, except IWDG1 (cannot be stopped) and
 * the flash wait states.
 */
#include "cm4.h"
#include "hw.h"
#include "jump.h"

static void caches_off(void)
{
    uint32_t ccsidr, sets, ways;

    hw_dsb();
    /* D-cache: clean and invalidate every line by set/way, then off. */
    MMIO32(SCB_BASE + SCB_CSSELR) = 0;
    hw_dsb();
    ccsidr = MMIO32(SCB_BASE + SCB_CCSIDR);
    sets = ((ccsidr >> SCB_CCSIDR_NSETS_Pos) & SCB_CCSIDR_NSETS_Msk) + 1u;
    ways = ((ccsidr >> SCB_CCSIDR_ASSOC_Pos) & SCB_CCSIDR_ASSOC_Msk) + 1u;
    if (sets <= 4096u && ways <= 8u)
        for (uint32_t s = 0; s < sets; s++)
            for (uint32_t w = 0; w < ways; w++)
                MMIO32(SCB_BASE + SCB_DCCISW) = (s << SCB_DCSW_SET_Pos) | (w << SCB_DCSW_WAY_Pos);
    MMIO32(SCB_BASE + SCB_CCR) &= ~(SCB_CCR_DC | SCB_CCR_IC);
    hw_dsb();
    MMIO32(SCB_BASE + SCB_ICIALLU) = 0;
    hw_dsb();
    hw_isb();
}

__attribute__((noreturn)) void boot_jump(uint32_t vtor, bool release_cm4)
{
    uint32_t sp = *(volatile uint32_t *)vtor;
    uint32_t pc = *(volatile uint32_t *)(vtor + 4u);

    hw_irq_off();
    MMIO32(SYSTICK_BASE + SYST_CSR) = 0;
    usart_deinit();
    clock_deinit();
    for (unsigned i = 0; i < 8u; i++) {
        MMIO32(NVIC_BASE + NVIC_ICER(i)) = 0xFFFFFFFFu;
        MMIO32(NVIC_BASE + NVIC_ICPR(i)) = 0xFFFFFFFFu;
    }
    MMIO32(SCB_BASE + SCB_ICSR) = SCB_ICSR_PENDSVCLR | SCB_ICSR_PENDSTCLR;
    MMIO32(SCB_BASE + SCB_SHCSR) = 0;
    caches_off();
    if (release_cm4)
        cm4_release();
    iwdg_refresh();
    MMIO32(SCB_BASE + SCB_VTOR) = vtor & SCB_VTOR_TBLOFF_Msk;
    hw_dsb();
    hw_isb();
    __asm volatile("msr msp, %0\n"
                   "cpsie i\n"
                   "bx %1\n"
                   :
                   : "r"(sp), "r"(pc)
                   : "memory");
    for (;;)
        ;
}

__attribute__((noreturn)) void boot_reset(void)
{
    usart_deinit();
    hw_dsb();
    MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    hw_dsb();
    for (;;)
        ;
}
