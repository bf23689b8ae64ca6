/*
 * h7sim rules: option bytes, bank swap, mass erase, CRC unit
 * (docs/H7_FLASH.md 2.8-2.10, 5.2, 5.3, 4).
 */
#include "model_helpers.h"

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

static void wait_opt(struct h7sim *sim)
{
    unsigned n = 0;
    while (rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPT_BUSY) {
        h7sim_advance(sim, 1000000);
        assert_true(++n < 100000u);
    }
}

/* The HAL/OpenOCD option sequence (docs/H7_FLASH.md 5.3). */
static void option_change(struct h7sim *sim, uint32_t off, uint32_t clr, uint32_t set)
{
    opt_unlock(sim);
    uint32_t v = rd32(sim, REG(1, off));
    wr32(sim, REG(1, off), (v & ~clr) | set);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTSTART);
    wait_opt(sim);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPTCHANGEERR, 0);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTLOCK);
}

/* docs/H7_FLASH.md 2.8, 5.3: OPTSTART copies _PRG to _CUR after OPT_BUSY;
 * OPTSTART reads 0; register writes are held during the change. */
static void test_optstart_copies_prg_5_3(void **state)
{
    struct h7sim *sim = *state;
    opt_unlock(sim);
    uint32_t boot = rd32(sim, REG(1, FLASH_BOOT7_PRG));
    wr32(sim, REG(1, FLASH_BOOT7_PRG), (boot & ~0xFFFFu) | 0x0804u);
    wr32(sim, REG(2, FLASH_WPSN_PRG), 0x7Fu);
    assert_int_equal(rd32(sim, REG(1, FLASH_BOOT7_CUR)) & 0xFFFFu, 0x0800u);
    uint64_t t0 = h7sim_now(sim);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTSTART);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_OPTSTART, 0);
    assert_true(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPT_BUSY);
    struct h7sim_durations d;
    h7sim_durations(sim, 3, &d);
    uint64_t st;
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_CCR), 4, 0, &st), H7SIM_OK);
    assert_int_equal(st, d.option_change);
    assert_int_equal(h7sim_now(sim) - t0, d.option_change);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPT_BUSY, 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_BOOT7_CUR)) & 0xFFFFu, 0x0804u);
    assert_int_equal(rd32(sim, REG(2, FLASH_WPSN_CUR)), 0x7Fu);
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.option_changes, 1);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.8: _PRG writes and OPTCR changes are ignored while
 * OPTLOCK=1. */
static void test_prg_write_optlocked_2_8(void **state)
{
    struct h7sim *sim = *state;
    wr32(sim, REG(1, FLASH_WPSN_PRG), 0x00u);
    assert_int_equal(rd32(sim, REG(1, FLASH_WPSN_PRG)), 0xFFu);
    expect_violation(sim, "prg-write-optlocked");
    wr32(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTLOCK | FLASH_OPTCR_OPTSTART);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPT_BUSY, 0);
    expect_violation(sim, "optcr-write-optlocked");
    /* _CUR registers are read-only (docs/H7_FLASH.md 2.9). */
    wr32(sim, REG(1, FLASH_OPTSR_CUR), 0);
    expect_violation(sim, "write-read-only");
}

/* docs/H7_FLASH.md 5.2: SWAP_BANK_OPT takes effect only at the next reset: then
 * the two 1 MB windows exchange, register set 1 drives the bank mapped at
 * 0x08000000 (inferred) and WPSN stays physical (model choice). */
static void test_swap_only_at_reset_5_2(void **state)
{
    struct h7sim *sim = *state;
    uint8_t a[32], b[32];
    fill_pattern(a, 32, 1);
    fill_pattern(b, 32, 2);
    program_word(sim, 0x08000000u, a); /* physical bank 1 */
    program_word(sim, 0x08100000u, b); /* physical bank 2 */
    option_change(sim, FLASH_OPTSR_PRG, 0, FLASH_OPTSR_SWAP_BANK_OPT);
    assert_true(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_SWAP_BANK_OPT);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_SWAP_BANK, 0);
    assert_false(h7sim_swapped(sim));
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08000000u, 4, &v, NULL), H7SIM_OK);
    assert_memory_equal(&v, a, 4);

    h7sim_reset(sim);
    assert_true(h7sim_swapped(sim));
    assert_true(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_SWAP_BANK);
    assert_int_equal(h7sim_read(sim, 0x08000000u, 4, &v, NULL), H7SIM_OK);
    assert_memory_equal(&v, b, 4);
    assert_int_equal(h7sim_read(sim, 0x08100000u, 4, &v, NULL), H7SIM_OK);
    assert_memory_equal(&v, a, 4);
    /* Register set 1 erases the bank at 0x08000000 (physical bank 2). */
    clear_flags(sim, 1);
    erase_sector(sim, 1, 0);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.erase_count[1][0], 1); /* per physical sector */
    /* WPSN1 protects physical bank 1, now at 0x08100000. */
    option_change(sim, FLASH_WPSN_PRG, 0x01u, 0);
    h7sim_reset(sim);
    clear_flags(sim, 2);
    erase_sector(sim, 2, 0);
    assert_true(sr(sim, 2) & FLASH_SR_WRPERR);
    expect_violation(sim, "erase-write-protected");
    clear_flags(sim, 1);
    uint8_t c[32];
    fill_pattern(c, 32, 3);
    program_word(sim, 0x08000020u, c); /* physical bank 2: not protected */
    assert_int_equal(h7sim_word_state(sim, 0x08000020u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.8, 4: OPTCR.MER erases both banks (tME per bank, in
 * parallel). */
static void test_mass_erase_2_8(void **state)
{
    struct h7sim *sim = *state;
    uint8_t a[32];
    fill_pattern(a, 32, 1);
    program_word(sim, 0x08000000u, a);
    program_word(sim, 0x081FFFE0u, a);
    unlock(sim, 1);
    unlock(sim, 2);
    uint64_t t0 = h7sim_now(sim);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER); /* HAL: no OB unlock */
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_MER, 0);
    assert_true(sr(sim, 1) & FLASH_SR_QW);
    assert_true(sr(sim, 2) & FLASH_SR_QW);
    wait_idle(sim, 1);
    wait_idle(sim, 2);
    struct h7sim_durations d;
    h7sim_durations(sim, 3, &d);
    assert_true(h7sim_now(sim) - t0 >= d.mass_erase);
    assert_true(h7sim_now(sim) - t0 < d.mass_erase + 10000u);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x081FFFE0u), H7SIM_WORD_VIRGIN);
    assert_no_violations(sim);
    /* MER with a locked CR is refused (model choice, docs/H7_FLASH.md 2.8). */
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_LOCK);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER);
    assert_int_equal(sr(sim, 1) & FLASH_SR_QW, 0);
    expect_violation(sim, "mer-locked");
}

/* docs/H7_FLASH.md 2.9, 2.10: OPTCHANGEERR injectable, IRQ with OPTCHANGEERRIE,
 * cleared by OPTCCR; option bytes unchanged. */
static void test_optchangeerr_2_9(void **state)
{
    struct h7sim *sim = *state;
    h7sim_fault_optchangeerr_next(sim);
    opt_unlock(sim);
    wr32(sim, REG(1, FLASH_WPSN_PRG), 0x00u);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTCHANGEERRIE | FLASH_OPTCR_OPTSTART);
    wait_opt(sim);
    assert_true(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPTCHANGEERR);
    assert_int_equal(rd32(sim, REG(1, FLASH_WPSN_CUR)), 0xFFu);
    assert_true(h7sim_irq_level(sim));
    wr32(sim, REG(1, FLASH_OPTCCR), FLASH_OPTCCR_CLR_OPTCHANGEERR);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPTCHANGEERR, 0);
    assert_false(h7sim_irq_level(sim));
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.5: CRCCR is configurable only with CRC_EN=1. */
static void test_crccr_needs_crc_en_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    assert_int_equal(sr(sim, 1) & FLASH_SR_CRC_BUSY, 0);
    expect_violation(sim, "crccr-without-crc-en");
}

/* docs/H7_FLASH.md 5.3 (decision): a power cut during an option change
 * leaves all the old option bytes or all the new ones, the seed draws
 * which; h7sim_fault_power_cut_after_ops counts the change. */
static void test_option_cut_old_or_new_5_3(void **state)
{
    unsigned old_seen = 0, new_seen = 0;
    (void)state;
    for (uint64_t seed = 1; seed <= 32; seed++) {
        struct h7sim_config cfg;
        struct h7sim *sim;
        uint32_t wpsn0, sr, wpsn;

        h7sim_config_default(&cfg);
        cfg.seed = seed;
        sim = h7sim_new(&cfg);
        assert_non_null(sim);
        wpsn0 = rd32(sim, REG(1, FLASH_WPSN_CUR));
        opt_unlock(sim);
        wr32(sim, REG(1, FLASH_OPTSR_PRG),
             rd32(sim, REG(1, FLASH_OPTSR_PRG)) | FLASH_OPTSR_SWAP_BANK_OPT);
        wr32(sim, REG(1, FLASH_WPSN_PRG), wpsn0 & ~1u);
        h7sim_fault_power_cut_after_ops(sim, 0);
        set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTSTART);
        h7sim_advance(sim, 200000000ull);
        assert_true(h7sim_powered_off(sim));
        h7sim_reset(sim);
        sr = rd32(sim, REG(1, FLASH_OPTSR_CUR));
        wpsn = rd32(sim, REG(1, FLASH_WPSN_CUR));
        if (sr & FLASH_OPTSR_SWAP_BANK_OPT) {
            assert_int_equal(wpsn, wpsn0 & ~1u);
            assert_true(h7sim_swapped(sim));
            new_seen++;
        } else {
            assert_int_equal(wpsn, wpsn0);
            assert_false(h7sim_swapped(sim));
            old_seen++;
        }
        h7sim_free(sim);
    }
    assert_true(old_seen > 0);
    assert_true(new_seen > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_optstart_copies_prg_5_3, setup, teardown),
        cmocka_unit_test(test_option_cut_old_or_new_5_3),
        cmocka_unit_test_setup_teardown(test_prg_write_optlocked_2_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_only_at_reset_5_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mass_erase_2_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optchangeerr_2_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crccr_needs_crc_en_2_5, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_options", tests, NULL, NULL);
}
