/* Startup for the test firmwares: vector table, .data/.ramfunc copy, .bss
 * clear, FPU enable, VTOR, main(); main's return value stops the board. */
#include "fw.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss, _siramfunc, _sramfunc, _eramfunc;

void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_ALIAS __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_ALIAS;
void HardFault_Handler(void) WEAK_ALIAS;
void MemManage_Handler(void) WEAK_ALIAS;
void BusFault_Handler(void) WEAK_ALIAS;
void UsageFault_Handler(void) WEAK_ALIAS;
void SVC_Handler(void) WEAK_ALIAS;
void PendSV_Handler(void) WEAK_ALIAS;
void SysTick_Handler(void) WEAK_ALIAS;
void FLASH_IRQHandler(void) WEAK_ALIAS;
void USART3_IRQHandler(void) WEAK_ALIAS;

__attribute__((section(".isr_vector"),
               used)) void (*const fw_vectors[EXC_IRQ0 + H7_NUM_IRQ])(void) = {
    [0] = (void (*)(void)) & _estack,
    [EXC_RESET] = Reset_Handler,
    [EXC_NMI] = NMI_Handler,
    [EXC_HARDFAULT] = HardFault_Handler,
    [EXC_MEMMANAGE] = MemManage_Handler,
    [EXC_BUSFAULT] = BusFault_Handler,
    [EXC_USAGEFAULT] = UsageFault_Handler,
    [EXC_SVCALL] = SVC_Handler,
    [EXC_PENDSV] = PendSV_Handler,
    [EXC_SYSTICK] = SysTick_Handler,
    [EXC_IRQ0 + FLASH_IRQn] = FLASH_IRQHandler,
    [EXC_IRQ0 + USART3_IRQn] = USART3_IRQHandler,
};

void Default_Handler(void)
{
    for (;;) {
    }
}

void Reset_Handler(void)
{
    uint32_t *s, *d;
    for (s = &_sidata, d = &_sdata; d < &_edata;)
        *d++ = *s++;
    for (s = &_siramfunc, d = &_sramfunc; d < &_eramfunc;)
        *d++ = *s++;
    for (d = &_sbss; d < &_ebss;)
        *d++ = 0;
    MMIO32(SCB_BASE + SCB_CPACR) |= SCB_CPACR_CP10_CP11_FULL; /* FPU */
    __asm volatile("dsb\n isb" ::: "memory");
    MMIO32(SCB_BASE + SCB_VTOR) = (uint32_t)fw_vectors;
    fw_exit((uint32_t)main());
}
