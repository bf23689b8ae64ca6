/*
 * h7sim rules: option bytes, bank swap, mass erase, CRC unit
 * (facts 2.8-2.10, 5.2, 5.3, 4).
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

/* The HAL/OpenOCD option sequence (facts 5.3). */
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

/* Facts 2.8, 5.3: OPTSTART copies _PRG to _CUR after OPT_BUSY; OPTSTART
 * reads 0; register writes are held during the change. */
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

/* Facts 2.8: _PRG writes and OPTCR changes are ignored while OPTLOCK=1. */
static void test_prg_write_optlocked_2_8(void **state)
{
    struct h7sim *sim = *state;
    wr32(sim, REG(1, FLASH_WPSN_PRG), 0x00u);
    assert_int_equal(rd32(sim, REG(1, FLASH_WPSN_PRG)), 0xFFu);
    expect_violation(sim, "prg-write-optlocked");
    wr32(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_OPTLOCK | FLASH_OPTCR_OPTSTART);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTSR_CUR)) & FLASH_OPTSR_OPT_BUSY, 0);
    expect_violation(sim, "optcr-write-optlocked");
    /* _CUR registers are read-only (facts 2.9). */
    wr32(sim, REG(1, FLASH_OPTSR_CUR), 0);
    expect_violation(sim, "write-read-only");
}

/* Facts 5.2: SWAP_BANK_OPT takes effect only at the next reset: then the
 * two 1 MB windows exchange, register set 1 drives the bank mapped at
 * 0x08000000 (inferred) and WPSN stays physical (model choice). */
static void test_swap_only_at_reset_5_2(void **state)
{
    struct h7sim *sim = *state;
    uint8_t a[32], b[32];
    fill_pattern(a, 32, 1);
    fill_pattern(b, 32, 2);
    program_word(sim, 0x08000000u, a);     /* physical bank 1 */
    program_word(sim, 0x08100000u, b);     /* physical bank 2 */
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
    assert_int_equal(s.erase_count[1][0], 1);   /* per physical sector */
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
    program_word(sim, 0x08000020u, c);   /* physical bank 2: not protected */
    assert_int_equal(h7sim_word_state(sim, 0x08000020u), H7SIM_WORD_PROGRAMMED);
    assert_no_violations(sim);
}

/* Facts 2.8, 4: OPTCR.MER erases both banks (tME per bank, in parallel). */
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
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER);   /* HAL: no OB unlock */
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
    /* MER with a locked CR is refused (model choice, facts 2.8 unverified). */
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_LOCK);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER);
    assert_int_equal(sr(sim, 1) & FLASH_SR_QW, 0);
    expect_violation(sim, "mer-locked");
}

/* Facts 2.9, 2.10: OPTCHANGEERR injectable, IRQ with OPTCHANGEERRIE,
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

/* Reference: STM32 CRC peripheral default (poly 0x04C11DB7, init all ones,
 * 32-bit little-endian words fed MSB first, no reflection, no final XOR). */
static uint32_t crc_ref(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                     (uint32_t)p[i + 3] << 24;
        crc ^= w;
        for (int b = 0; b < 32; b++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    return crc;
}

static uint32_t hal_crc(struct h7sim *sim, unsigned bank, uint32_t type, uint8_t sectors,
                        uint32_t start, uint32_t end, uint64_t *busy_ns)
{
    unlock(sim, bank);
    set_bits(sim, REG(bank, FLASH_CR), FLASH_CR_CRC_EN);
    wr32(sim, REG(bank, FLASH_CCR), FLASH_CCR_CLR_CRCEND | FLASH_CCR_CLR_CRCRDERR);
    set_bits(sim, REG(bank, FLASH_CRCCR), FLASH_CRCCR_CLEAN_CRC | type);
    if (type == FLASH_CRCCR_CRC_BY_SECT) {
        for (unsigned s = 0; s < 8; s++)
            if (sectors & (1u << s)) {
                clr_bits(sim, REG(bank, FLASH_CRCCR), FLASH_CRCCR_CRC_SECT_Msk);
                set_bits(sim, REG(bank, FLASH_CRCCR), s | FLASH_CRCCR_ADD_SECT);
            }
    } else if (type == 0) {
        wr32(sim, REG(bank, FLASH_CRCSADD), start);
        wr32(sim, REG(bank, FLASH_CRCEADD), end);
    }
    uint64_t t0 = h7sim_now(sim);
    set_bits(sim, REG(bank, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    assert_true(sr(sim, bank) & FLASH_SR_CRC_BUSY);
    while (sr(sim, bank) & FLASH_SR_CRC_BUSY)
        h7sim_advance(sim, 1000);
    *busy_ns = h7sim_now(sim) - t0;
    assert_true(sr(sim, bank) & FLASH_SR_CRCEND);
    uint32_t r = rd32(sim, REG(bank, FLASH_CRCDATA));
    /* The HAL reads CRCDATA at 0x05C for both banks. */
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCDATA)), r);
    clr_bits(sim, REG(bank, FLASH_CR), FLASH_CR_CRC_EN);
    assert_int_equal(rd32(sim, REG(bank, FLASH_CRCDATA)), bank == 2 ? 0u : r);
    wr32(sim, REG(bank, FLASH_CCR), FLASH_CCR_CLR_CRCEND);
    return r;
}

/* Facts 2.10: the CRC unit over sectors, a whole bank and an address range
 * matches the software reference; its duration is in the clock. */
static void test_crc_matches_reference_2_10(void **state)
{
    struct h7sim *sim = *state;
    static uint8_t img[H7_SECTOR_SIZE * 2];
    fill_pattern(img, sizeof img, 11);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08120000u, img, sizeof img), 0);
    uint64_t busy;
    struct h7sim_durations d;
    h7sim_durations(sim, 3, &d);

    uint32_t r = hal_crc(sim, 2, FLASH_CRCCR_CRC_BY_SECT, 0x06u, 0, 0, &busy);
    assert_int_equal(r, crc_ref(img, sizeof img));
    assert_true(busy >= 2u * H7_WORDS_PER_SECTOR * d.crc_per_word);

    static uint8_t bank[H7_BANK_SIZE];
    h7sim_peek(sim, 0x08100000u, bank, sizeof bank);
    r = hal_crc(sim, 2, FLASH_CRCCR_ALL_BANK | FLASH_CRCCR_CRC_BY_SECT, 0, 0, 0, &busy);
    assert_int_equal(r, crc_ref(bank, sizeof bank));

    /* By address: flash words from CRCSADD to CRCEADD inclusive. */
    r = hal_crc(sim, 2, 0, 0, 0x08120040u, 0x081200A0u, &busy);
    assert_int_equal(r, crc_ref(img + 0x40, 0x80));

    r = hal_crc(sim, 1, FLASH_CRCCR_CRC_BY_SECT, 0x01u, 0, 0, &busy);
    static uint8_t erased[H7_SECTOR_SIZE];
    memset(erased, 0xFF, sizeof erased);
    assert_int_equal(r, crc_ref(erased, sizeof erased));
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.crc_runs, 4);
    assert_no_violations(sim);
}

/* Facts 2.5: CRCCR is configurable only with CRC_EN=1. */
static void test_crccr_needs_crc_en_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    assert_int_equal(sr(sim, 1) & FLASH_SR_CRC_BUSY, 0);
    expect_violation(sim, "crccr-without-crc-en");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_optstart_copies_prg_5_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prg_write_optlocked_2_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_only_at_reset_5_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mass_erase_2_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optchangeerr_2_9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_matches_reference_2_10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crccr_needs_crc_en_2_5, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_options", tests, NULL, NULL);
}
