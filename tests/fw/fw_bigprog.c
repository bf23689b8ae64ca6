/* The size of the whole update: erase 14 sectors (1.75 MB) over both banks
 * and program every flash word, as a boot loader's writer does (x64, eight
 * 32-bit stores per 256-bit word, then wait for QW). Code runs from ITCM so
 * both banks work without stalling it. Prints the virtual time it took. */
#include "fw.h"

FW_RAMFUNC static int erase(volatile uint32_t *cr, volatile uint32_t *sr, volatile uint32_t *ccr,
                            unsigned s)
{
    *ccr = 0x1FFF0000u;
    *cr = FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (s << FLASH_CR_SNB_Pos);
    *cr |= FLASH_CR_START;
    while (*sr & (FLASH_SR_BSY | FLASH_SR_QW)) {
    }
    uint32_t e = *sr & FLASH_SR_ALL_ERRORS;
    *cr = FLASH_CR_PSIZE_X64;
    return e ? -1 : 0;
}

FW_RAMFUNC static int program(uint32_t addr, uint32_t len)
{
    volatile uint32_t *cr = addr < H7_BANK2_BASE ? &MMIO32(H7_FLASH_REG(1u, FLASH_CR))
                                                 : &MMIO32(H7_FLASH_REG(2u, FLASH_CR));
    volatile uint32_t *sr = addr < H7_BANK2_BASE ? &MMIO32(H7_FLASH_REG(1u, FLASH_SR))
                                                 : &MMIO32(H7_FLASH_REG(2u, FLASH_SR));
    *cr = FLASH_CR_PSIZE_X64 | FLASH_CR_PG;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    for (uint32_t a = addr; a < addr + len; a += 32) {
        for (uint32_t i = 0; i < 8; i++)
            *(volatile uint32_t *)(a + 4 * i) = a ^ (i * 0x01010101u);
        __asm volatile("dsb 0xF" ::: "memory");
        while (*sr & (FLASH_SR_QW | FLASH_SR_WBNE)) {
        }
        if (*sr & FLASH_SR_ALL_ERRORS)
            return -1;
    }
    *cr = FLASH_CR_PSIZE_X64;
    return 0;
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    flash_unlock();
    MMIO32(H7_FLASH_REG(2u, FLASH_KEYR)) = FLASH_KEY1;
    MMIO32(H7_FLASH_REG(2u, FLASH_KEYR)) = FLASH_KEY2;
    int bad = 0;
    /* Sectors 1..7 of bank 1 and 0..6 of bank 2: 14 x 128 KB. */
    for (unsigned s = 1; s < 8; s++)
        bad |= erase(&MMIO32(H7_FLASH_REG(1u, FLASH_CR)), &MMIO32(H7_FLASH_REG(1u, FLASH_SR)),
                     &MMIO32(H7_FLASH_REG(1u, FLASH_CCR)), s);
    for (unsigned s = 0; s < 7; s++)
        bad |= erase(&MMIO32(H7_FLASH_REG(2u, FLASH_CR)), &MMIO32(H7_FLASH_REG(2u, FLASH_SR)),
                     &MMIO32(H7_FLASH_REG(2u, FLASH_CCR)), s);
    fw_check(bad == 0, "14 sectors erased");
    bad |= program(H7_BANK1_BASE + H7_SECTOR_SIZE, 7 * H7_SECTOR_SIZE);
    bad |= program(H7_BANK2_BASE, 7 * H7_SECTOR_SIZE);
    fw_check(bad == 0, "1.75 MB programmed");
    uint32_t errs = 0;
    /* Bank 1 sectors 1..7 and bank 2 sectors 0..6 are contiguous. */
    for (uint32_t a = H7_BANK1_BASE + H7_SECTOR_SIZE; a < H7_BANK2_BASE + 7 * H7_SECTOR_SIZE;
         a += 4) {
        uint32_t want = (a & ~31u) ^ (((a & 31u) / 4) * 0x01010101u);
        if (*(volatile uint32_t *)a != want)
            errs++;
    }
    fw_check(errs == 0, "read back");
    return (int)fw_failures;
}
