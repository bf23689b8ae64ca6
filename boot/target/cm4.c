/*
 * Keeping the Cortex-M4 away from bank 2 while it is written
 * (docs/PRIOR_ART.md 0, 6.7). The CM4 boots from 0x08100000 (bank 2
 * sector 0, inside our application area) when option bit BCM4 is set,
 * which is the factory state. Mechanism:
 *   - at start, if OPTSR_CUR.BCM4 = 1, the bootloader clears BCM4 in the
 *     option bytes (OPTSR_PRG, OPTSTART) and resets: from then on the CM4
 *     stays in reset at every power-on;
 *   - RCC_GCR.BOOT_C2 = 1 starts it; the bootloader sets it only just
 *     before starting an application whose verified image holds a
 *     plausible CM4 vector table at 0x08100000 (boot_app_check).
 * A no-init word guards against a reset loop if the option change does not
 * stick (the bootloader then runs on and reports it in the status page).
 */
#include "cm4.h"
#include "hw.h"

#define OPT(off)      MMIO32(H7_FLASH_R_BASE + (off))
#define CM4_TRY_MAGIC 0xC4C4B00Du

__attribute__((section(".noinit_cm4"))) static volatile uint32_t cm4_try;

static int option_clear_bcm4(void)
{
    uint32_t n;

    for (n = 10000000u; n && (OPT(FLASH_OPTSR_CUR) & FLASH_OPTSR_OPT_BUSY); n--)
        iwdg_refresh();
    if (OPT(FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK) {
        OPT(FLASH_OPTKEYR) = FLASH_OPT_KEY1;
        OPT(FLASH_OPTKEYR) = FLASH_OPT_KEY2;
    }
    if (OPT(FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK)
        return -1;
    OPT(FLASH_OPTCCR) = FLASH_OPTCCR_CLR_OPTCHANGEERR;
    OPT(FLASH_OPTSR_PRG) = OPT(FLASH_OPTSR_PRG) & ~FLASH_OPTSR_BCM4;
    OPT(FLASH_OPTCR) |= FLASH_OPTCR_OPTSTART;
    hw_dsb();
    for (n = 100000000u; n && (OPT(FLASH_OPTSR_CUR) & FLASH_OPTSR_OPT_BUSY); n--)
        iwdg_refresh();
    OPT(FLASH_OPTCR) |= FLASH_OPTCR_OPTLOCK;
    if (!n || (OPT(FLASH_OPTSR_CUR) & FLASH_OPTSR_OPTCHANGEERR))
        return -1;
    return 0;
}

uint32_t cm4_hold(void)
{
    if (!(OPT(FLASH_OPTSR_CUR) & FLASH_OPTSR_BCM4)) {
        cm4_try = 0;
        return CM4_HELD;
    }
    if (cm4_try == CM4_TRY_MAGIC)
        return CM4_BCM4_SET;
    cm4_try = CM4_TRY_MAGIC;
    if (option_clear_bcm4() != 0)
        return CM4_BCM4_SET;
    /* The CM4 may be running from bank 2 right now: restart both. */
    hw_dsb();
    MMIO32(SCB_BASE + SCB_AIRCR) = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    hw_dsb();
    for (;;)
        ;
}

void cm4_release(void)
{
    MMIO32(RCC_BASE + RCC_GCR) |= RCC_GCR_BOOT_C2;
}
