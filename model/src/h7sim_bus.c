/*
 * h7sim bus: decoding of the FLASH register block and of the flash array,
 * register semantics (docs/H7_FLASH.md 2), write buffer (3), array reads
 * with ECC and stalls (3.7, 3.8, 5.1).
 */
#include "h7sim_internal.h"

#include <string.h>

#define CR_WRITABLE                                                                      \
    (FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_BER | FLASH_CR_PSIZE_Msk | FLASH_CR_SNB_Msk | \
     FLASH_CR_CRC_EN | FLASH_CR_ALL_IE)
#define CRCCR_CONFIG                                                                  \
    (FLASH_CRCCR_CRC_SECT_Msk | FLASH_CRCCR_CRC_BY_SECT | FLASH_CRCCR_CRC_BURST_Msk | \
     FLASH_CRCCR_ALL_BANK)
#define OPTSR_PRG_WRITABLE (~(FLASH_OPTSR_OPT_BUSY | FLASH_OPTSR_OPTCHANGEERR))
#define PRAR_WRITABLE \
    (FLASH_PRAR_PROT_AREA_START_Msk | FLASH_PRAR_PROT_AREA_END_Msk | FLASH_PRAR_DMEP)
#define SCAR_WRITABLE \
    (FLASH_SCAR_SEC_AREA_START_Msk | FLASH_SCAR_SEC_AREA_END_Msk | FLASH_SCAR_DMES)

static uint32_t reg_addr(uint32_t off)
{
    return H7_FLASH_R_BASE + off;
}

/* ---- register reads ------------------------------------------------------ */

static uint32_t reg_read(const struct h7sim *sim, uint32_t off)
{
    if (off >= 0x200u)
        return 0;
    unsigned set = off >= 0x100u ? 1u : 0u;
    unsigned pb = set ^ (unsigned)sim->swap;
    const struct h7sim_bank *b = &sim->bank[pb];
    switch (off & 0xFFu) {
    case FLASH_ACR: return sim->acr;
    case FLASH_KEYR: return 0;
    case FLASH_OPTKEYR: return 0;
    case FLASH_CR: return b->cr | (b->key == KEY_UNLOCKED ? 0u : FLASH_CR_LOCK);
    case FLASH_SR: return h7sim_i_sr(sim, pb);
    case FLASH_CCR: return 0;
    case FLASH_OPTCR:
        return (sim->optkey == KEY_UNLOCKED ? 0u : FLASH_OPTCR_OPTLOCK) | sim->optcr_ie |
               (sim->swap ? FLASH_OPTCR_SWAP_BANK : 0u);
    case FLASH_OPTSR_CUR:
        return (sim->ob.optsr & ~(FLASH_OPTSR_OPT_BUSY | FLASH_OPTSR_OPTCHANGEERR)) |
               (sim->opt_busy ? FLASH_OPTSR_OPT_BUSY : 0u) |
               (sim->optchangeerr ? FLASH_OPTSR_OPTCHANGEERR : 0u);
    case FLASH_OPTSR_PRG: return sim->prg.optsr;
    case FLASH_OPTCCR: return 0;
    /* PRAR/SCAR/WPSN stay physical (model choice, docs/H7_FLASH.md 5.2). */
    case FLASH_PRAR_CUR: return sim->ob.prar[set];
    case FLASH_PRAR_PRG: return sim->prg.prar[set];
    case FLASH_SCAR_CUR: return sim->ob.scar[set];
    case FLASH_SCAR_PRG: return sim->prg.scar[set];
    case FLASH_WPSN_CUR: return sim->ob.wpsn[set];
    case FLASH_WPSN_PRG: return sim->prg.wpsn[set];
    case FLASH_BOOT7_CUR: return sim->ob.boot7;
    case FLASH_BOOT7_PRG: return sim->prg.boot7;
    case FLASH_BOOT4_CUR: return sim->ob.boot4;
    case FLASH_BOOT4_PRG: return sim->prg.boot4;
    case FLASH_CRCCR: return b->crccr;
    case FLASH_CRCSADD: return b->crcsadd;
    case FLASH_CRCEADD: return b->crceadd;
    case FLASH_CRCDATA:
        /* The HAL reads FLASH->CRCDATA (0x05C) for both banks (docs/H7_FLASH.md 2.1):
         * 0x05C shows the last completed CRC of either bank. */
        return set == 0 ? sim->crcdata_last : b->crcdata;
    case FLASH_ECC_FA: return b->ecc_fa;
    default: return 0;
    }
}

/* ---- register writes ----------------------------------------------------- */

/* RM0399 4.9.4, docs/H7_FLASH.md 2.4: KEY1 then KEY2 unlocks; anything
 * else, or a key while unlocked, disables the lock until reset and answers
 * with a bus error. */
static enum h7sim_resp key_write(struct h7sim *sim, enum h7sim_key_state *k, uint32_t v,
                                 uint32_t k1, uint32_t k2, uint32_t addr)
{
    switch (*k) {
    case KEY_LOCKED0:
        if (v == k1) {
            *k = KEY_LOCKED1;
            return H7SIM_OK;
        }
        h7sim_i_violation(sim, addr, "wrong-key", "2.4", "0x%08x instead of KEY1", (unsigned)v);
        break;
    case KEY_LOCKED1:
        if (v == k2) {
            *k = KEY_UNLOCKED;
            return H7SIM_OK;
        }
        h7sim_i_violation(sim, addr, "wrong-key", "2.4", "0x%08x instead of KEY2", (unsigned)v);
        break;
    case KEY_UNLOCKED:
        h7sim_i_violation(sim, addr, "double-unlock", "2.4", "key 0x%08x written while unlocked",
                          (unsigned)v);
        break;
    case KEY_DISABLED:
        h7sim_i_violation(sim, addr, "key-while-disabled", "2.4",
                          "key 0x%08x after a wrong sequence", (unsigned)v);
        break;
    }
    *k = KEY_DISABLED;
    return H7SIM_BUSERR;
}

static void start_erase(struct h7sim *sim, unsigned pb, uint32_t cr, uint64_t *stall, uint32_t addr)
{
    struct h7sim_op op;
    memset(&op, 0, sizeof(op));
    op.psize = (cr & FLASH_CR_PSIZE_Msk) >> FLASH_CR_PSIZE_Pos;
    if (cr & FLASH_CR_BER) {
        /* RM0399 4.9.4: BER has priority over SER. */
        op.kind = H7SIM_OP_BANK_ERASE;
    } else if (cr & FLASH_CR_SER) {
        op.kind = H7SIM_OP_SECTOR_ERASE;
        op.sector = (cr & FLASH_CR_SNB_Msk) >> FLASH_CR_SNB_Pos;
    } else {
        h7sim_i_violation(sim, addr, "start-without-ser-ber", "2.5", "START with CR=0x%08x",
                          (unsigned)cr);
        return;
    }
    op.dur = h7sim_i_duration(sim, op.kind, op.psize);
    h7sim_i_enqueue(sim, pb, &op, stall);
}

static void cr_write(struct h7sim *sim, unsigned pb, uint32_t v, uint64_t *stall, uint32_t addr)
{
    struct h7sim_bank *b = &sim->bank[pb];
    if (b->key != KEY_UNLOCKED) {
        /* docs/H7_FLASH.md 2.5: ignored while locked, except setting LOCK (a no-op). */
        if ((v & CR_WRITABLE) != b->cr || (v & (FLASH_CR_FW | FLASH_CR_START)))
            h7sim_i_violation(sim, addr, "cr-write-locked", "2.5", "CR=0x%08x ignored (LOCK=1)",
                              (unsigned)v);
        return;
    }
    uint32_t old = b->cr;
    b->cr = v & CR_WRITABLE;
    if ((old & FLASH_CR_PG) && !(b->cr & FLASH_CR_PG) && b->wb_active) {
        /* RM0399 4.9.4: clearing PG loses the data not yet queued. Losing a
         * debugger's leftovers is the right recovery, not a violation. */
        if (!b->wb_foreign)
            h7sim_i_violation(sim, addr, "pg-clear-discards-buffer", "3.3",
                              "%u bytes of word 0x%08x lost",
                              (unsigned)__builtin_popcount(b->wb_mask),
                              (unsigned)h7sim_i_logical(sim, pb, b->wb_word * H7_FLASH_WORD));
        h7sim_i_discard_buffer(sim, pb);
    }
    if ((old & FLASH_CR_CRC_EN) && !(b->cr & FLASH_CR_CRC_EN)) {
        /* RM0399 4.9.4: resetting CRC_EN clears the CRC configuration and CRCDATA. */
        b->crccr = FLASH_CRCCR_RESET;
        b->crcdata = 0;
        b->crc.busy = false;
        b->crc.added = 0;
        b->crc.acc = 0;
        h7sim_i_schedule(sim);
    }
    /* RM0399 4.9.4: FW is effective only with a partly filled buffer. */
    if ((v & FLASH_CR_FW) && b->wb_active)
        h7sim_i_push_buffer(sim, pb, stall);
    if (v & FLASH_CR_START)
        start_erase(sim, pb, b->cr, stall, addr);
    if (v & FLASH_CR_LOCK)
        b->key = KEY_LOCKED0;
}

static void crccr_write(struct h7sim *sim, unsigned pb, uint32_t v, uint32_t addr)
{
    struct h7sim_bank *b = &sim->bank[pb];
    if (b->key != KEY_UNLOCKED || !(b->cr & FLASH_CR_CRC_EN)) {
        h7sim_i_violation(sim, addr, "crccr-without-crc-en", "2.5",
                          "CRCCR=0x%08x ignored (CRC_EN=0 or LOCK=1)", (unsigned)v);
        return;
    }
    b->crccr = (b->crccr & ~CRCCR_CONFIG) | (v & CRCCR_CONFIG);
    if (v & FLASH_CRCCR_CLEAN_SECT)
        b->crc.added = 0;
    if (v & FLASH_CRCCR_ADD_SECT)
        b->crc.added |= (uint8_t)(1u << (v & FLASH_CRCCR_CRC_SECT_Msk));
    if (v & FLASH_CRCCR_CLEAN_CRC) {
        b->crc.acc = 0;
        b->crcdata = 0;
    }
    if ((v & FLASH_CRCCR_START_CRC) && !b->crc.busy)
        h7sim_i_crc_start(sim, pb);
}

static void mass_erase(struct h7sim *sim, uint64_t *stall, uint32_t addr)
{
    /* MER needs both CR unlocked; OPTLOCK is not required (HAL sets MER
     * after HAL_FLASH_Unlock only; model choice, docs/H7_FLASH.md 2.8). */
    if (sim->bank[0].key != KEY_UNLOCKED || sim->bank[1].key != KEY_UNLOCKED) {
        h7sim_i_violation(sim, addr, "mer-locked", "2.8", "MER with CR1 or CR2 locked");
        return;
    }
    for (unsigned pb = 0; pb < 2; pb++) {
        struct h7sim_op op;
        memset(&op, 0, sizeof(op));
        op.kind = H7SIM_OP_MASS_ERASE;
        op.psize = (sim->bank[pb].cr & FLASH_CR_PSIZE_Msk) >> FLASH_CR_PSIZE_Pos;
        op.dur = h7sim_i_duration(sim, op.kind, op.psize);
        h7sim_i_enqueue(sim, pb, &op, stall);
    }
}

void h7sim_i_option_start(struct h7sim *sim)
{
    uint64_t dur = h7sim_i_duration(sim, H7SIM_OP_OPTION, 0);

    sim->opt_busy = true;
    sim->opt_end = sim->now + dur;
    h7sim_i_count_op(sim, dur);
    h7sim_i_event(sim, H7SIM_EV_OP_START, H7SIM_OP_OPTION, 0, 0, 0);
    h7sim_i_schedule(sim);
}

static void optcr_write(struct h7sim *sim, uint32_t v, uint64_t *stall, uint32_t addr)
{
    if (v & FLASH_OPTCR_MER)
        mass_erase(sim, stall, addr);
    if (sim->optkey != KEY_UNLOCKED) {
        if ((v & FLASH_OPTCR_OPTSTART) || (v & FLASH_OPTCR_OPTCHANGEERRIE) != sim->optcr_ie ||
            !(v & FLASH_OPTCR_OPTLOCK))
            h7sim_i_violation(sim, addr, "optcr-write-optlocked", "2.8",
                              "OPTCR=0x%08x ignored (OPTLOCK=1)", (unsigned)v);
        return;
    }
    sim->optcr_ie = v & FLASH_OPTCR_OPTCHANGEERRIE;
    if ((v & FLASH_OPTCR_OPTSTART) && !sim->opt_busy)
        h7sim_i_option_start(sim);
    if (v & FLASH_OPTCR_OPTLOCK)
        sim->optkey = KEY_LOCKED0;
}

static void read_only(struct h7sim *sim, uint32_t addr, uint32_t v)
{
    h7sim_i_violation(sim, addr, "write-read-only", "2.6/2.9",
                      "write 0x%08x to a read-only register", (unsigned)v);
}

static void prg_write(struct h7sim *sim, uint32_t *reg, uint32_t v, uint32_t mask, uint32_t addr)
{
    if (sim->optkey != KEY_UNLOCKED) {
        h7sim_i_violation(sim, addr, "prg-write-optlocked", "2.8",
                          "write 0x%08x ignored (OPTLOCK=1)", (unsigned)v);
        return;
    }
    *reg = (*reg & ~mask) | (v & mask);
}

static enum h7sim_resp reg_write(struct h7sim *sim, uint32_t off, uint32_t v, uint64_t *stall)
{
    uint32_t addr = reg_addr(off);
    if (off >= 0x200u) {
        h7sim_i_violation(sim, addr, "write-reserved", "2.1", "write 0x%08x", (unsigned)v);
        return H7SIM_OK;
    }
    unsigned set = off >= 0x100u ? 1u : 0u;
    unsigned pb = set ^ (unsigned)sim->swap;
    struct h7sim_bank *b = &sim->bank[pb];
    switch (off & 0xFFu) {
    case FLASH_ACR: sim->acr = v & (FLASH_ACR_LATENCY_Msk | FLASH_ACR_WRHIGHFREQ_Msk); break;
    case FLASH_KEYR: return key_write(sim, &b->key, v, FLASH_KEY1, FLASH_KEY2, addr);
    case FLASH_OPTKEYR:
        /* One state machine behind 0x008 and 0x108 (docs/H7_FLASH.md 2.1). */
        return key_write(sim, &sim->optkey, v, FLASH_OPT_KEY1, FLASH_OPT_KEY2, addr);
    case FLASH_CR: cr_write(sim, pb, v, stall, addr); break;
    case FLASH_CCR:
        /* RM0399 4.9.6: W1C; ECC_FA cleared once both ECC flags are clear. */
        b->sr &= ~(v & FLASH_SR_ALL_FLAGS);
        if (!(b->sr & (FLASH_SR_SNECCERR | FLASH_SR_DBECCERR)))
            b->ecc_fa = 0;
        break;
    case FLASH_OPTCR: optcr_write(sim, v, stall, addr); break;
    case FLASH_OPTSR_PRG: prg_write(sim, &sim->prg.optsr, v, OPTSR_PRG_WRITABLE, addr); break;
    case FLASH_OPTCCR:
        if (v & FLASH_OPTCCR_CLR_OPTCHANGEERR)
            sim->optchangeerr = false;
        break;
    case FLASH_PRAR_PRG: prg_write(sim, &sim->prg.prar[set], v, PRAR_WRITABLE, addr); break;
    case FLASH_SCAR_PRG: prg_write(sim, &sim->prg.scar[set], v, SCAR_WRITABLE, addr); break;
    case FLASH_WPSN_PRG: prg_write(sim, &sim->prg.wpsn[set], v, FLASH_WPSN_WRPSN_Msk, addr); break;
    case FLASH_BOOT7_PRG: prg_write(sim, &sim->prg.boot7, v, 0xFFFFFFFFu, addr); break;
    case FLASH_BOOT4_PRG: prg_write(sim, &sim->prg.boot4, v, 0xFFFFFFFFu, addr); break;
    case FLASH_CRCCR: crccr_write(sim, pb, v, addr); break;
    case FLASH_CRCSADD:
    case FLASH_CRCEADD:
        if (b->key != KEY_UNLOCKED || !(b->cr & FLASH_CR_CRC_EN)) {
            h7sim_i_violation(sim, addr, "crccr-without-crc-en", "2.5",
                              "CRC address 0x%08x ignored (CRC_EN=0 or LOCK=1)", (unsigned)v);
            break;
        }
        if ((off & 0xFFu) == FLASH_CRCSADD)
            b->crcsadd = v & 0x000FFFFCu;
        else
            b->crceadd = v & 0x000FFFFCu;
        break;
    case FLASH_SR:
    case FLASH_OPTSR_CUR:
    case FLASH_PRAR_CUR:
    case FLASH_SCAR_CUR:
    case FLASH_WPSN_CUR:
    case FLASH_BOOT7_CUR:
    case FLASH_BOOT4_CUR:
    case FLASH_CRCDATA:
    case FLASH_ECC_FA: read_only(sim, addr, v); break;
    default:
        h7sim_i_violation(sim, addr, "write-reserved", "2.1", "write 0x%08x", (unsigned)v);
        break;
    }
    return H7SIM_OK;
}

/* ---- array ----------------------------------------------------------------- */

static bool array_range(uint32_t addr, unsigned size)
{
    return addr >= H7_FLASH_BASE && addr <= H7_FLASH_END && size - 1u <= H7_FLASH_END - addr;
}

static bool reg_range(uint32_t addr, unsigned size)
{
    return addr >= H7_FLASH_R_BASE && addr - H7_FLASH_R_BASE < H7_FLASH_R_SIZE &&
           size - 1u <= H7_FLASH_R_BASE + H7_FLASH_R_SIZE - 1u - addr;
}

static bool size_ok(unsigned size)
{
    return size == 1u || size == 2u || size == 4u || size == 8u;
}

/* ECC check of one flash word on a read (RM0399 4.7.7, docs/H7_FLASH.md 3.8). */
static enum h7sim_resp ecc_read(struct h7sim *sim, enum h7sim_master m, unsigned pb, uint32_t word,
                                uint32_t addr)
{
    struct h7sim_bank *b = &sim->bank[pb];
    uint8_t st = sim->state[pb][word];
    if (st == H7SIM_WORD_VIRGIN || st == H7SIM_WORD_PROGRAMMED)
        return H7SIM_OK;
    /* ECC_FA is written only when no ECC flag is set (first error kept). */
    if (!(b->sr & (FLASH_SR_SNECCERR | FLASH_SR_DBECCERR)))
        b->ecc_fa = word & FLASH_ECC_FA_FAIL_ECC_ADDR_Msk;
    if (st == H7SIM_WORD_ECC_SINGLE) {
        b->sr |= FLASH_SR_SNECCERR;
        return H7SIM_OK;
    }
    b->sr |= FLASH_SR_DBECCERR;
    if (m == H7SIM_MASTER_DMA)
        return H7SIM_OK;
    h7sim_i_violation(sim, addr, "read-double-ecc", "3.7", "CPU read of a double-ECC word");
    return H7SIM_BUSERR;
}

static enum h7sim_resp array_read(struct h7sim *sim, enum h7sim_master m, uint32_t addr,
                                  unsigned size, uint64_t *val, uint64_t *stall)
{
    /* docs/H7_FLASH.md 5.1: a read of a busy bank waits; the other bank does not. */
    unsigned pb0 = h7sim_i_pb_of_addr(sim, addr);
    unsigned pb1 = h7sim_i_pb_of_addr(sim, addr + size - 1u);
    if (sim->bank[pb0].run.valid)
        *stall += h7sim_i_stall_bank_idle(sim, pb0);
    if (pb1 != pb0 && sim->bank[pb1].run.valid)
        *stall += h7sim_i_stall_bank_idle(sim, pb1);
    if (sim->off)
        return H7SIM_BUSERR;
    enum h7sim_resp r = H7SIM_OK;
    uint64_t v = 0;
    uint32_t last_word = UINT32_MAX;
    unsigned last_pb = 2;
    bool prot = false;
    for (unsigned i = 0; i < size; i++) {
        uint32_t a = addr + i;
        unsigned pb = (i == 0) ? pb0 : h7sim_i_pb_of_addr(sim, a);
        uint32_t off = a & (H7_BANK_SIZE - 1u);
        uint32_t word = off / H7_FLASH_WORD;
        if (word != last_word || pb != last_pb) {
            prot = h7sim_i_pcrop(sim, pb, off, off);
            if (prot) {
                /* docs/H7_FLASH.md 3.7: data read of a PCROP area: RDPERR, no data;
                 * a bus error for the CPU (model choice, unverified). */
                sim->bank[pb].sr |= FLASH_SR_RDPERR;
                h7sim_i_violation(sim, a, "read-pcrop", "3.7", "data read of a PCROP area");
                if (m == H7SIM_MASTER_CPU)
                    r = H7SIM_BUSERR;
            } else if (ecc_read(sim, m, pb, word, a) != H7SIM_OK) {
                r = H7SIM_BUSERR;
            }
            last_word = word;
            last_pb = pb;
        }
        if (!prot)
            v |= (uint64_t)sim->data[pb][off] << (8u * i);
    }
    *val = r == H7SIM_OK ? v : 0;
    return r;
}

/* A CPU store into the array goes to the bank's write buffer (RM0399 4.3.9). */
static void array_store(struct h7sim *sim, uint32_t addr, unsigned size, uint64_t val,
                        uint64_t *stall)
{
    unsigned pb = h7sim_i_pb_of_addr(sim, addr);
    struct h7sim_bank *b = &sim->bank[pb];
    uint32_t off = addr & (H7_BANK_SIZE - 1u);
    uint32_t word = off / H7_FLASH_WORD;
    unsigned byte = off % H7_FLASH_WORD;

    /* RM0399 4.7.3: PG=0 or a pending INCERR: data dropped, PGSERR. */
    if (!(b->cr & FLASH_CR_PG) || (b->sr & FLASH_SR_INCERR)) {
        b->sr |= FLASH_SR_PGSERR;
        if (!(b->cr & FLASH_CR_PG))
            h7sim_i_violation(sim, addr, "store-pg-clear", "3.3", "store of %u bytes while PG=0",
                              size);
        else
            h7sim_i_violation(sim, addr, "store-incerr-pending", "3.7",
                              "store while INCERR is set");
        return;
    }
    /* RM0399 4.7.5: a store to another flash word, or a store overlapping two
     * flash words, while the buffer is in use: INCERR, buffer discarded. */
    if (byte + size > H7_FLASH_WORD || (b->wb_active && b->wb_word != word)) {
        b->sr |= FLASH_SR_INCERR;
        h7sim_i_violation(sim, addr, "incerr", "3.7",
                          byte + size > H7_FLASH_WORD ? "store overlaps two flash words"
                                                      : "store to another flash word");
        h7sim_i_discard_buffer(sim, pb);
        return;
    }
    if (!b->wb_active) {
        b->wb_active = true;
        b->wb_foreign = false;
        b->wb_word = word;
        b->wb_mask = 0;
        memset(b->wb_data, 0xFF, sizeof(b->wb_data));
    }
    bool twice = false;
    for (unsigned i = 0; i < size; i++) {
        uint32_t bit = 1u << (byte + i);
        if (b->wb_mask & bit)
            twice = true;
        b->wb_mask |= bit;
        b->wb_data[byte + i] = (uint8_t)(val >> (8u * i));
    }
    if (twice) {
        /* RM0399 4.7.4: STRBERR, writing continues; the last value is kept
         * (docs/H7_FLASH.md 3.7). */
        b->sr |= FLASH_SR_STRBERR;
        h7sim_i_violation(sim, addr, "byte-written-twice", "3.7",
                          "byte of the write buffer written again");
    }
    if (b->wb_mask == 0xFFFFFFFFu)
        h7sim_i_push_buffer(sim, pb, stall);
}

/* ---- bus API ------------------------------------------------------------- */

static enum h7sim_resp powered_off(struct h7sim *sim, uint32_t addr)
{
    h7sim_i_violation(sim, addr, "access-powered-off", "4", "bus access after a power cut");
    return H7SIM_BUSERR;
}

enum h7sim_resp h7sim_read_ex(struct h7sim *sim, enum h7sim_master m, uint32_t addr, unsigned size,
                              uint64_t *val, uint64_t *stall_ns)
{
    uint64_t st = 0;
    uint64_t v = 0;
    enum h7sim_resp r = H7SIM_OK;
    if (!size_ok(size)) {
        r = H7SIM_BUSERR;
    } else if (sim->off) {
        r = powered_off(sim, addr);
    } else if (array_range(addr, size)) {
        r = array_read(sim, m, addr, size, &v, &st);
        h7sim_i_irq_update(sim);
    } else if (reg_range(addr, size)) {
        for (unsigned done = 0; done < size;) {
            uint32_t a = addr + done;
            unsigned sh = a & 3u;
            unsigned n = 4u - sh;
            if (n > size - done)
                n = size - done;
            uint32_t rv = reg_read(sim, (a & ~3u) - H7_FLASH_R_BASE);
            for (unsigned k = 0; k < n; k++)
                v |= (uint64_t)((rv >> (8u * (sh + k))) & 0xFFu) << (8u * (done + k));
            done += n;
        }
    } else {
        r = H7SIM_BUSERR;
    }
    if (val)
        *val = v;
    if (stall_ns)
        *stall_ns = st;
    return r;
}

enum h7sim_resp h7sim_read(struct h7sim *sim, uint32_t addr, unsigned size, uint64_t *val,
                           uint64_t *stall_ns)
{
    return h7sim_read_ex(sim, H7SIM_MASTER_CPU, addr, size, val, stall_ns);
}

enum h7sim_resp h7sim_write(struct h7sim *sim, uint32_t addr, unsigned size, uint64_t val,
                            uint64_t *stall_ns)
{
    uint64_t st = 0;
    enum h7sim_resp r = H7SIM_OK;
    if (!size_ok(size)) {
        r = H7SIM_BUSERR;
    } else if (sim->off) {
        r = powered_off(sim, addr);
    } else if (array_range(addr, size)) {
        array_store(sim, addr, size, val, &st);
    } else if (reg_range(addr, size)) {
        /* docs/H7_FLASH.md 5.3: register writes are held during an option change. */
        if (sim->opt_busy) {
            uint64_t t0 = sim->now;
            h7sim_i_run_to(sim, sim->opt_end);
            st += sim->now - t0;
        }
        for (unsigned done = 0; done < size && !sim->off;) {
            uint32_t a = addr + done;
            unsigned sh = a & 3u;
            unsigned n = 4u - sh;
            if (n > size - done)
                n = size - done;
            uint32_t off = (a & ~3u) - H7_FLASH_R_BASE;
            uint32_t lanes = 0, nv = 0;
            for (unsigned k = 0; k < n; k++) {
                lanes |= 0xFFu << (8u * (sh + k));
                nv |= (uint32_t)((val >> (8u * (done + k))) & 0xFFu) << (8u * (sh + k));
            }
            if (lanes != 0xFFFFFFFFu)
                nv = (reg_read(sim, off) & ~lanes) | nv;
            if (reg_write(sim, off, nv, &st) != H7SIM_OK)
                r = H7SIM_BUSERR;
            done += n;
        }
    } else {
        r = H7SIM_BUSERR;
    }
    if (sim->off && r == H7SIM_OK && st)
        r = H7SIM_BUSERR;
    h7sim_i_irq_update(sim);
    if (stall_ns)
        *stall_ns = st;
    return r;
}

uint64_t h7sim_fetch_stall(struct h7sim *sim, uint32_t addr)
{
    if (sim->off || !array_range(addr, 1))
        return 0;
    unsigned pb = h7sim_i_pb_of_addr(sim, addr);
    if (!sim->bank[pb].run.valid)
        return 0;
    uint64_t st = h7sim_i_stall_bank_idle(sim, pb);
    h7sim_i_irq_update(sim);
    return st;
}
