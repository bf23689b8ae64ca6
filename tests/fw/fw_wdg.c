/* Watchdog: refreshed it keeps the board alive, starved it resets the
 * board; after the reset RCC_RSR shows IWDG1RSTF. */
#include "fw.h"

int main(void)
{
    uint32_t rsr = MMIO32(RCC_BASE + RCC_RSR);
    if (rsr & RCC_RSR_IWDG1RSTF) {
        MMIO32(RCC_BASE + RCC_RSR) |= RCC_RSR_RMVF;
        fw_puts("watchdog reset seen\n");
        return 0;
    }
    fw_cycles_start();
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_UNLOCK;
    MMIO32(IWDG1_BASE + IWDG_PR) = 0;   /* /4 */
    MMIO32(IWDG1_BASE + IWDG_RLR) = 79; /* 80 * 4 / 32 kHz = 10 ms */
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_START;
    fw_puts("watchdog started\n");
    for (int i = 0; i < 5; i++) {
        uint32_t c0 = MMIO32(DWT_BASE + DWT_CYCCNT);
        while (MMIO32(DWT_BASE + DWT_CYCCNT) - c0 < RCC_HSI_HZ / 200) {
        } /* 5 ms at 64 MHz */
        MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
    }
    fw_puts("refreshed for 25 ms, now starving it\n");
    for (;;)
        __asm volatile("wfi");
}
