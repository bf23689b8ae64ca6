/* The size of the whole update: erase 14 sectors (1.75 MB) over both banks
 * and program every flash word, as a boot loader's writer does (x64, eight
 * 32-bit stores per 256-bit word, then wait for QW). Code runs from ITCM so
 * both banks work without stalling it. Prints the virtual time it took. */
#include "flash_regs.h"

#define FLASH_KEYR2 REG(0x52002104u)
#define FLASH_CR2   REG(0x5200210Cu)
#define FLASH_SR2   REG(0x52002110u)
#define FLASH_CCR2  REG(0x52002114u)

FW_RAMFUNC static int erase(volatile uint32_t *cr, volatile uint32_t *sr, volatile uint32_t *ccr, unsigned s)
{
    *ccr = 0x1FFF0000u;
    *cr = CR_X64 | CR_SER | (s << 8);
    *cr |= CR_START;
    while (*sr & (SR_BSY | SR_QW)) {}
    uint32_t e = *sr & SR_ERRS;
    *cr = CR_X64;
    return e ? -1 : 0;
}

FW_RAMFUNC static int program(uint32_t addr, uint32_t len)
{
    volatile uint32_t *cr = addr < 0x08100000u ? &FLASH_CR1 : &FLASH_CR2;
    volatile uint32_t *sr = addr < 0x08100000u ? &FLASH_SR1 : &FLASH_SR2;
    *cr = CR_X64 | CR_PG;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    for (uint32_t a = addr; a < addr + len; a += 32) {
        for (uint32_t i = 0; i < 8; i++)
            *(volatile uint32_t *)(a + 4 * i) = a ^ (i * 0x01010101u);
        __asm volatile("dsb 0xF" ::: "memory");
        while (*sr & (SR_QW | SR_WBNE)) {}
        if (*sr & SR_ERRS)
            return -1;
    }
    *cr = CR_X64;
    return 0;
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    flash_unlock();
    FLASH_KEYR2 = 0x45670123u;
    FLASH_KEYR2 = 0xCDEF89ABu;
    int bad = 0;
    /* Sectors 1..7 of bank 1 and 0..6 of bank 2: 14 x 128 KB. */
    for (unsigned s = 1; s < 8; s++)
        bad |= erase(&FLASH_CR1, &FLASH_SR1, &FLASH_CCR1, s);
    for (unsigned s = 0; s < 7; s++)
        bad |= erase(&FLASH_CR2, &FLASH_SR2, &FLASH_CCR2, s);
    fw_check(bad == 0, "14 sectors erased");
    bad |= program(0x08020000u, 7 * 0x20000u);
    bad |= program(0x08100000u, 7 * 0x20000u);
    fw_check(bad == 0, "1.75 MB programmed");
    uint32_t errs = 0;
    /* Bank 1 sectors 1..7 and bank 2 sectors 0..6 are contiguous. */
    for (uint32_t a = 0x08020000u; a < 0x08100000u + 7 * 0x20000u; a += 4) {
        uint32_t want = (a & ~31u) ^ (((a & 31u) / 4) * 0x01010101u);
        if (*(volatile uint32_t *)a != want)
            errs++;
    }
    fw_check(errs == 0, "read back");
    return (int)fw_failures;
}
