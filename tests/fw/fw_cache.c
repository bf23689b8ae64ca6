/* Cache maintenance as CMSIS does it; the board counts and logs every
 * operation (--cache-log): checked by tests/vboard/cache.sh. */
#include "fw.h"

static void dsb(void)
{
    __asm volatile("dsb 0xF" ::: "memory");
}
static void isb(void)
{
    __asm volatile("isb 0xF" ::: "memory");
}

static void invalidate_dcache_by_addr(uint32_t addr, uint32_t len)
{
    dsb();
    for (uint32_t a = addr & ~31u; a < addr + len; a += 32)
        MMIO32(SCB_BASE + SCB_DCIMVAC) = a;
    dsb();
    isb();
}

static void clean_invalidate_dcache_by_addr(uint32_t addr, uint32_t len)
{
    dsb();
    for (uint32_t a = addr & ~31u; a < addr + len; a += 32)
        MMIO32(SCB_BASE + SCB_DCCIMVAC) = a;
    dsb();
    isb();
}

static void enable_caches(void)
{
    dsb();
    isb();
    MMIO32(SCB_BASE + SCB_ICIALLU) = 0;
    dsb();
    isb();
    MMIO32(SCB_BASE + SCB_CCR) |= SCB_CCR_IC;
    dsb();
    isb();
    fw_dcache_enable();
}

int main(void)
{
    enable_caches();
    fw_check((MMIO32(SCB_BASE + SCB_CCR) & (SCB_CCR_DC | SCB_CCR_IC)) == (SCB_CCR_DC | SCB_CCR_IC),
             "I- and D-cache enabled");
    invalidate_dcache_by_addr(0x08020000u, 128);
    clean_invalidate_dcache_by_addr(0x24000000u, 64);
    return (int)fw_failures;
}
