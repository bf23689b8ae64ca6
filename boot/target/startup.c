/*
 * Reset handler and vector table of the bootloader. The table in flash is
 * only used until main's first lines: it is copied to DTCM and VTOR points
 * there, so no exception ever fetches a vector from bank 1 while it is
 * busy (docs/H7_FLASH.md 5.1, 8.4). Handlers that can run during a flash
 * operation are in .ramfunc (ITCM).
 */
#include <stdint.h>
#include <string.h>

#include "h7flash/io.h"
#include "hw.h"

#define N_VECTORS (EXC_IRQ0 + H7_NUM_IRQ)

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern uint32_t _siramfunc, _sramfunc, _eramfunc;
extern uint32_t _sstack_fill, _estack_fill;
extern uint32_t boot_vtable_ram[N_VECTORS];

int main(void);
void Reset_Handler(void);
void USART3_IRQHandler(void);
void SysTick_Handler(void);

/* Any unexpected exception: stop here; the watchdog restarts the board. */
H7F_RAMFUNC void Default_Handler(void)
{
    for (;;)
        ;
}

__attribute__((section(".isr_vector"), used)) const void *const boot_vectors[N_VECTORS] = {
    [0] = &_estack,
    [1] = (const void *)Reset_Handler,
    [EXC_NMI] = (const void *)Default_Handler,
    [EXC_HARDFAULT] = (const void *)Default_Handler,
    [EXC_MEMMANAGE] = (const void *)Default_Handler,
    [EXC_BUSFAULT] = (const void *)Default_Handler,
    [EXC_USAGEFAULT] = (const void *)Default_Handler,
    [EXC_SVCALL] = (const void *)Default_Handler,
    [EXC_PENDSV] = (const void *)Default_Handler,
    [EXC_SYSTICK] = (const void *)SysTick_Handler,
    [EXC_IRQ0 + USART3_IRQn] = (const void *)USART3_IRQHandler,
};

#define STACK_PAINT 0x5AC75AC7u

__attribute__((noreturn, used)) void Reset_Handler(void)
{
    uint32_t *src, *dst;

    /* Paint the stack below the current frame for the high-water mark. */
    for (dst = &_sstack_fill; dst < &_estack_fill; dst++)
        *dst = STACK_PAINT;
    for (src = &_sidata, dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (src = &_siramfunc, dst = &_sramfunc; dst < &_eramfunc;)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    for (unsigned i = 0; i < N_VECTORS; i++) {
        const void *v = boot_vectors[i];

        boot_vtable_ram[i] = (uint32_t)(v ? v : (const void *)Default_Handler);
    }
    hw_dsb();
    MMIO32(SCB_BASE + SCB_VTOR) = (uint32_t)boot_vtable_ram;
    hw_dsb();
    hw_isb();
    (void)main();
    for (;;)
        ;
}

/* Bytes of the stack that were ever used (paint no longer intact). */
uint32_t boot_stack_used(void)
{
    uint32_t *p = &_sstack_fill;

    while (p < &_estack_fill && *p == STACK_PAINT)
        p++;
    return (uint32_t)((uint8_t *)&_estack - (uint8_t *)p);
}
