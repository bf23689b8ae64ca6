/*
 * h7sim rules: bus decoding, reset values, keys and locks, erase, timing,
 * stalls, observers (docs/H7_FLASH.md 1, 2, 4, 5.1, 6.1).
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

/* docs/H7_FLASH.md 2.2: reset values of the registers and factory option
 * bytes. */
static void test_reset_values_2_2(void **state)
{
    struct h7sim *sim = *state;
    assert_int_equal(rd32(sim, REG(1, FLASH_ACR)), 0x37u);
    assert_int_equal(rd32(sim, 0x52002100u), 0x37u); /* ACR alias */
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)), 0x31u);
    assert_int_equal(rd32(sim, REG(2, FLASH_CR)), 0x31u);
    assert_int_equal(sr(sim, 1), 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)), FLASH_OPTCR_OPTLOCK);
    uint32_t optsr = rd32(sim, REG(1, FLASH_OPTSR_CUR));
    assert_int_equal((optsr & FLASH_OPTSR_RDP_Msk) >> FLASH_OPTSR_RDP_Pos, 0xAAu);
    assert_true(optsr & FLASH_OPTSR_BCM4);
    assert_true(optsr & FLASH_OPTSR_BCM7);
    assert_true(optsr & FLASH_OPTSR_IWDG1_SW);
    assert_true(optsr & FLASH_OPTSR_IWDG2_SW);
    assert_int_equal(optsr & FLASH_OPTSR_SWAP_BANK_OPT, 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_PRG)), optsr);
    assert_int_equal(rd32(sim, REG(1, FLASH_WPSN_CUR)), 0xFFu);
    assert_int_equal(rd32(sim, REG(2, FLASH_WPSN_CUR)), 0xFFu);
    assert_int_equal(rd32(sim, REG(1, FLASH_PRAR_CUR)), 0xFFu);
    assert_int_equal(rd32(sim, REG(2, FLASH_SCAR_CUR)), 0xFFu);
    assert_int_equal(rd32(sim, REG(1, FLASH_BOOT7_CUR)) & 0xFFFFu, 0x0800u);
    assert_int_equal(rd32(sim, REG(1, FLASH_BOOT4_CUR)) & 0xFFFFu, 0x0810u);
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCCR)), FLASH_CRCCR_RESET);
    assert_int_equal(rd32(sim, REG(1, FLASH_KEYR)), 0);
    /* Erased factory state (docs/H7_FLASH.md 1). */
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x081FFFF8u, 8, &v, NULL), H7SIM_OK);
    assert_int_equal(v, UINT64_MAX);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 1, 2.1: unmapped addresses are bus errors; sub-word register
 * access. */
static void test_bus_decode_2_1(void **state)
{
    struct h7sim *sim = *state;
    uint64_t v;
    assert_int_equal(h7sim_read(sim, 0x07FFFFFCu, 4, &v, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_read(sim, 0x08200000u, 4, &v, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_read(sim, 0x081FFFFCu, 8, &v, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_read(sim, 0x52003000u, 4, &v, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_write(sim, 0x52001FFCu, 4, 0, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_read(sim, 0x08000000u, 3, &v, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_read(sim, REG(1, FLASH_CR), 1, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0x31u);
    assert_int_equal(h7sim_read(sim, REG(1, FLASH_OPTKEYR), 8, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0x31ull << 32); /* OPTKEYR reads 0, then CR */
    assert_int_equal(h7sim_read(sim, REG(1, 0x800), 4, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.4: KEY1, KEY2 unlocks; LOCK=1 relocks; a new sequence
 * unlocks. */
static void test_unlock_relock_2_4(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    assert_true(rd32(sim, REG(2, FLASH_CR)) & FLASH_CR_LOCK); /* independent */
    uint32_t cr = rd32(sim, REG(1, FLASH_CR));
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_LOCK);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)), cr | FLASH_CR_LOCK); /* others unchanged */
    unlock(sim, 1);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.4, 8.2.5: a key written while unlocked: bus error, locked
 * until reset (a correct sequence no longer unlocks). */
static void test_double_unlock_bus_error_2_4(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_KEYR), 4, FLASH_KEY1, NULL), H7SIM_BUSERR);
    assert_true(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_LOCK);
    expect_violation(sim, "double-unlock");
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_KEYR), 4, FLASH_KEY1, NULL), H7SIM_BUSERR);
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_KEYR), 4, FLASH_KEY2, NULL), H7SIM_BUSERR);
    assert_true(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_LOCK);
    expect_violation(sim, "key-while-disabled");
    h7sim_reset(sim);
    unlock(sim, 1);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.4: a wrong key: bus error and locked until reset. */
static void test_wrong_key_2_4(void **state)
{
    struct h7sim *sim = *state;
    wr32(sim, REG(2, FLASH_KEYR), FLASH_KEY1);
    assert_int_equal(h7sim_write(sim, REG(2, FLASH_KEYR), 4, 0x12345678u, NULL), H7SIM_BUSERR);
    expect_violation(sim, "wrong-key");
    assert_int_equal(h7sim_write(sim, REG(2, FLASH_KEYR), 4, FLASH_KEY1, NULL), H7SIM_BUSERR);
    assert_true(rd32(sim, REG(2, FLASH_CR)) & FLASH_CR_LOCK);
    h7sim_violations_clear(sim);
    h7sim_reset(sim);
    unlock(sim, 2);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.1, 2.4: OPTKEYR at 0x008 and 0x108 is one state machine:
 * an unlock through one alias then a key through the other is a double
 * unlock. */
static void test_optkeyr_alias_one_state_machine_2_1(void **state)
{
    struct h7sim *sim = *state;
    wr32(sim, REG(1, FLASH_OPTKEYR), FLASH_OPT_KEY1);
    wr32(sim, REG(2, FLASH_OPTKEYR), FLASH_OPT_KEY2); /* completes the sequence */
    assert_int_equal(rd32(sim, REG(2, FLASH_OPTCR)) & FLASH_OPTCR_OPTLOCK, 0);
    assert_no_violations(sim);
    assert_int_equal(h7sim_write(sim, REG(2, FLASH_OPTKEYR), 4, FLASH_OPT_KEY1, NULL),
                     H7SIM_BUSERR);
    assert_true(rd32(sim, REG(1, FLASH_OPTCR)) & FLASH_OPTCR_OPTLOCK);
    expect_violation(sim, "double-unlock");
}

/* docs/H7_FLASH.md 2.5: CR writes are ignored while locked, except setting
 * LOCK. */
static void test_cr_write_locked_ignored_2_5(void **state)
{
    struct h7sim *sim = *state;
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_LOCK | FLASH_CR_PG | FLASH_CR_EOPIE);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)), 0x31u);
    expect_violation(sim, "cr-write-locked");
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_LOCK); /* HAL_FLASH_Lock on a locked bank */
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 4, 2.5: sector erase with START: START reads 0, QW/BSY for
 * the datasheet time, then EOP and the sector is virgin. */
static void test_sector_erase_4(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, 32, 4);
    program_word(sim, 0x08120000u, d); /* bank 2, sector 1 */
    program_word(sim, 0x08140000u, d); /* bank 2, sector 2 */
    clear_flags(sim, 2);
    uint64_t t0 = h7sim_now(sim);
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR),
         FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (1u << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    assert_int_equal(rd32(sim, REG(2, FLASH_CR)) & FLASH_CR_START, 0);
    assert_int_equal(sr(sim, 2) & (FLASH_SR_QW | FLASH_SR_BSY), FLASH_SR_QW | FLASH_SR_BSY);
    wait_idle(sim, 2);
    uint64_t dt = h7sim_now(sim) - t0;
    assert_true(dt >= 1000000000ull && dt < 1000000000ull + 100000ull);
    assert_true(sr(sim, 2) & FLASH_SR_EOP);
    assert_int_equal(h7sim_word_state(sim, 0x08120000u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x08140000u), H7SIM_WORD_PROGRAMMED);
    struct h7sim_stats st;
    h7sim_get_stats(sim, &st);
    assert_int_equal(st.erase_count[1][1], 1);
    assert_int_equal(st.sector_erases[1], 1);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 4, 2.5: bank erase (BER has priority over SER). */
static void test_bank_erase_4(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, 32, 4);
    program_word(sim, 0x08000000u, d);
    program_word(sim, 0x080E0000u, d);
    program_word(sim, 0x08100000u, d);
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_BER | FLASH_CR_SER | FLASH_CR_START);
    wait_idle(sim, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x080E0000u), H7SIM_WORD_VIRGIN);
    assert_int_equal(h7sim_word_state(sim, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    struct h7sim_stats st;
    h7sim_get_stats(sim, &st);
    assert_int_equal(st.bank_erases[0], 1);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.10, 4: erasing a protected sector, or a bank with one:
 * WRPERR. */
static void test_erase_write_protected_4(void **state)
{
    struct h7sim *sim = *state;
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.wpsn[1] = 0xFEu; /* physical bank 2, sector 0 protected */
    h7sim_set_option_bytes(sim, &ob);
    h7sim_reset(sim);
    uint8_t d[32];
    fill_pattern(d, 32, 4);
    program_word(sim, 0x08140000u, d);
    clear_flags(sim, 2);
    erase_sector(sim, 2, 0);
    assert_true(sr(sim, 2) & FLASH_SR_WRPERR);
    assert_int_equal(sr(sim, 2) & FLASH_SR_EOP, 0);
    expect_violation(sim, "erase-write-protected");
    clear_flags(sim, 2);
    unlock(sim, 2);
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_BER | FLASH_CR_START);
    wait_idle(sim, 2);
    assert_true(sr(sim, 2) & FLASH_SR_WRPERR);
    assert_int_equal(h7sim_word_state(sim, 0x08140000u), H7SIM_WORD_PROGRAMMED);
    expect_violation(sim, "erase-write-protected");
}

/* docs/H7_FLASH.md 6.1: program and erase durations for each PSIZE, typ and
 * max. */
static void test_durations_per_psize_6_1(void **state)
{
    (void)state;
    static const uint64_t prog_us[4] = { 290, 180, 130, 100 };
    static const uint64_t sect_ms[4] = { 2000, 1800, 1100, 1000 };
    for (int timing = 0; timing < 2; timing++) {
        struct h7sim_config cfg;
        h7sim_config_default(&cfg);
        cfg.timing = timing ? H7SIM_TIMING_MAX : H7SIM_TIMING_TYP;
        struct h7sim *sim = h7sim_new(&cfg);
        uint64_t k = timing ? 2 : 1;
        for (unsigned ps = 0; ps < 4; ps++) {
            struct h7sim_durations d;
            h7sim_durations(sim, ps, &d);
            assert_int_equal(d.program_word, k * prog_us[ps] * 1000u);
            assert_int_equal(d.sector_erase, k * sect_ms[ps] * 1000000u);
            /* Measured through the bus: PSIZE in CR when the word is queued. */
            unlock(sim, 1);
            wr32(sim, REG(1, FLASH_CR), (ps << FLASH_CR_PSIZE_Pos) | FLASH_CR_PG);
            uint8_t w[32];
            fill_pattern(w, 32, ps);
            uint32_t addr = 0x08000000u + ps * 32u;
            store_word(sim, addr, w);
            assert_int_equal(h7sim_next_event(sim) - h7sim_now(sim), k * prog_us[ps] * 1000u);
            uint64_t t0 = h7sim_now(sim);
            h7sim_advance(sim, k * prog_us[ps] * 1000u - 1u);
            assert_true(sr(sim, 1) & FLASH_SR_BSY);
            h7sim_advance(sim, 1);
            assert_int_equal(sr(sim, 1) & (FLASH_SR_BSY | FLASH_SR_QW), 0);
            assert_int_equal(h7sim_now(sim) - t0, k * prog_us[ps] * 1000u);
            wr32(sim, REG(1, FLASH_CR),
                 (ps << FLASH_CR_PSIZE_Pos) | FLASH_CR_SER | (7u << FLASH_CR_SNB_Pos) |
                     FLASH_CR_START);
            assert_int_equal(h7sim_next_event(sim) - h7sim_now(sim), k * sect_ms[ps] * 1000000u);
            h7sim_advance(sim, k * sect_ms[ps] * 1000000u);
            assert_int_equal(sr(sim, 1) & FLASH_SR_QW, 0);
        }
        assert_no_violations(sim);
        h7sim_free(sim);
    }
}

/* docs/H7_FLASH.md 5.1: a read of the busy bank stalls until it is idle and
 * reports the stall; a read of the other bank does not stall
 * (read-while-write). */
static void test_read_stalls_busy_bank_only_5_1(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_SER | (3u << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    uint64_t t0 = h7sim_now(sim);
    uint64_t v, st = 12345;
    assert_int_equal(h7sim_read(sim, 0x08100000u, 4, &v, &st), H7SIM_OK);
    assert_int_equal(st, 0);
    assert_int_equal(h7sim_fetch_stall(sim, 0x081FFF00u), 0);
    assert_true(h7sim_bank_busy(sim, 0x08000000u));
    assert_false(h7sim_bank_busy(sim, 0x08100000u));
    /* Register reads do not stall. */
    assert_int_equal(h7sim_read(sim, REG(1, FLASH_SR), 4, &v, &st), H7SIM_OK);
    assert_int_equal(st, 0);
    assert_int_equal(h7sim_read(sim, 0x08000000u, 4, &v, &st), H7SIM_OK);
    assert_int_equal(st, 1000000000ull);
    assert_int_equal(h7sim_now(sim) - t0, 1000000000ull);
    assert_int_equal(sr(sim, 1) & FLASH_SR_BSY, 0);
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.stall_ns[0], 1000000000ull);
    assert_int_equal(s.stall_ns[1], 0);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 3.1, 9: one running + one pending operation; a third is held
 * (the store stalls until a slot frees). QW stays set while anything is
 * queued. */
static void test_queue_depth_and_third_op_stall_9(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_PG);
    uint8_t d[32];
    fill_pattern(d, 32, 1);
    uint64_t st;
    store_word(sim, 0x08000000u, d); /* runs */
    store_word(sim, 0x08000020u, d); /* pending */
    assert_int_equal(sr(sim, 1) & (FLASH_SR_QW | FLASH_SR_BSY), FLASH_SR_QW | FLASH_SR_BSY);
    for (unsigned i = 0; i < 28; i += 4)
        wr32(sim, 0x08000040u + i, 0);
    assert_int_equal(h7sim_write(sim, 0x0800005Cu, 4, 0, &st), H7SIM_OK);
    assert_int_equal(st, 100000u); /* held until the first one finished */
    assert_int_equal(h7sim_word_state(sim, 0x08000000u), H7SIM_WORD_PROGRAMMED);
    wait_idle(sim, 1);
    assert_int_equal(h7sim_word_state(sim, 0x08000040u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* RM0399 4.9.4 (PG bit): programming can be prepared while an erase runs. */
static void test_program_queued_behind_erase_3_1(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR),
         FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (4u << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_PG);
    uint8_t d[32];
    fill_pattern(d, 32, 7);
    uint64_t t0 = h7sim_now(sim);
    store_word(sim, 0x08100000u, d);
    assert_true(sr(sim, 2) & FLASH_SR_QW);
    wait_idle(sim, 2);
    uint64_t dt = h7sim_now(sim) - t0;
    assert_true(dt >= 1000100000ull);
    assert_int_equal(h7sim_word_state(sim, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* h7sim_advance is O(1) when nothing is due; completions happen in time
 * order and next_event reports them. */
static void test_advance_and_next_event(void **state)
{
    struct h7sim *sim = *state;
    assert_int_equal(h7sim_next_event(sim), UINT64_MAX);
    for (unsigned i = 0; i < 1000000; i++)
        h7sim_advance(sim, 100);
    assert_int_equal(h7sim_now(sim), 100000000ull);
    unlock(sim, 1);
    unlock(sim, 2);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X8 | FLASH_CR_SER | FLASH_CR_START);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_SER | FLASH_CR_START);
    assert_int_equal(h7sim_next_event(sim), h7sim_now(sim) + 1000000000ull);
    h7sim_advance(sim, 1500000000ull);
    assert_int_equal(sr(sim, 2) & FLASH_SR_BSY, 0);
    assert_true(sr(sim, 1) & FLASH_SR_BSY);
    h7sim_advance(sim, 500000000ull);
    assert_int_equal(sr(sim, 1) & FLASH_SR_BSY, 0);
    assert_no_violations(sim);
}

struct obs_log {
    unsigned changed;
    uint32_t last_addr, last_len;
    unsigned starts, dones, errors;
    unsigned irq_edges;
    bool irq;
};

static void on_changed(void *ctx, uint32_t addr, uint32_t len)
{
    struct obs_log *l = ctx;
    l->changed++;
    l->last_addr = addr;
    l->last_len = len;
}

static void on_irq(void *ctx, bool level)
{
    struct obs_log *l = ctx;
    l->irq_edges++;
    l->irq = level;
}

static void on_event(void *ctx, const struct h7sim_event *ev)
{
    struct obs_log *l = ctx;
    if (ev->kind == H7SIM_EV_OP_START)
        l->starts++;
    else if (ev->kind == H7SIM_EV_OP_DONE)
        l->dones++;
    else if (ev->kind == H7SIM_EV_OP_ERROR)
        l->errors++;
}

/* Observers: array_changed for every change, events, IRQ = flag & IE
 * (docs/H7_FLASH.md 2.5, 9). */
static void test_observers_and_irq_2_5(void **state)
{
    struct h7sim *sim = *state;
    struct obs_log l;
    memset(&l, 0, sizeof l);
    struct h7sim_observer o = { on_changed, on_irq, on_event, &l };
    h7sim_set_observer(sim, &o);
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_PG | FLASH_CR_EOPIE);
    uint8_t d[32];
    fill_pattern(d, 32, 8);
    store_word(sim, 0x08100020u, d);
    assert_int_equal(l.starts, 1);
    assert_false(h7sim_irq_level(sim));
    wait_idle(sim, 2);
    assert_int_equal(l.dones, 1);
    assert_int_equal(l.changed, 1);
    assert_int_equal(l.last_addr, 0x08100020u);
    assert_int_equal(l.last_len, 32u);
    assert_true(h7sim_irq_level(sim));
    assert_true(l.irq);
    wr32(sim, REG(2, FLASH_CCR), FLASH_CCR_CLR_EOP);
    assert_false(h7sim_irq_level(sim));
    assert_int_equal(l.irq_edges, 2);
    h7sim_backdoor_program(sim, 0x08000000u, d, 5);
    assert_int_equal(l.changed, 2);
    assert_no_violations(sim);
}

/* Back door: whole words, padded with 0xFF, virgin only. */
static void test_backdoor_program(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[40];
    fill_pattern(d, sizeof d, 6);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08000010u, d, sizeof d), 0);
    uint8_t out[64];
    h7sim_peek(sim, 0x08000000u, out, 64);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(out[i], 0xFF);
    assert_memory_equal(out + 16, d, 40);
    for (unsigned i = 56; i < 64; i++)
        assert_int_equal(out[i], 0xFF);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08000020u, d, 4), -1);
    assert_int_equal(h7sim_backdoor_program(sim, 0x081FFFF0u, d, 32), -1);
    h7sim_backdoor_erase_all(sim);
    assert_int_equal(h7sim_word_state(sim, 0x08000020u), H7SIM_WORD_VIRGIN);
    assert_no_violations(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values_2_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_decode_2_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlock_relock_2_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_unlock_bus_error_2_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_2_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optkeyr_alias_one_state_machine_2_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr_write_locked_ignored_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sector_erase_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bank_erase_4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_write_protected_4, setup, teardown),
        cmocka_unit_test(test_durations_per_psize_6_1),
        cmocka_unit_test_setup_teardown(test_read_stalls_busy_bank_only_5_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_depth_and_third_op_stall_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_queued_behind_erase_3_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advance_and_next_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_observers_and_irq_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backdoor_program, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_bus", tests, NULL, NULL);
}
