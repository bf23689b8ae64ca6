/*
 * vboard: the Cortex-M7 System Control Space and the exception model.
 *
 * Unicorn 2.0.1 performs no exception entry on M-profile: SVC, BKPT and
 * EXC_RETURN arrive in UC_HOOK_INTR and the board does entry and return
 * itself (ARMv7-M ARM B1.5.6 ExceptionEntry, B1.5.8 ExceptionReturn):
 * 8-word frame, or the 26-word extended frame when CONTROL.FPCA is set
 * (S0-S15 and FPSCR stacked eagerly; lazy stacking is not modelled), MSP or
 * PSP chosen by mode and CONTROL.SPSEL, 8-byte re-alignment in xPSR bit 9.
 * Writing IPSR does not refresh Unicorn's cached handler-mode flag: writing
 * APSR_NZCV with its own value does (emulation notes, section 5).
 */
#include "vb_internal.h"

#include <string.h>

static void rebuild_hflags(struct vb *b)
{
    uint32_t v = 0;
    uc_reg_read(b->uc, UC_ARM_REG_APSR_NZCV, &v);
    uc_reg_write(b->uc, UC_ARM_REG_APSR_NZCV, &v);
}

/* ---- priorities ----------------------------------------------------------- */

static int group_prio(struct vb *b, int p)
{
    if (p < 0)
        return p;
    unsigned g = b->aircr_prigroup; /* bits [g:0] are sub-priority */
    return p & ~((2 << g) - 1) & 0xFF;
}

static int exc_prio(struct vb *b, int exc)
{
    switch (exc) {
    case EXC_RESET: return -3;
    case EXC_NMI: return -2;
    case EXC_HARDFAULT: return -1;
    default: return b->prio[exc];
    }
}

/* Next index >= i whose flag is set, VB_NUM_EXC if none (memchr: the
 * arrays are mostly false and this runs at every interrupt). */
static int next_set(const bool *arr, int i)
{
    const bool *p = memchr(arr + i, 1, (size_t)(VB_NUM_EXC - i));
    return p ? (int)(p - arr) : VB_NUM_EXC;
}

int vb_exec_priority(struct vb *b)
{
    int p = 256;
    for (int i = next_set(b->active, 1); i < VB_NUM_EXC; i = next_set(b->active, i + 1)) {
        int q = group_prio(b, exc_prio(b, i));
        if (q < p)
            p = q;
    }
    uint32_t basepri = vb_rreg(b, UC_ARM_REG_BASEPRI) & 0xF0;
    if (basepri && group_prio(b, (int)basepri) < p)
        p = group_prio(b, (int)basepri);
    if (vb_rreg(b, UC_ARM_REG_PRIMASK) & 1 && p > 0)
        p = 0;
    if (vb_rreg(b, UC_ARM_REG_FAULTMASK) & 1 && p > -1)
        p = -1;
    return p;
}

static bool exc_enabled(struct vb *b, int exc)
{
    if (exc >= 16)
        return b->enabled[exc];
    return true;
}

/* Highest-priority pending and enabled exception, 0 if none. */
static int best_pending(struct vb *b)
{
    int best = 0, bp = 1000;
    for (int i = next_set(b->pending, 1); i < VB_NUM_EXC; i = next_set(b->pending, i + 1)) {
        if (!exc_enabled(b, i))
            continue;
        int p = exc_prio(b, i);
        if (p < bp) {
            bp = p;
            best = i;
        }
    }
    return best;
}

void vb_set_pending(struct vb *b, int exc)
{
    if (exc <= 0 || exc >= VB_NUM_EXC)
        return;
    b->pending[exc] = true;
    b->check_irq = true;
}

void vb_irq_set_level(struct vb *b, int irq, bool level)
{
    if (irq < 0 || irq >= VB_NUM_IRQ)
        return;
    b->irq_level[irq] = level;
    if (level && !b->active[16 + irq])
        vb_set_pending(b, 16 + irq);
}

bool vb_wakeup_pending(struct vb *b)
{
    /* WFI wakes on any pending exception that is enabled, whatever
     * PRIMASK says (ARMv7-M B1.5.19); it is taken only if it may preempt. */
    return best_pending(b) != 0;
}

/* ---- entry and return ------------------------------------------------------ */

/* Registers of the basic frame (r0-r3, r12, lr) and of the FP part
 * (s0-s15, FPSCR), in stacking order. */
static const int frame_regs[6] = {
    UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR,
};
static const int fp_frame_regs[17] = {
    UC_ARM_REG_S0,  UC_ARM_REG_S1,    UC_ARM_REG_S2,  UC_ARM_REG_S3,  UC_ARM_REG_S4,
    UC_ARM_REG_S5,  UC_ARM_REG_S6,    UC_ARM_REG_S7,  UC_ARM_REG_S8,  UC_ARM_REG_S9,
    UC_ARM_REG_S10, UC_ARM_REG_S11,   UC_ARM_REG_S12, UC_ARM_REG_S13, UC_ARM_REG_S14,
    UC_ARM_REG_S15, UC_ARM_REG_FPSCR,
};

static uint32_t handler_addr(struct vb *b, int exc)
{
    uint32_t vec = 0;
    uc_mem_read(b->uc, b->vtor + 4u * (uint32_t)exc, &vec, 4);
    return vec;
}

void vb_take_exception(struct vb *b, int exc, uint32_t ret_pc)
{
    uint32_t control = vb_rreg(b, UC_ARM_REG_CONTROL);
    uint32_t ipsr = vb_rreg(b, UC_ARM_REG_IPSR) & 0x1FF;
    bool thread = ipsr == 0;
    bool use_psp = thread && (control & 2);
    bool fp = (control & 4) != 0;
    uint32_t size = fp ? 0x68 : 0x20;
    uint32_t sp = use_psp ? vb_rreg(b, UC_ARM_REG_PSP) : vb_rreg(b, UC_ARM_REG_MSP);
    uint32_t xpsr = vb_rreg(b, UC_ARM_REG_XPSR);
    uint32_t frame = sp - size;
    if (frame & 4)
        xpsr |= 1u << 9;
    else
        xpsr &= ~(1u << 9);
    frame &= ~7u;
    uint32_t f[26];
    void *vals[6] = { &f[0], &f[1], &f[2], &f[3], &f[4], &f[5] };
    uc_reg_read_batch(b->uc, (int *)frame_regs, vals, 6);
    f[6] = ret_pc & ~1u;
    f[7] = xpsr;
    if (fp) {
        void *fv[17];
        for (int i = 0; i < 17; i++)
            fv[i] = &f[8 + i];
        uc_reg_read_batch(b->uc, (int *)fp_frame_regs, fv, 17);
        f[25] = 0;
    }
    if (uc_mem_write(b->uc, frame, f, size) != UC_ERR_OK) {
        b->cfsr |= 1u << 12; /* STKERR */
        vb_dump(b, stderr, "stacking error (stack pointer outside RAM)");
        vb_stop_run(b, VB_STOP_FAULT);
        return;
    }
    if (use_psp)
        vb_wreg(b, UC_ARM_REG_PSP, frame);
    else
        vb_wreg(b, UC_ARM_REG_MSP, frame);
    /* Handler mode runs on MSP with FPCA clear; clear SPSEL while still in
     * thread mode so that Unicorn switches its banked stack pointer. */
    if (control & 6)
        vb_wreg(b, UC_ARM_REG_CONTROL, control & ~6u);
    vb_wreg(b, UC_ARM_REG_XPSR, (xpsr & 0xF8000000u) | 0x01000000u | (uint32_t)exc);
    vb_wreg(b, UC_ARM_REG_IPSR, (uint32_t)exc);
    rebuild_hflags(b);
    uint32_t exc_return = 0xFFFFFFE1u | (fp ? 0 : 0x10u) | (thread ? 8u : 0) | (use_psp ? 4u : 0);
    vb_wreg(b, UC_ARM_REG_LR, exc_return);
    b->pending[exc] = false;
    b->active[exc] = true;
    b->exceptions++;
    vb_poll_dirty(b);
    uint32_t vec = handler_addr(b, exc);
    if (b->cfg.trace && exc != EXC_SYSTICK)
        vb_trace(b, "exception %d entry, return to 0x%08x%s", exc, ret_pc & ~1u,
                 fp ? " (FP frame)" : "");
    vb_wreg(b, UC_ARM_REG_PC, vec | 1);
    b->check_irq = true;
}

void vb_exception_return(struct vb *b, uint32_t exc_return)
{
    uint32_t ipsr = vb_rreg(b, UC_ARM_REG_IPSR) & 0x1FF;
    if ((exc_return & 0xFFFFFFE3u) != 0xFFFFFFE1u || (exc_return & 0xC) == 4) {
        vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_INVPC, exc_return, "invalid EXC_RETURN");
        return;
    }
    if (ipsr < VB_NUM_EXC)
        b->active[ipsr] = false;
    if (ipsr != EXC_NMI)
        vb_wreg(b, UC_ARM_REG_FAULTMASK, 0);
    bool to_thread = exc_return & 8;
    bool psp = to_thread && (exc_return & 4);
    bool fp = !(exc_return & 0x10);
    uint32_t size = fp ? 0x68 : 0x20;
    uint32_t sp = psp ? vb_rreg(b, UC_ARM_REG_PSP) : vb_rreg(b, UC_ARM_REG_MSP);
    uint32_t f[26];
    if (uc_mem_read(b->uc, sp, f, size) != UC_ERR_OK) {
        b->cfsr |= 1u << 11; /* UNSTKERR */
        vb_dump(b, stderr, "unstacking error");
        vb_stop_run(b, VB_STOP_FAULT);
        return;
    }
    void *vals[6] = { &f[0], &f[1], &f[2], &f[3], &f[4], &f[5] };
    uc_reg_write_batch(b->uc, (int *)frame_regs, vals, 6);
    if (fp) {
        void *fv[17];
        for (int i = 0; i < 17; i++)
            fv[i] = &f[8 + i];
        uc_reg_write_batch(b->uc, (int *)fp_frame_regs, fv, 17);
    }
    sp += size + ((f[7] >> 9) & 1) * 4;
    if (psp)
        vb_wreg(b, UC_ARM_REG_PSP, sp);
    else
        vb_wreg(b, UC_ARM_REG_MSP, sp);
    uint32_t new_ipsr = to_thread ? 0 : (f[7] & 0x1FF);
    vb_wreg(b, UC_ARM_REG_XPSR, (f[7] & ~0x3FFu) | new_ipsr);
    vb_wreg(b, UC_ARM_REG_IPSR, new_ipsr);
    rebuild_hflags(b);
    uint32_t control = vb_rreg(b, UC_ARM_REG_CONTROL);
    uint32_t nc = (control & ~6u) | (psp ? 2u : 0) | (fp ? 4u : 0);
    if (nc != control)
        vb_wreg(b, UC_ARM_REG_CONTROL, nc);
    /* A level-sensitive line still asserted pends its interrupt again. */
    if (ipsr >= 16 && ipsr < VB_NUM_EXC && b->irq_level[ipsr - 16])
        b->pending[ipsr] = true;
    if (b->cfg.trace && ipsr != EXC_SYSTICK)
        vb_trace(b, "exception %u return to 0x%08x", ipsr, f[6]);
    vb_wreg(b, UC_ARM_REG_PC, f[6] | 1);
    b->check_irq = true;
    vb_poll_dirty(b);
}

bool vb_deliver(struct vb *b, uint32_t ret_pc)
{
    int exc = best_pending(b);
    if (!exc)
        return false;
    if (group_prio(b, exc_prio(b, exc)) >= vb_exec_priority(b))
        return false;
    vb_take_exception(b, exc, ret_pc);
    return true;
}

/* A handler that is only "b ." cannot handle anything: stop with a dump
 * instead of spinning until the time limit. */
static bool handler_is_dead(struct vb *b, int exc)
{
    uint32_t vec = handler_addr(b, exc);
    uint16_t insn = 0;
    if (vec == 0 || vec == 0xFFFFFFFFu || uc_mem_read(b->uc, vec & ~1u, &insn, 2) != UC_ERR_OK)
        return true;
    return insn == 0xE7FE;
}

void vb_fault(struct vb *b, int exc, uint32_t cfsr_bits, uint32_t ret_pc, const char *what)
{
    int prio = vb_exec_priority(b);
    b->cfsr |= cfsr_bits;
    if (exc == EXC_SVCALL) {
        if (group_prio(b, exc_prio(b, exc)) < prio) {
            vb_take_exception(b, exc, ret_pc);
            return;
        }
        exc = EXC_HARDFAULT; /* SVC while it cannot run: escalation */
    }
    if (exc == EXC_BUSFAULT || exc == EXC_USAGEFAULT || exc == EXC_MEMMANAGE) {
        unsigned en_bit = exc == EXC_MEMMANAGE ? 16 : exc == EXC_BUSFAULT ? 17 : 18;
        if (!(b->shcsr & (1u << en_bit)) || group_prio(b, exc_prio(b, exc)) >= prio) {
            b->hfsr |= SCB_HFSR_FORCED;
            exc = EXC_HARDFAULT;
        }
    }
    vb_trace(b, "fault: %s at 0x%08x -> exception %d", what, ret_pc, exc);
    if (exc == EXC_HARDFAULT && prio <= -1) {
        char msg[96];
        snprintf(msg, sizeof msg, "lockup: %s while in HardFault/NMI or with FAULTMASK set", what);
        vb_dump(b, stderr, msg);
        vb_stop_run(b, VB_STOP_FAULT);
        return;
    }
    if (handler_is_dead(b, exc)) {
        char msg[128];
        snprintf(msg, sizeof msg, "unhandled fault (%s at 0x%08x, exception %d)", what,
                 ret_pc & ~1u, exc);
        vb_dump(b, stderr, msg);
        vb_stop_run(b, VB_STOP_FAULT);
        return;
    }
    vb_take_exception(b, exc, ret_pc);
}

/* ---- SysTick ----------------------------------------------------------------- */

#define ST_ENABLE    1u
#define ST_TICKINT   2u
#define ST_CLKSOURCE 4u

static uint32_t st_hz(struct vb *b)
{
    return (b->st.csr & ST_CLKSOURCE) ? b->hz : b->hz / 8;
}

static uint64_t st_ticks(struct vb *b, uint64_t now)
{
    return now > b->st.t0 ? vb_muldiv(now - b->st.t0, st_hz(b), VB_NS_PER_S) : 0;
}

static uint32_t st_value(struct vb *b, uint64_t now)
{
    if (!(b->st.csr & ST_ENABLE))
        return b->st.cvr_at_t0;
    uint64_t k = st_ticks(b, now), c0 = b->st.cvr_at_t0, r = b->st.rvr;
    if (k <= c0)
        return (uint32_t)(c0 - k);
    if (r == 0)
        return 0;
    return (uint32_t)(r - (k - c0 - 1) % (r + 1));
}

/* Time of the tick index k (ticks after t0). */
static uint64_t st_time_of(struct vb *b, uint64_t k)
{
    uint32_t hz = st_hz(b);
    return b->st.t0 + vb_muldiv_up(k, VB_NS_PER_S, hz);
}

static void st_arm(struct vb *b)
{
    if (!(b->st.csr & ST_ENABLE)) {
        b->st.next = VB_NEVER;
        return;
    }
    uint64_t c0 = b->st.cvr_at_t0, r = b->st.rvr;
    if (c0 > 0)
        b->st.k_next = c0;
    else if (r > 0)
        b->st.k_next = r + 1;
    else {
        b->st.next = VB_NEVER;
        return;
    }
    b->st.next = st_time_of(b, b->st.k_next);
}

uint64_t vb_systick_next(struct vb *b)
{
    return b->st.next;
}

void vb_systick_process(struct vb *b, uint64_t now)
{
    while (b->st.next <= now) {
        b->st.countflag = true;
        if (b->st.csr & ST_TICKINT)
            vb_set_pending(b, EXC_SYSTICK);
        if (b->st.rvr == 0) {
            b->st.next = VB_NEVER;
            break;
        }
        b->st.k_next += (uint64_t)b->st.rvr + 1;
        b->st.next = st_time_of(b, b->st.k_next);
    }
}

void vb_systick_rebase(struct vb *b, uint64_t now, uint32_t old_hz)
{
    if (!(b->st.csr & ST_ENABLE))
        return;
    uint32_t cur_hz = b->hz;
    b->hz = old_hz;
    vb_systick_process(b, now);
    uint32_t v = st_value(b, now);
    b->hz = cur_hz;
    b->st.t0 = now;
    b->st.cvr_at_t0 = v;
    st_arm(b);
}

/* ---- DWT --------------------------------------------------------------------- */

static bool cyccnt_on(struct vb *b)
{
    return (b->demcr & (1u << 24)) && (b->dwt_ctrl & 1u);
}

static uint32_t cyccnt(struct vb *b, uint64_t now)
{
    if (!b->cyccnt_running)
        return b->cyccnt_at_t0;
    return b->cyccnt_at_t0 + (uint32_t)vb_muldiv(now - b->cyccnt_t0, b->hz, VB_NS_PER_S);
}

static void cyccnt_update(struct vb *b, uint64_t now)
{
    b->cyccnt_at_t0 = cyccnt(b, now);
    b->cyccnt_t0 = now;
    b->cyccnt_running = cyccnt_on(b);
}

void vb_dwt_rebase(struct vb *b, uint64_t now, uint32_t old_hz)
{
    uint32_t cur = b->hz;
    b->hz = old_hz;
    b->cyccnt_at_t0 = cyccnt(b, now);
    b->hz = cur;
    b->cyccnt_t0 = now;
}

/* ---- reset ------------------------------------------------------------------- */

void vb_exc_reset(struct vb *b)
{
    memset(b->prio, 0, sizeof b->prio);
    memset(b->enabled, 0, sizeof b->enabled);
    memset(b->pending, 0, sizeof b->pending);
    memset(b->active, 0, sizeof b->active);
    memset(b->irq_level, 0, sizeof b->irq_level);
    b->aircr_prigroup = 0;
    b->scr = 0;
    b->ccr = 0x00000200u; /* STKALIGN */
    b->shcsr = b->cfsr = b->hfsr = b->mmfar = b->bfar = 0;
    b->cpacr = 0;
    b->csselr = 0;
    b->fpccr = 0xC0000000u; /* ASPEN | LSPEN */
    b->fpcar = b->fpdscr = 0;
    b->actlr = 0;
    b->demcr = 0;
    memset(&b->st, 0, sizeof b->st);
    b->st.next = VB_NEVER;
    b->dwt_ctrl = 0x40000000u; /* NUMCOMP = 4 */
    b->cyccnt_at_t0 = 0;
    b->cyccnt_t0 = vb_now(b);
    b->cyccnt_running = false;
    b->check_irq = false;
}

/* ---- register access ------------------------------------------------------- */

static const char *const cache_names[10] = {
    "ICIALLU", "ICIMVAU", "DCIMVAC",  "DCISW",  "DCCMVAU",
    "DCCMVAC", "DCCSW",   "DCCIMVAC", "DCCISW", "BPIALL",
};

static uint32_t icsr_read(struct vb *b)
{
    uint32_t ipsr = vb_rreg(b, UC_ARM_REG_IPSR) & 0x1FF;
    uint32_t v = ipsr;
    int p = best_pending(b);
    v |= (uint32_t)p << 12;
    for (int i = 16; i < VB_NUM_EXC; i++)
        if (b->pending[i]) {
            v |= 1u << 22;
            break;
        }
    int nact = 0;
    for (int i = 1; i < VB_NUM_EXC; i++)
        nact += b->active[i];
    if (nact <= 1)
        v |= 1u << 11; /* RETTOBASE */
    if (b->pending[EXC_SYSTICK])
        v |= 1u << 26;
    if (b->pending[EXC_PENDSV])
        v |= 1u << 28;
    if (b->pending[EXC_NMI])
        v |= 1u << 31;
    return v;
}

static uint32_t shcsr_read(struct vb *b)
{
    uint32_t v = b->shcsr & (7u << 16);
    static const struct {
        int exc;
        unsigned bit;
    } act[] = {
        { EXC_MEMMANAGE, 0 }, { EXC_BUSFAULT, 1 }, { EXC_USAGEFAULT, 3 }, { EXC_SVCALL, 7 },
        { EXC_DEBUGMON, 8 },  { EXC_PENDSV, 10 },  { EXC_SYSTICK, 11 },
    };
    for (unsigned i = 0; i < sizeof act / sizeof act[0]; i++)
        if (b->active[act[i].exc])
            v |= 1u << act[i].bit;
    if (b->pending[EXC_USAGEFAULT])
        v |= 1u << 12;
    if (b->pending[EXC_MEMMANAGE])
        v |= 1u << 13;
    if (b->pending[EXC_BUSFAULT])
        v |= 1u << 14;
    if (b->pending[EXC_SVCALL])
        v |= 1u << 15;
    return v;
}

static uint32_t reg_read32(struct vb *b, uint32_t a)
{
    uint64_t now = vb_now(b);
    if (a >= (NVIC_BASE + NVIC_ISER(0)) && a < (NVIC_BASE + NVIC_ISER(8))) { /* ISER */
        uint32_t v = 0, n = (a - (NVIC_BASE + NVIC_ISER(0))) / 4;
        for (int i = 0; i < 32; i++)
            if (16 + n * 32 + (uint32_t)i < VB_NUM_EXC && b->enabled[16 + n * 32 + i])
                v |= 1u << i;
        return v;
    }
    if (a >= (NVIC_BASE + NVIC_ICER(0)) && a < (NVIC_BASE + NVIC_ICER(8)))
        return reg_read32(b, a - 0x80);
    if ((a >= (NVIC_BASE + NVIC_ISPR(0)) && a < (NVIC_BASE + NVIC_ISPR(8))) ||
        (a >= (NVIC_BASE + NVIC_ICPR(0)) && a < (NVIC_BASE + NVIC_ICPR(8))) ||
        (a >= (NVIC_BASE + NVIC_IABR(0)) && a < (NVIC_BASE + NVIC_IABR(8)))) {
        const bool *arr = a >= (NVIC_BASE + NVIC_IABR(0)) ? b->active : b->pending;
        uint32_t v = 0, n = ((a - (NVIC_BASE + NVIC_ISPR(0))) & 0x7F) / 4;
        for (int i = 0; i < 32; i++)
            if (16 + n * 32 + (uint32_t)i < VB_NUM_EXC && arr[16 + n * 32 + i])
                v |= 1u << i;
        return v;
    }
    if (a >= (NVIC_BASE + NVIC_IPR_BYTE(0)) && a < (NVIC_BASE + NVIC_IPR_BYTE(0)) + VB_NUM_IRQ) {
        uint32_t n = a - (NVIC_BASE + NVIC_IPR_BYTE(0)), v = 0;
        for (int i = 0; i < 4; i++)
            if (n + (uint32_t)i < VB_NUM_IRQ)
                v |= (uint32_t)b->prio[16 + n + i] << (8 * i);
        return v;
    }
    if (a >= (SCB_BASE + SCB_SHPR1) && a < (SCB_BASE + SCB_SHCSR)) {
        uint32_t n = a - (SCB_BASE + SCB_SHPR1) + 4, v = 0;
        for (int i = 0; i < 4; i++)
            v |= (uint32_t)b->prio[n + i] << (8 * i);
        return v;
    }
    if (a >= MPU_BASE && a < MPU_BASE + MPU_RASR_A3 + 4u)
        return vb_mpu_read(b, a - MPU_BASE);
    switch (a) {
    case DWT_BASE + DWT_CTRL: return b->dwt_ctrl;
    case DWT_BASE + DWT_CYCCNT: return cyccnt(b, now);
    case DWT_BASE + DWT_LSR: return 0;  /* DWT LSR: unlocked */
    case SCS_BASE + SCS_ICTR: return 4; /* ICTR: 160 lines */
    case SCS_BASE + SCS_ACTLR: return b->actlr;
    case SYSTICK_BASE + SYST_CSR: {
        vb_systick_process(b, now);
        uint32_t v = b->st.csr | (b->st.countflag ? 1u << 16 : 0);
        b->st.countflag = false;
        return v;
    }
    case SYSTICK_BASE + SYST_RVR: return b->st.rvr;
    case SYSTICK_BASE + SYST_CVR: return st_value(b, now);
    case SYSTICK_BASE + SYST_CALIB: return 0x40000000u; /* CALIB: SKEW */
    case SCB_BASE + SCB_CPUID: return 0x411FC272u;      /* CPUID: Cortex-M7 r1p2 */
    case SCB_BASE + SCB_ICSR: return icsr_read(b);
    case SCB_BASE + SCB_VTOR: return b->vtor;
    case SCB_BASE + SCB_AIRCR: return 0xFA050000u | (b->aircr_prigroup << 8);
    case SCB_BASE + SCB_SCR: return b->scr;
    case SCB_BASE + SCB_CCR: return b->ccr;
    case SCB_BASE + SCB_SHCSR: return shcsr_read(b);
    case SCB_BASE + SCB_CFSR: return b->cfsr;
    case SCB_BASE + SCB_HFSR: return b->hfsr;
    case SCB_BASE + SCB_DFSR: return 0;
    case SCB_BASE + SCB_MMFAR: return b->mmfar;
    case SCB_BASE + SCB_BFAR: return b->bfar;
    case SCB_BASE + SCB_AFSR: return 0;
    case SCB_BASE + SCB_ID_PFR0: return 0x00000030u; /* ID_PFR0 */
    case SCB_BASE + SCB_ID_PFR1: return 0x00000200u;
    case SCB_BASE + SCB_ID_DFR0: return 0x00100000u;  /* ID_DFR0 */
    case SCB_BASE + SCB_ID_MMFR0: return 0x00100030u; /* ID_MMFR0 */
    case SCB_BASE + SCB_CLIDR: return 0x09000003u;    /* CLIDR: I+D L1 */
    case SCB_BASE + SCB_CTR: return 0x8303C003u;      /* CTR */
    case SCB_BASE + SCB_CCSIDR:                       /* CCSIDR */
        return (b->csselr & 1) ? 0xF01FE009u          /* I: 16 KB, 2 ways, 32 B lines */
                               : 0xF00FE019u;         /* D: 16 KB, 4 ways, 32 B lines */
    case SCB_BASE + SCB_CSSELR: return b->csselr;
    case SCB_BASE + SCB_CPACR: return b->cpacr;
    case DCB_BASE + DCB_DHCSR: return 0; /* DHCSR: no debugger */
    case DCB_BASE + DCB_DEMCR: return b->demcr;
    case SCB_BASE + SCB_FPCCR: return b->fpccr;
    case SCB_BASE + SCB_FPCAR: return b->fpcar;
    case SCB_BASE + SCB_FPDSCR: return b->fpdscr;
    case SCB_BASE + SCB_MVFR0: return 0x10110221u; /* MVFR0: FPv5 SP+DP */
    case SCB_BASE + SCB_MVFR1: return 0x12000011u;
    case SCB_BASE + SCB_MVFR2: return 0x00000040u;
    default: break;
    }
    if (a < (DWT_BASE + DWT_CTRL))
        return a < (ITM_BASE + 0x80u) ? 1u : 0; /* ITM stimulus ports: ready */
    return 0;
}

static void nvic_bits(struct vb *b, uint32_t a, uint32_t base, uint32_t v, bool *arr, bool val)
{
    uint32_t n = (a - base) / 4;
    for (int i = 0; i < 32; i++) {
        uint32_t e = 16 + n * 32 + (uint32_t)i;
        if ((v >> i) & 1 && e < VB_NUM_EXC)
            arr[e] = val;
    }
    b->check_irq = true;
}

static void cache_op(struct vb *b, unsigned op, uint32_t v)
{
    b->cache_ops[op]++;
    if (b->cache_log)
        fprintf(b->cache_log, "%s 0x%08x %llu\n", cache_names[op], v,
                (unsigned long long)vb_now(b));
    vb_cache_op(b, op, v);
}

static void reg_write32(struct vb *b, uint32_t a, uint32_t v)
{
    uint64_t now = vb_now(b);
    if (a >= (NVIC_BASE + NVIC_ISER(0)) && a < (NVIC_BASE + NVIC_ISER(8))) {
        nvic_bits(b, a, (NVIC_BASE + NVIC_ISER(0)), v, b->enabled, true);
        return;
    }
    if (a >= (NVIC_BASE + NVIC_ICER(0)) && a < (NVIC_BASE + NVIC_ICER(8))) {
        nvic_bits(b, a, (NVIC_BASE + NVIC_ICER(0)), v, b->enabled, false);
        return;
    }
    if (a >= (NVIC_BASE + NVIC_ISPR(0)) && a < (NVIC_BASE + NVIC_ISPR(8))) {
        nvic_bits(b, a, (NVIC_BASE + NVIC_ISPR(0)), v, b->pending, true);
        return;
    }
    if (a >= (NVIC_BASE + NVIC_ICPR(0)) && a < (NVIC_BASE + NVIC_ICPR(8))) {
        nvic_bits(b, a, (NVIC_BASE + NVIC_ICPR(0)), v, b->pending, false);
        return;
    }
    if (a >= (NVIC_BASE + NVIC_IPR_BYTE(0)) && a < (NVIC_BASE + NVIC_IPR_BYTE(0)) + VB_NUM_IRQ) {
        for (int i = 0; i < 4; i++)
            if (a - (NVIC_BASE + NVIC_IPR_BYTE(0)) + (uint32_t)i < VB_NUM_IRQ)
                b->prio[16 + a - (NVIC_BASE + NVIC_IPR_BYTE(0)) + i] =
                    (uint8_t)(v >> (8 * i)) & 0xF0;
        return;
    }
    if (a >= (SCB_BASE + SCB_SHPR1) && a < (SCB_BASE + SCB_SHCSR)) {
        for (int i = 0; i < 4; i++) {
            uint32_t e = a - (SCB_BASE + SCB_SHPR1) + 4 + (uint32_t)i;
            if (e >= 4)
                b->prio[e] = (uint8_t)(v >> (8 * i)) & 0xF0;
        }
        return;
    }
    if (a >= MPU_BASE && a < MPU_BASE + MPU_RASR_A3 + 4u) {
        vb_mpu_write(b, a - MPU_BASE, v);
        return;
    }
    if (a >= (SCB_BASE + SCB_ICIALLU) && a <= (SCB_BASE + SCB_BPIALL) &&
        ((a - (SCB_BASE + SCB_ICIALLU)) & 3) == 0) {
        static const int ops[11] = { VB_CACHE_ICIALLU,  -1,
                                     VB_CACHE_ICIMVAU,  VB_CACHE_DCIMVAC,
                                     VB_CACHE_DCISW,    VB_CACHE_DCCMVAU,
                                     VB_CACHE_DCCMVAC,  VB_CACHE_DCCSW,
                                     VB_CACHE_DCCIMVAC, VB_CACHE_DCCISW,
                                     VB_CACHE_BPIALL };
        int op = ops[(a - (SCB_BASE + SCB_ICIALLU)) / 4];
        if (op >= 0)
            cache_op(b, (unsigned)op, v);
        return;
    }
    switch (a) {
    case DWT_BASE + DWT_CTRL:
        b->dwt_ctrl = (b->dwt_ctrl & ~1u) | (v & 1u);
        cyccnt_update(b, now);
        return;
    case DWT_BASE + DWT_CYCCNT:
        b->cyccnt_at_t0 = v;
        b->cyccnt_t0 = now;
        return;
    case SCS_BASE + SCS_ACTLR: b->actlr = v; return;
    case SYSTICK_BASE + SYST_CSR: {
        vb_systick_process(b, now);
        uint32_t old = b->st.csr;
        if ((old & ST_ENABLE) && (v & ST_CLKSOURCE) != (old & ST_CLKSOURCE)) {
            b->st.cvr_at_t0 = st_value(b, now);
            b->st.t0 = now;
        }
        if ((old & ST_ENABLE) && !(v & ST_ENABLE))
            b->st.cvr_at_t0 = st_value(b, now);
        b->st.csr = v & 7u;
        if (!(old & ST_ENABLE) || (v & ST_CLKSOURCE) != (old & ST_CLKSOURCE))
            b->st.t0 = now;
        if ((v & ST_ENABLE) && !(old & ST_ENABLE))
            b->st.t0 = now;
        if (v & ST_ENABLE) {
            if ((old & ST_ENABLE) && (v & ST_CLKSOURCE) == (old & ST_CLKSOURCE)) {
                /* only TICKINT changed: keep the phase */
            } else {
                st_arm(b);
            }
        } else {
            b->st.next = VB_NEVER;
        }
        vb_schedule(b);
        return;
    }
    case SYSTICK_BASE + SYST_RVR:
        if (b->st.csr & ST_ENABLE) {
            vb_systick_process(b, now);
            b->st.cvr_at_t0 = st_value(b, now);
            b->st.t0 = now;
            b->st.rvr = v & 0xFFFFFFu;
            st_arm(b);
            vb_schedule(b);
        } else {
            b->st.rvr = v & 0xFFFFFFu;
        }
        return;
    case SYSTICK_BASE + SYST_CVR:
        b->st.cvr_at_t0 = 0;
        b->st.t0 = now;
        b->st.countflag = false;
        if (b->st.csr & ST_ENABLE) {
            st_arm(b);
            vb_schedule(b);
        }
        return;
    case SCB_BASE + SCB_ICSR:
        if (v & (1u << 31))
            vb_set_pending(b, EXC_NMI);
        if (v & (1u << 28))
            vb_set_pending(b, EXC_PENDSV);
        if (v & (1u << 27))
            b->pending[EXC_PENDSV] = false;
        if (v & (1u << 26))
            vb_set_pending(b, EXC_SYSTICK);
        if (v & (1u << 25))
            b->pending[EXC_SYSTICK] = false;
        return;
    case SCB_BASE + SCB_VTOR:
        b->vtor = v & 0xFFFFFF80u;
        vb_trace(b, "VTOR = 0x%08x", b->vtor);
        return;
    case SCB_BASE + SCB_AIRCR:
        if ((v >> 16) != 0x05FAu)
            return;
        b->aircr_prigroup = (v >> 8) & 7u;
        if (v & (1u << 2)) {
            vb_trace(b, "AIRCR.SYSRESETREQ");
            b->reset_req = true;
            b->stopping = true;
            uc_emu_stop(b->uc);
        }
        return;
    case SCB_BASE + SCB_SCR: b->scr = v & 0x16u; return;
    case SCB_BASE + SCB_CCR: {
        uint32_t old = b->ccr;
        b->ccr = (v & 0x0007031Bu) | SCB_CCR_STKALIGN;
        if (b->ccr & (SCB_CCR_DC | SCB_CCR_IC))
            b->cache.used = true;
        vb_cache_ccr(b, old);
        return;
    }
    case SCB_BASE + SCB_SHCSR: b->shcsr = v & (7u << 16); return;
    case SCB_BASE + SCB_CFSR: b->cfsr &= ~v; return;
    case SCB_BASE + SCB_HFSR: b->hfsr &= ~v; return;
    case SCB_BASE + SCB_MMFAR: b->mmfar = v; return;
    case SCB_BASE + SCB_BFAR: b->bfar = v; return;
    case SCB_BASE + SCB_CSSELR: b->csselr = v & 0xFu; return;
    case SCB_BASE + SCB_CPACR: b->cpacr = v & 0x00F00000u; return;
    case DCB_BASE + DCB_DEMCR:
        b->demcr = v;
        cyccnt_update(b, now);
        return;
    case NVIC_BASE + NVIC_STIR: vb_set_pending(b, 16 + (int)(v & 0x1FF)); return;
    case SCB_BASE + SCB_FPCCR: b->fpccr = v; return;
    case SCB_BASE + SCB_FPCAR: b->fpcar = v; return;
    case SCB_BASE + SCB_FPDSCR: b->fpdscr = v; return;
    case DWT_BASE + DWT_LAR: return; /* DWT LAR: unlock accepted */
    default: break;
    }
    if (a < (DWT_BASE + DWT_CTRL))
        return; /* ITM stimulus and control */
    if (a >= (DWT_BASE + DWT_CTRL))
        vb_trace(b, "PPB write 0x%08x = 0x%08x (not modelled)", a, v);
}

uint64_t vb_ppb_read(struct vb *b, uint32_t addr, unsigned size)
{
    uint32_t a = addr & ~3u;
    /* Time sources and COUNTFLAG (cleared by the read) make a loop that
     * reads them impure; other registers may be the poll of a pure loop. */
    uint32_t w = reg_read32(b, a), v = w >> (8 * (addr & 3));
    if (a == (DWT_BASE + DWT_CYCCNT) || a == (SYSTICK_BASE + SYST_CVR))
        vb_poll_time_read(b, w);
    else if (a == (SYSTICK_BASE + SYST_CSR) && (w & (1u << 16)))
        vb_poll_dirty(b);
    else
        vb_poll_read(b, addr, v);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void vb_ppb_write(struct vb *b, uint32_t addr, unsigned size, uint64_t v)
{
    uint32_t a = addr & ~3u;
    if (size >= 4) {
        reg_write32(b, a, (uint32_t)v);
        return;
    }
    /* Byte-addressed priority registers. */
    if ((addr >= (NVIC_BASE + NVIC_IPR_BYTE(0)) &&
         addr < (NVIC_BASE + NVIC_IPR_BYTE(0)) + VB_NUM_IRQ) ||
        (addr >= (SCB_BASE + SCB_SHPR1) && addr < (SCB_BASE + SCB_SHCSR))) {
        for (unsigned i = 0; i < size; i++) {
            uint8_t byte = (uint8_t)(v >> (8 * i)) & 0xF0;
            uint32_t x = addr + i;
            if (x >= (NVIC_BASE + NVIC_IPR_BYTE(0)) &&
                x < (NVIC_BASE + NVIC_IPR_BYTE(0)) + VB_NUM_IRQ)
                b->prio[16 + x - (NVIC_BASE + NVIC_IPR_BYTE(0))] = byte;
            else if (x - (SCB_BASE + SCB_SHPR1) + 4 >= 4)
                b->prio[x - (SCB_BASE + SCB_SHPR1) + 4] = byte;
        }
        return;
    }
    uint32_t sh = 8 * (addr & 3), mask = (size == 1 ? 0xFFu : 0xFFFFu) << sh;
    if (a == (SCB_BASE + SCB_CFSR) || a == (SCB_BASE + SCB_HFSR)) { /* write-1-to-clear */
        reg_write32(b, a, ((uint32_t)v << sh) & mask);
        return;
    }
    uint32_t cur = reg_read32(b, a);
    reg_write32(b, a, (cur & ~mask) | (((uint32_t)v << sh) & mask));
}

/* The System Control Space (NVIC, SCB, SysTick, DWT, MPU): the device
 * table's entry; its events are SysTick's. */
static void scs_reset(struct vb *b, bool power_on)
{
    (void)power_on;
    vb_exc_reset(b);
}

static bool systick_process(struct vb *b, uint64_t now)
{
    vb_systick_process(b, now);
    return true;
}

const struct vb_device vb_dev_scs = {
    .name = "SCS",
    .base = H7_PPB_BASE,
    .size = H7_PPB_SIZE,
    .read = vb_ppb_read,
    .write = vb_ppb_write,
    .reset = scs_reset,
    .next_event = vb_systick_next,
    .process = systick_process,
};
