/*
 * h7sim faults: power cuts (docs/H7_FLASH.md 4, 8.2.3), reset, debugger
 * interventions (8.2), bit flips (3.8), persistence.
 */
#define _POSIX_C_SOURCE 200809L
#include "model_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int setup(void **state)
{
    *state = mk_sim();
    return 0;
}

static int teardown(void **state)
{
    h7sim_free(*state);
    return 0;
}

static struct h7sim *mk_seeded(uint64_t seed)
{
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.seed = seed;
    struct h7sim *sim = h7sim_new(&cfg);
    assert_non_null(sim);
    return sim;
}

/* Program n words from addr, stopping at a power cut; returns words done. */
static unsigned program_until_cut(struct h7sim *sim, uint32_t addr, unsigned n)
{
    unlock(sim, bank_of(addr));
    set_bits(sim, REG(bank_of(addr), FLASH_CR), FLASH_CR_PG);
    uint8_t d[32];
    for (unsigned w = 0; w < n; w++) {
        fill_pattern(d, 32, w);
        for (unsigned i = 0; i < 32; i += 4) {
            uint32_t v;
            memcpy(&v, d + i, 4);
            if (h7sim_write(sim, addr + w * 32u + i, 4, v, NULL) != H7SIM_OK)
                return w;
        }
        uint64_t s;
        do {
            h7sim_advance(sim, 1000);
            uint64_t v;
            if (h7sim_read(sim, REG(bank_of(addr), FLASH_SR), 4, &v, NULL) != H7SIM_OK)
                return w;
            s = v;
        } while (s & (FLASH_SR_QW | FLASH_SR_WBNE));
    }
    return n;
}

/* docs/H7_FLASH.md 4, 8.2.3: a power cut during operation N+1 tears that word
 * (double-ECC); earlier words are intact, later ones virgin; the part is
 * off (bus errors) until reset; the array survives the reset. */
static void test_power_cut_after_ops_tears_word_4(void **state)
{
    struct h7sim *sim = *state;
    h7sim_fault_power_cut_after_ops(sim, 3);
    unsigned done = program_until_cut(sim, 0x08000000u, 10);
    assert_int_equal(done, 3);
    assert_true(h7sim_powered_off(sim));
    uint64_t v;
    assert_int_equal(h7sim_read(sim, REG(1, FLASH_SR), 4, &v, NULL), H7SIM_BUSERR);
    expect_violation(sim, "access-powered-off");
    for (unsigned w = 0; w < 3; w++)
        assert_int_equal(h7sim_word_state(sim, 0x08000000u + 32u * w), H7SIM_WORD_PROGRAMMED);
    assert_int_equal(h7sim_word_state(sim, 0x08000060u), H7SIM_WORD_ECC_DOUBLE);
    assert_int_equal(h7sim_word_state(sim, 0x08000080u), H7SIM_WORD_VIRGIN);
    h7sim_reset(sim);
    assert_false(h7sim_powered_off(sim));
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)), 0x31u);
    assert_int_equal(h7sim_read(sim, 0x08000060u, 4, &v, NULL), H7SIM_BUSERR);
    expect_violation(sim, "read-double-ecc");
    uint8_t d[32], out[32];
    fill_pattern(d, 32, 1);
    h7sim_peek(sim, 0x08000020u, out, 32);
    assert_memory_equal(out, d, 32);
}

/* docs/H7_FLASH.md 4: a power cut at time T during a sector erase leaves the
 * sector torn (a mix, with double-ECC words); other sectors untouched. The
 * result is the same for the same seed. */
static void test_power_cut_at_time_tears_sector_4(void **state)
{
    (void)state;
    uint8_t *img[2];
    for (int run = 0; run < 2; run++) {
        struct h7sim *sim = mk_seeded(42);
        static uint8_t pat[H7_SECTOR_SIZE];
        fill_pattern(pat, sizeof pat, 3);
        pat[0] = 0;
        assert_int_equal(h7sim_backdoor_program(sim, 0x08020000u, pat, sizeof pat), 0);
        assert_int_equal(h7sim_backdoor_program(sim, 0x08040000u, pat, 64), 0);
        h7sim_fault_power_cut_at(sim, h7sim_now(sim) + 500000000ull);
        unlock(sim, 1);
        wr32(sim, REG(1, FLASH_CR),
             FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (1u << FLASH_CR_SNB_Pos) | FLASH_CR_START);
        h7sim_advance(sim, 2000000000ull);
        assert_true(h7sim_powered_off(sim));
        h7sim_violations_clear(sim);
        unsigned n[4] = { 0, 0, 0, 0 };
        for (uint32_t a = 0x08020000u; a < 0x08040000u; a += 32)
            n[h7sim_word_state(sim, a)]++;
        assert_true(n[H7SIM_WORD_ECC_DOUBLE] > 0);
        assert_true(n[H7SIM_WORD_VIRGIN] > 0);
        assert_int_equal(h7sim_word_state(sim, 0x08040000u), H7SIM_WORD_PROGRAMMED);
        img[run] = malloc(H7_SECTOR_SIZE);
        h7sim_peek(sim, 0x08020000u, img[run], H7_SECTOR_SIZE);
        h7sim_free(sim);
    }
    assert_memory_equal(img[0], img[1], H7_SECTOR_SIZE);
    free(img[0]);
    free(img[1]);
}

/* docs/H7_FLASH.md 4: a reset while an erase runs tears it like a power
 * loss. */
static void test_reset_during_erase_tears_4(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR),
         FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (5u << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    h7sim_advance(sim, 1000000);
    h7sim_reset(sim);
    assert_int_equal(sr(sim, 2), 0);
    unsigned bad = 0;
    for (uint32_t a = 0x081A0000u; a < 0x081C0000u; a += 32)
        bad += h7sim_word_state(sim, a) == H7SIM_WORD_ECC_DOUBLE;
    assert_true(bad > 0);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 8.2.1: stale flags written by a debugger stay until CCR
 * clears them. */
static void test_dbg_stale_flags_8_2(void **state)
{
    struct h7sim *sim = *state;
    h7sim_dbg_set_flags(sim, 2,
                        FLASH_SR_RDSERR | FLASH_SR_RDPERR | FLASH_SR_SNECCERR | FLASH_SR_DBECCERR |
                            FLASH_SR_PGSERR | FLASH_SR_INCERR);
    uint32_t s = sr(sim, 2);
    assert_int_equal(s & FLASH_SR_ALL_ERRORS, FLASH_SR_RDSERR | FLASH_SR_RDPERR |
                                                  FLASH_SR_SNECCERR | FLASH_SR_DBECCERR |
                                                  FLASH_SR_PGSERR | FLASH_SR_INCERR);
    /* INCERR pending blocks stores (docs/H7_FLASH.md 3.7). */
    pg_begin(sim, 2);
    wr32(sim, 0x08100000u, 0);
    assert_int_equal(sr(sim, 2) & FLASH_SR_WBNE, 0);
    expect_violation(sim, "store-incerr-pending");
    clear_flags(sim, 2);
    assert_int_equal(sr(sim, 2), 0);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 8.2.4: an abandoned half-filled buffer: the next store to
 * another word is INCERR; clear PG by the debugger discards it without
 * violation. */
static void test_dbg_abandon_buffer_8_2(void **state)
{
    struct h7sim *sim = *state;
    h7sim_dbg_abandon_buffer(sim, 0x08000000u, 12);
    assert_true(sr(sim, 1) & FLASH_SR_WBNE);
    assert_true(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_PG);
    unlock(sim, 1);
    wr32(sim, 0x08000020u, 0);
    assert_true(sr(sim, 1) & FLASH_SR_INCERR);
    expect_violation(sim, "incerr");
    clear_flags(sim, 1);
    h7sim_dbg_abandon_buffer(sim, 0x08000040u, 4);
    h7sim_dbg_clear_pg(sim, 1);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_PG, 0);
    h7sim_advance(sim, 1000000);
    assert_int_equal(h7sim_word_state(sim, 0x08000040u), H7SIM_WORD_VIRGIN);
    assert_no_violations(sim);
    /* Software clearing PG over a debugger's leftovers: the right recovery,
     * not a violation (its own partial word still is one, see
     * test_pg_clear_discards_buffer_3_3). */
    h7sim_dbg_abandon_buffer(sim, 0x08000060u, 7);
    clr_bits(sim, REG(1, FLASH_CR), FLASH_CR_PG);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    assert_no_violations(sim);
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_PG);
    wr32(sim, 0x08000060u, 0);
    clr_bits(sim, REG(1, FLASH_CR), FLASH_CR_PG);
    expect_violation(sim, "pg-clear-discards-buffer");
}

/* docs/H7_FLASH.md 3.8: single flip: corrected data + SNECCERR; double:
 * DBECCERR and a CPU bus error. */
static void test_bit_flips_3_7(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, 32, 4);
    program_word(sim, 0x08100100u, d);
    clear_flags(sim, 2);
    h7sim_flip_bits(sim, 0x08100100u, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08100100u), H7SIM_WORD_ECC_SINGLE);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08100100u, 8, &v, NULL), H7SIM_OK);
    assert_memory_equal(&v, d, 8);
    assert_true(sr(sim, 2) & FLASH_SR_SNECCERR);
    h7sim_flip_bits(sim, 0x08100100u, 2);
    assert_int_equal(h7sim_word_state(sim, 0x08100100u), H7SIM_WORD_ECC_DOUBLE);
    uint8_t out[32];
    h7sim_peek(sim, 0x08100100u, out, 32);
    unsigned diff = 0;
    for (unsigned i = 0; i < 32; i++)
        diff += (unsigned)__builtin_popcount((unsigned)(out[i] ^ d[i]));
    assert_int_equal(diff, 2);
    assert_int_equal(h7sim_read(sim, 0x08100100u, 4, &v, NULL), H7SIM_BUSERR);
    expect_violation(sim, "read-double-ecc");
}

/* Persistence: array data, word states, option bytes and erase counts
 * survive save/load; a missing or corrupt file leaves the model as it was. */
static void test_save_load_round_trip(void **state)
{
    struct h7sim *sim = *state;
    char path[] = "/tmp/h7sim-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t d[32];
    fill_pattern(d, 32, 9);
    program_word(sim, 0x08000000u, d);
    program_word(sim, 0x081FFFE0u, d);
    erase_sector(sim, 2, 3);
    h7sim_flip_bits(sim, 0x08000020u, 1);
    h7sim_flip_bits(sim, 0x08000040u, 2);
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.wpsn[1] = 0x7Fu;
    ob.optsr |= FLASH_OPTSR_SWAP_BANK_OPT;
    h7sim_set_option_bytes(sim, &ob);
    assert_int_equal(h7sim_save(sim, path), 0);

    struct h7sim *b = mk_sim();
    assert_int_equal(h7sim_load(b, path), 0);
    assert_true(h7sim_swapped(b)); /* a load is a power-on */
    static uint8_t x[H7_FLASH_SIZE], y[H7_FLASH_SIZE];
    h7sim_peek(sim, H7_FLASH_BASE, x, sizeof x);
    h7sim_peek(b, H7_FLASH_BASE, y, sizeof y);
    /* b is swapped, sim not yet: compare physical banks. */
    assert_memory_equal(x, y + H7_BANK_SIZE, H7_BANK_SIZE);
    assert_memory_equal(x + H7_BANK_SIZE, y, H7_BANK_SIZE);
    for (uint32_t a = 0; a < H7_BANK_SIZE; a += 32) {
        assert_int_equal(h7sim_word_state(sim, H7_BANK1_BASE + a),
                         h7sim_word_state(b, H7_BANK2_BASE + a));
        assert_int_equal(h7sim_word_state(sim, H7_BANK2_BASE + a),
                         h7sim_word_state(b, H7_BANK1_BASE + a));
    }
    struct h7sim_option_bytes ob2;
    h7sim_get_option_bytes(b, &ob2);
    assert_memory_equal(&ob, &ob2, sizeof ob);
    struct h7sim_stats st;
    h7sim_get_stats(b, &st);
    assert_int_equal(st.erase_count[1][3], 1);

    /* Missing file: -1, model unchanged. */
    assert_int_equal(h7sim_load(b, "/nonexistent/h7sim.img"), -1);
    assert_int_equal(h7sim_word_state(b, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    /* Corrupt file: -1 with a reason. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 1000, SEEK_SET);
    fputc(0x00, f);
    fclose(f);
    const char *why = NULL;
    assert_int_equal(h7sim_load_ex(b, path, &why), -1);
    assert_non_null(why);
    assert_int_equal(h7sim_word_state(b, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    unlink(path);
    assert_no_violations(b);
    h7sim_free(b);
    assert_no_violations(sim);
}

/* Power cut now, events and observers (array_changed for the torn word). */
struct cut_obs {
    unsigned cuts;
    unsigned changes;
};

static void cut_ev(void *ctx, const struct h7sim_event *ev)
{
    if (ev->kind == H7SIM_EV_POWER_CUT)
        ((struct cut_obs *)ctx)->cuts++;
}

static void cut_changed(void *ctx, uint32_t addr, uint32_t len)
{
    (void)addr;
    (void)len;
    ((struct cut_obs *)ctx)->changes++;
}

static void test_power_cut_now_observed_4(void **state)
{
    struct h7sim *sim = *state;
    struct cut_obs o = { 0, 0 };
    struct h7sim_observer obs = { cut_changed, NULL, cut_ev, &o };
    h7sim_set_observer(sim, &obs);
    pg_begin(sim, 1);
    uint8_t d[32];
    fill_pattern(d, 32, 1);
    store_word(sim, 0x08000000u, d);
    h7sim_advance(sim, 50000);
    h7sim_power_cut(sim);
    assert_int_equal(o.cuts, 1);
    assert_int_equal(o.changes, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_ECC_DOUBLE);
    assert_int_equal(h7sim_next_event(sim), UINT64_MAX);
    assert_int_equal(h7sim_write(sim, 0x08000000u, 4, 0, NULL), H7SIM_BUSERR);
    expect_violation(sim, "access-powered-off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_cut_after_ops_tears_word_4, setup, teardown),
        cmocka_unit_test(test_power_cut_at_time_tears_sector_4),
        cmocka_unit_test_setup_teardown(test_reset_during_erase_tears_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbg_stale_flags_8_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbg_abandon_buffer_8_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flips_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_now_observed_4, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_faults", tests, NULL, NULL);
}
