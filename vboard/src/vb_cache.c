/*
 * vboard: the Cortex-M7 L1 caches as firmware sees them (ARMv7-M ARM
 * B2.2, Cortex-M7 TRM "Level 1 memory system"; RM0399 2.3: the STM32H745
 * CM7 has 16 KB of D-cache, 4-way, and 16 KB of I-cache, 2-way, 32-byte
 * lines, one flash word per line, docs/H7_FLASH.md).
 *
 * Cacheability: the default memory map (Code region 0x00000000-0x1FFFFFFF
 * write-through, SRAM region 0x20000000-0x3FFFFFFF write-back
 * write-allocate; ITCM and DTCM are never cached; peripherals and the PPB
 * are Device memory), overridden by the MPU regions the firmware enables
 * (TEX/C/B, subregions, the highest-numbered region wins; Shareable normal
 * memory is not cached, the M7's default).
 *
 * What is modelled, because firmware can see it:
 *   - D-cache (CCR.DC): every load and store to cacheable memory looks the
 *     line up (LRU replacement, read-allocate; write-allocate only for
 *     write-back write-allocate memory; write-through store hits update
 *     the line). A flash line in the cache when the flash controller
 *     changes the word (erase, program completing, a debugger write) keeps
 *     returning the old bytes until DCIMVAC/DCCIMVAC/DCISW/DCCISW or its
 *     eviction; a store that hits a cached flash line updates the line even
 *     if the flash refuses the store. Write-back lines are dirty after a
 *     store: invalidating one (DCIMVAC, DCISW) without cleaning it loses
 *     the stores (memory gets back what it held before).
 *   - I-cache (CCR.IC): the lines of the code executed are looked up per
 *     translation block; a flash line in the I-cache keeps its old code
 *     after an erase or program until ICIALLU/ICIMVAU (the translated block
 *     is kept), while data loads see the new bytes.
 *
 * Speed: nothing runs while the caches are off. With the D-cache on, a
 * Unicorn memory hook sees every load and store between 0x08000000 and
 * 0x3FFFFFFF (loads cost several times more). Stale data costs nothing
 * more: the flash view the CPU reads keeps the old bytes of just those
 * lines (the model has the new ones), and they are put back in the view
 * when the line leaves the cache.
 *
 * Not modelled: dirty lines reaching memory at other times than the
 * firmware's clean operations matter only to other bus masters (none is
 * modelled); code written to RAM by CPU stores is seen at once (Unicorn
 * translates it again); disabling the D-cache leaves dirty lines as they
 * are; a stale D-line executed as code while not in the I-cache runs the
 * old bytes; loads that hit a cached line of a busy bank still stall.
 */
#include "vb_internal.h"

#include <string.h>

#include "stm32h7/scb.h"

#define LINE      SCB_DCACHE_LINE
#define LINE_MASK (~(uint32_t)(LINE - 1u))

/* ---- cacheability (MPU and default memory map) ------------------------------------ */

enum { ATTR_NC = 0, ATTR_WT, ATTR_WB, ATTR_WBWA };

#define MPU_CTRL_ENABLE     (1u << 0)
#define MPU_RASR_ENABLE     (1u << 0)
#define MPU_RASR_SIZE_Pos   1u
#define MPU_RASR_SRD_Pos    8u
#define MPU_RASR_B          (1u << 16)
#define MPU_RASR_C          (1u << 17)
#define MPU_RASR_S          (1u << 18)
#define MPU_RASR_TEX_Pos    19u
#define MPU_RBAR_VALID      (1u << 4)
#define MPU_RBAR_REGION_Msk 0xFu
#define MPU_TYPE_16         (16u << 8) /* DREGION: 16 regions */

static unsigned default_attr(uint32_t a)
{
    if (a - H7_ITCM_BASE < H7_ITCM_SIZE || a - H7_DTCM_BASE < H7_DTCM_SIZE)
        return ATTR_NC;
    switch (a >> 29) {
    case 0: return ATTR_WT;   /* Code */
    case 1: return ATTR_WBWA; /* SRAM */
    case 3: return ATTR_WBWA; /* RAM */
    case 4: return ATTR_WT;   /* RAM */
    default: return ATTR_NC;  /* Peripheral, Device, System */
    }
}

static unsigned rasr_attr(uint32_t rasr)
{
    unsigned tex = (rasr >> MPU_RASR_TEX_Pos) & 7u;
    unsigned cb = ((rasr & MPU_RASR_C) ? 2u : 0) | ((rasr & MPU_RASR_B) ? 1u : 0);
    unsigned attr;
    if (tex & 4u) { /* TEX=1AA: inner policy in C,B */
        static const unsigned inner[4] = { ATTR_NC, ATTR_WBWA, ATTR_WT, ATTR_WB };
        attr = inner[cb];
    } else if (tex == 0) {
        attr = cb == 2 ? ATTR_WT : cb == 3 ? ATTR_WB : ATTR_NC; /* 00 SO, 01 Device */
    } else if (tex == 1) {
        attr = cb == 3 ? ATTR_WBWA : ATTR_NC;
    } else {
        attr = ATTR_NC; /* Device, reserved */
    }
    if (attr != ATTR_NC && (rasr & MPU_RASR_S))
        attr = ATTR_NC; /* Shareable: not cached (CACR.SIWT = 0) */
    return attr;
}

static unsigned attr_of(const struct vb *b, uint32_t a)
{
    const struct vb_cache *c = &b->cache;
    if (c->mpu_ctrl & MPU_CTRL_ENABLE) {
        for (int r = 15; r >= 0; r--) {
            uint32_t rasr = c->mpu_rasr[r];
            if (!(rasr & MPU_RASR_ENABLE))
                continue;
            unsigned sz = ((rasr >> MPU_RASR_SIZE_Pos) & 0x1Fu) + 1u; /* 2^sz bytes */
            if (sz < 5)
                continue;
            uint64_t size = 1ull << sz;
            uint64_t base = c->mpu_rbar[r] & ~(uint32_t)(size - 1) & ~0x1Fu;
            if ((uint64_t)a - base >= size)
                continue;
            if (sz >= 8) { /* subregions: eighths of 256 B and up */
                unsigned sub = (unsigned)(((uint64_t)a - base) / (size / 8));
                if ((rasr >> (MPU_RASR_SRD_Pos + sub)) & 1u)
                    continue;
            }
            if (a - H7_ITCM_BASE < H7_ITCM_SIZE || a - H7_DTCM_BASE < H7_DTCM_SIZE)
                return ATTR_NC;
            return rasr_attr(rasr);
        }
    }
    return default_attr(a);
}

/* ---- the D-cache -------------------------------------------------------------------- */

static bool is_flash(uint32_t a)
{
    return a - H7_FLASH_BASE < H7_FLASH_SIZE;
}

static unsigned dset(uint32_t line)
{
    return (line / LINE) % VB_DC_SETS;
}

static struct vb_dline *d_find(struct vb *b, uint32_t line)
{
    struct vb_dline *s = b->cache.d[dset(line)];
    for (unsigned w = 0; w < VB_DC_WAYS; w++)
        if (s[w].valid && s[w].tag == line)
            return &s[w];
    return NULL;
}

static void d_touch(struct vb *b, struct vb_dline *l)
{
    l->age = ++b->cache.clock;
}

/* Put the flash's own bytes back in the CPU's view of a line. */
static void show_flash(struct vb *b, uint32_t line)
{
    vb_flash_publish_raw(b, line, LINE);
}

/* The line leaves the D-cache. `keep_stores`: a dirty write-back line is
 * written back (clean); otherwise its stores are lost. */
static void d_drop(struct vb *b, struct vb_dline *l, bool keep_stores)
{
    if (l->stale) {
        l->valid = false; /* before: the publish asks */
        show_flash(b, l->tag);
    } else if (l->dirty && !keep_stores) {
        uc_mem_write(b->uc, l->tag, l->data, LINE); /* memory's old bytes */
        b->cache.lost_lines++;
    }
    l->valid = l->dirty = l->stale = false;
}

static struct vb_dline *d_alloc(struct vb *b, uint32_t line)
{
    struct vb_dline *s = b->cache.d[dset(line)], *v = &s[0];
    for (unsigned w = 0; w < VB_DC_WAYS; w++) {
        if (!s[w].valid) {
            v = &s[w];
            break;
        }
        if (s[w].age < v->age)
            v = &s[w];
    }
    if (v->valid)
        d_drop(b, v, true); /* eviction writes a dirty line back */
    v->valid = true;
    v->dirty = v->stale = false;
    v->tag = line;
    d_touch(b, v);
    return v;
}

static void d_access(struct vb *b, uint32_t a, bool write)
{
    unsigned attr = attr_of(b, a);
    if (attr == ATTR_NC)
        return;
    uint32_t line = a & LINE_MASK;
    struct vb_dline *l = d_find(b, line);
    if (!l) {
        if (write && attr != ATTR_WBWA)
            return; /* no write-allocate */
        l = d_alloc(b, line);
    } else {
        d_touch(b, l);
    }
    if (!write)
        return;
    if (is_flash(line)) {
        /* Write-through hit: the line takes the stored bytes, whatever the
         * flash does with them: the view keeps them (vb_cache_keep_view
         * when the board puts the model's bytes back after the store). */
    } else if ((attr == ATTR_WB || attr == ATTR_WBWA) && !l->dirty) {
        /* Memory keeps what it held before the first store. */
        uc_mem_read(b->uc, line, l->data, LINE);
        l->dirty = true;
    }
}

static void hook_dcache(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud)
{
    (void)uc;
    struct vb *b = ud;
    if (!(b->ccr & SCB_CCR_DC))
        return; /* the hook goes at the next stop */
    bool write = t == UC_MEM_WRITE;
    d_access(b, (uint32_t)a, write);
    if ((((uint32_t)a + (uint32_t)size - 1u) & LINE_MASK) != ((uint32_t)a & LINE_MASK))
        d_access(b, ((uint32_t)a + (uint32_t)size - 1u) & LINE_MASK, write);
    if (write && is_flash((uint32_t)a)) {
        /* A write-through hit: the line (the CPU's view of it) takes the
         * bytes; vb_cache_keep_view keeps them when the board puts the
         * model's bytes back after the store. */
        for (int i = 0; i < size && i < 8; i++) {
            uint32_t x = (uint32_t)a + (uint32_t)i;
            if (is_flash(x) && d_find(b, x & LINE_MASK))
                b->flash_view[x - H7_FLASH_BASE] = (uint8_t)((uint64_t)v >> (8 * i));
        }
    }
}

/* ---- the I-cache -------------------------------------------------------------------- */

static struct vb_iline *i_find(struct vb *b, uint32_t line)
{
    struct vb_iline *s = b->cache.i[(line / LINE) % VB_IC_SETS];
    for (unsigned w = 0; w < VB_IC_WAYS; w++)
        if (s[w].valid && s[w].tag == line)
            return &s[w];
    return NULL;
}

static void i_drop(struct vb *b, struct vb_iline *l)
{
    if (l->stale)
        uc_ctl_remove_cache(b->uc, l->tag, l->tag + LINE); /* the new code */
    l->valid = l->stale = false;
}

void vb_cache_fetch(struct vb *b, uint32_t addr, uint32_t size)
{
    if (!(b->ccr & SCB_CCR_IC) || size == 0)
        return;
    for (uint32_t line = addr & LINE_MASK; line < addr + size; line += LINE) {
        if (attr_of(b, line) == ATTR_NC)
            continue;
        struct vb_iline *l = i_find(b, line);
        if (!l) {
            struct vb_iline *s = b->cache.i[(line / LINE) % VB_IC_SETS];
            l = &s[0];
            for (unsigned w = 0; w < VB_IC_WAYS; w++) {
                if (!s[w].valid) {
                    l = &s[w];
                    break;
                }
                if (s[w].age < l->age)
                    l = &s[w];
            }
            if (l->valid)
                i_drop(b, l);
            l->valid = true;
            l->stale = false;
            l->tag = line;
        }
        l->age = ++b->cache.clock;
    }
}

/* ---- the flash changes under the caches --------------------------------------------- */

bool vb_cache_keep_view(struct vb *b, uint32_t line)
{
    struct vb_dline *l = d_find(b, line);
    if (!l)
        return false;
    /* With the D-cache on the view shows the line as cached (stores that
     * hit it included); with it off (or the line no longer cacheable) loads
     * bypass it and see the flash, and the line keeps its bytes for when
     * the cache comes back. */
    bool on = (b->ccr & SCB_CCR_DC) && attr_of(b, line) != ATTR_NC;
    if (on || !l->stale)
        memcpy(l->data, b->flash_view + (line - H7_FLASH_BASE), LINE);
    l->stale = true;
    return on;
}

bool vb_cache_keep_code(struct vb *b, uint32_t line)
{
    if (!(b->ccr & SCB_CCR_IC))
        return false;
    struct vb_iline *l = i_find(b, line);
    if (!l)
        return false;
    l->stale = true;
    return true;
}

/* The view of every stale line after CCR or the MPU changed. */
static void refresh_views(struct vb *b)
{
    for (unsigned s = 0; s < VB_DC_SETS; s++)
        for (unsigned w = 0; w < VB_DC_WAYS; w++) {
            struct vb_dline *l = &b->cache.d[s][w];
            if (!l->valid || !l->stale || !is_flash(l->tag))
                continue;
            if ((b->ccr & SCB_CCR_DC) && attr_of(b, l->tag) != ATTR_NC) {
                memcpy(b->flash_view + (l->tag - H7_FLASH_BASE), l->data, LINE);
                uc_ctl_remove_cache(b->uc, l->tag, l->tag + LINE);
            } else {
                vb_flash_publish_raw(b, l->tag, LINE);
            }
        }
}

/* ---- maintenance ---------------------------------------------------------------------- */

static void d_op_line(struct vb *b, struct vb_dline *l, bool clean, bool inval)
{
    if (!l || !l->valid)
        return;
    if (clean)
        l->dirty = false;
    if (inval)
        d_drop(b, l, clean);
}

static struct vb_dline *d_setway(struct vb *b, uint32_t v)
{
    unsigned set = (v >> SCB_DCSW_SET_Pos) % VB_DC_SETS, way = v >> SCB_DCSW_WAY_Pos;
    return way < VB_DC_WAYS ? &b->cache.d[set][way] : NULL;
}

void vb_cache_op(struct vb *b, unsigned op, uint32_t v)
{
    switch (op) {
    case VB_CACHE_ICIALLU:
        for (unsigned s = 0; s < VB_IC_SETS; s++)
            for (unsigned w = 0; w < VB_IC_WAYS; w++)
                if (b->cache.i[s][w].valid)
                    i_drop(b, &b->cache.i[s][w]);
        break;
    case VB_CACHE_ICIMVAU: {
        struct vb_iline *l = i_find(b, v & LINE_MASK);
        if (l)
            i_drop(b, l);
        break;
    }
    case VB_CACHE_DCIMVAC: d_op_line(b, d_find(b, v & LINE_MASK), false, true); break;
    case VB_CACHE_DCCMVAC:
    case VB_CACHE_DCCMVAU: d_op_line(b, d_find(b, v & LINE_MASK), true, false); break;
    case VB_CACHE_DCCIMVAC: d_op_line(b, d_find(b, v & LINE_MASK), true, true); break;
    case VB_CACHE_DCISW: d_op_line(b, d_setway(b, v), false, true); break;
    case VB_CACHE_DCCSW: d_op_line(b, d_setway(b, v), true, false); break;
    case VB_CACHE_DCCISW: d_op_line(b, d_setway(b, v), true, true); break;
    default: break;
    }
}

/* ---- SCB CCR and the MPU -------------------------------------------------------------- */

/* The memory hook follows CCR.DC; adding or removing it needs a flush of
 * the translated code, which Unicorn only allows outside the hooks: done
 * by vb_cache_sync from the run loop. */
void vb_cache_ccr(struct vb *b, uint32_t old)
{
    if ((old ^ b->ccr) & SCB_CCR_DC) {
        b->cache.hook_pending = true;
        b->resume = true;
        b->stopping = true;
        uc_emu_stop(b->uc);
    }
    if ((old & SCB_CCR_IC) && !(b->ccr & SCB_CCR_IC)) {
        /* Fetches bypass the I-cache: the new code. */
        for (unsigned s = 0; s < VB_IC_SETS; s++)
            for (unsigned w = 0; w < VB_IC_WAYS; w++) {
                struct vb_iline *l = &b->cache.i[s][w];
                if (l->valid && l->stale) {
                    uc_ctl_remove_cache(b->uc, l->tag, l->tag + LINE);
                    l->stale = false;
                }
            }
    }
    if ((old ^ b->ccr) & SCB_CCR_DC)
        refresh_views(b);
}

void vb_cache_sync(struct vb *b)
{
    struct vb_cache *c = &b->cache;
    if (!c->hook_pending)
        return;
    c->hook_pending = false;
    bool want = (b->ccr & SCB_CCR_DC) != 0;
    if (want == c->hooked)
        return;
    if (want)
        uc_hook_add(b->uc, &c->hook, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, hook_dcache, b,
                    H7_FLASH_BASE, 0x3FFFFFFFull);
    else
        uc_hook_del(b->uc, c->hook);
    c->hooked = want;
    /* Code translated before is translated again, with or without the
     * hook. (Unicorn's full flush, uc_ctl_flush_tlb in 2.0.1, takes
     * seconds the first time: the ranges that hold code instead.) */
    static const uint32_t code[][2] = {
        { H7_ITCM_BASE, H7_ITCM_SIZE },     { H7_FLASH_BASE, H7_FLASH_SIZE },
        { H7_DTCM_BASE, H7_DTCM_SIZE },     { H7_AXISRAM_BASE, H7_AXISRAM_SIZE },
        { H7_SRAM1_BASE, VB_SRAM123_SIZE }, { H7_SRAM4_BASE, H7_SRAM4_SIZE },
    };
    for (unsigned k = 0; k < sizeof code / sizeof code[0]; k++)
        uc_ctl_remove_cache(b->uc, code[k][0], (uint64_t)code[k][0] + code[k][1]);
}

uint32_t vb_mpu_read(struct vb *b, uint32_t off)
{
    struct vb_cache *c = &b->cache;
    switch (off) {
    case MPU_TYPE: return MPU_TYPE_16;
    case MPU_CTRL: return c->mpu_ctrl;
    case MPU_RNR: return c->mpu_rnr;
    case MPU_RBAR:
    case MPU_RBAR_A1:
    case MPU_RBAR_A2:
    case MPU_RBAR_A3: return (c->mpu_rbar[c->mpu_rnr] & ~0x1Fu) | c->mpu_rnr;
    case MPU_RASR:
    case MPU_RASR_A1:
    case MPU_RASR_A2:
    case MPU_RASR_A3: return c->mpu_rasr[c->mpu_rnr];
    default: return 0;
    }
}

void vb_mpu_write(struct vb *b, uint32_t off, uint32_t v)
{
    struct vb_cache *c = &b->cache;
    switch (off) {
    case MPU_CTRL: c->mpu_ctrl = v & 7u; break;
    case MPU_RNR: c->mpu_rnr = v & MPU_RBAR_REGION_Msk; break;
    case MPU_RBAR:
    case MPU_RBAR_A1:
    case MPU_RBAR_A2:
    case MPU_RBAR_A3:
        if (v & MPU_RBAR_VALID)
            c->mpu_rnr = v & MPU_RBAR_REGION_Msk;
        c->mpu_rbar[c->mpu_rnr] = v & ~0x1Fu;
        break;
    case MPU_RASR:
    case MPU_RASR_A1:
    case MPU_RASR_A2:
    case MPU_RASR_A3: c->mpu_rasr[c->mpu_rnr] = v; break;
    default: return;
    }
    refresh_views(b);
}

/* Reset: caches off and invalidated, MPU off. */
void vb_cache_reset(struct vb *b)
{
    struct vb_cache *c = &b->cache;
    for (unsigned s = 0; s < VB_DC_SETS; s++)
        for (unsigned w = 0; w < VB_DC_WAYS; w++) {
            struct vb_dline *l = &c->d[s][w];
            if (l->valid && l->stale) {
                l->valid = false;
                vb_flash_publish_raw(b, l->tag, LINE);
            }
        }
    for (unsigned s = 0; s < VB_IC_SETS; s++)
        for (unsigned w = 0; w < VB_IC_WAYS; w++)
            if (c->i[s][w].valid && c->i[s][w].stale)
                uc_ctl_remove_cache(b->uc, c->i[s][w].tag, c->i[s][w].tag + LINE);
    memset(c->d, 0, sizeof c->d);
    memset(c->i, 0, sizeof c->i);
    c->mpu_ctrl = c->mpu_rnr = 0;
    memset(c->mpu_rbar, 0, sizeof c->mpu_rbar);
    memset(c->mpu_rasr, 0, sizeof c->mpu_rasr);
    if (c->hooked)
        c->hook_pending = true; /* removed by vb_cache_sync (CCR.DC = 0) */
}
