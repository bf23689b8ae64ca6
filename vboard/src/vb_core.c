/*
 * vboard core: Unicorn set-up, memory map, hooks, virtual time, run loop,
 * reset, ELF loading and the glue to the h7sim FLASH model.
 *
 * Unicorn 2.0.1 behaviour this file relies on:
 * - UC_MODE_THUMB + uc_ctl_set_cpu_model(CORTEX_M7); UC_MODE_MCLASS would
 *   give a Cortex-M33.
 * - The flash is a host buffer mapped R|X with uc_mem_map_ptr: CPU stores
 *   reach UC_HOOK_MEM_WRITE_PROT, which hands them to the model. With a
 *   _ptr mapping the store then lands in the buffer anyway, so the words it
 *   touched are restored from the model at the next block. Array changes
 *   are published by copying into the buffer + uc_ctl_remove_cache: a
 *   uc_mem_write into a read-only region rebuilds Unicorn's memory map
 *   twice (measured: 85% of the time of a 1.75 MB update).
 * - Unaligned stores are reported twice (whole, then as bytes).
 * - A UC_HOOK_MEM_READ costs every load of the guest, wherever it is, and
 *   applies only to code translated after it was added. Instead, a flash
 *   bank that is busy, and any 4 KB page holding a double-ECC word, is made
 *   fetch-only with uc_mem_protect: data reads of it then reach
 *   UC_HOOK_MEM_READ_PROT, which asks the model (stall, ECC flags, bus
 *   error) and returns true so that the load completes.
 * - WFI makes uc_emu_start return with the PC after it.
 */
#define _GNU_SOURCE
#include "vb_internal.h"
#include "stm32h7/iwdg.h"
#include "stm32h7/rcc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vb_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- registers ---------------------------------------------------------- */

uint32_t vb_rreg(struct vb *b, int reg)
{
    uint32_t v = 0;
    uc_reg_read(b->uc, reg, &v);
    return v;
}

void vb_wreg(struct vb *b, int reg, uint32_t v)
{
    uc_reg_write(b->uc, reg, &v);
}

/* ---- time --------------------------------------------------------------- */

uint64_t vb_now(const struct vb *b)
{
    return b->t_base + vb_muldiv(b->cyc - b->cyc_base, VB_NS_PER_S, b->hz);
}

uint64_t vb_now_ns(const struct vb *b)
{
    return vb_now(b);
}

void vb_time_jump(struct vb *b, uint64_t to)
{
    uint64_t now = vb_now(b);
    b->t_base = to > now ? to : now;
    b->cyc_base = b->cyc;
}

void vb_set_hz(struct vb *b, uint32_t hz)
{
    if (hz == 0 || hz == b->hz)
        return;
    uint64_t now = vb_now(b);
    uint32_t old = b->hz;
    b->t_base = now;
    b->cyc_base = b->cyc;
    b->hz = hz;
    vb_systick_rebase(b, now, old);
    vb_dwt_rebase(b, now, old);
    vb_trace(b, "core clock %u Hz", hz);
    vb_schedule(b);
}

void vb_trace(struct vb *b, const char *fmt, ...)
{
    if (!b->cfg.trace)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(b->cfg.trace, "[%12.6f ms] ", (double)vb_now(b) / 1e6);
    vfprintf(b->cfg.trace, fmt, ap);
    fputc('\n', b->cfg.trace);
    va_end(ap);
}

void vb_stop_run(struct vb *b, enum vb_stop why)
{
    if (b->stop == VB_STOP_NONE)
        b->stop = why;
    b->stopping = true;
    uc_emu_stop(b->uc);
}

void vb_request_stop(struct vb *b, enum vb_stop why)
{
    b->sig_stop = why == VB_STOP_NONE ? VB_STOP_SIGNAL : why;
}

void vb_request_power_cut(struct vb *b)
{
    b->sig_cut = 1;
}

/* The fault behaviour of a data access that the bus refused. */
void vb_bus_error(struct vb *b, uint32_t addr, bool is_write, bool fetch)
{
    (void)fetch;
    uint32_t faultmask = vb_rreg(b, UC_ARM_REG_FAULTMASK);
    int prio = vb_exec_priority(b);
    if (!is_write && (b->ccr & (1u << 8)) && (faultmask || prio < 0)) {
        /* CCR.BFHFNMIGN: the load returns 0, the fault is only recorded. */
        b->cfsr |= SCB_CFSR_PRECISERR | SCB_CFSR_BFARVALID;
        b->bfar = addr;
        vb_trace(b, "bus error ignored (BFHFNMIGN) at 0x%08x", addr);
        return;
    }
    if (b->fault_pending)
        return;
    b->fault_pending = true;
    if (is_write) {
        b->fault_cfsr = SCB_CFSR_IMPRECISERR;
        b->fault_bfar = 0;
    } else {
        b->fault_cfsr = SCB_CFSR_PRECISERR | SCB_CFSR_BFARVALID;
        b->fault_bfar = addr;
    }
    vb_trace(b, "bus error: %s 0x%08x", is_write ? "write" : "read", addr);
    b->stopping = true;
    uc_emu_stop(b->uc);
}

/* ---- other bus regions ------------------------------------------------- */

static uint64_t hole_read_at(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    (void)uc;
    (void)size;
    struct vb_hole *h = ud;
    vb_bus_error(h->b, h->base + (uint32_t)off, false, false);
    return 0;
}

static void hole_write_at(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
    (void)uc;
    (void)size;
    (void)v;
    struct vb_hole *h = ud;
    vb_bus_error(h->b, h->base + (uint32_t)off, true, false);
}

/* System memory (ST bootloader): reads refused, except the device
 * identity words (UID at 0x1FF1E800, FLASH size at 0x1FF1E880). */
static uint64_t sysmem_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    (void)uc;
    struct vb *b = ud;
    uint32_t a = H7_SYSMEM_BASE + (uint32_t)off;
    static const uint32_t uid[3] = { 0x00470028u, 0x3431510Cu, 0x38363735u };
    uint32_t w;
    if (a >= 0x1FF1E800u && a < 0x1FF1E80Cu)
        w = uid[(a - 0x1FF1E800u) / 4];
    else if (a >= 0x1FF1E880u && a < 0x1FF1E884u)
        w = 0x00000800u; /* 2048 KB */
    else {
        vb_bus_error(b, a, false, false);
        return 0;
    }
    w >>= 8 * (a & 3);
    return size >= 4 ? w : w & ((1u << (8 * size)) - 1);
}

static void sysmem_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
    (void)uc;
    (void)size;
    (void)v;
    struct vb *b = ud;
    vb_bus_error(b, H7_SYSMEM_BASE + (uint32_t)off, true, false);
}

/* The device table: the event order (the FLASH model first: a power cut
 * stops the board before anything else happens), and for the peripheral
 * window the dispatch order (FLASH and USART3 before the rest). */
static const struct vb_device *const devices[] = {
    &vb_dev_flash,
    &vb_dev_scs,
    &vb_dev_usart3,
    &vb_dev_periph,
};
#define NDEV (sizeof devices / sizeof devices[0])

static const struct vb_device *device_at(uint32_t a)
{
    for (unsigned i = 0; i < NDEV; i++)
        if (a - devices[i]->base < devices[i]->size)
            return devices[i];
    return NULL;
}

/* The peripheral window and the PPB: ud is the window's base. */
static uint64_t bus_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    (void)uc;
    const struct vb_window *w = ud;
    uint32_t a = w->base + (uint32_t)off;
    return device_at(a)->read(w->b, a, size);
}

static void bus_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *ud)
{
    (void)uc;
    const struct vb_window *w = ud;
    struct vb *b = w->b;
    uint32_t a = w->base + (uint32_t)off;
    /* A watchdog refresh is no progress, and a loop may repeat it. */
    if (a != IWDG1_BASE + IWDG_KR || (v & IWDG_KR_KEY_Msk) != IWDG_KEY_REFRESH) {
        b->rx_polls = 0;
        vb_poll_dirty(b);
    } else {
        vb_poll_wdg_refresh(b);
    }
    device_at(a)->write(b, a, size, v);
}

/* ---- instruction counting and the block hook ---------------------------- */

/* Generation of the flash pages a block spans (0 outside flash). */
static uint32_t block_gen(const struct vb *b, uint32_t addr, uint32_t size)
{
    if (addr - H7_FLASH_BASE >= H7_FLASH_SIZE)
        return 0;
    uint32_t p0 = (addr - H7_FLASH_BASE) >> 12, p1 = (addr + size - 1 - H7_FLASH_BASE) >> 12;
    return b->page_gen[p0] + (p1 < H7_FLASH_SIZE / 0x1000 && p1 != p0 ? b->page_gen[p1] : 0);
}

static const struct vb_icache_ent *icount(struct vb *b, uint32_t addr, uint32_t size)
{
    struct vb_icache_ent *e = &b->icache[(addr >> 1) & (VB_ICACHE_SLOTS - 1)];
    uint32_t gen = block_gen(b, addr, size);
    if (e->addr == addr && e->size == size && e->gen == gen)
        return e;
    uint8_t buf[4096];
    unsigned n = 0, flags = VB_INSN_STORE; /* unknown: assume the worst */
    if (size == 0 || size > sizeof buf || uc_mem_read(b->uc, addr, buf, size) != UC_ERR_OK)
        n = size / 2;
    else
        flags = vb_insn_flags(buf, size, &n);
    if (n == 0)
        n = 1;
    e->addr = addr;
    e->size = (uint16_t)size;
    e->n = (uint16_t)n;
    e->gen = gen;
    e->flags = flags;
    return e;
}

static void process_events(struct vb *b);

static void slow_path(struct vb *b, uint32_t pc)
{
    if (b->stopping)
        return;
    process_events(b);
    if (!b->stopping)
        vb_deliver(b, pc);
    vb_schedule(b);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc;
    struct vb *b = ud;
    if (b->n_dirty)
        vb_flash_restore_dirty(b);
    if (b->prot_pending)
        vb_update_bank_prot(b);
    if (b->retrap) {
        b->retrap = false;
        if (!b->bank_protected[(b->retrap_page - H7_FLASH_BASE) / H7_BANK_SIZE])
            vb_protect_fetch_only(b, b->retrap_page, 0x1000);
    }
    if (b->n_bp && vb_gdb_block(b, (uint32_t)addr, size))
        return;
    b->last_block = (uint32_t)addr;
    const struct vb_icache_ent *e = icount(b, (uint32_t)addr, size);
    b->cyc += e->n;
    vb_poll_block(b, (uint32_t)addr, size, e->flags);
    if (b->ccr & SCB_CCR_IC)
        vb_cache_fetch(b, (uint32_t)addr, size);
    if (b->flash_active && (uint32_t)addr - H7_FLASH_BASE < H7_FLASH_SIZE)
        vb_flash_fetch_stall(b, (uint32_t)addr);
    if (b->cyc >= b->deadline_cyc || b->check_irq)
        slow_path(b, (uint32_t)addr);
}

/* ---- events ------------------------------------------------------------- */

uint64_t vb_next_event(struct vb *b)
{
    return vb_next_event_ex(b, false);
}

uint64_t vb_next_event_ex(struct vb *b, bool skip_wdg)
{
    uint64_t t = VB_NEVER, x;
    for (unsigned i = 0; i < NDEV; i++)
        if (!(skip_wdg && devices[i]->watchdog) && (x = devices[i]->next_event(b)) < t)
            t = x;
    if (b->cfg.cut_at_ns && b->cfg.cut_at_ns < t)
        t = b->cfg.cut_at_ns;
    if (b->cfg.max_time_ns && b->cfg.max_time_ns < t)
        t = b->cfg.max_time_ns;
    return t;
}

void vb_schedule(struct vb *b)
{
    uint64_t t = vb_next_event(b);
    uint64_t d = b->cyc + 4000000; /* look at signals and the host now and then */
    if (t != VB_NEVER) {
        uint64_t now = vb_now(b);
        uint64_t dc = t <= now ? b->cyc : b->cyc + vb_muldiv_up(t - now, b->hz, VB_NS_PER_S);
        if (dc < d)
            d = dc;
    }
    if (b->cfg.max_insns && b->cfg.max_insns < d)
        d = b->cfg.max_insns;
    b->deadline_cyc = d;
    b->check_irq = memchr(b->pending, 1, sizeof b->pending) != NULL;
}

static void process_events(struct vb *b)
{
    uint64_t now = vb_now(b);
    if (b->gdb)
        vb_gdb_poll(b);
    if (b->sig_stop) {
        vb_stop_run(b, (enum vb_stop)b->sig_stop);
        return;
    }
    if (b->sig_cut) {
        b->sig_cut = 0;
        vb_model_sync(b);
        h7sim_power_cut(b->sim);
        vb_stop_run(b, VB_STOP_POWER_CUT);
        return;
    }
    for (unsigned i = 0; i < NDEV; i++)
        if (!devices[i]->process(b, i == 0 ? now : vb_now(b)))
            return;
    if (b->cfg.max_time_ns && vb_now(b) >= b->cfg.max_time_ns) {
        vb_stop_run(b, VB_STOP_TIMEOUT);
        return;
    }
    if (b->cfg.max_insns && b->cyc >= b->cfg.max_insns) {
        vb_stop_run(b, VB_STOP_TIMEOUT);
        return;
    }
    if (b->reset_req || b->wdg_reset_req) {
        b->stopping = true;
        uc_emu_stop(b->uc);
    }
}

/* ---- CPU exceptions reported by Unicorn -------------------------------- */

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    (void)uc;
    struct vb *b = ud;
    uint32_t pc = vb_rreg(b, UC_ARM_REG_PC);
    if (b->stopping)
        return;
    switch (intno) {
    case 2: /* SVC: pc is the return address */ vb_fault(b, EXC_SVCALL, 0, pc, "svc"); break;
    case 8: /* exception return: pc = EXC_RETURN & ~1 */ vb_exception_return(b, pc | 1); break;
    case 7:
    case 16: { /* BKPT (and semihosting) */
        uint16_t insn = 0;
        uc_mem_read(b->uc, pc, &insn, 2);
        if (insn == 0xBEAB) {
            vb_semihost(b);
        } else if (insn == 0xBE42) {
            b->stop_r0 = vb_rreg(b, UC_ARM_REG_R0);
            vb_stop_run(b, b->stop_r0 == 0 ? VB_STOP_OK : VB_STOP_FW_FAIL);
        } else {
            /* A debugger halts; without one BKPT escalates to HardFault. */
            if (!vb_gdb_bkpt(b)) {
                b->hfsr |= 1u << 31; /* DEBUGEVT */
                vb_fault(b, EXC_HARDFAULT, 0, pc, "bkpt");
            }
        }
        break;
    }
    case 1: vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_UNDEFINSTR, pc, "undefined instruction"); break;
    case 3:
        b->bfar = pc;
        vb_fault(b, EXC_BUSFAULT, SCB_CFSR_IBUSERR, pc, "instruction fetch");
        break;
    case 4: vb_fault(b, EXC_BUSFAULT, SCB_CFSR_PRECISERR, pc, "data abort"); break;
    case 17: vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_NOCP, pc, "coprocessor access"); break;
    case 18: vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_INVSTATE, pc, "invalid state"); break;
    case 22: vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_UNALIGNED, pc, "unaligned access"); break;
    default: {
        char what[48];
        snprintf(what, sizeof what, "CPU exception %u", intno);
        vb_dump(b, stderr, what);
        vb_stop_run(b, VB_STOP_FAULT);
        break;
    }
    }
}

static bool hook_invalid(uc_engine *uc, void *ud)
{
    (void)uc;
    struct vb *b = ud;
    uint32_t pc = vb_rreg(b, UC_ARM_REG_PC);
    uint16_t insn = 0;
    uc_mem_read(b->uc, pc, &insn, 2);
    if (insn == 0xBF20 || insn == 0xBF10 || insn == 0xBF40) /* WFE, YIELD, SEV */
        return true;
    return false;
}

static bool hook_fetch_bad(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud)
{
    (void)uc;
    (void)t;
    (void)size;
    (void)v;
    struct vb *b = ud;
    b->fault_bfar = (uint32_t)a;
    return false;
}

/* ---- register dump ------------------------------------------------------ */

void vb_dump(struct vb *b, FILE *out, const char *why)
{
    static const char *const names[] = { "r0", "r1", "r2",  "r3",  "r4",  "r5", "r6", "r7",
                                         "r8", "r9", "r10", "r11", "r12", "sp", "lr", "pc" };
    static const int regs[] = { UC_ARM_REG_R0,  UC_ARM_REG_R1, UC_ARM_REG_R2,  UC_ARM_REG_R3,
                                UC_ARM_REG_R4,  UC_ARM_REG_R5, UC_ARM_REG_R6,  UC_ARM_REG_R7,
                                UC_ARM_REG_R8,  UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11,
                                UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR,  UC_ARM_REG_PC };
    fprintf(out, "h7vboard: %s at %.6f ms, %llu instructions\n", why, (double)vb_now(b) / 1e6,
            (unsigned long long)b->cyc);
    for (int i = 0; i < 16; i++)
        fprintf(out, "  %-4s 0x%08x%s", names[i], vb_rreg(b, regs[i]), (i % 4 == 3) ? "\n" : "");
    fprintf(out, "  xpsr 0x%08x  msp 0x%08x  psp 0x%08x  control 0x%x\n",
            vb_rreg(b, UC_ARM_REG_XPSR), vb_rreg(b, UC_ARM_REG_MSP), vb_rreg(b, UC_ARM_REG_PSP),
            vb_rreg(b, UC_ARM_REG_CONTROL));
    fprintf(out, "  primask %u  faultmask %u  basepri 0x%02x  vtor 0x%08x\n",
            vb_rreg(b, UC_ARM_REG_PRIMASK), vb_rreg(b, UC_ARM_REG_FAULTMASK),
            vb_rreg(b, UC_ARM_REG_BASEPRI), b->vtor);
    fprintf(out, "  CFSR 0x%08x  HFSR 0x%08x  BFAR 0x%08x  MMFAR 0x%08x  SHCSR 0x%08x\n", b->cfsr,
            b->hfsr, b->bfar, b->mmfar, b->shcsr);
    uint32_t ipsr = vb_rreg(b, UC_ARM_REG_IPSR) & 0x1FF;
    if (ipsr) {
        uint32_t f[8] = { 0 };
        uint32_t sp = vb_rreg(b, UC_ARM_REG_SP);
        if (uc_mem_read(b->uc, sp, f, sizeof f) == UC_ERR_OK)
            fprintf(out,
                    "  frame at 0x%08x: r0 0x%08x r1 0x%08x r2 0x%08x r3 0x%08x r12 0x%08x"
                    " lr 0x%08x pc 0x%08x xpsr 0x%08x\n",
                    sp, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
    }
}

/* ---- reset -------------------------------------------------------------- */

void vb_system_reset(struct vb *b, bool power_on)
{
    if (!power_on) {
        b->resets++;
        vb_trace(b, "system reset");
    }
    for (unsigned i = 0; i < NDEV; i++)
        devices[i]->reset(b, power_on);
    vb_poll_reset(b);
    vb_cache_reset(b);
    vb_set_hz(b, vb_rcc_core_hz(b));

    uint32_t boot = b->cfg.boot_addr;
    if (boot == 0) {
        uint64_t v = 0;
        h7sim_read(b->sim, H7_FLASH_R_BASE + FLASH_BOOT7_CUR, 4, &v, NULL);
        boot = ((uint32_t)v & FLASH_BOOT_ADD0_Msk) << 16;
    }
    b->boot_addr = boot;
    b->vtor = boot & 0xFFFFFF80u;
    uint32_t vec[2] = { 0, 0 };
    uc_mem_read(b->uc, boot, vec, sizeof vec);

    vb_wreg(b, UC_ARM_REG_XPSR, 0x01000000u);
    vb_wreg(b, UC_ARM_REG_CONTROL, 0);
    uint32_t z = 0;
    uc_reg_read(b->uc, UC_ARM_REG_APSR_NZCV, &z);
    uc_reg_write(b->uc, UC_ARM_REG_APSR_NZCV, &z);
    for (int r = UC_ARM_REG_R0; r <= UC_ARM_REG_R12; r++)
        vb_wreg(b, r, 0);
    vb_wreg(b, UC_ARM_REG_MSP, vec[0]);
    vb_wreg(b, UC_ARM_REG_PSP, 0);
    vb_wreg(b, UC_ARM_REG_PRIMASK, 0);
    vb_wreg(b, UC_ARM_REG_FAULTMASK, 0);
    vb_wreg(b, UC_ARM_REG_BASEPRI, 0);
    vb_wreg(b, UC_ARM_REG_LR, 0xFFFFFFFFu);
    vb_wreg(b, UC_ARM_REG_PC, vec[1] | 1);
    vb_trace(b, "boot from 0x%08x: msp 0x%08x pc 0x%08x", boot, vec[0], vec[1]);
    b->reset_req = false;
    b->wdg_reset_req = false;
    b->fault_pending = false;
    vb_schedule(b);
}

/* ---- construction ------------------------------------------------------- */

void vb_config_default(struct vb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->link = VB_LINK_NONE;
    cfg->fd_in = cfg->fd_out = -1;
    cfg->turnaround_ns = 1000000;
    cfg->host_wait_ms = 1000;
    cfg->host_gap_ms = 2;
    cfg->host_idle_ms = 3000;
    cfg->hse_hz = 8000000;
}

static int map_ram(struct vb *b, uint32_t base, uint32_t size, uint32_t perms)
{
    uc_err e = uc_mem_map(b->uc, base, size, perms);
    if (e != UC_ERR_OK) {
        fprintf(stderr, "h7vboard: cannot map 0x%08x: %s\n", base, uc_strerror(e));
        return -1;
    }
    /* Unicorn 2.0.1 maps RAM "clean" for its code-change tracking and marks
     * a page "dirty" (stores go the fast way) only once code was translated
     * in it and removed: until then every store to the page takes the slow
     * path (a page collection: malloc, a tree, free), 100x the cost of the
     * store. Translating and dropping one block per 1 KB page (the smallest
     * target page of the M profile) once puts every page on the fast path;
     * a page that later holds code is protected again as it must be. */
    for (uint32_t a = base; a - base < size; a += 0x400) {
        uc_tb tb;
        /* uc_ctl_request_cache() as unicorn.h 2.0.1 spells it shifts the
         * int 3 by 30 (undefined behaviour, UBSan stops on it): the same
         * control word, built unsigned. */
        uc_ctl(b->uc,
               (uc_control_type)(UC_CTL_TB_REQUEST_CACHE | (2u << 26) |
                                 ((unsigned)UC_CTL_IO_READ_WRITE << 30)),
               (uint64_t)(a | 1u), &tb);
        uc_ctl_remove_cache(b->uc, a, a + 0x400);
    }
    return 0;
}

struct vb *vb_new(const struct vb_config *cfg)
{
    struct vb *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cfg = *cfg;
    vb_unicorn_workarounds();
    b->first_rx_ns = VB_NEVER;
    b->hz = 64000000;
    b->last_block = 0;
    b->icache = calloc(VB_ICACHE_SLOTS, sizeof *b->icache);
    b->flash_view = aligned_alloc(0x1000, H7_FLASH_SIZE);
    if (!b->icache || !b->flash_view)
        goto fail;

    struct h7sim_config mc;
    h7sim_config_default(&mc);
    if (cfg->timing_max)
        mc.timing = H7SIM_TIMING_MAX;
    b->sim = h7sim_new(&mc);
    if (!b->sim)
        goto fail;
    if (cfg->flash_file && !cfg->erase) {
        if (h7sim_load(b->sim, cfg->flash_file) == 0)
            vb_trace(b, "flash loaded from %s", cfg->flash_file);
    }
    for (unsigned i = 0; i < cfg->n_flips; i++) {
        h7sim_flip_bits(b->sim, cfg->flips[i].addr, cfg->flips[i].nbits);
        vb_trace(b, "%u bit(s) flipped in the flash word at 0x%08x", cfg->flips[i].nbits,
                 cfg->flips[i].addr);
    }

    uc_err e = uc_open(UC_ARCH_ARM, UC_MODE_THUMB, &b->uc);
    if (e != UC_ERR_OK) {
        fprintf(stderr, "h7vboard: uc_open: %s\n", uc_strerror(e));
        goto fail;
    }
    uc_ctl_set_cpu_model(b->uc, UC_CPU_ARM_CORTEX_M7);

    if (map_ram(b, H7_ITCM_BASE, H7_ITCM_SIZE, UC_PROT_ALL) ||

        map_ram(b, H7_DTCM_BASE, H7_DTCM_SIZE, UC_PROT_ALL) ||
        map_ram(b, H7_AXISRAM_BASE, H7_AXISRAM_SIZE, UC_PROT_ALL) ||
        map_ram(b, H7_SRAM1_BASE, VB_SRAM123_SIZE, UC_PROT_ALL) ||
        map_ram(b, H7_SRAM4_BASE, H7_SRAM4_SIZE, UC_PROT_ALL) ||
        map_ram(b, H7_BKPSRAM_BASE, H7_BKPSRAM_SIZE, UC_PROT_ALL))
        goto fail;
    /* One mapping per bank: protecting a whole busy bank splits nothing. */
    memset(b->flash_view, 0xFF, H7_FLASH_SIZE);
    for (uint32_t w = 0; w < 2; w++) {
        e = uc_mem_map_ptr(b->uc, H7_FLASH_BASE + w * H7_BANK_SIZE, H7_BANK_SIZE,
                           UC_PROT_READ | UC_PROT_EXEC, b->flash_view + w * H7_BANK_SIZE);
        if (e != UC_ERR_OK) {
            fprintf(stderr, "h7vboard: cannot map the flash: %s\n", uc_strerror(e));
            goto fail;
        }
    }
    uc_mmio_map(b->uc, H7_SYSMEM_BASE, H7_SYSMEM_SIZE, sysmem_read, b, sysmem_write, b);
    b->windows[0] = (struct vb_window){ H7_PERIPH_BASE, b };
    b->windows[1] = (struct vb_window){ H7_PPB_BASE, b };
    for (unsigned i = 0; i < 2; i++)
        uc_mmio_map(b->uc, b->windows[i].base, i ? H7_PPB_SIZE : H7_PERIPH_SIZE, bus_read,
                    &b->windows[i], bus_write, &b->windows[i]);

    /* Everything else is on no bus: bus fault. */
    static const uint32_t used[][2] = {
        { H7_ITCM_BASE, H7_ITCM_SIZE },       { H7_FLASH_BASE, H7_FLASH_SIZE },
        { H7_SYSMEM_BASE, H7_SYSMEM_SIZE },   { H7_DTCM_BASE, H7_DTCM_SIZE },
        { H7_AXISRAM_BASE, H7_AXISRAM_SIZE }, { H7_SRAM1_BASE, VB_SRAM123_SIZE },
        { H7_SRAM4_BASE, H7_SRAM4_SIZE },     { H7_BKPSRAM_BASE, H7_BKPSRAM_SIZE },
        { H7_PERIPH_BASE, H7_PERIPH_SIZE },   { H7_PPB_BASE, H7_PPB_SIZE },
    };
    uint64_t at = 0;
    unsigned nh = 0;
    for (unsigned i = 0; i <= sizeof used / sizeof used[0]; i++) {
        uint64_t end = i < sizeof used / sizeof used[0] ? used[i][0] : 0x100000000ull;
        if (end > at && nh < sizeof b->holes / sizeof b->holes[0]) {
            b->holes[nh].base = (uint32_t)at;
            b->holes[nh].b = b;
            uc_mmio_map(b->uc, at, end - at, hole_read_at, &b->holes[nh], hole_write_at,
                        &b->holes[nh]);
            nh++;
        }
        if (i < sizeof used / sizeof used[0])
            at = (uint64_t)used[i][0] + used[i][1];
    }

    uc_hook h;
    uc_hook_add(b->uc, &h, UC_HOOK_BLOCK, hook_block, b, 1, 0);
    uc_hook_add(b->uc, &h, UC_HOOK_INTR, hook_intr, b, 1, 0);
    uc_hook_add(b->uc, &h, UC_HOOK_INSN_INVALID, hook_invalid, b, 1, 0);
    uc_hook_add(b->uc, &h, UC_HOOK_MEM_WRITE_PROT, vb_hook_flash_write, b, 1, 0);
    uc_hook_add(b->uc, &h, UC_HOOK_MEM_READ_PROT, vb_hook_flash_read, b, 1, 0);
    uc_hook_add(b->uc, &h, UC_HOOK_MEM_FETCH_PROT | UC_HOOK_MEM_FETCH_UNMAPPED, hook_fetch_bad, b,
                1, 0);

    vb_flash_observe(b);
    vb_flash_publish(b, H7_FLASH_BASE, H7_FLASH_SIZE);

    if (cfg->cut_after_ops_set)
        h7sim_fault_power_cut_after_ops(b->sim, cfg->cut_after_ops);
    if (cfg->cut_at_ns)
        h7sim_fault_power_cut_at(b->sim, cfg->cut_at_ns);
    if (cfg->cache_log) {
        b->cache_log = fopen(cfg->cache_log, "w");
        if (!b->cache_log) {
            fprintf(stderr, "h7vboard: %s: %s\n", cfg->cache_log, strerror(errno));
            goto fail;
        }
    }
    vb_periph_reset(b, true);
    if (vb_link_open(b) != 0)
        goto fail;
    if (cfg->gdb_port && vb_gdb_open(b, cfg->gdb_port) != 0)
        goto fail;
    return b;
fail:
    vb_free(b);
    return NULL;
}

void vb_free(struct vb *b)
{
    if (!b)
        return;
    vb_link_close(b);
    vb_gdb_close(b);
    if (b->cache_log)
        fclose(b->cache_log);
    if (b->uc)
        uc_close(b->uc);
    if (b->sim)
        h7sim_free(b->sim);
    free(b->icache);
    free(b->flash_view);
    free(b);
}

struct h7sim *vb_model(struct vb *b)
{
    return b->sim;
}

/* ---- run loop ------------------------------------------------------------ */

/* WFI: sleep in virtual time until something can wake the core. */
static void idle(struct vb *b)
{
    vb_usart_first_contact(b);
    while (!b->stopping && b->stop == VB_STOP_NONE) {
        process_events(b);
        if (b->stopping || b->reset_req || b->wdg_reset_req)
            return;
        if (vb_wakeup_pending(b))
            return;
        uint64_t now = vb_now(b), t = vb_next_event(b);
        if (t != VB_NEVER) {
            if (t > now) {
                b->idle_ns += t - now;
                vb_time_jump(b, t);
            }
            continue;
        }
        /* Nothing scheduled: only the host can wake us. Time passes as on
         * the wall clock (no determinism to keep: no host is taking part). */
        if (b->link.kind == VB_LINK_NONE || b->link.in_eof) {
            if (vb_gdb_attached(b)) {
                /* Only the debugger can stop this: wait for its Ctrl-C. */
                nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
                continue;
            }
            if (b->link.kind == VB_LINK_NONE || b->u.rx_count == 0) {
                fprintf(stderr, "h7vboard: WFI with nothing that can wake the core\n");
                vb_stop_run(b, VB_STOP_TIMEOUT);
                return;
            }
        }
        double w0 = vb_wall();
        vb_link_wait(b, 20);
        uint64_t dt = (uint64_t)((vb_wall() - w0) * 1e9);
        b->idle_ns += dt;
        vb_time_jump(b, vb_now(b) + dt);
    }
}

enum vb_stop vb_run(struct vb *b)
{
    b->wall_start = vb_wall();
    b->cpu_start = cpu_now();
    vb_system_reset(b, true);
    b->halt_req = b->gdb != NULL; /* the debugger finds the core halted at reset */
    while (b->stop == VB_STOP_NONE) {
        if (b->halt_req) {
            vb_gdb_halted(b);
            continue;
        }
        b->stopping = false;
        uint32_t pc = vb_rreg(b, UC_ARM_REG_PC);
        b->fault_bfar = 0;
        vb_cache_sync(b);
        bool step = b->step;
        b->step = false;
        uint32_t until = b->until;
        if (until)
            uc_ctl_remove_cache(b->uc, until, until + 2); /* the blocks that span it */
        uc_err e = uc_emu_start(b->uc, pc | 1, until ? until : 0xFFFFFFFFull, 0, step ? 1 : 0);
        if (until) {
            /* Stopped on the breakpoint: its code is translated again without
             * the end address. */
            b->until = 0;
            uc_ctl_remove_cache(b->uc, until, until + 2);
            if (vb_rreg(b, UC_ARM_REG_PC) == until && !b->halt_req) {
                b->halt_req = true;
                b->halt_sig = 5;
            }
        }
        if (step && !b->halt_req) {
            b->halt_req = true;
            b->halt_sig = 5;
        }
        if (b->n_dirty)
            vb_flash_restore_dirty(b);
        if (b->prot_pending)
            vb_update_bank_prot(b);
        if (b->stop != VB_STOP_NONE)
            break;
        bool resume = b->resume;
        b->resume = false;
        if (b->wdg_reset_req) {
            b->wdg_resets++;
            vb_trace(b, "watchdog reset");
            if (b->cfg.stop_on_watchdog) {
                vb_stop_run(b, VB_STOP_WATCHDOG);
                break;
            }
            b->rsr |= RCC_RSR_IWDG1RSTF;
            vb_system_reset(b, false);
            continue;
        }
        if (b->reset_req) {
            if (b->cfg.stop_on_reset) {
                vb_stop_run(b, VB_STOP_RESET);
                break;
            }
            b->rsr |= RCC_RSR_SFT1RSTF;
            vb_system_reset(b, false);
            continue;
        }
        pc = vb_rreg(b, UC_ARM_REG_PC);
        if (b->fault_pending) {
            b->fault_pending = false;
            if (b->fault_cfsr & SCB_CFSR_BFARVALID)
                b->bfar = b->fault_bfar;
            vb_fault(b, EXC_BUSFAULT, b->fault_cfsr, pc, "bus error");
            continue;
        }
        if (e == UC_ERR_FETCH_PROT || e == UC_ERR_FETCH_UNMAPPED) {
            b->bfar = b->fault_bfar ? b->fault_bfar : pc;
            vb_fault(b, EXC_BUSFAULT, SCB_CFSR_IBUSERR, pc, "instruction fetch from no memory");
            continue;
        }
        if (e == UC_ERR_INSN_INVALID) {
            vb_fault(b, EXC_USAGEFAULT, SCB_CFSR_UNDEFINSTR, pc, "undefined instruction");
            continue;
        }
        if (e != UC_ERR_OK) {
            char what[96];
            snprintf(what, sizeof what, "emulation error: %s", uc_strerror(e));
            vb_dump(b, stderr, what);
            vb_stop_run(b, VB_STOP_FAULT);
            break;
        }
        if (resume || b->halt_req)
            continue;
        uint16_t prev = 0, prev2[2] = { 0, 0 };
        uc_mem_read(b->uc, pc - 2, &prev, 2);
        uc_mem_read(b->uc, pc - 4, prev2, 4);
        bool wfi = prev == 0xBF30 || prev == 0xBF20 ||
                   (prev2[0] == 0xF3AF && (prev2[1] == 0x8003 || prev2[1] == 0x8002));
        if (wfi) {
            idle(b);
            if (b->stop != VB_STOP_NONE)
                break;
            if (!b->reset_req && !b->wdg_reset_req)
                vb_deliver(b, vb_rreg(b, UC_ARM_REG_PC));
            vb_schedule(b);
        }
    }
    vb_link_flush(b);
    vb_gdb_exit(b);
    b->wall_s = vb_wall() - b->wall_start;
    b->cpu_s = cpu_now() - b->cpu_start;
    if (b->stop == VB_STOP_FAULT || b->stop == VB_STOP_TIMEOUT)
        vb_trace(b, "stopped: %s", vb_stop_name(b->stop));
    if (b->cfg.flash_file) {
        if (h7sim_save(b->sim, b->cfg.flash_file) != 0)
            fprintf(stderr, "h7vboard: cannot save flash to %s\n", b->cfg.flash_file);
    }
    if (b->cache_log)
        fflush(b->cache_log);
    return b->stop;
}

/* ---- results ------------------------------------------------------------- */

int vb_exit_code(enum vb_stop why)
{
    switch (why) {
    case VB_STOP_OK:
    case VB_STOP_RESET: return VB_EXIT_OK;
    case VB_STOP_FW_FAIL: return VB_EXIT_FW_FAIL;
    case VB_STOP_FAULT: return VB_EXIT_FAULT;
    case VB_STOP_TIMEOUT: return VB_EXIT_TIMEOUT;
    case VB_STOP_WATCHDOG: return VB_EXIT_WATCHDOG;
    case VB_STOP_POWER_CUT: return VB_EXIT_POWER_CUT;
    case VB_STOP_SIGNAL: return VB_EXIT_SIGNAL;
    case VB_STOP_NONE: break;
    }
    return VB_EXIT_FAULT;
}

const char *vb_stop_name(enum vb_stop why)
{
    switch (why) {
    case VB_STOP_NONE: return "running";
    case VB_STOP_OK: return "ok";
    case VB_STOP_FW_FAIL: return "firmware-failure";
    case VB_STOP_FAULT: return "fault";
    case VB_STOP_TIMEOUT: return "timeout";
    case VB_STOP_WATCHDOG: return "watchdog";
    case VB_STOP_POWER_CUT: return "power-cut";
    case VB_STOP_SIGNAL: return "signal";
    case VB_STOP_RESET: return "reset";
    }
    return "?";
}

void vb_get_stats(const struct vb *b, struct vb_stats *st)
{
    memset(st, 0, sizeof *st);
    st->time_ns = vb_now(b);
    st->insns = b->cyc;
    st->stall_ns = b->stall_ns;
    st->idle_ns = b->idle_ns;
    st->flash_ops = b->flash_ops;
    st->uart_rx = b->uart_rx;
    st->uart_tx = b->uart_tx;
    st->uart_ore = b->uart_ore;
    st->rx_wire_ns = b->rx_wire_ns;
    st->tx_wire_ns = b->tx_wire_ns;
    st->first_rx_ns = b->first_rx_ns;
    st->last_tx_end_ns = b->u.last_tx_end;
    st->exceptions = b->exceptions;
    st->resets = b->resets;
    st->wdg_resets = b->wdg_resets;
    memcpy(st->cache_ops, b->cache_ops, sizeof st->cache_ops);
    st->wall_s = b->wall_s;
    st->cpu_s = b->cpu_s;
    st->core_hz = b->hz;
    uint32_t fck = vb_rcc_usart3_hz((struct vb *)b);
    uint32_t div = b->u.brr & 0xFFFF;
    if (b->u.cr1 & (1u << 15))
        div = (div & 0xFFF0u) | ((div & 7u) << 1);
    st->baud = div ? (uint32_t)(((b->u.cr1 & (1u << 15)) ? 2ull : 1ull) * fck / div) : 0;
    st->pc = vb_rreg((struct vb *)b, UC_ARM_REG_PC);
}

void vb_print_summary(const struct vb *b, FILE *out)
{
    struct vb_stats st;
    vb_get_stats(b, &st);
    double mips = st.cpu_s > 0 ? (double)st.insns / st.cpu_s / 1e6 : 0;
    fprintf(out,
            "h7vboard: stop=%s exit=%d time=%.6f ms insns=%llu stall=%.3f ms idle=%.3f ms"
            " flash_ops=%llu uart_rx=%llu uart_tx=%llu ore=%llu exc=%llu resets=%llu"
            " core=%u Hz wall=%.3f s cpu=%.3f s (%.0f M instr/s)",
            vb_stop_name(b->stop), vb_exit_code(b->stop), (double)st.time_ns / 1e6,
            (unsigned long long)st.insns, (double)st.stall_ns / 1e6, (double)st.idle_ns / 1e6,
            (unsigned long long)st.flash_ops, (unsigned long long)st.uart_rx,
            (unsigned long long)st.uart_tx, (unsigned long long)st.uart_ore,
            (unsigned long long)st.exceptions, (unsigned long long)st.resets, st.core_hz, st.wall_s,
            st.cpu_s, mips);
    if (st.first_rx_ns != VB_NEVER)
        fprintf(out, " first_rx=%.6f ms last_tx_end=%.6f ms rx_wire=%.3f ms tx_wire=%.3f ms",
                (double)st.first_rx_ns / 1e6, (double)st.last_tx_end_ns / 1e6,
                (double)st.rx_wire_ns / 1e6, (double)st.tx_wire_ns / 1e6);
    if (b->stop == VB_STOP_FW_FAIL)
        fprintf(out, " code=%u", b->stop_r0);
    /* The FLASH model's log of broken hardware rules (docs/FLASH_MODEL.md):
     * correct firmware leaves it empty. */
    size_t nv = h7sim_violation_count(b->sim);
    fprintf(out, " violations=%zu\n", nv);
    if (nv)
        h7sim_violations_print(b->sim, out);
}
