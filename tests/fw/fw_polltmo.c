/* Polling a sector erase from ITCM at the reset clock (64 MHz HSI), the
 * way bare-metal drivers do, and what firmware can see of it:
 *   1. a loop that counts its turns until QW clears: on silicon millions
 *      (a 1 s erase at 64 MHz, a few cycles per turn), so it must be on the
 *      board too;
 *   2. a loop with an iteration-count timeout, while ((SR & QW) && --n),
 *      n = 1000000: it gives up long before the erase ends, as on the chip;
 *   3. a pure poll (nothing but the SR read and the test): the board may
 *      skip its time, which the firmware cannot tell (CYCCNT still shows
 *      the whole erase);
 *   4. a wait with a timeout on the cycle counter: skipped too, it ends
 *      when the erase does;
 *   5. the same wait counting its turns: runs turn by turn again.
 * Prints the figures; tests/vboard (polltmo) checks them. */
#include "fw.h"

#define SR1    MMIO32(H7_FLASH_REG(1u, FLASH_SR))
#define CR1    MMIO32(H7_FLASH_REG(1u, FLASH_CR))
#define CYCCNT MMIO32(DWT_BASE + DWT_CYCCNT)

#define TMO_TURNS 1000000u

FW_RAMFUNC static void erase_start(unsigned sector)
{
    MMIO32(H7_FLASH_REG(1u, FLASH_CCR)) = FLASH_CCR_CLR_ALL;
    CR1 = FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (sector << FLASH_CR_SNB_Pos);
    CR1 |= FLASH_CR_START;
}

FW_RAMFUNC static void erase_end(void)
{
    CR1 = FLASH_CR_PSIZE_X64;
}

/* 1: turns counted until the erase is over. */
FW_RAMFUNC static uint32_t count_turns(unsigned sector)
{
    erase_start(sector);
    uint32_t n = 0;
    while (SR1 & FLASH_SR_QW)
        n++;
    erase_end();
    return n;
}

/* 2: an iteration-count timeout; returns the turns left (0: timed out)
 * and whether QW was still set when the loop ended. */
FW_RAMFUNC static uint32_t bounded_wait(unsigned sector, uint32_t *qw_at_end)
{
    erase_start(sector);
    uint32_t n = TMO_TURNS;
    while ((SR1 & FLASH_SR_QW) && --n)
        ;
    *qw_at_end = SR1 & FLASH_SR_QW;
    while (SR1 & FLASH_SR_QW) /* then wait for the end (pure) */
        ;
    erase_end();
    return n;
}

/* 3: a pure poll, timed with the cycle counter. */
FW_RAMFUNC static uint32_t pure_wait(unsigned sector)
{
    erase_start(sector);
    uint32_t c0 = CYCCNT;
    while (SR1 & FLASH_SR_QW)
        ;
    uint32_t c = CYCCNT - c0;
    erase_end();
    return c;
}

/* 4 and 5: a timeout of 2 s on the cycle counter; returns the cycles the
 * wait took, *turns the turns counted (5) or 0 (4). */
FW_RAMFUNC static uint32_t timed_wait(unsigned sector, int count, uint32_t *turns)
{
    erase_start(sector);
    uint32_t t0 = CYCCNT, n = 0;
    if (count) {
        while ((SR1 & FLASH_SR_QW) && CYCCNT - t0 < 128000000u)
            n++;
    } else {
        while ((SR1 & FLASH_SR_QW) && CYCCNT - t0 < 128000000u)
            ;
    }
    uint32_t c = CYCCNT - t0;
    erase_end();
    *turns = n;
    return c;
}

int main(void)
{
    fw_cycles_start();
    flash_unlock();

    uint32_t cyc = pure_wait(7);
    fw_puts("pure poll: erase took ");
    fw_putdec(cyc);
    fw_puts(" cycles\n");
    /* 1 s at 64 MHz (the model's typical x64 sector erase time). */
    fw_check(cyc > 60000000u && cyc < 68000000u, "the cycle counter saw the whole erase");

    uint32_t turns = count_turns(6);
    fw_puts("counting loop: ");
    fw_putdec(turns);
    fw_puts(" turns during the erase\n");
    fw_check(turns > 5000000u, "a counting poll loop turns millions of times in a 1 s erase");

    uint32_t qw = 0;
    uint32_t left = bounded_wait(5, &qw);
    fw_puts("iteration-count timeout: ");
    fw_putdec(TMO_TURNS - left);
    fw_puts(" turns, ");
    fw_puts(left == 0 ? "timed out" : "erase ended first");
    fw_puts(qw ? " with QW still set\n" : " with QW clear\n");
    fw_check(left == 0 && qw, "while ((SR & QW) && --n) with n = 1000000 times out, as on silicon");

    uint32_t n4 = 0, n5 = 0;
    uint32_t c4 = timed_wait(4, 0, &n4);
    fw_puts("timed wait: ");
    fw_putdec(c4);
    fw_puts(" cycles\n");
    fw_check(c4 > 60000000u && c4 < 68000000u,
             "a wait timed on the cycle counter ends with the erase");
    uint32_t c5 = timed_wait(3, 1, &n5);
    fw_puts("timed wait counting: ");
    fw_putdec(c5);
    fw_puts(" cycles, ");
    fw_putdec(n5);
    fw_puts(" turns\n");
    fw_check(c5 > 60000000u && c5 < 68000000u && n5 > 5000000u,
             "the same wait counting its turns turns millions of times");

    fw_check((SR1 & FLASH_SR_ALL_ERRORS) == 0, "no FLASH error flags");
    CR1 = FLASH_CR_LOCK;
    return (int)fw_failures;
}
