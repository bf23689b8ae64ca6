/* CPU stalls while bank 1 erases: code in ITCM keeps running, code or data
 * in bank 1 waits for the end of the erase, bank 2 reads do not wait. */
#include "fw.h"

struct result {
    uint32_t cycles, iters;
};

/* The polls counted, up to a limit: a loop that counts every turn runs
 * instruction by instruction on the board (as on silicon), about 100 M
 * turns per second of erase at 480 MHz; once the count stops the loop is
 * a pure poll and the board skips to the end of the erase. */
#define POLL_COUNT_MAX 200000u

/* Inlined into each caller, so that the loop runs where the caller is
 * placed (ITCM or bank 1). erase_start: clear the flags, start a sector
 * erase of bank 1; returns the cycle count before START. */
static inline __attribute__((always_inline)) uint32_t erase_start(unsigned sector)
{
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = 0x1FFF0000u;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) =
        FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (sector << FLASH_CR_SNB_Pos);
    uint32_t c0 = MMIO32(DWT_BASE + DWT_CYCCNT);
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) |= FLASH_CR_START;
    return c0;
}

/* Poll bank 1's BSY/QW until the operation ends; returns the turns
 * counted (at most POLL_COUNT_MAX). */
static inline __attribute__((always_inline)) uint32_t busy_poll(void)
{
    uint32_t n = 0;
    while (MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & (FLASH_SR_BSY | FLASH_SR_QW))
        if (n < POLL_COUNT_MAX)
            n++;
    return n;
}

FW_RAMFUNC static void erase_itcm(unsigned sector, struct result *r)
{
    uint32_t c0 = erase_start(sector), n;
    n = busy_poll();
    r->cycles = MMIO32(DWT_BASE + DWT_CYCCNT) - c0;
    r->iters = n;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64;
}

/* Starts the erase from ITCM, then reads one word at addr. */
FW_RAMFUNC static uint32_t erase_then_read(unsigned sector, uint32_t addr, struct result *r)
{
    uint32_t c0 = erase_start(sector), n;
    uint32_t v = *(volatile uint32_t *)addr;
    uint32_t c1 = MMIO32(DWT_BASE + DWT_CYCCNT);
    n = busy_poll();
    r->cycles = c1 - c0;
    r->iters = n;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64;
    return v;
}

/* The same loop as erase_itcm, but in bank 1 (.text). */
__attribute__((noinline)) static void erase_flash(unsigned sector, struct result *r)
{
    uint32_t c0 = erase_start(sector), n;
    n = busy_poll();
    r->cycles = MMIO32(DWT_BASE + DWT_CYCCNT) - c0;
    r->iters = n;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64;
}

/* A timed read, in its own function: the board applies a bank's new state
 * at the next translation block. */
FW_RAMFUNC static uint32_t timed_read(uint32_t addr)
{
    uint32_t c0 = MMIO32(DWT_BASE + DWT_CYCCNT);
    (void)*(volatile uint32_t *)addr;
    return MMIO32(DWT_BASE + DWT_CYCCNT) - c0;
}

/* Programs one flash word at addr from ITCM, then reads bank 1 at once. */
FW_RAMFUNC static void program_then_read(uint32_t addr, struct result *r)
{
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = 0x1FFF0000u;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64 | FLASH_CR_PG;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    for (uint32_t i = 0; i < 8; i++)
        *(volatile uint32_t *)(addr + 4 * i) = i;
    __asm volatile("dsb 0xF" ::: "memory");
    r->cycles = timed_read(0x08000000u);
    uint32_t n = busy_poll();
    r->iters = n;
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_PSIZE_X64;
}

static void show(const char *what, const struct result *r)
{
    fw_puts(what);
    fw_puts(": ");
    fw_putdec(r->cycles);
    fw_puts(" cycles, ");
    fw_putdec(r->iters);
    fw_puts(" polls\n");
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    flash_unlock();
    fw_check(!(MMIO32(H7_FLASH_REG(1u, FLASH_CR)) & FLASH_CR_LOCK), "bank 1 unlocked");

    struct result itcm, fl, rd1, rd2;
    erase_itcm(7, &itcm);
    show("erase from ITCM", &itcm);
    fw_check(itcm.iters > 1000, "ITCM code keeps running during the erase");
    fw_check(itcm.cycles > 100000000u, "sector erase takes a sector erase time");

    erase_flash(6, &fl);
    show("erase from bank 1", &fl);
    fw_check(fl.iters <= 2, "bank-1 code stalled until the erase ended");
    fw_check(fl.cycles >= itcm.cycles - itcm.cycles / 20 &&
                 fl.cycles <= itcm.cycles + itcm.cycles / 20,
             "stall lasts the erase time");

    uint32_t v = erase_then_read(5, 0x08000000u, &rd1);
    show("ITCM read of bank 1", &rd1);
    fw_check(rd1.cycles >= itcm.cycles - itcm.cycles / 20, "data read of the busy bank stalls");
    fw_check(rd1.iters <= 1, "erase over after the stalled read");
    fw_check(v == *(volatile uint32_t *)0x08000000u, "stalled read returns the data");

    uint32_t w = erase_then_read(4, 0x08100000u, &rd2);
    show("ITCM read of bank 2", &rd2);
    fw_check(rd2.cycles < 1000, "read of the other bank does not stall");
    fw_check(rd2.iters > 1000, "erase still running after the bank-2 read");
    fw_check(w == 0xFFFFFFFFu, "bank 2 erased");
    fw_check((MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & FLASH_SR_ALL_ERRORS) == 0,
             "no FLASH error flags");

    /* A data read during a word program: stalls with --exact-read-stalls
     * only (tests/vboard checks the figure of both runs). */
    struct result pr;
    program_then_read(0x080E0000u, &pr);
    show("ITCM read of bank 1 during a word program", &pr);
    MMIO32(H7_FLASH_REG(1u, FLASH_CR)) = FLASH_CR_LOCK;
    return (int)fw_failures;
}
