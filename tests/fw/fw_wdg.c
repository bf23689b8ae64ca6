/* Watchdog: refreshed it keeps the board alive, starved it resets the
 * board; after the reset RCC_RSR shows IWDG1RSTF. */
#include "fw.h"

int main(void)
{
    uint32_t rsr = RCC_RSR;
    if (rsr & RCC_RSR_IWDG1RSTF) {
        RCC_RSR |= 1u << 16;        /* RMVF */
        fw_puts("watchdog reset seen\n");
        return 0;
    }
    fw_cycles_start();
    IWDG_KR = 0x5555;
    IWDG_PR = 0;                    /* /4 */
    IWDG_RLR = 79;                  /* 80 * 4 / 32 kHz = 10 ms */
    IWDG_KR = 0xCCCC;
    fw_puts("watchdog started\n");
    for (int i = 0; i < 5; i++) {
        uint32_t c0 = DWT_CYCCNT;
        while (DWT_CYCCNT - c0 < 64000000u / 200) {}    /* 5 ms at 64 MHz */
        IWDG_KR = 0xAAAA;
    }
    fw_puts("refreshed for 25 ms, now starving it\n");
    for (;;)
        __asm volatile("wfi");
}
