/*
 * Helpers for the h7sim rule tests: bus shorthands that assert the bus
 * answer, the unlock and program sequences a correct driver performs, and
 * the violation-log check every correct test ends with.
 */
#ifndef MODEL_HELPERS_H
#define MODEL_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h7sim.h"
#include "stm32h7/flash.h"

#define REG(bank, off) H7_FLASH_REG((bank), (off))

static inline struct h7sim *mk_sim(void)
{
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    struct h7sim *sim = h7sim_new(&cfg);
    assert_non_null(sim);
    return sim;
}

static inline uint32_t rd32(struct h7sim *sim, uint32_t addr)
{
    uint64_t v = 0;
    assert_int_equal(h7sim_read(sim, addr, 4, &v, NULL), H7SIM_OK);
    return (uint32_t)v;
}

static inline void wr32(struct h7sim *sim, uint32_t addr, uint32_t v)
{
    assert_int_equal(h7sim_write(sim, addr, 4, v, NULL), H7SIM_OK);
}

static inline void set_bits(struct h7sim *sim, uint32_t addr, uint32_t bits)
{
    wr32(sim, addr, rd32(sim, addr) | bits);
}

static inline void clr_bits(struct h7sim *sim, uint32_t addr, uint32_t bits)
{
    wr32(sim, addr, rd32(sim, addr) & ~bits);
}

static inline void unlock(struct h7sim *sim, unsigned bank)
{
    if (rd32(sim, REG(bank, FLASH_CR)) & FLASH_CR_LOCK) {
        wr32(sim, REG(bank, FLASH_KEYR), FLASH_KEY1);
        wr32(sim, REG(bank, FLASH_KEYR), FLASH_KEY2);
    }
    assert_int_equal(rd32(sim, REG(bank, FLASH_CR)) & FLASH_CR_LOCK, 0);
}

/* Unlocked, PG set: the bank takes stores into its write buffer. */
static inline void pg_begin(struct h7sim *sim, unsigned bank)
{
    unlock(sim, bank);
    set_bits(sim, REG(bank, FLASH_CR), FLASH_CR_PG);
}

static inline void opt_unlock(struct h7sim *sim)
{
    if (rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_OPTLOCK) {
        wr32(sim, REG(1, FLASH_OPTKEYR), FLASH_OPT_KEY1);
        wr32(sim, REG(1, FLASH_OPTKEYR), FLASH_OPT_KEY2);
    }
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_OPTLOCK, 0);
}

/* Poll SR like a careful driver (WBNE|QW|BSY), 1 us per poll. Returns the
 * number of polls. */
static inline unsigned wait_idle(struct h7sim *sim, unsigned bank)
{
    unsigned n = 0;
    while (rd32(sim, REG(bank, FLASH_SR)) & (FLASH_SR_WBNE | FLASH_SR_QW | FLASH_SR_BSY)) {
        h7sim_advance(sim, 1000);
        n++;
        assert_true(n < 100000000u);
    }
    return n;
}

static inline unsigned bank_of(uint32_t addr)
{
    return addr < H7_BANK2_BASE ? 1u : 2u;
}

/* Store 32 bytes with 32-bit stores (PG must be set). */
static inline void store_word(struct h7sim *sim, uint32_t addr, const uint8_t *data)
{
    for (unsigned i = 0; i < H7_FLASH_WORD; i += 4) {
        uint32_t v;
        memcpy(&v, data + i, 4);
        wr32(sim, addr + i, v);
    }
}

/* The correct single write sequence (docs/H7_FLASH.md 3.1): unlock, PG, 32
 * bytes, wait, PG off. */
static inline void program_word(struct h7sim *sim, uint32_t addr, const uint8_t *data)
{
    unsigned bank = bank_of(addr);
    pg_begin(sim, bank);
    store_word(sim, addr, data);
    wait_idle(sim, bank);
    clr_bits(sim, REG(bank, FLASH_CR), FLASH_CR_PG);
}

static inline void erase_sector(struct h7sim *sim, unsigned bank, unsigned sector)
{
    unlock(sim, bank);
    uint32_t cr = rd32(sim, REG(bank, FLASH_CR)) & ~(FLASH_CR_SNB_Msk);
    wr32(sim, REG(bank, FLASH_CR),
         cr | FLASH_CR_SER | (sector << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    wait_idle(sim, bank);
    clr_bits(sim, REG(bank, FLASH_CR), FLASH_CR_SER | FLASH_CR_SNB_Msk);
}

static inline void fill_pattern(uint8_t *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

static inline void assert_no_violations(struct h7sim *sim)
{
    if (h7sim_violation_count(sim) != 0) {
        h7sim_violations_print(sim, stderr);
        fail_msg("unexpected violations: %zu", h7sim_violation_count(sim));
    }
}

/* Assert that the log holds rule (at least once), then clear the log. */
static inline void expect_violation(struct h7sim *sim, const char *rule)
{
    size_t n = h7sim_violation_count(sim);
    for (size_t i = 0; i < n; i++)
        if (strcmp(h7sim_violation_get(sim, i)->rule, rule) == 0) {
            h7sim_violations_clear(sim);
            return;
        }
    h7sim_violations_print(sim, stderr);
    fail_msg("expected violation %s not in the log", rule);
}

static inline uint32_t sr(struct h7sim *sim, unsigned bank)
{
    return rd32(sim, REG(bank, FLASH_SR));
}

static inline void clear_flags(struct h7sim *sim, unsigned bank)
{
    wr32(sim, REG(bank, FLASH_CCR), FLASH_CCR_CLR_ALL);
}

#endif /* MODEL_HELPERS_H */
