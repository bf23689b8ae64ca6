/*
 * Independent watchdog IWDG1 (LSI 32 kHz): prescaler /64, reload 4095 ->
 * 8.2 s, twice the datasheet maximum of a 128 KB sector erase (4 s at x8,
 * DS12110 Table 53, docs/H7_FLASH.md 8.3). It is also refreshed from ITCM
 * while the flash driver polls (h7f_port_poll_hook) and in every wait for
 * the host. Once started it cannot be stopped: the application must
 * refresh it (app/ does).
 */
#include "h7flash/io.h"
#include "hw.h"

void iwdg_start(void)
{
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_START;
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_UNLOCK;
    MMIO32(IWDG1_BASE + IWDG_PR) = IWDG_PR_DIV64;
    MMIO32(IWDG1_BASE + IWDG_RLR) = 4095u;
    for (uint32_t n = 1000000u;
         n && (MMIO32(IWDG1_BASE + IWDG_SR) & (IWDG_SR_PVU | IWDG_SR_RVU | IWDG_SR_WVU)); n--)
        ;
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
}

H7F_RAMFUNC void iwdg_refresh(void)
{
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
}

/* The driver calls this in every busy-wait loop (h7flash/io.h). */
H7F_RAMFUNC void h7f_port_poll_hook(void)
{
    MMIO32(IWDG1_BASE + IWDG_KR) = IWDG_KEY_REFRESH;
}
