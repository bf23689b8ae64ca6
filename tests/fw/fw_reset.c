/* SYSRESETREQ keeps flash and RAM; a --flash file keeps flash across
 * power cycles. First run: program a flash word, mark RAM, reset. After the
 * reset: both kept. Next power-on (second run with the same --flash file):
 * the word is still there. */
#include "fw.h"

#define MAGIC_ADDR 0x08060000u
#define MAGIC      0x600DF1A5u

__attribute__((section(".noinit"))) static volatile uint32_t marker;

int main(void)
{
    uint32_t rsr = MMIO32(RCC_BASE + RCC_RSR);
    MMIO32(RCC_BASE + RCC_RSR) |= RCC_RSR_RMVF;
    uint32_t w = *(volatile uint32_t *)MAGIC_ADDR;
    if (rsr & RCC_RSR_SFT1RSTF) {
        fw_check(w == MAGIC, "flash word kept across SYSRESETREQ");
        fw_check(marker == 0xA5A5A5A5u, "RAM kept across SYSRESETREQ");
        fw_puts("after reset: flash and RAM kept\n");
        return (int)fw_failures;
    }
    if (w == MAGIC) {
        fw_check(*(volatile uint32_t *)(MAGIC_ADDR + 28) == MAGIC + 7, "whole flash word kept");
        fw_puts("flash persisted across power cycle\n");
        return (int)fw_failures;
    }
    fw_check(fw_flash_program_word(MAGIC_ADDR, MAGIC, 1u) == 0, "flash word programmed");
    fw_check(*(volatile uint32_t *)MAGIC_ADDR == MAGIC, "read back");
    marker = 0xA5A5A5A5u;
    fw_puts("programmed, resetting\n");
    __asm volatile("dsb 0xF" ::: "memory");
    MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb 0xF" ::: "memory");
    for (;;) {
    }
}
