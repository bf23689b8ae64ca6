/* The L1 caches as firmware sees them, with raw register sequences (no
 * driver): what stays stale after an erase or program and what does not.
 * D-cache and I-cache on; flash sectors 6 (code) and 7 (data) of bank 1.
 * Checked by tests/vboard (dcache), which also expects the model to log
 * the refused stores of the fourth check. */
#include "fw.h"
#include "stm32h7/mpu.h"

#define CR1  MMIO32(H7_FLASH_REG(1u, FLASH_CR))
#define SR1  MMIO32(H7_FLASH_REG(1u, FLASH_SR))
#define CODE 0x080C0000u /* sector 6 */
#define DATA 0x080E0000u /* sector 7 */

static void barrier(void)
{
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
}

static uint32_t rd(uint32_t a)
{
    return *(volatile uint32_t *)a;
}

static void dcimvac(uint32_t a)
{
    MMIO32(SCB_BASE + SCB_DCIMVAC) = a;
    barrier();
}

static void erase_sector(unsigned sector)
{
    flash_unlock();
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = FLASH_CCR_CLR_ALL;
    CR1 = FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (sector << FLASH_CR_SNB_Pos);
    CR1 |= FLASH_CR_START;
    while (SR1 & (FLASH_SR_BSY | FLASH_SR_QW)) {
    }
    CR1 = FLASH_CR_PSIZE_X64;
    CR1 = FLASH_CR_LOCK;
}

/* Stores a flash word with bank 1 locked, as after a debugger re-locked
 * it: setting PG is ignored, the flash refuses the stores (PGSERR). */
static void program_locked(uint32_t addr, uint32_t v)
{
    CR1 = FLASH_CR_LOCK;
    CR1 |= FLASH_CR_PG;
    barrier();
    for (uint32_t i = 0; i < H7_FLASH_WORD / 4u; i++)
        *(volatile uint32_t *)(addr + 4u * i) = v;
    barrier();
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = FLASH_CCR_CLR_ALL;
}

static void check_word(uint32_t addr, uint32_t want, const char *what)
{
    uint32_t got = rd(addr);
    if (got != want) {
        fw_puts("  got ");
        fw_puthex(got);
        fw_puts(" want ");
        fw_puthex(want);
        fw_puts("\n");
    }
    fw_check(got == want, what);
}

static int call(uint32_t addr)
{
    int (*f)(void) = (int (*)(void))(addr | 1u);
    return f();
}

int main(void)
{
    MMIO32(SCB_BASE + SCB_ICIALLU) = 0;
    barrier();
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_IC;
    barrier();
    fw_dcache_enable();
    fw_check((MMIO32(SCB_BASE + SCB_CCR) & (SCB_CCR_DC | SCB_CCR_IC)) == (SCB_CCR_DC | SCB_CCR_IC),
             "I- and D-cache enabled");

    /* 1. Erase under a cached line. */
    fw_check(fw_flash_program_word(DATA, 0x11110000u, 1u) == 0, "word programmed");
    check_word(DATA, 0x11110000u, "read back (the line is now in the D-cache)");
    erase_sector(7);
    check_word(DATA, 0x11110000u,
               "after the erase, no invalidate: the cached line reads the old data");
    dcimvac(DATA);
    check_word(DATA, 0xFFFFFFFFu, "after DCIMVAC: the erased word");

    /* 2. Write-through: stores that hit a cached line update it. */
    check_word(DATA, 0xFFFFFFFFu, "read (cached as erased)");
    fw_check(fw_flash_program_word(DATA, 0x22220000u, 1u) == 0, "word programmed");
    check_word(DATA + 4u, 0x22220001u,
               "the program's stores hit the line: read back right without DCIMVAC");

    /* 3. Stores the flash refused still land in a cached line. */
    uint32_t w2 = DATA + H7_FLASH_WORD;
    check_word(w2, 0xFFFFFFFFu, "next word read (cached as erased)");
    program_locked(w2, 0x33333333u);
    check_word(w2, 0x33333333u, "a refused program reads back right from the cache");
    dcimvac(w2);
    check_word(w2, 0xFFFFFFFFu, "after DCIMVAC: the flash never got it");

    /* 4. An MPU region makes sector 7 non-cacheable: nothing stale. */
    MMIO32(MPU_BASE + MPU_RNR) = 0;
    MMIO32(MPU_BASE + MPU_RBAR) = DATA;
    MMIO32(MPU_BASE + MPU_RASR) =
        (3u << 24) | (1u << 19) | (16u << 1) | 1u; /* RW, TEX=1 C=B=0: normal NC, 128 KB */
    MMIO32(MPU_BASE + MPU_CTRL) = 5u;              /* ENABLE, PRIVDEFENA */
    barrier();
    uint32_t w3 = DATA + 2u * H7_FLASH_WORD;
    fw_check(fw_flash_program_word(w3, 0x44440000u, 1u) == 0, "word programmed");
    check_word(w3, 0x44440000u, "read back through the non-cacheable region");
    erase_sector(7);
    check_word(w3, 0xFFFFFFFFu, "after the erase: the erased word, no maintenance needed");
    MMIO32(MPU_BASE + MPU_CTRL) = 0;
    barrier();

    /* 5. Write-back SRAM: invalidating a dirty line loses its stores. */
    volatile uint32_t *p = (volatile uint32_t *)H7_AXISRAM_BASE;
    *p = 1u;
    MMIO32(SCB_BASE + SCB_DCCIMVAC) = H7_AXISRAM_BASE;
    barrier();
    *p = 2u;
    dcimvac(H7_AXISRAM_BASE);
    fw_check(*p == 1u, "DCIMVAC of a dirty AXI SRAM line: the store is lost");
    *p = 3u;
    MMIO32(SCB_BASE + SCB_DCCIMVAC) = H7_AXISRAM_BASE;
    barrier();
    fw_check(*p == 3u, "DCCIMVAC cleans first: the store is kept");

    /* 6. I-cache: code in flash reprogrammed under it. */
    fw_check(fw_flash_program_word(CODE, 0x47702001u, 0u) == 0,
             "code 'movs r0, #1; bx lr' programmed");
    fw_check(call(CODE) == 1, "it runs: 1 (the line is now in the I-cache)");
    erase_sector(6);
    fw_check(fw_flash_program_word(CODE, 0x47702002u, 0u) == 0, "code 'movs r0, #2' programmed");
    check_word(CODE, 0x47702002u, "a data load sees the new code");
    fw_check(call(CODE) == 1, "without ICIALLU the I-cache still runs the old code: 1");
    MMIO32(SCB_BASE + SCB_ICIALLU) = 0;
    barrier();
    fw_check(call(CODE) == 2, "after ICIALLU: 2");

    return (int)fw_failures;
}
