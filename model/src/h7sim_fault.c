/*
 * h7sim faults: power cuts with torn results, reset, debugger interventions
 * (docs/H7_FLASH.md 8.2), bit flips, persistence. Everything random comes from the
 * seed in the configuration, so a failure replays from its seed.
 */
#include "h7sim_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t h7sim_i_rand(struct h7sim *sim)
{
    /* splitmix64 */
    uint64_t z = (sim->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* docs/H7_FLASH.md 4, 8.2.3: an operation interrupted by power loss or
 * reset leaves its word or sector indeterminate, with ECC errors. */
void h7sim_i_tear(struct h7sim *sim, unsigned pb, const struct h7sim_op *op)
{
    if (op->kind == H7SIM_OP_PROGRAM) {
        uint8_t *d = &sim->data[pb][op->word * H7_FLASH_WORD];
        for (unsigned i = 0; i < H7_FLASH_WORD; i++)
            d[i] &= (uint8_t)(op->data[i] | (uint8_t)h7sim_i_rand(sim));
        sim->state[pb][op->word] = H7SIM_WORD_ECC_DOUBLE;
        h7sim_i_array_changed(sim, pb, op->word * H7_FLASH_WORD, H7_FLASH_WORD);
        return;
    }
    unsigned s0 = 0, ns = H7_SECTORS_PER_BANK;
    if (op->kind == H7SIM_OP_SECTOR_ERASE) {
        s0 = op->sector;
        ns = 1;
    }
    uint32_t w0 = s0 * H7_WORDS_PER_SECTOR;
    uint32_t nw = ns * H7_WORDS_PER_SECTOR;
    /* Each word: erased, untouched, or partly erased (random bits set,
     * double-ECC). At least one word is left double-ECC. */
    uint32_t forced = w0 + (uint32_t)(h7sim_i_rand(sim) % nw);
    for (uint32_t w = w0; w < w0 + nw; w++) {
        uint64_t r = h7sim_i_rand(sim);
        unsigned what = (unsigned)(r & 3u);
        if (w == forced)
            what = 2;
        uint8_t *d = &sim->data[pb][w * H7_FLASH_WORD];
        if (what == 0) {
            memset(d, 0xFF, H7_FLASH_WORD);
            sim->state[pb][w] = H7SIM_WORD_VIRGIN;
        } else if (what >= 2) {
            for (unsigned i = 0; i < H7_FLASH_WORD; i += 8) {
                uint64_t m = h7sim_i_rand(sim);
                for (unsigned k = 0; k < 8; k++)
                    d[i + k] |= (uint8_t)(m >> (8u * k));
            }
            sim->state[pb][w] = H7SIM_WORD_ECC_DOUBLE;
        }
    }
    for (unsigned s = s0; s < s0 + ns; s++)
        sim->stats.erase_count[pb][s]++;
    h7sim_i_array_changed(sim, pb, s0 * H7_SECTOR_SIZE, ns * H7_SECTOR_SIZE);
}

/* Everything in flight is lost; running array operations are torn. */
static void abort_all(struct h7sim *sim)
{
    for (unsigned pb = 0; pb < 2; pb++) {
        struct h7sim_bank *b = &sim->bank[pb];
        if (b->run.valid) {
            sim->stats.busy_ns[pb] += sim->now - b->run.start;
            struct h7sim_op op = b->run;
            b->run.valid = false;
            h7sim_i_tear(sim, pb, &op);
        }
        b->pend.valid = false;
        b->wb_active = false;
        b->crc.busy = false;
    }
    /* Option change: the option bytes are written as a whole, so they
     * keep the old values or take the new ones, never a mix; the seed
     * draws which (docs/H7_FLASH.md 5.3, decision). A pending
     * OPTCHANGEERR fault makes it the old ones. */
    if (sim->opt_busy && !sim->opt_fail_next && (h7sim_i_rand(sim) & 1u))
        h7sim_i_option_commit(sim);
    sim->opt_busy = false;
}

void h7sim_i_cut_now(struct h7sim *sim)
{
    sim->cut_at = UINT64_MAX;
    sim->cut_ops_armed = false;
    abort_all(sim);
    sim->off = true;
    h7sim_i_schedule(sim);
    h7sim_i_event(sim, H7SIM_EV_POWER_CUT, H7SIM_OP_PROGRAM, 0, 0, 0);
    h7sim_i_irq_update(sim);
}

void h7sim_fault_power_cut_after_ops(struct h7sim *sim, uint64_t n)
{
    sim->cut_ops_armed = true;
    sim->cut_ops_left = n;
}

void h7sim_fault_power_cut_at(struct h7sim *sim, uint64_t t_ns)
{
    if (sim->off)
        return;
    if (t_ns <= sim->now) {
        h7sim_i_cut_now(sim);
        return;
    }
    sim->cut_at = t_ns;
    h7sim_i_schedule(sim);
}

void h7sim_fault_clear(struct h7sim *sim)
{
    sim->cut_at = UINT64_MAX;
    sim->cut_ops_armed = false;
    sim->operr_next[0] = sim->operr_next[1] = 0;
    sim->opt_fail_next = false;
    h7sim_i_schedule(sim);
}

bool h7sim_powered_off(const struct h7sim *sim)
{
    return sim->off;
}

void h7sim_power_cut(struct h7sim *sim)
{
    if (!sim->off)
        h7sim_i_cut_now(sim);
}

void h7sim_reset(struct h7sim *sim)
{
    bool was_swapped = sim->swap;
    /* docs/H7_FLASH.md 4: a reset during an operation tears it like a power loss. */
    if (!sim->off)
        abort_all(sim);
    h7sim_i_power_on(sim);
    if (was_swapped != sim->swap && sim->obs.array_changed)
        sim->obs.array_changed(sim->obs.ctx, H7_FLASH_BASE, H7_FLASH_SIZE);
    h7sim_i_irq_update(sim);
}

void h7sim_fault_operr_next(struct h7sim *sim, unsigned bank)
{
    if (bank == 1u || bank == 2u)
        sim->operr_next[(bank - 1u) ^ (unsigned)sim->swap]++;
}

void h7sim_fault_optchangeerr_next(struct h7sim *sim)
{
    sim->opt_fail_next = true;
}

/* ---- debugger interventions (docs/H7_FLASH.md 8.2) ---------------------- */

static struct h7sim_bank *set_bank(struct h7sim *sim, unsigned bank, unsigned *pb)
{
    if (bank != 1u && bank != 2u)
        return NULL;
    *pb = (bank - 1u) ^ (unsigned)sim->swap;
    return &sim->bank[*pb];
}

void h7sim_dbg_relock(struct h7sim *sim, unsigned bank)
{
    unsigned pb;
    struct h7sim_bank *b = set_bank(sim, bank, &pb);
    if (!b)
        return;
    /* OpenOCD writes CR = LOCK: PG, SER, PSIZE, IE bits all cleared. */
    b->cr = 0;
    h7sim_i_discard_buffer(sim, pb);
    if (b->key != KEY_DISABLED)
        b->key = KEY_LOCKED0;
    h7sim_i_irq_update(sim);
}

void h7sim_dbg_set_flags(struct h7sim *sim, unsigned bank, uint32_t sr_flags)
{
    unsigned pb;
    struct h7sim_bank *b = set_bank(sim, bank, &pb);
    if (!b)
        return;
    b->sr |= sr_flags & FLASH_SR_ALL_FLAGS;
    h7sim_i_irq_update(sim);
}

void h7sim_dbg_clear_pg(struct h7sim *sim, unsigned bank)
{
    unsigned pb;
    struct h7sim_bank *b = set_bank(sim, bank, &pb);
    if (!b)
        return;
    b->cr &= ~FLASH_CR_PG;
    h7sim_i_discard_buffer(sim, pb);
}

void h7sim_dbg_abandon_buffer(struct h7sim *sim, uint32_t addr, unsigned n)
{
    if (addr < H7_FLASH_BASE || addr > H7_FLASH_END || n == 0 || n >= H7_FLASH_WORD)
        return;
    unsigned pb = h7sim_i_pb_of_addr(sim, addr);
    struct h7sim_bank *b = &sim->bank[pb];
    b->cr |= FLASH_CR_PG;
    b->wb_active = true;
    b->wb_foreign = true;
    b->wb_word = (addr & (H7_BANK_SIZE - 1u)) / H7_FLASH_WORD;
    b->wb_mask = (1u << n) - 1u;
    memset(b->wb_data, 0xFF, sizeof(b->wb_data));
    for (unsigned i = 0; i < n; i++)
        b->wb_data[i] = (uint8_t)h7sim_i_rand(sim);
}

void h7sim_flip_bits(struct h7sim *sim, uint32_t addr, unsigned nbits)
{
    if (addr < H7_FLASH_BASE || addr > H7_FLASH_END || nbits == 0)
        return;
    unsigned pb = h7sim_i_pb_of_addr(sim, addr);
    uint32_t word = (addr & (H7_BANK_SIZE - 1u)) / H7_FLASH_WORD;
    if (nbits == 1) {
        /* The ECC corrects one bit: reads return the stored data. */
        if (sim->state[pb][word] != H7SIM_WORD_ECC_DOUBLE)
            sim->state[pb][word] = H7SIM_WORD_ECC_SINGLE;
    } else {
        uint8_t *d = &sim->data[pb][word * H7_FLASH_WORD];
        uint8_t flipped[H7_FLASH_WORD * 8u];
        memset(flipped, 0, sizeof(flipped));
        if (nbits > H7_FLASH_WORD * 8u)
            nbits = H7_FLASH_WORD * 8u;
        for (unsigned k = 0; k < nbits;) {
            unsigned bit = (unsigned)(h7sim_i_rand(sim) % (H7_FLASH_WORD * 8u));
            if (flipped[bit])
                continue;
            flipped[bit] = 1;
            d[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            k++;
        }
        sim->state[pb][word] = H7SIM_WORD_ECC_DOUBLE;
    }
    h7sim_i_array_changed(sim, pb, word * H7_FLASH_WORD, H7_FLASH_WORD);
}

/* ---- option bytes ---------------------------------------------------------- */

static void ob_to_public(const struct h7sim_ob *ob, struct h7sim_option_bytes *o)
{
    o->optsr = ob->optsr;
    for (unsigned i = 0; i < 2; i++) {
        o->prar[i] = ob->prar[i];
        o->scar[i] = ob->scar[i];
        o->wpsn[i] = ob->wpsn[i];
    }
    o->boot7 = ob->boot7;
    o->boot4 = ob->boot4;
}

void h7sim_get_option_bytes(const struct h7sim *sim, struct h7sim_option_bytes *ob)
{
    ob_to_public(&sim->ob, ob);
}

void h7sim_set_option_bytes(struct h7sim *sim, const struct h7sim_option_bytes *o)
{
    sim->ob.optsr = o->optsr & ~(FLASH_OPTSR_OPT_BUSY | FLASH_OPTSR_OPTCHANGEERR);
    for (unsigned i = 0; i < 2; i++) {
        sim->ob.prar[i] = o->prar[i];
        sim->ob.scar[i] = o->scar[i];
        sim->ob.wpsn[i] = o->wpsn[i] & FLASH_WPSN_WRPSN_Msk;
    }
    sim->ob.boot7 = o->boot7;
    sim->ob.boot4 = o->boot4;
}

/* ---- persistence ------------------------------------------------------------ */

/*
 * Image file, little-endian:
 *   0   8   magic "H7SIMIMG"
 *   8   4   version (1)
 *   12  4   header size in bytes (H7SIM_IMG_HDR)
 *   16  40  option bytes: optsr, prar1, prar2, scar1, scar2, wpsn1, wpsn2,
 *           boot7, boot4, reserved (0)
 *   56  128 erase counts: u64 [2][8] (physical bank, sector)
 *   184 ... physical bank 1: 1 MB data, 32768 word states
 *           physical bank 2: 1 MB data, 32768 word states
 *   end 4   CRC-32 (this file's convention, h7sim_i_crc32_words) of all
 *           preceding bytes
 */
#define IMG_MAGIC   "H7SIMIMG"
#define IMG_VERSION 1u
#define IMG_HDR     184u
#define IMG_BANK    (H7_BANK_SIZE + H7_WORDS_PER_BANK)
#define IMG_SIZE    (IMG_HDR + 2u * IMG_BANK + 4u)

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8u * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int h7sim_save(const struct h7sim *sim, const char *path)
{
    uint8_t *img = calloc(1, IMG_SIZE);
    if (!img)
        return -1;
    memcpy(img, IMG_MAGIC, 8);
    put32(img + 8, IMG_VERSION);
    put32(img + 12, IMG_HDR);
    const struct h7sim_ob *ob = &sim->ob;
    uint32_t o[10] = { ob->optsr,   ob->prar[0], ob->prar[1], ob->scar[0], ob->scar[1],
                       ob->wpsn[0], ob->wpsn[1], ob->boot7,   ob->boot4,   0 };
    for (unsigned i = 0; i < 10; i++)
        put32(img + 16 + 4 * i, o[i]);
    for (unsigned pb = 0; pb < 2; pb++)
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++) {
            uint64_t c = sim->stats.erase_count[pb][s];
            uint8_t *p = img + 56 + 8 * (pb * H7_SECTORS_PER_BANK + s);
            put32(p, (uint32_t)c);
            put32(p + 4, (uint32_t)(c >> 32));
        }
    for (unsigned pb = 0; pb < 2; pb++) {
        uint8_t *p = img + IMG_HDR + pb * IMG_BANK;
        memcpy(p, sim->data[pb], H7_BANK_SIZE);
        memcpy(p + H7_BANK_SIZE, sim->state[pb], H7_WORDS_PER_BANK);
    }
    put32(img + IMG_SIZE - 4, h7sim_i_crc32_words(0xFFFFFFFFu, img, IMG_SIZE - 4));
    FILE *f = fopen(path, "wb");
    int rc = -1;
    if (f) {
        if (fwrite(img, 1, IMG_SIZE, f) == IMG_SIZE)
            rc = 0;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(img);
    return rc;
}

/* Check and decode an image; 0 on success. */
static int img_read(const char *path, uint8_t **out, const char **why)
{
    *why = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = "cannot open";
        return -1;
    }
    uint8_t *img = malloc(IMG_SIZE + 1u);
    if (!img) {
        fclose(f);
        *why = "out of memory";
        return -1;
    }
    size_t n = fread(img, 1, IMG_SIZE + 1u, f);
    fclose(f);
    if (n < 16 || memcmp(img, IMG_MAGIC, 8) != 0)
        *why = "not an h7sim image (bad magic)";
    else if (get32(img + 8) != IMG_VERSION)
        *why = "unsupported image version";
    else if (n != IMG_SIZE || get32(img + 12) != IMG_HDR)
        *why = "truncated or wrong size";
    else if (get32(img + IMG_SIZE - 4) != h7sim_i_crc32_words(0xFFFFFFFFu, img, IMG_SIZE - 4))
        *why = "checksum mismatch";
    else
        for (unsigned i = 0; i < 2u * H7_WORDS_PER_BANK; i++)
            if (img[IMG_HDR + (i / H7_WORDS_PER_BANK) * IMG_BANK + H7_BANK_SIZE +
                    i % H7_WORDS_PER_BANK] > H7SIM_WORD_ECC_DOUBLE) {
                *why = "invalid word state";
                break;
            }
    if (*why) {
        free(img);
        return -1;
    }
    *out = img;
    return 0;
}

int h7sim_load_ex(struct h7sim *sim, const char *path, const char **why)
{
    const char *w;
    uint8_t *img;
    int rc = img_read(path, &img, &w);
    if (why)
        *why = w;
    if (rc != 0)
        return -1;
    struct h7sim_ob *ob = &sim->ob;
    ob->optsr = get32(img + 16) & ~(FLASH_OPTSR_OPT_BUSY | FLASH_OPTSR_OPTCHANGEERR);
    ob->prar[0] = get32(img + 20);
    ob->prar[1] = get32(img + 24);
    ob->scar[0] = get32(img + 28);
    ob->scar[1] = get32(img + 32);
    ob->wpsn[0] = get32(img + 36) & FLASH_WPSN_WRPSN_Msk;
    ob->wpsn[1] = get32(img + 40) & FLASH_WPSN_WRPSN_Msk;
    ob->boot7 = get32(img + 44);
    ob->boot4 = get32(img + 48);
    for (unsigned pb = 0; pb < 2; pb++) {
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++) {
            const uint8_t *p = img + 56 + 8 * (pb * H7_SECTORS_PER_BANK + s);
            sim->stats.erase_count[pb][s] = (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
        }
        const uint8_t *p = img + IMG_HDR + pb * IMG_BANK;
        memcpy(sim->data[pb], p, H7_BANK_SIZE);
        memcpy(sim->state[pb], p + H7_BANK_SIZE, H7_WORDS_PER_BANK);
    }
    free(img);
    /* A load is a power-on with the loaded contents. */
    sim->off = false;
    for (unsigned pb = 0; pb < 2; pb++) {
        sim->bank[pb].run.valid = false;
        sim->bank[pb].pend.valid = false;
    }
    h7sim_i_power_on(sim);
    if (sim->obs.array_changed)
        sim->obs.array_changed(sim->obs.ctx, H7_FLASH_BASE, H7_FLASH_SIZE);
    h7sim_i_irq_update(sim);
    return 0;
}

int h7sim_load(struct h7sim *sim, const char *path)
{
    return h7sim_load_ex(sim, path, NULL);
}
