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

/* D-cache maintenance by address over [addr, addr + len), 32-byte lines:
 * op is SCB_DCIMVAC (invalidate) or SCB_DCCIMVAC (clean and invalidate). */
static void dcache_by_addr(uint32_t op, uint32_t addr, uint32_t len)
{
    dsb();
    for (uint32_t a = addr & ~31u; a < addr + len; a += 32)
        MMIO32(SCB_BASE + op) = a;
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
    dcache_by_addr(SCB_DCIMVAC, 0x08020000u, 128);
    dcache_by_addr(SCB_DCCIMVAC, 0x24000000u, 64);
    return (int)fw_failures;
}
