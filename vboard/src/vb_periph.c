/*
 * vboard: the peripherals a boot loader and an application touch besides
 * FLASH and USART3 (RM0399 register maps):
 *   RCC     0x58024400  clock tree: oscillators and PLL1..3 become ready as
 *                       soon as they are switched on; SWS follows SW; the
 *                       core clock follows SWS, PLL1 and D1CPRE
 *   PWR     0x58024800  VOS / ACTVOS ready at once
 *   IWDG1   0x58004800  LSI 32 kHz, starvation resets the board
 *   HSEM    0x58026400  every lock is granted to the CM7 (COREID 3)
 *   DBGMCU  0x5C001000  IDCODE
 * Every other address of the peripheral window (GPIO, SYSCFG, the other
 * RCC registers, ...) is accepted: writes are stored (reads return them)
 * and logged with --trace, never fatal.
 */
#include "vb_internal.h"
#include "stm32h7/dbgmcu.h"
#include "stm32h7/gpio.h"
#include "stm32h7/hsem.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/pwr.h"
#include "stm32h7/rcc.h"

#include <string.h>

#define R(off) b->rcc.reg[(off) / 4]

/* ---- generic storage ---------------------------------------------------------- */

static uint32_t *store_slot(struct vb *b, uint32_t a, bool create)
{
    uint32_t h = (a >> 2) * 2654435761u;
    for (unsigned i = 0; i < VB_STORE_SLOTS; i++) {
        unsigned s = (h + i) & (VB_STORE_SLOTS - 1);
        if (b->store.used[s] && b->store.addr[s] == a)
            return &b->store.val[s];
        if (!b->store.used[s]) {
            if (!create)
                return NULL;
            b->store.used[s] = true;
            b->store.addr[s] = a;
            b->store.val[s] = 0;
            return &b->store.val[s];
        }
    }
    return NULL;
}

/* ---- clock tree -------------------------------------------------------------- */

static uint32_t hsi_hz(struct vb *b)
{
    return 64000000u >> ((R(RCC_CR) >> 3) & 3);
}

static uint32_t pll_src_hz(struct vb *b)
{
    switch (R(RCC_PLLCKSELR) & 3) {
    case 0: return hsi_hz(b);
    case 1: return 4000000u;
    case 2: return b->cfg.hse_hz;
    default: return 0;
    }
}

/* Output of PLL n (1..3), divider field at shift (P: 9, Q: 16, R: 24). */
static uint32_t pll_out(struct vb *b, unsigned n, unsigned shift)
{
    static const uint32_t divr[3] = { RCC_PLL1DIVR, RCC_PLL2DIVR, RCC_PLL3DIVR };
    static const uint32_t fracr[3] = { RCC_PLL1FRACR, RCC_PLL2FRACR, RCC_PLL3FRACR };
    uint32_t divm = (R(RCC_PLLCKSELR) >> (4 + 8 * (n - 1))) & 0x3F;
    if (divm == 0)
        return 0;
    uint32_t d = R(divr[n - 1]);
    uint64_t mul = ((uint64_t)(d & 0x1FF) + 1) * 8192;
    if (R(RCC_PLLCFGR) & (1u << (4 * (n - 1))))
        mul += (R(fracr[n - 1]) >> 3) & 0x1FFF;
    uint64_t vco = (uint64_t)pll_src_hz(b) * mul / ((uint64_t)divm * 8192);
    uint32_t div = ((d >> shift) & 0x7F) + 1;
    return (uint32_t)(vco / div);
}

static unsigned ahb_div(uint32_t f)
{
    static const unsigned d[8] = { 2, 4, 8, 16, 64, 128, 256, 512 };
    return f < 8 ? 1 : d[f - 8];
}

static unsigned apb_div(uint32_t f)
{
    return f < 4 ? 1 : 2u << (f - 4);
}

static uint32_t sys_hz(struct vb *b)
{
    switch ((R(RCC_CFGR) >> 3) & 7) {
    case 0: return hsi_hz(b);
    case 1: return 4000000u;
    case 2: return b->cfg.hse_hz;
    case 3: return pll_out(b, 1, 9);
    default: return hsi_hz(b);
    }
}

uint32_t vb_rcc_core_hz(struct vb *b)
{
    uint32_t hz = sys_hz(b) / ahb_div((R(RCC_D1CFGR) >> 8) & 0xF);
    return hz ? hz : 64000000u;
}

uint32_t vb_rcc_hclk_hz(struct vb *b)
{
    return vb_rcc_core_hz(b) / ahb_div(R(RCC_D1CFGR) & 0xF);
}

uint32_t vb_rcc_usart3_hz(struct vb *b)
{
    switch (R(RCC_D2CCIP2R) & 7) {
    case 0: return vb_rcc_hclk_hz(b) / apb_div((R(RCC_D2CFGR) >> 4) & 7);
    case 1: return pll_out(b, 2, 16);
    case 2: return pll_out(b, 3, 16);
    case 3: return hsi_hz(b);
    case 4: return 4000000u;
    case 5: return 32768u;
    default: return 0;
    }
}

static void rcc_update(struct vb *b)
{
    uint32_t cr = R(RCC_CR);
    static const unsigned on_rdy[][2] = { { 0, 2 },   { 7, 8 },   { 12, 13 }, { 16, 17 },
                                          { 24, 25 }, { 26, 27 }, { 28, 29 } };
    for (unsigned i = 0; i < sizeof on_rdy / sizeof on_rdy[0]; i++) {
        if (cr & (1u << on_rdy[i][0]))
            cr |= 1u << on_rdy[i][1];
        else
            cr &= ~(1u << on_rdy[i][1]);
    }
    cr |= (1u << 5) | (1u << 14) | (1u << 15); /* HSIDIVF, D1CKRDY, D2CKRDY */
    R(RCC_CR) = cr;
    /* SWS follows SW when the selected source is ready. */
    static const unsigned rdy_bit[4] = { 2, 8, 17, 25 };
    uint32_t sw = R(RCC_CFGR) & 7;
    if (sw < 4 && (cr & (1u << rdy_bit[sw])))
        R(RCC_CFGR) = (R(RCC_CFGR) & ~(7u << 3)) | (sw << 3);
    if (R(RCC_CSR) & 1u)
        R(RCC_CSR) |= 2u;
    else
        R(RCC_CSR) &= ~2u;
    vb_set_hz(b, vb_rcc_core_hz(b));
}

/* ---- IWDG -------------------------------------------------------------------- */

static uint64_t iwdg_period(struct vb *b)
{
    unsigned pr = b->iwdg.pr > 6 ? 6 : b->iwdg.pr;
    return ((uint64_t)(b->iwdg.rlr & 0xFFF) + 1) * (4u << pr) * VB_NS_PER_S / 32000u;
}

uint64_t vb_iwdg_next(struct vb *b)
{
    return b->iwdg.running ? b->iwdg.expiry : VB_NEVER;
}

void vb_iwdg_process(struct vb *b, uint64_t now)
{
    if (b->iwdg.running && now >= b->iwdg.expiry) {
        b->iwdg.running = false;
        vb_trace(b, "IWDG1 expired");
        b->wdg_reset_req = true;
        b->stopping = true;
        uc_emu_stop(b->uc);
    }
}

void vb_iwdg_refresh(struct vb *b)
{
    if (b->iwdg.running) {
        b->iwdg.expiry = vb_now(b) + iwdg_period(b);
        vb_schedule(b);
    }
}

static void iwdg_write(struct vb *b, uint32_t off, uint32_t v)
{
    uint64_t now = vb_now(b);
    switch (off) {
    case IWDG_KR:
        switch (v & IWDG_KR_KEY_Msk) {
        case IWDG_KEY_START:
            if (!b->iwdg.running)
                vb_trace(b, "IWDG1 started, period %.3f ms", (double)iwdg_period(b) / 1e6);
            b->iwdg.running = true;
            b->iwdg.expiry = now + iwdg_period(b);
            R(RCC_CSR) |= 3u;
            vb_schedule(b);
            break;
        case IWDG_KEY_REFRESH:
            b->iwdg.expiry = now + iwdg_period(b);
            vb_schedule(b);
            break;
        case IWDG_KEY_UNLOCK: b->iwdg.unlocked = true; break;
        default: b->iwdg.unlocked = false; break;
        }
        break;
    case IWDG_PR:
        if (b->iwdg.unlocked)
            b->iwdg.pr = v & IWDG_PR_Msk;
        break;
    case IWDG_RLR:
        if (b->iwdg.unlocked)
            b->iwdg.rlr = v & IWDG_RLR_Msk;
        break;
    case IWDG_WINR:
        if (b->iwdg.unlocked)
            b->iwdg.winr = v & IWDG_WINR_Msk;
        break;
    default: break;
    }
}

static uint32_t iwdg_read(struct vb *b, uint32_t off)
{
    switch (off) {
    case IWDG_PR: return b->iwdg.pr;
    case IWDG_RLR: return b->iwdg.rlr;
    case IWDG_SR: return 0;
    case IWDG_WINR: return b->iwdg.winr;
    default: return 0;
    }
}

/* ---- reset ------------------------------------------------------------------- */

void vb_periph_reset(struct vb *b, bool power_on)
{
    memset(&b->rcc, 0, sizeof b->rcc);
    R(RCC_CR) = 0x0000C025u;
    R(RCC_PLLCKSELR) = 0x02020200u;
    R(RCC_PLLCFGR) = 0x01FF0000u;
    R(RCC_PLL1DIVR) = R(RCC_PLL2DIVR) = R(RCC_PLL3DIVR) = 0x01010280u;
    if (power_on)
        b->rsr = RCC_RSR_PORRSTF | RCC_RSR_PINRSTF | RCC_RSR_BORRSTF | RCC_RSR_D1RSTF |
                 RCC_RSR_D2RSTF | RCC_RSR_C1RSTF;
    memset(b->pwr, 0, sizeof b->pwr);
    b->pwr[PWR_CR1 / 4] = 0xF000C000u;
    b->pwr[PWR_CR3 / 4] = 0x00000046u;
    b->pwr[PWR_D3CR / 4] = PWR_D3CR_VOS3;
    memset(b->hsem, 0, sizeof b->hsem);
    memset(&b->iwdg, 0, sizeof b->iwdg);
    b->iwdg.rlr = 0xFFF;
    memset(&b->store, 0, sizeof b->store);
    /* IWDG1_SW = 0 in the option bytes: hardware watchdog, on at reset. */
    if (b->sim) {
        uint64_t optsr = 0;
        h7sim_read(b->sim, H7_FLASH_R_BASE + FLASH_OPTSR_CUR, 4, &optsr, NULL);
        if (!(optsr & FLASH_OPTSR_IWDG1_SW)) {
            b->iwdg.running = true;
            b->iwdg.expiry = vb_now(b) + iwdg_period(b);
        }
    }
}

/* ---- access ------------------------------------------------------------------ */

static uint32_t read32(struct vb *b, uint32_t a)
{
    if (a - RCC_BASE < 0x200) {
        uint32_t off = a - RCC_BASE;
        if (off == RCC_RSR || off == RCC_C1_RSR)
            return b->rsr;
        return b->rcc.reg[off / 4];
    }
    if (a - PWR_BASE < 0x40) {
        uint32_t off = a - PWR_BASE;
        uint32_t vos = b->pwr[PWR_D3CR / 4] & PWR_D3CR_VOS_Msk;
        if (off == PWR_CSR1) /* ACTVOS follows VOS */
            return PWR_CSR1_ACTVOSRDY | (vos >> PWR_D3CR_VOS_Pos << PWR_CSR1_ACTVOS_Pos);
        if (off == PWR_D3CR)
            return vos | PWR_D3CR_VOSRDY;
        return b->pwr[off / 4];
    }
    if (a - IWDG1_BASE < 0x400)
        return iwdg_read(b, a - IWDG1_BASE);
    if (a - HSEM_BASE < 0x400) {
        uint32_t off = a - HSEM_BASE;
        if (off < HSEM_RLR(0))
            return b->hsem[off / 4];
        if (off < 0x100) { /* RLR: one-step lock */
            uint32_t i = (off - HSEM_RLR(0)) / 4;
            if (!(b->hsem[i] & HSEM_R_LOCK))
                b->hsem[i] = HSEM_R_LOCK | (HSEM_COREID_CM7 << HSEM_R_COREID_Pos);
            return b->hsem[i];
        }
    }
    if (a == DBGMCU_BASE + DBGMCU_IDC)
        return 0x10036450u; /* rev Y, device 0x450 */
    uint32_t *p = store_slot(b, a, false);
    return p ? *p : 0;
}

static void write32(struct vb *b, uint32_t a, uint32_t v)
{
    if (a - RCC_BASE < 0x200) {
        uint32_t off = a - RCC_BASE;
        if (off == RCC_RSR || off == RCC_C1_RSR) {
            if (v & RCC_RSR_RMVF)
                b->rsr = 0;
            return;
        }
        b->rcc.reg[off / 4] = v;
        if (off == RCC_GCR)
            vb_trace(b, "RCC_GCR = 0x%08x%s (the Cortex-M4 is not modelled)", v,
                     (v & 8) ? " BOOT_C2" : "");
        else if (off > RCC_D2CCIP2R && off != RCC_CSR)
            vb_trace(b, "RCC +0x%03x = 0x%08x (accepted)", off, v);
        rcc_update(b);
        return;
    }
    if (a - PWR_BASE < 0x40) {
        b->pwr[(a - PWR_BASE) / 4] = v;
        return;
    }
    if (a - IWDG1_BASE < 0x400) {
        iwdg_write(b, a - IWDG1_BASE, v);
        return;
    }
    if (a - HSEM_BASE < 0x400) {
        uint32_t off = a - HSEM_BASE;
        vb_trace(b, "HSEM +0x%03x = 0x%08x", off, v);
        if (off < HSEM_RLR(0)) {
            uint32_t i = off / 4;
            if (v & HSEM_R_LOCK) {
                if (!(b->hsem[i] & HSEM_R_LOCK))
                    b->hsem[i] = v & 0x800003FFu;
            } else if ((b->hsem[i] & 0x3FFu) == (v & 0x3FFu)) {
                b->hsem[i] = 0;
            }
            return;
        }
    }
    if (a - GPIOA_BASE < 11u * GPIO_PORT_SIZE) {
        uint32_t port = (a - GPIOA_BASE) / GPIO_PORT_SIZE, off = (a - GPIOA_BASE) % GPIO_PORT_SIZE;
        if (off == GPIO_BSRR) { /* BSRR -> ODR */
            uint32_t *odr = store_slot(b, a - GPIO_BSRR + GPIO_ODR, true);
            if (odr)
                *odr = (*odr | (v & 0xFFFF)) & ~(v >> 16);
            vb_trace(b, "GPIO%c BSRR = 0x%08x", 'A' + port, v);
            return;
        }
        vb_trace(b, "GPIO%c +0x%02x = 0x%08x", 'A' + port, off, v);
    } else {
        vb_trace(b, "peripheral write 0x%08x = 0x%08x (not modelled, accepted)", a, v);
    }
    uint32_t *p = store_slot(b, a, true);
    if (p)
        *p = v;
}

uint64_t vb_periph_read(struct vb *b, uint32_t addr, unsigned size)
{
    uint32_t v = read32(b, addr & ~3u) >> (8 * (addr & 3));
    if (addr - HSEM_BASE - HSEM_RLR(0) < 4u * HSEM_NUM)
        vb_poll_dirty(b); /* RLR reads lock */
    else
        vb_poll_read(b, addr, v);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void vb_periph_write(struct vb *b, uint32_t addr, unsigned size, uint64_t v)
{
    uint32_t a = addr & ~3u;
    if (size >= 4) {
        write32(b, a, (uint32_t)v);
        return;
    }
    uint32_t sh = 8 * (addr & 3), mask = (size == 1 ? 0xFFu : 0xFFFFu) << sh;
    write32(b, a, (read32(b, a) & ~mask) | (((uint32_t)v << sh) & mask));
}

/* The rest of the peripheral window (RCC, PWR, IWDG, ...): the device
 * table's entry, after FLASH and USART3; its events are the watchdog's. */
static bool iwdg_process(struct vb *b, uint64_t now)
{
    vb_iwdg_process(b, now);
    return true;
}

const struct vb_device vb_dev_periph = {
    .name = "peripherals",
    .base = H7_PERIPH_BASE,
    .size = H7_PERIPH_SIZE,
    .read = vb_periph_read,
    .write = vb_periph_write,
    .reset = vb_periph_reset,
    .next_event = vb_iwdg_next,
    .process = iwdg_process,
    .watchdog = true,
};
