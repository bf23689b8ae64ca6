/*
 * h7sim core: lifecycle, clock and scheduler, array operations, array
 * inspection, violations, statistics. Rules: docs/FLASH_MODEL.md.
 */
#include "h7sim_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- configuration and lifecycle ------------------------------------- */

void h7sim_config_default(struct h7sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timing = H7SIM_TIMING_TYP;
    cfg->reprogram = H7SIM_REPROGRAM_DOUBLE_ECC;
    cfg->strict = true;
    cfg->seed = 1;
}

/* Factory option bytes (docs/H7_FLASH.md 1, 2.2): RDP level 0, both cores enabled,
 * software watchdogs, no swap, no protection, M7 boots 0x08000000 and M4
 * 0x08100000. ADD1 (BOOT0=1) points at system memory 0x1FF00000. */
void h7sim_i_ob_factory(struct h7sim_ob *ob)
{
    memset(ob, 0, sizeof(*ob));
    ob->optsr = (0xAAu << FLASH_OPTSR_RDP_Pos) | FLASH_OPTSR_BCM4 | FLASH_OPTSR_BCM7 |
                FLASH_OPTSR_IWDG1_SW | FLASH_OPTSR_IWDG2_SW;
    for (unsigned i = 0; i < 2; i++) {
        ob->prar[i] = 0x000000FFu;
        ob->scar[i] = 0x000000FFu;
        ob->wpsn[i] = FLASH_WPSN_WRPSN_Msk;
    }
    ob->boot7 = 0x0800u | (0x1FF0u << FLASH_BOOT_ADD1_Pos);
    ob->boot4 = 0x0810u | (0x1FF0u << FLASH_BOOT_ADD1_Pos);
}

struct h7sim *h7sim_new(const struct h7sim_config *cfg)
{
    struct h7sim *sim = calloc(1, sizeof(*sim));
    if (!sim)
        return NULL;
    if (cfg)
        sim->cfg = *cfg;
    else
        h7sim_config_default(&sim->cfg);
    sim->rng = sim->cfg.seed ^ 0x9E3779B97F4A7C15ull;
    memset(sim->data, 0xFF, sizeof(sim->data));
    h7sim_i_ob_factory(&sim->ob);
    sim->cut_at = UINT64_MAX;
    sim->next_ev = UINT64_MAX;
    h7sim_i_power_on(sim);
    return sim;
}

void h7sim_free(struct h7sim *sim)
{
    if (!sim)
        return;
    free(sim->viol);
    free(sim);
}

/* Registers as after a power-on or system reset (docs/H7_FLASH.md 2.2).
 * Array and option bytes are kept; SWAP_BANK comes from the option bytes
 * (RM0399 4.3.13). */
void h7sim_i_power_on(struct h7sim *sim)
{
    for (unsigned pb = 0; pb < 2; pb++) {
        struct h7sim_bank *b = &sim->bank[pb];
        memset(b, 0, sizeof(*b));
        b->key = KEY_LOCKED0;
        b->cr = FLASH_CR_RESET & ~FLASH_CR_LOCK;
        b->crccr = FLASH_CRCCR_RESET;
        b->crc.acc = 0;
    }
    sim->acr = 0x37u;
    sim->optkey = KEY_LOCKED0;
    sim->optcr_ie = 0;
    sim->prg = sim->ob;
    sim->optchangeerr = false;
    sim->opt_busy = false;
    sim->crcdata_last = 0;
    sim->off = false;
    sim->swap = (sim->ob.optsr & FLASH_OPTSR_SWAP_BANK_OPT) != 0;
    h7sim_i_schedule(sim);
}

/* ---- helpers ------------------------------------------------------------ */

uint32_t h7sim_i_logical(const struct h7sim *sim, unsigned pb, uint32_t off)
{
    return H7_FLASH_BASE + (uint32_t)((pb ^ (unsigned)sim->swap) & 1u) * H7_BANK_SIZE + off;
}

unsigned h7sim_i_pb_of_addr(const struct h7sim *sim, uint32_t addr)
{
    unsigned window = ((addr - H7_FLASH_BASE) / H7_BANK_SIZE) & 1u;
    return window ^ (unsigned)sim->swap;
}

/* An area of 256-byte blocks s..e (s > e: none): true if [lo, hi] (bank
 * offsets) overlaps it. */
static bool blocks_overlap(uint32_t s, uint32_t e, uint32_t lo, uint32_t hi)
{
    if (s > e)
        return false;
    return lo <= e * 256u + 255u && hi >= s * 256u;
}

/* RM0399 4.9.11: PCROP area = 256-byte blocks START..END of PRAR_CUR
 * (START > END: none). True if [lo, hi] (bank offsets) overlaps it. */
bool h7sim_i_pcrop(const struct h7sim *sim, unsigned pb, uint32_t lo, uint32_t hi)
{
    uint32_t p = sim->ob.prar[pb];
    return blocks_overlap(p & FLASH_PRAR_PROT_AREA_START_Msk,
                          (p & FLASH_PRAR_PROT_AREA_END_Msk) >> FLASH_PRAR_PROT_AREA_END_Pos, lo,
                          hi);
}

/* Secure-only area = 256-byte blocks SEC_AREA_START..SEC_AREA_END of
 * SCAR_CUR, same encoding as PRAR (RM0399 FLASH_SCAR_CUR1/2; START > END:
 * none). True if [lo, hi] (bank offsets) overlaps it. The model has no
 * secure execution state: the area only matters to the CRC unit
 * (CRCRDERR, docs/FLASH_MODEL.md "CRC unit"). */
bool h7sim_i_secure(const struct h7sim *sim, unsigned pb, uint32_t lo, uint32_t hi)
{
    uint32_t p = sim->ob.scar[pb];
    return blocks_overlap(p & FLASH_SCAR_SEC_AREA_START_Msk,
                          (p & FLASH_SCAR_SEC_AREA_END_Msk) >> FLASH_SCAR_SEC_AREA_END_Pos, lo, hi);
}

static bool in_array(uint32_t addr)
{
    return addr >= H7_FLASH_BASE && addr <= H7_FLASH_END;
}

void h7sim_i_violation(struct h7sim *sim, uint32_t addr, const char *rule, const char *section,
                       const char *fmt, ...)
{
    if (!sim->cfg.strict)
        return;
    if (sim->nviol >= H7SIM_VIOL_CAP) {
        sim->viol_dropped++;
        return;
    }
    if (!sim->viol) {
        sim->viol = calloc(H7SIM_VIOL_CAP, sizeof(*sim->viol));
        if (!sim->viol) {
            sim->viol_dropped++;
            return;
        }
    }
    struct h7sim_violation *v = &sim->viol[sim->nviol++];
    v->time_ns = sim->now;
    v->addr = addr;
    v->rule = rule;
    v->section = section;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
}

void h7sim_i_array_changed(struct h7sim *sim, unsigned pb, uint32_t off, uint32_t len)
{
    if (sim->obs.array_changed)
        sim->obs.array_changed(sim->obs.ctx, h7sim_i_logical(sim, pb, off), len);
}

void h7sim_i_event(struct h7sim *sim, enum h7sim_event_kind k, enum h7sim_op_kind op, unsigned pb,
                   uint32_t off, uint32_t len)
{
    if (!sim->obs.event)
        return;
    struct h7sim_event ev = {
        .kind = k,
        .op = op,
        .bank = (op == H7SIM_OP_OPTION || k == H7SIM_EV_POWER_CUT) ? 0u : pb + 1u,
        .addr =
            (op == H7SIM_OP_OPTION || k == H7SIM_EV_POWER_CUT) ? 0u : h7sim_i_logical(sim, pb, off),
        .len = len,
        .time_ns = sim->now,
        .sr = (op == H7SIM_OP_OPTION || k == H7SIM_EV_POWER_CUT) ? 0u : h7sim_i_sr(sim, pb),
    };
    sim->obs.event(sim->obs.ctx, &ev);
}

uint32_t h7sim_i_sr(const struct h7sim *sim, unsigned pb)
{
    const struct h7sim_bank *b = &sim->bank[pb];
    uint32_t sr = b->sr;
    if (b->run.valid)
        sr |= FLASH_SR_BSY;
    if (b->run.valid || b->pend.valid)
        sr |= FLASH_SR_QW;
    if (b->wb_active)
        sr |= FLASH_SR_WBNE;
    if (b->crc.busy)
        sr |= FLASH_SR_CRC_BUSY;
    return sr;
}

/* IRQ line = OR over banks of (SR flag & IE bit at the same position) plus
 * OPTCHANGEERR & OPTCHANGEERRIE (docs/H7_FLASH.md 2.5, renode UpdateInterrupts). */
void h7sim_i_irq_update(struct h7sim *sim)
{
    bool lvl = false;
    if (!sim->off) {
        for (unsigned pb = 0; pb < 2; pb++)
            if (sim->bank[pb].sr & sim->bank[pb].cr & FLASH_CR_ALL_IE)
                lvl = true;
        if (sim->optchangeerr && sim->optcr_ie)
            lvl = true;
    }
    if (lvl != sim->irq) {
        sim->irq = lvl;
        if (sim->obs.irq_changed)
            sim->obs.irq_changed(sim->obs.ctx, lvl);
    }
}

/* ---- durations (DS12110 Table 53, docs/H7_FLASH.md 6.1) -------------------- */

/* DS12110 Table 53. Index: PSIZE 0..3 = x8, x16, x32, x64. Typical values;
 * max = 2 x typ for every row. tME ("mass erase") is the time of one bank:
 * a BER takes tME, and an MER erases both banks in parallel, each for tME
 * at its own CR.PSIZE (scope decision, docs/FLASH_MODEL.md "Time"). No
 * jitter: TYP and MAX are the only timings. */
static const uint64_t t_prog_ns[4] = { 290000, 180000, 130000, 100000 };
static const uint64_t t_sector_ns[4] = { 2000000000ull, 1800000000ull, 1100000000ull,
                                         1000000000ull };
static const uint64_t t_mass_ns[4] = { 13000000000ull, 8000000000ull, 6000000000ull,
                                       5000000000ull };
/* Not in the datasheet (inferred, docs/FLASH_MODEL.md). */
#define T_OPTION_NS 50000000ull /* option byte change */
/* AN5507 Table 1 (STM32H745/755): 8 clocks per flash word and 1 more per
 * burst, at an assumed 200 MHz flash interface clock. */
#define T_CRC_WORD_NS  40ull /* CRC unit, per flash word */
#define T_CRC_BURST_NS 5ull  /* CRC unit, per burst */

uint64_t h7sim_i_duration(const struct h7sim *sim, enum h7sim_op_kind kind, unsigned psize)
{
    uint64_t t;
    psize &= 3u;
    switch (kind) {
    case H7SIM_OP_PROGRAM: t = t_prog_ns[psize]; break;
    case H7SIM_OP_SECTOR_ERASE: t = t_sector_ns[psize]; break;
    case H7SIM_OP_BANK_ERASE:
    case H7SIM_OP_MASS_ERASE: t = t_mass_ns[psize]; break;
    case H7SIM_OP_OPTION: t = T_OPTION_NS; break;
    case H7SIM_OP_CRC: return T_CRC_WORD_NS;
    default: t = 0; break;
    }
    return sim->cfg.timing == H7SIM_TIMING_MAX ? 2u * t : t;
}

void h7sim_durations(const struct h7sim *sim, unsigned psize, struct h7sim_durations *d)
{
    d->program_word = h7sim_i_duration(sim, H7SIM_OP_PROGRAM, psize);
    d->sector_erase = h7sim_i_duration(sim, H7SIM_OP_SECTOR_ERASE, psize);
    d->bank_erase = h7sim_i_duration(sim, H7SIM_OP_BANK_ERASE, psize);
    d->mass_erase = h7sim_i_duration(sim, H7SIM_OP_MASS_ERASE, psize);
    d->option_change = h7sim_i_duration(sim, H7SIM_OP_OPTION, psize);
    d->crc_per_word = h7sim_i_duration(sim, H7SIM_OP_CRC, psize);
    d->crc_per_burst = T_CRC_BURST_NS;
}

/* ---- scheduler ------------------------------------------------------------ */

void h7sim_i_schedule(struct h7sim *sim)
{
    uint64_t t = sim->cut_at;
    if (!sim->off) {
        for (unsigned pb = 0; pb < 2; pb++) {
            const struct h7sim_bank *b = &sim->bank[pb];
            if (b->run.valid && b->run.end < t)
                t = b->run.end;
            if (b->crc.busy && b->crc.end < t)
                t = b->crc.end;
        }
        if (sim->opt_busy && sim->opt_end < t)
            t = sim->opt_end;
    }
    sim->next_ev = t;
}

static bool sector_protected(const struct h7sim *sim, unsigned pb, unsigned sector)
{
    /* RM0399 4.9.15: WPSN bit = 0 means write protected. WPSN stays physical. */
    return (sim->ob.wpsn[pb] & (1u << sector)) == 0;
}

static uint32_t op_off(const struct h7sim_op *op)
{
    switch (op->kind) {
    case H7SIM_OP_PROGRAM: return op->word * H7_FLASH_WORD;
    case H7SIM_OP_SECTOR_ERASE: return op->sector * H7_SECTOR_SIZE;
    default: return 0;
    }
}

static uint32_t op_len(const struct h7sim_op *op)
{
    switch (op->kind) {
    case H7SIM_OP_PROGRAM: return H7_FLASH_WORD;
    case H7SIM_OP_SECTOR_ERASE: return H7_SECTOR_SIZE;
    default: return H7_BANK_SIZE;
    }
}

/* The operation refused before it touches the array (RM0399 4.7.2,
 * docs/H7_FLASH.md 3.7). */
static bool op_refused(struct h7sim *sim, unsigned pb, const struct h7sim_op *op)
{
    struct h7sim_bank *b = &sim->bank[pb];
    uint32_t addr = h7sim_i_logical(sim, pb, op_off(op));
    bool prot = false;
    if (op->kind == H7SIM_OP_PROGRAM)
        prot = sector_protected(sim, pb, op->word / H7_WORDS_PER_SECTOR);
    else if (op->kind == H7SIM_OP_SECTOR_ERASE)
        prot = sector_protected(sim, pb, op->sector);
    else
        prot = (sim->ob.wpsn[pb] & FLASH_WPSN_WRPSN_Msk) != FLASH_WPSN_WRPSN_Msk;
    /* docs/H7_FLASH.md 3.7 (decision): program/erase touching a PCROP area. */
    if (h7sim_i_pcrop(sim, pb, op_off(op), op_off(op) + op_len(op) - 1u))
        prot = true;
    if (prot) {
        b->sr |= FLASH_SR_WRPERR;
        h7sim_i_violation(
            sim, addr,
            op->kind == H7SIM_OP_PROGRAM ? "program-write-protected" : "erase-write-protected",
            op->kind == H7SIM_OP_PROGRAM ? "3.7" : "4", "WPSN_CUR%u=0x%02x PRAR_CUR%u=0x%08x",
            pb + 1, (unsigned)sim->ob.wpsn[pb], pb + 1, (unsigned)sim->ob.prar[pb]);
        h7sim_i_event(sim, H7SIM_EV_OP_ERROR, op->kind, pb, op_off(op), op_len(op));
        return true;
    }
    if (sim->operr_next[pb]) {
        sim->operr_next[pb]--;
        b->sr |= FLASH_SR_OPERR;
        h7sim_i_event(sim, H7SIM_EV_OP_ERROR, op->kind, pb, op_off(op), op_len(op));
        return true;
    }
    return false;
}

/* An operation of dur ns starts now (array operation or option change):
 * the one h7sim_fault_power_cut_after_ops() waits for gets its cut. */
void h7sim_i_count_op(struct h7sim *sim, uint64_t dur)
{
    if (!sim->cut_ops_armed)
        return;
    if (sim->cut_ops_left) {
        sim->cut_ops_left--;
        return;
    }
    sim->cut_ops_armed = false;
    uint64_t t = sim->now + (dur ? h7sim_i_rand(sim) % dur : 0);
    if (t < sim->cut_at)
        sim->cut_at = t;
}

/* Start op on an idle bank at sim->now. Returns false when it was refused. */
static bool start_op(struct h7sim *sim, unsigned pb, const struct h7sim_op *op)
{
    struct h7sim_bank *b = &sim->bank[pb];
    if (op_refused(sim, pb, op))
        return false;
    b->run = *op;
    b->run.valid = true;
    b->run.start = sim->now;
    b->run.end = sim->now + op->dur;
    if (op->kind == H7SIM_OP_PROGRAM && sim->state[pb][op->word] != H7SIM_WORD_VIRGIN)
        h7sim_i_violation(sim, h7sim_i_logical(sim, pb, op_off(op)), "program-non-virgin", "3.1",
                          "word state %u", (unsigned)sim->state[pb][op->word]);
    h7sim_i_count_op(sim, op->dur);
    h7sim_i_event(sim, H7SIM_EV_OP_START, op->kind, pb, op_off(op), op_len(op));
    return true;
}

/* Start the pending op if the bank is idle (refused ops fall through). */
static void promote(struct h7sim *sim, unsigned pb)
{
    struct h7sim_bank *b = &sim->bank[pb];
    while (!b->run.valid && b->pend.valid) {
        struct h7sim_op op = b->pend;
        b->pend.valid = false;
        start_op(sim, pb, &op);
    }
}

static void erase_range(struct h7sim *sim, unsigned pb, unsigned first_sector, unsigned n)
{
    uint32_t off = first_sector * H7_SECTOR_SIZE;
    memset(&sim->data[pb][off], 0xFF, (size_t)n * H7_SECTOR_SIZE);
    memset(&sim->state[pb][off / H7_FLASH_WORD], H7SIM_WORD_VIRGIN,
           (size_t)n * H7_WORDS_PER_SECTOR);
    for (unsigned s = first_sector; s < first_sector + n; s++)
        sim->stats.erase_count[pb][s]++;
}

static void complete_op(struct h7sim *sim, unsigned pb)
{
    struct h7sim_bank *b = &sim->bank[pb];
    struct h7sim_op op = b->run;
    b->run.valid = false;
    sim->stats.busy_ns[pb] += op.dur;
    switch (op.kind) {
    case H7SIM_OP_PROGRAM: {
        uint8_t *d = &sim->data[pb][op.word * H7_FLASH_WORD];
        uint8_t *st = &sim->state[pb][op.word];
        if (*st == H7SIM_WORD_VIRGIN) {
            memcpy(d, op.data, H7_FLASH_WORD);
            *st = H7SIM_WORD_PROGRAMMED;
        } else {
            /* RM0399 4.3.9: NOR cells only go 1->0; the ECC no longer matches. */
            for (unsigned i = 0; i < H7_FLASH_WORD; i++)
                d[i] &= op.data[i];
            if (*st != H7SIM_WORD_ECC_DOUBLE)
                *st = sim->cfg.reprogram == H7SIM_REPROGRAM_SINGLE_ECC ? H7SIM_WORD_ECC_SINGLE
                                                                       : H7SIM_WORD_ECC_DOUBLE;
        }
        sim->stats.programs[pb]++;
        sim->stats.bytes_programmed[pb] += H7_FLASH_WORD;
        break;
    }
    case H7SIM_OP_SECTOR_ERASE:
        erase_range(sim, pb, op.sector, 1);
        sim->stats.sector_erases[pb]++;
        break;
    case H7SIM_OP_BANK_ERASE:
    case H7SIM_OP_MASS_ERASE:
        erase_range(sim, pb, 0, H7_SECTORS_PER_BANK);
        sim->stats.bank_erases[pb]++;
        break;
    default: break;
    }
    /* RM0399 4.9.5: EOP at the end of each completed program or erase. */
    b->sr |= FLASH_SR_EOP;
    h7sim_i_array_changed(sim, pb, op_off(&op), op_len(&op));
    h7sim_i_event(sim, H7SIM_EV_OP_DONE, op.kind, pb, op_off(&op), op_len(&op));
    promote(sim, pb);
}

void h7sim_i_option_commit(struct h7sim *sim)
{
    /* RM0399 4.4.3: _CUR take the _PRG values; SWAP_BANK acts at reset (4.3.13). */
    sim->ob = sim->prg;
    sim->ob.optsr &= ~(FLASH_OPTSR_OPT_BUSY | FLASH_OPTSR_OPTCHANGEERR);
    sim->stats.option_changes++;
}

static void complete_option(struct h7sim *sim)
{
    sim->opt_busy = false;
    if (sim->opt_fail_next) {
        sim->opt_fail_next = false;
        sim->optchangeerr = true;
    } else {
        h7sim_i_option_commit(sim);
    }
    h7sim_i_event(sim, H7SIM_EV_OPTION_DONE, H7SIM_OP_OPTION, 0, 0, 0);
}

/* Process the earliest due event at or before t. Returns false if none. */
static bool process_one(struct h7sim *sim, uint64_t t)
{
    uint64_t e = sim->next_ev;
    if (sim->off || e > t)
        return false;
    if (e > sim->now)
        sim->now = e;
    if (sim->cut_at <= sim->now) {
        h7sim_i_cut_now(sim);
        return true;
    }
    for (unsigned pb = 0; pb < 2; pb++) {
        struct h7sim_bank *b = &sim->bank[pb];
        if (b->run.valid && b->run.end <= sim->now)
            complete_op(sim, pb);
        if (b->crc.busy && b->crc.end <= sim->now)
            h7sim_i_crc_complete(sim, pb);
    }
    if (sim->opt_busy && sim->opt_end <= sim->now)
        complete_option(sim);
    h7sim_i_schedule(sim);
    h7sim_i_irq_update(sim);
    return true;
}

void h7sim_i_run_to(struct h7sim *sim, uint64_t t)
{
    while (process_one(sim, t))
        ;
    if (t > sim->now)
        sim->now = t;
}

/* ---- time API ---------------------------------------------------------- */

uint64_t h7sim_now(const struct h7sim *sim)
{
    return sim->now;
}

void h7sim_advance(struct h7sim *sim, uint64_t ns)
{
    uint64_t t = sim->now + ns;
    if (t < sim->now)
        t = UINT64_MAX;
    if (t < sim->next_ev || sim->off) {
        sim->now = t; /* O(1) when nothing is due */
        return;
    }
    h7sim_i_run_to(sim, t);
}

uint64_t h7sim_next_event(const struct h7sim *sim)
{
    return sim->off ? UINT64_MAX : sim->next_ev;
}

bool h7sim_bank_busy(const struct h7sim *sim, uint32_t addr)
{
    if (!in_array(addr))
        return false;
    return sim->bank[h7sim_i_pb_of_addr(sim, addr)].run.valid;
}

bool h7sim_irq_level(const struct h7sim *sim)
{
    return sim->irq;
}

bool h7sim_swapped(const struct h7sim *sim)
{
    return sim->swap;
}

/* ---- queue --------------------------------------------------------------- */

/* docs/H7_FLASH.md 5.1 (model choice): an access to a busy bank is held
 * until the bank is idle (running and queued operations done). */
uint64_t h7sim_i_stall_bank_idle(struct h7sim *sim, unsigned pb)
{
    uint64_t t0 = sim->now;
    struct h7sim_bank *b = &sim->bank[pb];
    while (!sim->off && b->run.valid)
        h7sim_i_run_to(sim, b->run.end);
    uint64_t st = sim->now - t0;
    sim->stats.stall_ns[pb] += st;
    return st;
}

/* Queue op on bank pb. A third operation (one running, one pending) holds
 * the access that pushes it until the running one completes (model choice). */
void h7sim_i_enqueue(struct h7sim *sim, unsigned pb, struct h7sim_op *op, uint64_t *stall)
{
    struct h7sim_bank *b = &sim->bank[pb];
    uint64_t t0 = sim->now;
    while (!sim->off && b->pend.valid)
        h7sim_i_run_to(sim, b->run.end);
    uint64_t st = sim->now - t0;
    sim->stats.stall_ns[pb] += st;
    if (stall)
        *stall += st;
    if (sim->off)
        return;
    op->valid = true;
    if (!b->run.valid)
        start_op(sim, pb, op);
    else
        b->pend = *op;
    h7sim_i_schedule(sim);
}

void h7sim_i_discard_buffer(struct h7sim *sim, unsigned pb)
{
    struct h7sim_bank *b = &sim->bank[pb];
    b->wb_active = false;
    b->wb_foreign = false;
    b->wb_mask = 0;
    (void)sim;
}

/* The buffer (full, or padded by FW) goes into the queue (RM0399 4.3.9, 4.9.4). */
void h7sim_i_push_buffer(struct h7sim *sim, unsigned pb, uint64_t *stall)
{
    struct h7sim_bank *b = &sim->bank[pb];
    struct h7sim_op op;
    memset(&op, 0, sizeof(op));
    op.kind = H7SIM_OP_PROGRAM;
    op.psize = (b->cr & FLASH_CR_PSIZE_Msk) >> FLASH_CR_PSIZE_Pos;
    op.word = b->wb_word;
    op.dur = h7sim_i_duration(sim, H7SIM_OP_PROGRAM, op.psize);
    for (unsigned i = 0; i < H7_FLASH_WORD; i++)
        op.data[i] = (b->wb_mask & (1u << i)) ? b->wb_data[i] : 0xFFu;
    b->wb_active = false;
    b->wb_mask = 0;
    h7sim_i_enqueue(sim, pb, &op, stall);
}

/* ---- array inspection and back door -------------------------------------- */

enum h7sim_word_state h7sim_word_state(const struct h7sim *sim, uint32_t addr)
{
    if (!in_array(addr))
        return H7SIM_WORD_VIRGIN;
    unsigned pb = h7sim_i_pb_of_addr(sim, addr);
    return (enum h7sim_word_state)sim->state[pb][(addr & (H7_BANK_SIZE - 1u)) / H7_FLASH_WORD];
}

void h7sim_peek(const struct h7sim *sim, uint32_t addr, void *out, size_t len)
{
    uint8_t *o = out;
    for (size_t i = 0; i < len; i++) {
        uint32_t a = addr + (uint32_t)i;
        if (!in_array(a)) {
            o[i] = 0;
            continue;
        }
        o[i] = sim->data[h7sim_i_pb_of_addr(sim, a)][a & (H7_BANK_SIZE - 1u)];
    }
}

int h7sim_backdoor_program(struct h7sim *sim, uint32_t addr, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (!in_array(addr) || len > (size_t)(H7_FLASH_END - addr) + 1u)
        return -1;
    uint32_t first = addr & ~(H7_FLASH_WORD - 1u);
    uint32_t last = (uint32_t)(addr + len - 1u) & ~(H7_FLASH_WORD - 1u);
    for (uint32_t a = first; a <= last; a += H7_FLASH_WORD)
        if (h7sim_word_state(sim, a) != H7SIM_WORD_VIRGIN)
            return -1;
    const uint8_t *src = data;
    for (uint32_t a = first; a <= last; a += H7_FLASH_WORD) {
        unsigned pb = h7sim_i_pb_of_addr(sim, a);
        uint32_t off = a & (H7_BANK_SIZE - 1u);
        uint8_t *d = &sim->data[pb][off];
        for (unsigned i = 0; i < H7_FLASH_WORD; i++) {
            uint32_t x = a + i;
            d[i] = (x >= addr && x - addr < len) ? src[x - addr] : 0xFFu;
        }
        sim->state[pb][off / H7_FLASH_WORD] = H7SIM_WORD_PROGRAMMED;
        if (sim->obs.array_changed)
            sim->obs.array_changed(sim->obs.ctx, a, H7_FLASH_WORD);
    }
    return 0;
}

void h7sim_backdoor_erase_all(struct h7sim *sim)
{
    memset(sim->data, 0xFF, sizeof(sim->data));
    memset(sim->state, H7SIM_WORD_VIRGIN, sizeof(sim->state));
    if (sim->obs.array_changed)
        sim->obs.array_changed(sim->obs.ctx, H7_FLASH_BASE, H7_FLASH_SIZE);
}

/* ---- observers, violations, statistics ----------------------------------- */

void h7sim_set_observer(struct h7sim *sim, const struct h7sim_observer *obs)
{
    if (obs)
        sim->obs = *obs;
    else
        memset(&sim->obs, 0, sizeof(sim->obs));
}

size_t h7sim_violation_count(const struct h7sim *sim)
{
    return sim->nviol;
}

const struct h7sim_violation *h7sim_violation_get(const struct h7sim *sim, size_t i)
{
    return i < sim->nviol ? &sim->viol[i] : NULL;
}

void h7sim_violations_clear(struct h7sim *sim)
{
    sim->nviol = 0;
    sim->viol_dropped = 0;
}

void h7sim_violations_print(const struct h7sim *sim, FILE *out)
{
    for (size_t i = 0; i < sim->nviol; i++) {
        const struct h7sim_violation *v = &sim->viol[i];
        fprintf(out, "h7sim: t=%llu ns addr=0x%08x rule=%s (H7_FLASH.md %s): %s\n",
                (unsigned long long)v->time_ns, (unsigned)v->addr, v->rule, v->section, v->detail);
    }
    if (sim->viol_dropped)
        fprintf(out, "h7sim: %zu more violations not recorded (log full)\n", sim->viol_dropped);
}

void h7sim_get_stats(const struct h7sim *sim, struct h7sim_stats *st)
{
    *st = sim->stats;
}
