/* Cache maintenance as CMSIS does it; the board counts and logs every
 * operation (--cache-log): checked by tests/vboard/cache.sh. */
#include "fw.h"

#define CCR_DC (1u << 16)
#define CCR_IC (1u << 17)

static void dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static void isb(void) { __asm volatile("isb 0xF" ::: "memory"); }

static void invalidate_dcache_by_addr(uint32_t addr, uint32_t len)
{
    dsb();
    for (uint32_t a = addr & ~31u; a < addr + len; a += 32)
        SCB_DCIMVAC = a;
    dsb();
    isb();
}

static void clean_invalidate_dcache_by_addr(uint32_t addr, uint32_t len)
{
    dsb();
    for (uint32_t a = addr & ~31u; a < addr + len; a += 32)
        SCB_DCCIMVAC = a;
    dsb();
    isb();
}

static void enable_caches(void)
{
    dsb();
    isb();
    SCB_ICIALLU = 0;
    dsb();
    isb();
    SCB_CCR |= CCR_IC;
    dsb();
    isb();
    SCB_CSSELR = 0;
    dsb();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = (ccsidr >> 13) & 0x7FFFu;
    do {
        uint32_t ways = (ccsidr >> 3) & 0x3FFu;
        do {
            SCB_DCISW = (sets << 5) | (ways << 30);
        } while (ways--);
    } while (sets--);
    dsb();
    SCB_CCR |= CCR_DC;
    dsb();
    isb();
}

int main(void)
{
    enable_caches();
    fw_check((SCB_CCR & (CCR_DC | CCR_IC)) == (CCR_DC | CCR_IC), "I- and D-cache enabled");
    invalidate_dcache_by_addr(0x08020000u, 128);
    clean_invalidate_dcache_by_addr(0x24000000u, 64);
    return (int)fw_failures;
}
