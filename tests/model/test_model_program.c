/*
 * h7sim rules: write buffer, programming, programming errors
 * (docs/H7_FLASH.md 3). Each test names the section it checks.
 */
#include "model_helpers.h"

#include <stdlib.h>

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

/* docs/H7_FLASH.md 3.1, 3.2: a full flash word goes WBNE -> QW/BSY -> EOP and
 * lands. */
static void test_program_full_word_3_1(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, sizeof d, 1);
    pg_begin(sim, 1);
    for (unsigned i = 0; i < 28; i += 4) {
        uint32_t v;
        memcpy(&v, d + i, 4);
        wr32(sim, 0x08000000u + i, v);
        assert_int_equal(sr(sim, 1) & (FLASH_SR_WBNE | FLASH_SR_QW | FLASH_SR_BSY), FLASH_SR_WBNE);
    }
    uint32_t v;
    memcpy(&v, d + 28, 4);
    wr32(sim, 0x0800001Cu, v);
    uint32_t s = sr(sim, 1);
    assert_int_equal(s & FLASH_SR_WBNE, 0);
    assert_true(s & FLASH_SR_QW);
    assert_true(s & FLASH_SR_BSY);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    wait_idle(sim, 1);
    assert_true(sr(sim, 1) & FLASH_SR_EOP);
    uint8_t out[32];
    h7sim_peek(sim, 0x08000000u, out, 32);
    assert_memory_equal(out, d, 32);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.2, 8.1: a partial buffer and a driver polling only QW:
 * nothing is programmed (QW is 0 at once), the word stays virgin. */
static void test_partial_buffer_qw_only_leaves_virgin_3_2(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    for (unsigned i = 0; i < 16; i += 4)
        wr32(sim, 0x08000100u + i, 0x11223344u);
    assert_int_equal(sr(sim, 1) & FLASH_SR_QW, 0); /* HAL would think it's done */
    assert_true(sr(sim, 1) & FLASH_SR_WBNE);
    h7sim_advance(sim, 10000000);
    assert_int_equal(h7sim_word_state(sim, 0x08000100u), H7SIM_WORD_VIRGIN);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08000100u, 4, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0xFFFFFFFFu);
    /* The last word of a region appears only after 32 bytes (or FW). */
    for (unsigned i = 16; i < 32; i += 4)
        wr32(sim, 0x08000100u + i, 0x11223344u);
    wait_idle(sim, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08000100u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.4: FW pads the partial word with 0xFF and queues it; FW
 * reads 0. */
static void test_force_write_pads_3_4(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 2);
    wr32(sim, 0x08100040u, 0xA5A5A5A5u);
    wr32(sim, 0x08100044u, 0x5A5A5A5Au);
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_FW);
    assert_int_equal(rd32(sim, REG(2, FLASH_CR)) & FLASH_CR_FW, 0);
    assert_int_equal(sr(sim, 2) & FLASH_SR_WBNE, 0);
    assert_true(sr(sim, 2) & FLASH_SR_QW);
    wait_idle(sim, 2);
    uint8_t out[32], exp[32];
    memset(exp, 0xFF, 32);
    memcpy(exp, "\xA5\xA5\xA5\xA5\x5A\x5A\x5A\x5A", 8);
    h7sim_peek(sim, 0x08100040u, out, 32);
    assert_memory_equal(out, exp, 32);
    /* FW with an empty buffer does nothing (docs/H7_FLASH.md 3.4). */
    uint64_t programs_before;
    struct h7sim_stats st;
    h7sim_get_stats(sim, &st);
    programs_before = st.programs[1];
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_FW);
    assert_int_equal(sr(sim, 2) & FLASH_SR_QW, 0);
    h7sim_get_stats(sim, &st);
    assert_int_equal(st.programs[1], programs_before);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.3: clearing PG discards a partial buffer; logged as a
 * violation. */
static void test_pg_clear_discards_buffer_3_3(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    wr32(sim, 0x08000200u, 0);
    clr_bits(sim, REG(1, FLASH_CR), FLASH_CR_PG);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    h7sim_advance(sim, 1000000);
    assert_int_equal(h7sim_word_state(sim, 0x08000200u), H7SIM_WORD_VIRGIN);
    expect_violation(sim, "pg-clear-discards-buffer");
}

/* docs/H7_FLASH.md 3.3: a store while PG=0 is dropped, PGSERR, no bus error. */
static void test_store_without_pg_pgserr_3_3(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    assert_int_equal(h7sim_write(sim, 0x08000000u, 4, 0, NULL), H7SIM_OK);
    assert_true(sr(sim, 1) & FLASH_SR_PGSERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    expect_violation(sim, "store-pg-clear");
}

/* docs/H7_FLASH.md 8.2.2: after a debugger re-lock (CR = LOCK) a store raises
 * PGSERR and changes nothing; the partly filled buffer is gone. */
static void test_store_after_debugger_relock_8_2(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    for (unsigned i = 0; i < 16; i += 4)
        wr32(sim, 0x08000300u + i, 0);
    h7sim_dbg_relock(sim, 1);
    assert_int_equal(h7sim_violation_count(sim), 0); /* the debugger is no violation */
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)), FLASH_CR_LOCK);
    for (unsigned i = 16; i < 32; i += 4)
        wr32(sim, 0x08000300u + i, 0);
    assert_true(sr(sim, 1) & FLASH_SR_PGSERR);
    h7sim_advance(sim, 1000000);
    assert_int_equal(h7sim_word_state(sim, 0x08000300u), H7SIM_WORD_VIRGIN);
    expect_violation(sim, "store-pg-clear");
    /* HAL's SET_BIT(PG) on a locked CR is ignored (docs/H7_FLASH.md 2.5). */
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_PG);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_PG, 0);
    expect_violation(sim, "cr-write-locked");
}

/* docs/H7_FLASH.md 3.7: a store to another flash word while the buffer is
 * partly filled: INCERR, buffer discarded; further stores PGSERR until
 * cleared. */
static void test_incerr_then_pgserr_3_7(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    wr32(sim, 0x08000400u, 0);
    wr32(sim, 0x08000420u, 0);
    assert_true(sr(sim, 1) & FLASH_SR_INCERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    expect_violation(sim, "incerr");
    wr32(sim, 0x08000420u, 0);
    assert_true(sr(sim, 1) & FLASH_SR_PGSERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_WBNE, 0);
    expect_violation(sim, "store-incerr-pending");
    wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_INCERR | FLASH_CCR_CLR_PGSERR);
    uint8_t d[32];
    fill_pattern(d, 32, 3);
    store_word(sim, 0x08000420u, d);
    wait_idle(sim, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08000400u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x08000420u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.7: a 64-bit store overlapping two flash words is
 * INCERR. */
static void test_store_across_words_incerr_3_7(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    assert_int_equal(h7sim_write(sim, 0x0800001Cu, 8, 0, NULL), H7SIM_OK);
    assert_true(sr(sim, 1) & FLASH_SR_INCERR);
    expect_violation(sim, "incerr");
}

/* docs/H7_FLASH.md 3.7: writing a byte twice: STRBERR, last value kept,
 * continue. */
static void test_strberr_keeps_last_3_7(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    wr32(sim, 0x08000500u, 0x11111111u);
    wr32(sim, 0x08000500u, 0x22222222u);
    assert_true(sr(sim, 1) & FLASH_SR_STRBERR);
    expect_violation(sim, "byte-written-twice");
    for (unsigned i = 4; i < 32; i += 4)
        wr32(sim, 0x08000500u + i, 0x33333333u);
    wait_idle(sim, 1);
    uint32_t v;
    h7sim_peek(sim, 0x08000500u, &v, 4);
    assert_int_equal(v, 0x22222222u);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.1, 8.5: reprogramming a non-virgin word gives double-ECC
 * (default), a bus error on CPU read, DBECCERR + ECC_FA, and a violation. */
static void test_reprogram_double_ecc_3_1(void **state)
{
    struct h7sim *sim = *state;
    uint8_t a[32], b[32];
    fill_pattern(a, 32, 5);
    memset(b, 0, 32);
    program_word(sim, 0x08020040u, a);
    assert_no_violations(sim);
    program_word(sim, 0x08020040u, b);
    expect_violation(sim, "program-non-virgin");
    assert_int_equal(h7sim_word_state(sim, 0x08020040u), H7SIM_WORD_ECC_DOUBLE);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08020044u, 4, &v, NULL), H7SIM_BUSERR);
    assert_true(sr(sim, 1) & FLASH_SR_DBECCERR);
    /* ECC_FA: flash-word index within the bank (docs/H7_FLASH.md 2.10). */
    assert_int_equal(rd32(sim, REG(1, FLASH_ECC_FA)), (0x20040u / 32u));
    expect_violation(sim, "read-double-ecc");
    /* DMA read: flag only, no bus error (docs/H7_FLASH.md 3.8). */
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, 0x08020040u, 4, &v, NULL), H7SIM_OK);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.1 (H743 observation): single-ECC option returns old & new,
 * SNECCERR. */
static void test_reprogram_single_ecc_option_3_1(void **state)
{
    (void)state;
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.reprogram = H7SIM_REPROGRAM_SINGLE_ECC;
    struct h7sim *sim = h7sim_new(&cfg);
    uint8_t a[32], b[32];
    memset(a, 0xC1, 32);
    memset(b, 0xCC, 32);
    program_word(sim, 0x08000000u, a);
    program_word(sim, 0x08000000u, b);
    expect_violation(sim, "program-non-virgin");
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08000000u, 1, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0xC0u);
    assert_true(sr(sim, 1) & FLASH_SR_SNECCERR);
    assert_no_violations(sim);
    h7sim_free(sim);
}

/* docs/H7_FLASH.md 2.7: CCR is write-1-to-clear; ECC_FA resets once both ECC
 * flags are clear; the first failing address is kept while a flag is set. */
static void test_ccr_w1c_ecc_fa_2_7(void **state)
{
    struct h7sim *sim = *state;
    h7sim_flip_bits(sim, 0x08000040u, 1);
    h7sim_flip_bits(sim, 0x08000080u, 3);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08000040u, 4, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0xFFFFFFFFu);
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, 0x08000080u, 4, &v, NULL), H7SIM_OK);
    assert_int_equal(sr(sim, 1) & (FLASH_SR_SNECCERR | FLASH_SR_DBECCERR),
                     FLASH_SR_SNECCERR | FLASH_SR_DBECCERR);
    assert_int_equal(rd32(sim, REG(1, FLASH_ECC_FA)), 2u); /* first one kept */
    wr32(sim, REG(1, FLASH_CCR), 0);                       /* zeros: no effect */
    assert_true(sr(sim, 1) & FLASH_SR_SNECCERR);
    wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_SNECCERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_SNECCERR, 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_ECC_FA)), 2u);
    wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_DBECCERR);
    assert_int_equal(rd32(sim, REG(1, FLASH_ECC_FA)), 0u);
    assert_int_equal(rd32(sim, REG(1, FLASH_CCR)), 0u);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.6: SR is read-only; a write changes nothing and is
 * logged. */
static void test_sr_read_only_2_6(void **state)
{
    struct h7sim *sim = *state;
    h7sim_dbg_set_flags(sim, 1, FLASH_SR_RDSERR);
    wr32(sim, REG(1, FLASH_SR), 0);
    assert_true(sr(sim, 1) & FLASH_SR_RDSERR);
    expect_violation(sim, "write-read-only");
}

/* docs/H7_FLASH.md 3.5: EOP is not set for an operation refused with an error;
 * WRPERR from WPSN (bit = 0 protected, docs/H7_FLASH.md 2.10). */
static void test_wrperr_program_protected_3_7(void **state)
{
    struct h7sim *sim = *state;
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.wpsn[0] &= ~(1u << 2);
    h7sim_set_option_bytes(sim, &ob);
    h7sim_reset(sim);
    uint8_t d[32];
    fill_pattern(d, 32, 9);
    program_word(sim, 0x08040000u, d);
    assert_true(sr(sim, 1) & FLASH_SR_WRPERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_EOP, 0);
    assert_int_equal(h7sim_word_state(sim, 0x08040000u), H7SIM_WORD_VIRGIN);
    expect_violation(sim, "program-write-protected");
    clear_flags(sim, 1);
    program_word(sim, 0x08060000u, d); /* sector 3 not protected */
    assert_true(sr(sim, 1) & FLASH_SR_EOP);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.7: RDPERR/RDSERR/OPERR injectable; OPERR refuses the
 * operation. */
static void test_injected_operr_3_7(void **state)
{
    struct h7sim *sim = *state;
    h7sim_fault_operr_next(sim, 1);
    uint8_t d[32];
    fill_pattern(d, 32, 2);
    program_word(sim, 0x08000000u, d);
    assert_true(sr(sim, 1) & FLASH_SR_OPERR);
    assert_int_equal(sr(sim, 1) & FLASH_SR_EOP, 0);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    h7sim_dbg_set_flags(sim, 1, FLASH_SR_RDPERR | FLASH_SR_RDSERR);
    assert_true(sr(sim, 1) & FLASH_SR_RDPERR);
    assert_true(sr(sim, 1) & FLASH_SR_RDSERR);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.1: any store width fills the buffer (8/16/64-bit
 * stores). */
static void test_store_widths_3_1(void **state)
{
    struct h7sim *sim = *state;
    pg_begin(sim, 1);
    assert_int_equal(h7sim_write(sim, 0x08000600u, 1, 0x01, NULL), H7SIM_OK);
    assert_int_equal(h7sim_write(sim, 0x08000601u, 1, 0x02, NULL), H7SIM_OK);
    assert_int_equal(h7sim_write(sim, 0x08000602u, 2, 0x0403, NULL), H7SIM_OK);
    assert_int_equal(h7sim_write(sim, 0x08000604u, 4, 0x08070605u, NULL), H7SIM_OK);
    for (unsigned i = 8; i < 32; i += 8)
        assert_int_equal(h7sim_write(sim, 0x08000600u + i, 8, 0x1122334455667788ull, NULL),
                         H7SIM_OK);
    wait_idle(sim, 1);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x08000600u, 8, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0x0807060504030201ull);
    assert_no_violations(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_program_full_word_3_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_buffer_qw_only_leaves_virgin_3_2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_force_write_pads_3_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_clear_discards_buffer_3_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_without_pg_pgserr_3_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_after_debugger_relock_8_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incerr_then_pgserr_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_across_words_incerr_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strberr_keeps_last_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reprogram_double_ecc_3_1, setup, teardown),
        cmocka_unit_test(test_reprogram_single_ecc_option_3_1),
        cmocka_unit_test_setup_teardown(test_ccr_w1c_ecc_fa_2_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sr_read_only_2_6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrperr_program_protected_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_operr_3_7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_widths_3_1, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_program", tests, NULL, NULL);
}
