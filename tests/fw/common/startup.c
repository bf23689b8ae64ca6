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

__attribute__((section(".isr_vector"), used))
void (*const fw_vectors[16 + 150])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 + 4] = FLASH_IRQHandler,
    [16 + 39] = USART3_IRQHandler,
};

void Default_Handler(void)
{
    for (;;) {}
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
    SCB_CPACR |= 0xFu << 20;        /* CP10, CP11: FPU */
    __asm volatile("dsb\n isb" ::: "memory");
    SCB_VTOR = (uint32_t)fw_vectors;
    fw_exit((uint32_t)main());
}
