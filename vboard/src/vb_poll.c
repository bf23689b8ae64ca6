/*
 * vboard: skipping virtual time only where firmware cannot observe it.
 *
 * Besides WFI/WFE (the run loop's idle), the board skips time in a loop
 * that polls a peripheral register (FLASH SR, USART ISR, RCC, ...) only
 * when skipping cannot show in what the firmware computes:
 *
 *   pure poll   from one turn to the next the core registers are identical
 *               and the turn stores nothing, or only the same values to the
 *               same RAM words (and refreshes the watchdog): it does the
 *               same thing every turn until an event changes what the
 *               register reads, so time jumps to that event;
 *   timed wait  the turn reads the cycle counter or SysTick, and nothing
 *               in its registers or stores counts turns: every value that
 *               changes either changes by what the time read changed by
 *               (CYCCNT - t0, a copy of CYCCNT) or irregularly (a time
 *               converted to microseconds), none by the same amount every
 *               turn. Time moves on by at most VB_TIMED_STEP_NS per turn,
 *               so a timeout measured on the clock ends at most that late
 *               (the turn sees a gap, as after an interrupt or a bus
 *               stall).
 *
 * Every other loop runs instruction by instruction: one that counts its
 * turns (while ((SR & QW) && --n)) times out after as many turns as on
 * silicon.
 *
 * A loop is recognised at a poll site (translation block, register
 * address): the interval between two reads at the site is one turn. A
 * turn qualifies only if it runs the same blocks as the turn before (at
 * most VB_POLL_TRAIL), takes no exception, executes no FP/coprocessor
 * instruction and reads no register with side effects (RDR, HSEM RLR,
 * SysTick COUNTFLAG). Stores are known from the decoded blocks; a loop
 * that stores or reads a time source is then watched with a store hook
 * (Unicorn calls it for code translated after it was added, so the loop's
 * blocks are translated again, and once more when the watch ends) to see
 * what it stores. A loop found skippable is remembered (site, blocks and a
 * hash of their code): when it runs again, its registers are checked over
 * the same number of turns, without the watch. Limits: FP registers are
 * not compared (a loop with FP
 * instructions runs exactly); a value that changes irregularly for another
 * reason than time (a hash over a constant status) would pass as
 * time-derived.
 */
#include "vb_internal.h"
#include "stm32h7/iwdg.h"

#include <string.h>

static const int poll_regs[VB_POLL_NREGS] = {
    UC_ARM_REG_R0,  UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3,   UC_ARM_REG_R4,  UC_ARM_REG_R5,
    UC_ARM_REG_R6,  UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,   UC_ARM_REG_R10, UC_ARM_REG_R11,
    UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_XPSR,
};

/* Thumb-2 instruction classes that matter here (ARMv7-M ARM, A5.2 16-bit
 * and A5.3 32-bit encodings): stores (STR*, STM*, PUSH, STRD, STREX*,
 * VSTR, VSTM/VPUSH, STC) and coprocessor / FP instructions. */
unsigned vb_insn_flags(const uint8_t *code, uint32_t size, unsigned *count)
{
    unsigned flags = 0, n = 0;
    for (uint32_t i = 0; i + 1 < size;) {
        uint16_t h = (uint16_t)(code[i] | code[i + 1] << 8);
        n++;
        if ((h & 0xF800u) >= 0xE800u) {   /* 32-bit */
            if ((h & 0xEC00u) == 0xEC00u) /* coprocessor, FP, SIMD */
                flags |=
                    VB_INSN_CP | (!(h & 0x10u) && (h & 0xEE00u) == 0xEC00u ? VB_INSN_STORE : 0);
            else if (((h & 0xFE00u) == 0xE800u || (h & 0xFE00u) == 0xF800u) && !(h & 0x10u))
                flags |= VB_INSN_STORE; /* STM, STRD, STREX, STR{B,H} */
            i += 4;
            continue;
        }
        if (((h & 0xF000u) == 0x5000u && ((h >> 9) & 7u) < 3u) ||   /* STR/STRH/STRB (reg) */
            (h & 0xF800u) == 0x6000u || (h & 0xF800u) == 0x7000u || /* STR, STRB (imm) */
            (h & 0xF800u) == 0x8000u || (h & 0xF800u) == 0x9000u || /* STRH (imm), STR SP */
            (h & 0xFE00u) == 0xB400u || (h & 0xF800u) == 0xC000u)   /* PUSH, STM */
            flags |= VB_INSN_STORE;
        i += 2;
    }
    if (count)
        *count = n;
    return flags;
}

void vb_poll_dirty(struct vb *b)
{
    b->poll.side++;
}

void vb_poll_wdg_refresh(struct vb *b)
{
    b->poll.wdg_refreshes++;
}

void vb_poll_time_read(struct vb *b, uint32_t value)
{
    b->poll.time_reads++;
    b->poll.time_val = value;
}

static bool is_ram(uint32_t a)
{
    return a - H7_ITCM_BASE < H7_ITCM_SIZE || a - H7_DTCM_BASE < H7_DTCM_SIZE ||
           a - H7_AXISRAM_BASE < H7_AXISRAM_SIZE || a - H7_SRAM1_BASE < VB_SRAM123_SIZE ||
           a - H7_SRAM4_BASE < H7_SRAM4_SIZE || a - H7_BKPSRAM_BASE < H7_BKPSRAM_SIZE;
}

static void hook_store(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *ud)
{
    (void)uc;
    (void)t;
    struct vb_poll *p = &((struct vb *)ud)->poll;
    unsigned i = (unsigned)(p->nstores++ % VB_POLL_STORES);
    p->st_addr[i] = (uint32_t)a;
    p->st_size[i] = (uint8_t)size;
    p->st_val[i] = (uint64_t)v;
}

/* ---- the store watch ---------------------------------------------------------- */

static void retranslate(struct vb *b)
{
    struct vb_poll *p = &b->poll;
    for (unsigned i = 0; i < p->nloop; i++)
        uc_ctl_remove_cache(b->uc, p->loop_addr[i], p->loop_addr[i] + p->loop_size[i]);
}

static void watch_start(struct vb *b, struct vb_poll_site *s, uint64_t from)
{
    struct vb_poll *p = &b->poll;
    p->nloop = 0;
    for (uint64_t k = from; k < p->nblocks && p->nloop < VB_POLL_TRAIL; k++) {
        uint32_t a = p->trail_addr[k % VB_POLL_TRAIL];
        bool seen = false;
        for (unsigned i = 0; i < p->nloop && !seen; i++)
            seen = p->loop_addr[i] == a;
        if (!seen) {
            p->loop_addr[p->nloop] = a;
            p->loop_size[p->nloop++] = p->trail_size[k % VB_POLL_TRAIL];
        }
    }
    if (uc_hook_add(b->uc, &p->watch_hook, UC_HOOK_MEM_WRITE, hook_store, b, 1, 0) != UC_ERR_OK)
        return;
    p->watching = s;
    s->nturns = 0;
    retranslate(b);
}

/* End the watch; `failed`: the loop did not qualify, watch it again only
 * after twice as many turns as last time. */
static void watch_stop(struct vb *b, bool failed)
{
    struct vb_poll *p = &b->poll;
    if (!p->watching)
        return;
    if (failed) {
        struct vb_poll_site *s = p->watching;
        if (s->watch_backoff < 12)
            s->watch_backoff++;
        s->watch_countdown = 1u << s->watch_backoff;
    }
    uc_hook_del(b->uc, p->watch_hook);
    p->watching->nturns = 0;
    p->watching = NULL;
    retranslate(b);
    /* Unicorn frees deleted hooks when uc_emu_start returns, and walks
     * them at every store until then: return now, the run loop resumes. */
    b->resume = true;
    b->stopping = true;
    uc_emu_stop(b->uc);
}

/* ---- loops already verified --------------------------------------------------- */

/* FNV-1a over the code of the blocks run since trail index `from`. */
static uint32_t code_hash(struct vb *b, uint64_t from)
{
    struct vb_poll *p = &b->poll;
    uint32_t h = 2166136261u;
    uint8_t code[512];
    for (uint64_t k = from; k < p->nblocks; k++) {
        uint32_t a = p->trail_addr[k % VB_POLL_TRAIL], n = p->trail_size[k % VB_POLL_TRAIL];
        if (n > sizeof code || uc_mem_read(b->uc, a, code, n) != UC_ERR_OK)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            h = (h ^ code[i]) * 16777619u;
    }
    return h ? h : 1;
}

static void known_add(struct vb *b, const struct vb_poll_site *s, uint32_t path, unsigned kind,
                      uint64_t from)
{
    struct vb_poll *p = &b->poll;
    for (unsigned i = 0; i < VB_POLL_KNOWN; i++)
        if (p->known[i].kind && p->known[i].block == s->block && p->known[i].addr == s->addr &&
            p->known[i].path == path)
            return;
    struct vb_poll_known *k = &p->known[p->next_known++ % VB_POLL_KNOWN];
    k->block = s->block;
    k->addr = s->addr;
    k->path = path;
    k->code = code_hash(b, from);
    k->kind = k->code ? kind : 0;
}

/* The kind of loop this site and path were verified to be, 0 if none. */
static unsigned known_kind(struct vb *b, const struct vb_poll_site *s, uint32_t path, uint64_t from)
{
    struct vb_poll *p = &b->poll;
    for (unsigned i = 0; i < VB_POLL_KNOWN; i++) {
        struct vb_poll_known *k = &p->known[i];
        if (k->kind && k->block == s->block && k->addr == s->addr && k->path == path)
            return code_hash(b, from) == k->code ? k->kind : 0;
    }
    return 0;
}

/* ---- skipping ------------------------------------------------------------------ */

/* Let virtual time run to the next event (at most `cap` ns when cap != 0). */
static void skip(struct vb *b, uint64_t cap, bool refreshes_wdg)
{
    if (!cap)
        vb_usart_first_contact(b);
    uint64_t now = vb_now(b), t = vb_next_event_ex(b, refreshes_wdg);
    b->poll.skips++;
    if (cap && t > now + cap)
        t = now + cap;
    if (t == VB_NEVER) {
        /* Only the host can change what the loop reads. */
        if (b->link.kind == VB_LINK_NONE || (b->link.in_eof && b->u.rx_count == 0)) {
            fprintf(stderr,
                    "h7vboard: a pure poll loop with nothing that can change what it reads\n");
            vb_stop_run(b, VB_STOP_TIMEOUT);
            return;
        }
        double w0 = vb_wall();
        vb_link_wait(b, 20);
        t = now + (uint64_t)((vb_wall() - w0) * 1e9);
    }
    if (t > now) {
        b->idle_ns += t - now;
        b->poll.skipped_ns += t - now;
        vb_time_jump(b, t);
        if (refreshes_wdg)
            vb_iwdg_refresh(b); /* the loop would have kept refreshing it */
    }
    vb_schedule(b);
    b->check_irq = true;
}

/* Steps of varying length: a value derived from the time then changes by
 * varying amounts, so that it is never taken for a counter (and a counter
 * is still one). */
static uint64_t timed_step(const struct vb_poll *p)
{
    return VB_TIMED_STEP_NS - (unsigned)(p->skips % 8) * 1777u;
}

/* ---- turns ---------------------------------------------------------------------- */

static uint32_t path_hash(const struct vb_poll *p, uint64_t from)
{
    uint32_t h = 2166136261u;
    for (uint64_t k = from; k < p->nblocks; k++)
        h = (h ^ p->trail_addr[k % VB_POLL_TRAIL]) * 16777619u;
    return h ^ (uint32_t)(p->nblocks - from);
}

/* The stores of the turn just ended into t; false if they cannot be part
 * of a skippable loop (too many, to flash or to a peripheral other than a
 * watchdog refresh). */
static bool take_stores(struct vb_poll *p, uint64_t from, struct vb_turn *t)
{
    t->nst = 0;
    if (p->nstores - from > VB_TURN_STORES)
        return false;
    for (uint64_t k = from; k < p->nstores; k++) {
        unsigned i = (unsigned)(k % VB_POLL_STORES);
        uint32_t a = p->st_addr[i];
        if (a == IWDG1_BASE + IWDG_KR && (p->st_val[i] & IWDG_KR_KEY_Msk) == IWDG_KEY_REFRESH)
            continue; /* counted by vb_poll_wdg_refresh */
        if (!is_ram(a))
            return false;
        t->st_addr[t->nst] = a;
        t->st_size[t->nst] = p->st_size[i];
        t->st_val[t->nst++] = (uint32_t)p->st_val[i];
    }
    return true;
}

static bool same_shape(const struct vb_turn *a, const struct vb_turn *b)
{
    if (a->path != b->path || a->nst != b->nst || a->wdg != b->wdg || a->timed != b->timed)
        return false;
    for (unsigned i = 0; i < a->nst; i++)
        if (a->st_addr[i] != b->st_addr[i] || a->st_size[i] != b->st_size[i])
            return false;
    return true;
}

/* Pure: the last two turns leave identical registers and stores. */
static bool pure_pair(const struct vb_turn *a, const struct vb_turn *b)
{
    return !b->timed && a->value == b->value && a->next_event == b->next_event &&
           memcmp(a->regs, b->regs, sizeof a->regs) == 0 &&
           memcmp(a->st_val, b->st_val, sizeof a->st_val[0] * a->nst) == 0;
}

/* Timed: over the last VB_TIMED_TURNS turns, nothing changes by the same
 * amount every turn except by what the time read changed by. */
static bool counter_free(const struct vb_turn *t, unsigned n)
{
    for (unsigned k = 1; k < n; k++)
        if (t[k].value != t[0].value || t[k].next_event != t[0].next_event ||
            t[k].time_val == t[k - 1].time_val)
            return false;
    unsigned nw = VB_POLL_NREGS + t[0].nst;
    for (unsigned w = 0; w < nw; w++) {
        bool counter = true, linked_up = true, linked_down = true;
        uint32_t d0 = 0;
        for (unsigned k = 1; k < n; k++) {
            uint32_t v1 = w < VB_POLL_NREGS ? t[k].regs[w] : t[k].st_val[w - VB_POLL_NREGS];
            uint32_t v0 = w < VB_POLL_NREGS ? t[k - 1].regs[w] : t[k - 1].st_val[w - VB_POLL_NREGS];
            uint32_t d = v1 - v0, e = t[k].time_val - t[k - 1].time_val;
            if (k == 1)
                d0 = d;
            counter = counter && d == d0 && d != 0;
            linked_up = linked_up && d == e;
            linked_down = linked_down && d == 0u - e;
        }
        if (counter && !linked_up && !linked_down)
            return false;
    }
    return true;
}

void vb_poll_read(struct vb *b, uint32_t addr, uint64_t value)
{
    struct vb_poll *p = &b->poll;
    struct vb_poll_site *s = NULL;
    for (unsigned i = 0; i < VB_POLL_SITES; i++)
        if (p->site[i].used && p->site[i].block == b->last_block && p->site[i].addr == addr)
            s = &p->site[i];
    if (!s) {
        s = &p->site[p->next_site++ % VB_POLL_SITES];
        if (p->watching == s)
            watch_stop(b, false);
        memset(s, 0, sizeof *s);
        s->used = true;
        s->block = b->last_block;
        s->addr = addr;
        s->side = p->side - 1;
    }
    /* The turn that just ended: from the previous read here to this one. */
    uint64_t from_blocks = s->nblocks, from_stores = s->nstores;
    bool clean = s->side == p->side && s->exceptions == b->exceptions &&
                 p->nblocks - from_blocks <= VB_POLL_TRAIL;
    bool stored = s->stores != p->store_blocks;
    bool timed = s->time_reads != p->time_reads;
    s->side = p->side;
    s->exceptions = b->exceptions;
    s->stores = p->store_blocks;
    s->time_reads = p->time_reads;
    s->nblocks = p->nblocks ? p->nblocks - 1 : 0; /* the block holding this read */
    s->nstores = p->nstores;
    bool watched = p->watching == s;
    if (!clean) {
        if (watched)
            watch_stop(b, true);
        s->nturns = 0;
        return;
    }
    uint32_t path = path_hash(p, from_blocks);
    bool wdg = s->wdg_refreshes != p->wdg_refreshes;
    s->wdg_refreshes = p->wdg_refreshes;
    /* A loop verified before (same site, blocks and code) is checked on its
     * registers only, without the watch. */
    bool known = false;
    if ((stored || timed) && !watched) {
        bool again = s->path == path;
        if (again && !s->nturns)
            s->known = known_kind(b, s, path, from_blocks);
        known = again && s->known;
        s->path = path;
        if (!known) {
            s->nturns = 0;
            /* Worth watching once it ran the same way twice. */
            if (!again)
                return;
            if (s->watch_countdown)
                s->watch_countdown--;
            else if (!p->watching)
                watch_start(b, s, from_blocks);
            return;
        }
    }
    s->path = path;
    /* A loop without stores whose registers change (a counter) is looked
     * at less and less often: reading the registers costs more than the
     * turn. Skipping later than possible is still exact. */
    if (!watched && !known && s->countdown) {
        s->countdown--;
        s->nturns = 0;
        return;
    }
    struct vb_turn t;
    t.path = path;
    t.timed = timed;
    t.wdg = wdg;
    t.value = value;
    t.time_val = p->time_val;
    if (watched) {
        if (!take_stores(p, from_stores, &t)) {
            watch_stop(b, true);
            return;
        }
    } else {
        t.nst = 0;
    }
    t.next_event = vb_next_event_ex(b, t.wdg);
    void *ptrs[VB_POLL_NREGS];
    for (unsigned i = 0; i < VB_POLL_NREGS; i++)
        ptrs[i] = &t.regs[i];
    uc_reg_read_batch(b->uc, (int *)poll_regs, ptrs, VB_POLL_NREGS);
    if (s->nturns && !same_shape(&s->turn[s->nturns - 1], &t))
        s->nturns = 0;
    if (s->nturns == VB_TIMED_TURNS) {
        memmove(&s->turn[0], &s->turn[1], sizeof s->turn[0] * (VB_TIMED_TURNS - 1));
        s->nturns--;
    }
    s->turn[s->nturns++] = t;
    unsigned n = s->nturns;
    if (!timed) {
        if (n >= 2 && pure_pair(&s->turn[n - 2], &s->turn[n - 1])) {
            s->backoff = 0;
            if (watched)
                known_add(b, s, path, VB_KNOWN_PURE, from_blocks);
            skip(b, 0, t.wdg);
        } else if (n >= 2) {
            if (watched) {
                watch_stop(b, true);
            } else if (known) {
                s->known = 0;
            } else {
                if (s->backoff < VB_POLL_MAX_BACKOFF)
                    s->backoff++;
                s->countdown = (1u << s->backoff) - 1;
            }
            s->nturns = 0;
        }
        return;
    }
    if (n < VB_TIMED_TURNS)
        return;
    if (counter_free(s->turn, n)) {
        s->watch_backoff = 0;
        known_add(b, s, path, VB_KNOWN_TIMED, from_blocks);
        skip(b, timed_step(p), t.wdg);
    } else {
        /* A counter, or the status changed (the wait is over). */
        bool over = s->turn[n - 1].value != s->turn[n - 2].value;
        if (watched)
            watch_stop(b, !over);
        else if (!over)
            s->known = 0;
        s->nturns = 0;
    }
}

/* The block hook: remember the block and whether it stores. */
void vb_poll_block(struct vb *b, uint32_t addr, uint32_t size, unsigned flags)
{
    struct vb_poll *p = &b->poll;
    p->trail_addr[p->nblocks % VB_POLL_TRAIL] = addr;
    p->trail_size[p->nblocks % VB_POLL_TRAIL] = (uint16_t)size;
    p->nblocks++;
    if (flags & VB_INSN_CP)
        p->side++;
    if (flags & VB_INSN_STORE)
        p->store_blocks++;
    if (p->watching) {
        bool in = false;
        for (unsigned i = 0; i < p->nloop && !in; i++)
            in = p->loop_addr[i] == addr;
        if (!in)
            watch_stop(b, false); /* the loop is over */
    }
}

void vb_poll_reset(struct vb *b)
{
    watch_stop(b, false);
    memset(b->poll.site, 0, sizeof b->poll.site);
    memset(b->poll.known, 0, sizeof b->poll.known);
}
