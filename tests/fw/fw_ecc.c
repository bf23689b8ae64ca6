/* A double-ECC word (a flash word programmed twice) read the way the
 * h7flash driver reads suspect words: FAULTMASK set and CCR.BFHFNMIGN=1.
 * The load returns 0, CFSR.PRECISERR|BFARVALID and BFAR report it, the
 * FLASH controller latches DBECCERR. Without the mask the read faults. */
#include "flash_regs.h"

#define WORD_ADDR 0x08080000u
#define SR_DBECCERR (1u << 26)

static int program_word(uint32_t addr, uint32_t first)
{
    flash_unlock();
    FLASH_CCR1 = 0x1FFF0000u;
    FLASH_CR1 = CR_X64 | CR_PG;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    for (int i = 0; i < 8; i++)
        *(volatile uint32_t *)(addr + 4u * (uint32_t)i) = first + (uint32_t)i;
    __asm volatile("dsb 0xF" ::: "memory");
    while (FLASH_SR1 & (SR_BSY | SR_QW | SR_WBNE)) {}
    uint32_t sr = FLASH_SR1;
    FLASH_CR1 = CR_X64;
    return (sr & SR_ERRS) ? -1 : 0;
}

static int masked_read(uint32_t addr, uint32_t *v)
{
    SCB_CFSR = SCB_CFSR;
    SCB_CCR |= 1u << 8;
    __asm volatile("cpsid f" ::: "memory");
    *v = *(volatile uint32_t *)addr;
    __asm volatile("cpsie f" ::: "memory");
    SCB_CCR &= ~(1u << 8);
    uint32_t cfsr = SCB_CFSR;
    SCB_CFSR = cfsr;
    return (cfsr & (1u << 9)) ? -1 : 0;
}

int main(void)
{
    uint32_t v = 1;
    fw_check(program_word(WORD_ADDR, 0x11111111u) == 0, "first program");
    fw_check(masked_read(WORD_ADDR, &v) == 0 && v == 0x11111111u, "clean word reads without a bus error");
    program_word(WORD_ADDR, 0x22222222u);   /* programmed twice: double ECC */
    FLASH_CCR1 = 0x1FFF0000u;
    fw_check(masked_read(WORD_ADDR + 4, &v) == -1, "double-ECC word: bus error recorded");
    fw_check(v == 0, "double-ECC word reads 0 with BFHFNMIGN");
    fw_check(SCB_BFAR == WORD_ADDR + 4, "BFAR = word address");
    fw_check((FLASH_SR1 & SR_DBECCERR) != 0, "FLASH SR1.DBECCERR latched");
    fw_check(masked_read(WORD_ADDR + 32, &v) == 0 && v == 0xFFFFFFFFu, "next word (virgin) reads clean");
    FLASH_CCR1 = 0x1FFF0000u;
    FLASH_CR1 = CR_LOCK;
    return (int)fw_failures;
}
