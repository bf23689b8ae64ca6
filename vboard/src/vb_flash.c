/*
 * vboard: the glue to the h7sim FLASH model. The CPU reads the flash from a
 * host buffer (the view) mapped into Unicorn; the model's observer keeps
 * the view in step with the array (minus what the caches keep, vb_cache.c);
 * busy banks and pages with a double-ECC word are made fetch-only so that
 * data reads of them reach the model; CPU stores into the array and the
 * FLASH registers go to the model, its stalls become virtual time.
 * (Unicorn 2.0.1 behaviour this relies on: vb_core.c.)
 */
#include "vb_internal.h"

#include <string.h>

static void icache_invalidate(struct vb *b, uint32_t addr, uint32_t len)
{
    for (uint32_t p = (addr - H7_FLASH_BASE) >> 12; p <= (addr + len - 1 - H7_FLASH_BASE) >> 12;
         p++)
        b->page_gen[p]++;
}

/* Record whether a flash page holds a double-ECC word; its protection is
 * applied by update_bank_prot. */
static void ecc_page_set(struct vb *b, uint32_t page, bool bad)
{
    for (unsigned i = 0; i < b->n_ecc_pages; i++) {
        if (b->ecc_pages[i] == page) {
            if (!bad) {
                b->ecc_pages[i] = b->ecc_pages[--b->n_ecc_pages];
                b->ecc_dirty = true;
            }
            return;
        }
    }
    if (!bad)
        return;
    if (b->n_ecc_pages == sizeof b->ecc_pages / sizeof b->ecc_pages[0]) {
        vb_trace(b, "too many pages with double-ECC words; 0x%08x reads without a bus error", page);
        return;
    }
    b->ecc_pages[b->n_ecc_pages++] = page;
    vb_trace(b, "flash page 0x%08x holds a double-ECC word: reads go to the model", page);
    b->ecc_dirty = true;
}

/* Copy the model's bytes of the flash word at a into the CPU's view.
 * Double-ECC words are published as zeros: a load with bus faults ignored
 * (FAULTMASK, CCR.BFHFNMIGN) returns 0 as on the chip. True for such a
 * word. */
static bool flash_copy_word(struct vb *b, uint32_t a)
{
    uint8_t *view = b->flash_view + (a - H7_FLASH_BASE);
    if (h7sim_word_state(b->sim, a) == H7SIM_WORD_ECC_DOUBLE) {
        memset(view, 0, H7_FLASH_WORD);
        return true;
    }
    h7sim_peek(b->sim, a, view, H7_FLASH_WORD);
    return false;
}

/* After the view of [a0, a1) changed: instruction counts, and pages with a
 * double-ECC word made fetch-only (reads reach the model). */
static void flash_view_changed(struct vb *b, uint32_t a0, uint32_t a1, bool any_bad)
{
    icache_invalidate(b, a0, a1 - a0);
    if (any_bad || b->n_ecc_pages) {
        for (uint32_t p = a0 & ~0xFFFu; p < a1; p += 0x1000) {
            bool bad = false;
            for (uint32_t a = p; a < p + 0x1000 && !bad; a += H7_FLASH_WORD)
                bad = h7sim_word_state(b->sim, a) == H7SIM_WORD_ECC_DOUBLE;
            ecc_page_set(b, p, bad);
        }
        if (b->ecc_dirty) {
            if (b->in_flash_hook) {
                b->prot_pending = true;
                b->check_irq = true;
            } else {
                vb_update_bank_prot(b);
            }
        }
    }
}

static bool flash_range(uint32_t *addr, uint32_t *len, uint32_t *a0, uint32_t *a1)
{
    if (*addr < H7_FLASH_BASE || *addr >= H7_FLASH_BASE + H7_FLASH_SIZE)
        return false;
    if (*len > H7_FLASH_BASE + H7_FLASH_SIZE - *addr)
        *len = H7_FLASH_BASE + H7_FLASH_SIZE - *addr;
    *a0 = *addr & ~(H7_FLASH_WORD - 1);
    *a1 = (*addr + *len + H7_FLASH_WORD - 1) & ~(H7_FLASH_WORD - 1);
    return true;
}

/* The model's bytes of [addr, addr+len) into the CPU's view, whatever the
 * caches hold. */
void vb_flash_publish_raw(struct vb *b, uint32_t addr, uint32_t len)
{
    uint32_t a0, a1;
    if (!flash_range(&addr, &len, &a0, &a1))
        return;
    bool any_bad = false;
    for (uint32_t a = a0; a < a1; a += H7_FLASH_WORD)
        any_bad |= flash_copy_word(b, a);
    uc_ctl_remove_cache(b->uc, a0, a1);
    flash_view_changed(b, a0, a1, any_bad);
}

/* The flash changed under the CPU: its view of [addr, addr+len) shows the
 * model's bytes, except lines the D-cache holds (the view keeps the cached
 * bytes) and lines the I-cache holds (their translated code is kept). */
void vb_flash_publish(struct vb *b, uint32_t addr, uint32_t len)
{
    if (!b->cache.used) {
        vb_flash_publish_raw(b, addr, len);
        return;
    }
    uint32_t a0, a1;
    if (!flash_range(&addr, &len, &a0, &a1))
        return;
    bool any_bad = false;
    uint32_t run = a0; /* translated code to drop: [run, a) */
    for (uint32_t a = a0; a < a1; a += H7_FLASH_WORD) {
        if (!vb_cache_keep_view(b, a))
            any_bad |= flash_copy_word(b, a);
        if (vb_cache_keep_code(b, a)) {
            if (run < a)
                uc_ctl_remove_cache(b->uc, run, a);
            run = a + H7_FLASH_WORD;
        }
    }
    if (run < a1)
        uc_ctl_remove_cache(b->uc, run, a1);
    flash_view_changed(b, a0, a1, any_bad);
}

/* Undo what CPU stores wrote into the view (the model has them). */
void vb_flash_restore_dirty(struct vb *b)
{
    if (b->dirty_overflow) {
        vb_flash_publish(b, H7_FLASH_BASE, H7_FLASH_SIZE);
    } else {
        for (unsigned i = 0; i < b->n_dirty; i++)
            vb_flash_publish(b, b->dirty_words[i], H7_FLASH_WORD);
    }
    b->n_dirty = 0;
    b->dirty_overflow = false;
}

static void flash_mark_dirty(struct vb *b, uint32_t a, unsigned size)
{
    for (uint32_t w = a & ~(H7_FLASH_WORD - 1); w < a + size; w += H7_FLASH_WORD) {
        bool seen = false;
        for (unsigned i = 0; i < b->n_dirty && !seen; i++)
            seen = b->dirty_words[i] == w;
        if (seen)
            continue;
        if (b->n_dirty == sizeof b->dirty_words / sizeof b->dirty_words[0])
            b->dirty_overflow = true;
        else
            b->dirty_words[b->n_dirty++] = w;
    }
}

static void obs_array_changed(void *ctx, uint32_t addr, uint32_t len)
{
    vb_flash_publish(ctx, addr, len);
}

static void obs_irq_changed(void *ctx, bool level)
{
    vb_irq_set_level(ctx, FLASH_IRQn, level);
}

static const char *const op_names[] = {
    [H7SIM_OP_PROGRAM] = "program",       [H7SIM_OP_SECTOR_ERASE] = "sector-erase",
    [H7SIM_OP_BANK_ERASE] = "bank-erase", [H7SIM_OP_MASS_ERASE] = "mass-erase",
    [H7SIM_OP_OPTION] = "option-change",  [H7SIM_OP_CRC] = "crc",
};

static void obs_event(void *ctx, const struct h7sim_event *ev)
{
    struct vb *b = ctx;
    const char *op =
        (unsigned)ev->op < sizeof op_names / sizeof op_names[0] ? op_names[ev->op] : "?";
    switch (ev->kind) {
    case H7SIM_EV_OP_START:
        vb_trace(b, "flash %s start bank %u 0x%08x +%u", op, ev->bank, ev->addr, ev->len);
        if (ev->op != H7SIM_OP_PROGRAM && ev->op != H7SIM_OP_CRC) {
            if (ev->bank == 0) {
                b->long_op[0] = b->long_op[1] = true;
            } else {
                unsigned w = (ev->bank - 1) ^ (h7sim_swapped(b->sim) ? 1u : 0u);
                b->long_op[w & 1] = true;
            }
        }
        break;
    case H7SIM_EV_OP_DONE:
        b->flash_ops++;
        vb_trace(b, "flash %s done bank %u 0x%08x +%u sr=0x%08x", op, ev->bank, ev->addr, ev->len,
                 ev->sr);
        break;
    case H7SIM_EV_OP_ERROR:
        vb_trace(b, "flash %s refused bank %u 0x%08x sr=0x%08x", op, ev->bank, ev->addr, ev->sr);
        break;
    case H7SIM_EV_OPTION_DONE:
        b->flash_ops++;
        vb_trace(b, "flash option change done");
        break;
    case H7SIM_EV_POWER_CUT:
        vb_trace(b, "POWER CUT (%s 0x%08x)", op, ev->addr);
        if (b->cfg.trace == NULL)
            fprintf(stderr, "h7vboard: power cut at %.6f ms during %s at 0x%08x\n",
                    (double)ev->time_ns / 1e6, op, ev->addr);
        vb_stop_run(b, VB_STOP_POWER_CUT);
        break;
    }
}

void vb_flash_observe(struct vb *b)
{
    struct h7sim_observer obs = {
        .array_changed = obs_array_changed,
        .irq_changed = obs_irq_changed,
        .event = obs_event,
        .ctx = b,
    };
    h7sim_set_observer(b->sim, &obs);
}

/* Bring the model's clock to the board's. */
void vb_model_sync(struct vb *b)
{
    uint64_t now = vb_now(b), m = h7sim_now(b->sim);
    if (now > m)
        h7sim_advance(b->sim, now - m);
}

/* After a model call: take over a stall, refresh the busy-bank protection. */
void vb_model_after(struct vb *b)
{
    uint64_t now = vb_now(b), m = h7sim_now(b->sim);
    if (m > now) {
        b->stall_ns += m - now;
        vb_time_jump(b, m);
        /* The board's own events inside the stall (UART bytes, ticks) are
         * handled at the next slow path, in time order. */
        b->check_irq = true;
    }
    /* Changing protections inside a flash access hook crashes Unicorn (a
     * store landing in the region) or loses them (a load): deferred to the
     * next block. */
    if (b->in_flash_hook) {
        b->prot_pending = true;
        b->check_irq = true;
    } else {
        vb_update_bank_prot(b);
    }
    /* Reschedule only when the model's next completion moved (a status
     * poll changes nothing: this runs at every access). */
    uint64_t next = h7sim_next_event(b->sim);
    b->flash_active = next != VB_NEVER;
    if (next != b->model_next) {
        b->model_next = next;
        vb_schedule(b);
    }
}

/* Make [addr, addr+len) fetch-only. Unicorn checks permissions when it
 * fills its TLB; a TLB flush only comes with a change of the memory map, so
 * the region is made writable for an instant to force one. */
void vb_protect_fetch_only(struct vb *b, uint32_t addr, uint32_t len)
{
    uc_mem_protect(b->uc, addr, len, UC_PROT_EXEC | UC_PROT_WRITE);
    uc_mem_protect(b->uc, addr, len, UC_PROT_EXEC);
}

/* Busy banks are fetch-only; so are pages with a double-ECC word. */
void vb_update_bank_prot(struct vb *b)
{
    bool ecc_changed = b->ecc_dirty;
    b->prot_pending = false;
    b->ecc_dirty = false;
    for (unsigned w = 0; w < 2; w++) {
        uint32_t base = H7_FLASH_BASE + w * H7_BANK_SIZE;
        /* Only erases and option changes make the window fetch-only (unless
         * --exact-read-stalls): making it so costs two rebuilds of Unicorn's
         * memory map, 1.6 s of host CPU over a 1.75 MB update, for reads
         * that a driver does not make while its word programs (code
         * fetches stall in any case). */
        bool busy = h7sim_bank_busy(b->sim, base);
        if (!busy)
            b->long_op[w] = false;
        busy = busy && (b->long_op[w] || b->cfg.exact_read_stalls);
        if (busy == b->bank_protected[w] && !ecc_changed)
            continue;
        b->bank_protected[w] = busy;
        if (busy) {
            vb_protect_fetch_only(b, base, H7_BANK_SIZE);
            continue;
        }
        uc_mem_protect(b->uc, base, H7_BANK_SIZE, UC_PROT_READ | UC_PROT_EXEC);
        for (unsigned i = 0; i < b->n_ecc_pages; i++)
            if ((b->ecc_pages[i] - H7_FLASH_BASE) / H7_BANK_SIZE == w)
                vb_protect_fetch_only(b, b->ecc_pages[i], 0x1000);
    }
}

/* A data access the model held (busy bank, START acknowledge): traced with
 * the instruction that made it, so that firmware that stalls on its own
 * bank can be found (docs/VBOARD.md "Stalls"). */
static void stall_note(struct vb *b, const char *what, uint32_t a, uint64_t stall)
{
    if (stall)
        vb_trace(b, "%s at 0x%08x stalled %.3f us (pc 0x%08x)", what, a, (double)stall / 1e3,
                 (uint32_t)vb_rreg(b, UC_ARM_REG_PC));
}

/* The FLASH registers (the device table's entry). */
static uint64_t reg_read(struct vb *b, uint32_t a, unsigned size)
{
    uint64_t v = 0, stall = 0;
    vb_model_sync(b);
    enum h7sim_resp r = h7sim_read(b->sim, a, size, &v, &stall);
    vb_model_after(b);
    stall_note(b, "register read", a, stall);
    if (r != H7SIM_OK) {
        vb_bus_error(b, a, false, false);
        return 0;
    }
    /* SR1/SR2 or OPTSR_CUR polled while an operation runs: time may be
     * skipped if the loop is pure (vb_poll.c). */
    vb_poll_read(b, a, v);
    return v;
}

static void reg_write(struct vb *b, uint32_t a, unsigned size, uint64_t v)
{
    uint64_t stall = 0;
    vb_model_sync(b);
    enum h7sim_resp r = h7sim_write(b->sim, a, size, v, &stall);
    vb_model_after(b);
    stall_note(b, "register write", a, stall);
    if (r != H7SIM_OK)
        vb_bus_error(b, a, true, false);
}

static void flash_reset(struct vb *b, bool power_on)
{
    (void)power_on;
    vb_model_sync(b);
    h7sim_reset(b->sim);
    vb_model_after(b);
}

static uint64_t flash_next(struct vb *b)
{
    return b->flash_active ? h7sim_next_event(b->sim) : VB_NEVER;
}

/* Completions due, and an injected power cut (which stops the board). */
static bool flash_process(struct vb *b, uint64_t now)
{
    if (b->flash_active || (b->cfg.cut_at_ns && now >= b->cfg.cut_at_ns)) {
        vb_model_sync(b);
        vb_model_after(b);
        if (b->stopping)
            return false;
    }
    return true;
}

const struct vb_device vb_dev_flash = {
    .name = "FLASH",
    .base = H7_FLASH_R_BASE,
    .size = H7_FLASH_R_SIZE,
    .read = reg_read,
    .write = reg_write,
    .reset = flash_reset,
    .next_event = flash_next,
    .process = flash_process,
};

bool vb_hook_flash_write(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud)
{
    (void)uc;
    (void)t;
    struct vb *b = ud;
    if (a < H7_FLASH_BASE || a >= H7_FLASH_BASE + H7_FLASH_SIZE) {
        vb_bus_error(b, (uint32_t)a, true, false);
        return true;
    }
    flash_mark_dirty(b, (uint32_t)a, (unsigned)size);
    b->in_flash_hook = true;
    /* Unicorn reports an unaligned store whole and then byte by byte:
     * keep the bytes. */
    if (size > 1 && (a & (uint64_t)(size - 1)))
        return true;
    uint64_t stall = 0;
    b->rx_polls = 0;
    vb_poll_dirty(b);
    vb_model_sync(b);
    enum h7sim_resp r = h7sim_write(b->sim, (uint32_t)a, (unsigned)size, (uint64_t)v, &stall);
    vb_model_after(b);
    stall_note(b, "flash write", (uint32_t)a, stall);
    b->in_flash_hook = false;
    if (r != H7SIM_OK)
        vb_bus_error(b, (uint32_t)a, true, false);
    return true;
}

/* Data read from a fetch-only flash page: busy bank or double-ECC word. */
bool vb_hook_flash_read(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud)
{
    (void)uc;
    (void)t;
    (void)v;
    struct vb *b = ud;
    if (a < H7_FLASH_BASE || a >= H7_FLASH_BASE + H7_FLASH_SIZE)
        return false;
    uint64_t val = 0, stall = 0;
    b->in_flash_hook = true;
    vb_model_sync(b);
    enum h7sim_resp r = h7sim_read(b->sim, (uint32_t)a, (unsigned)size, &val, &stall);
    vb_model_after(b);
    stall_note(b, "flash read", (uint32_t)a, stall);
    b->in_flash_hook = false;
    if (r != H7SIM_OK)
        vb_bus_error(b, (uint32_t)a, false, false);
    /* Unicorn calls this hook when it fills its TLB, not on every load:
     * the page must be protected again (which flushes the TLB) for the
     * next load from it to come here too. */
    uint32_t page = (uint32_t)a & ~0xFFFu;
    for (unsigned i = 0; i < b->n_ecc_pages; i++) {
        if (b->ecc_pages[i] == page) {
            b->retrap = true;
            b->retrap_page = page;
            b->check_irq = true;
        }
    }
    return true;
}

void vb_flash_fetch_stall(struct vb *b, uint32_t addr)
{
    vb_model_sync(b);
    uint64_t st = h7sim_fetch_stall(b->sim, addr);
    if (st)
        vb_trace(b, "fetch at 0x%08x stalled %.3f us", addr, (double)st / 1e3);
    vb_model_after(b);
}
