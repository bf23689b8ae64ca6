/* A double-ECC word (a flash word programmed twice) read the way the
 * h7flash driver reads suspect words: FAULTMASK set and CCR.BFHFNMIGN=1.
 * The load returns 0, CFSR.PRECISERR|BFARVALID and BFAR report it, the
 * FLASH controller latches DBECCERR. Without the mask the read faults. */
#include "fw.h"

#define WORD_ADDR 0x08080000u

static int masked_read(uint32_t addr, uint32_t *v)
{
    MMIO32(SCB_BASE + SCB_CFSR) = MMIO32(SCB_BASE + SCB_CFSR);
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_BFHFNMIGN;
    __asm volatile("cpsid f" ::: "memory");
    *v = *(volatile uint32_t *)addr;
    __asm volatile("cpsie f" ::: "memory");
    MMIO32(SCB_BASE + SCB_CCR) &= ~SCB_CCR_BFHFNMIGN;
    uint32_t cfsr = MMIO32(SCB_BASE + SCB_CFSR);
    MMIO32(SCB_BASE + SCB_CFSR) = cfsr;
    return (cfsr & SCB_CFSR_PRECISERR) ? -1 : 0;
}

int main(void)
{
    uint32_t v = 1;
    fw_check(fw_flash_program_word(WORD_ADDR, 0x11111111u, 1u) == 0, "first program");
    fw_check(masked_read(WORD_ADDR, &v) == 0 && v == 0x11111111u,
             "clean word reads without a bus error");
    fw_flash_program_word(WORD_ADDR, 0x22222222u, 1u); /* programmed twice: double ECC */
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = 0x1FFF0000u;
    fw_check(masked_read(WORD_ADDR + 4, &v) == -1, "double-ECC word: bus error recorded");
    fw_check(v == 0, "double-ECC word reads 0 with BFHFNMIGN");
    fw_check(MMIO32(SCB_BASE + SCB_BFAR) == WORD_ADDR + 4, "BFAR = word address");
    fw_check((MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & FLASH_SR_DBECCERR) != 0,
             "FLASH SR1.DBECCERR latched");
    fw_check(masked_read(WORD_ADDR + 32, &v) == 0 && v == 0xFFFFFFFFu,
             "next word (virgin) reads clean");
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = 0x1FFF0000u;
    return (int)fw_failures;
}
