/*
 * h7sim rules: erase durations measured through the bus (DS12110 Table 53,
 * docs/FLASH_MODEL.md "Time") and the extent of read stalls behind a busy
 * bank (RM0399 "read-while-write", docs/FLASH_MODEL.md "Queues and stalls").
 *
 * Every duration here is observed the way a driver would: write CR (or
 * OPTCR) with START (MER), then poll SR.QW/BSY, or read the array and look
 * at the stall the access took. h7sim_durations() is not used to get the
 * expected values: they are the datasheet rows written out below.
 */
#include "model_helpers.h"

#define MS 1000000ull
#define US 1000ull

/* DS12110 Table 53, typical values, index PSIZE 0..3 = x8, x16, x32, x64.
 * The maximum is twice the typical value in every row. */
static const uint64_t tprog_typ[4] = { 290 * US, 180 * US, 130 * US, 100 * US };
static const uint64_t terase_sector_typ[4] = { 2000 * MS, 1800 * MS, 1100 * MS, 1000 * MS };
static const uint64_t tme_typ[4] = { 13000 * MS, 8000 * MS, 6000 * MS, 5000 * MS };

static struct h7sim *mk_timed(bool max)
{
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.timing = max ? H7SIM_TIMING_MAX : H7SIM_TIMING_TYP;
    struct h7sim *sim = h7sim_new(&cfg);
    assert_non_null(sim);
    return sim;
}

static bool bank_idle(struct h7sim *sim, unsigned bank)
{
    return (sr(sim, bank) & (FLASH_SR_QW | FLASH_SR_BSY)) == 0;
}

static uint32_t bank_base(unsigned bank)
{
    return bank == 1 ? H7_BANK1_BASE : H7_BANK2_BASE;
}

/*
 * Measure the operation the caller just started on bank, three ways:
 *  1. a read of the bank's array right after the start stalls for the
 *     whole operation (the stall is the remaining time, exact);
 *  2. SR polled every millisecond shows QW|BSY until the first poll at or
 *     after the end (all datasheet times are whole milliseconds);
 *  3. (restart) advance by expect - 1 ns: still busy; 1 ns more: idle.
 * start() (re)starts the operation. Returns nothing: asserts.
 */
typedef void (*start_fn)(struct h7sim *sim, unsigned bank, unsigned psize);

static void measure(struct h7sim *sim, unsigned bank, unsigned psize, start_fn start,
                    uint64_t expect)
{
    /* 1. stall of an array read */
    start(sim, bank, psize);
    assert_int_equal(sr(sim, bank) & (FLASH_SR_QW | FLASH_SR_BSY), FLASH_SR_QW | FLASH_SR_BSY);
    uint64_t v, stall = 0;
    assert_int_equal(h7sim_read(sim, bank_base(bank) + 0x40u, 4, &v, &stall), H7SIM_OK);
    assert_int_equal(stall, expect);
    assert_true(bank_idle(sim, bank));
    assert_true(sr(sim, bank) & FLASH_SR_EOP);
    clear_flags(sim, bank);

    /* 2. SR polled every ms */
    start(sim, bank, psize);
    uint64_t t0 = h7sim_now(sim);
    uint64_t polls = 0;
    while (!bank_idle(sim, bank)) {
        h7sim_advance(sim, MS);
        polls++;
        assert_true(polls <= 2u * 26000u);
    }
    assert_int_equal(h7sim_now(sim) - t0, expect);
    assert_int_equal(polls, expect / MS);
    clear_flags(sim, bank);

    /* 3. exact end */
    start(sim, bank, psize);
    h7sim_advance(sim, expect - 1u);
    assert_int_equal(sr(sim, bank) & (FLASH_SR_QW | FLASH_SR_BSY), FLASH_SR_QW | FLASH_SR_BSY);
    assert_int_equal(sr(sim, bank) & FLASH_SR_EOP, 0);
    h7sim_advance(sim, 1);
    assert_true(bank_idle(sim, bank));
    assert_true(sr(sim, bank) & FLASH_SR_EOP);
    clear_flags(sim, bank);
}

/* HAL FLASH_Erase_Sector: one RMW of CR with SER | PSIZE | SNB | START. */
static void start_sector_erase(struct h7sim *sim, unsigned bank, unsigned psize)
{
    unlock(sim, bank);
    uint32_t cr = rd32(sim, REG(bank, FLASH_CR)) & ~(FLASH_CR_PSIZE_Msk | FLASH_CR_SNB_Msk);
    wr32(sim, REG(bank, FLASH_CR),
         cr | FLASH_CR_SER | (psize << FLASH_CR_PSIZE_Pos) | (5u << FLASH_CR_SNB_Pos) |
             FLASH_CR_START);
    assert_int_equal(rd32(sim, REG(bank, FLASH_CR)) & FLASH_CR_START, 0);
}

/* HAL FLASH_MassErase for one bank: PSIZE, then BER | START. */
static void start_bank_erase(struct h7sim *sim, unsigned bank, unsigned psize)
{
    unlock(sim, bank);
    uint32_t cr = rd32(sim, REG(bank, FLASH_CR)) & ~(FLASH_CR_PSIZE_Msk | FLASH_CR_SER);
    wr32(sim, REG(bank, FLASH_CR), cr | (psize << FLASH_CR_PSIZE_Pos));
    set_bits(sim, REG(bank, FLASH_CR), FLASH_CR_BER | FLASH_CR_START);
}

/* HAL FLASH_MassErase for FLASH_BANK_BOTH: PSIZE in CR1 and CR2, then
 * OPTCR |= MER. The bank argument is ignored: both banks erase. */
static void start_mass_erase(struct h7sim *sim, unsigned bank, unsigned psize)
{
    (void)bank;
    for (unsigned b = 1; b <= 2; b++) {
        unlock(sim, b);
        uint32_t cr = rd32(sim, REG(b, FLASH_CR)) & ~(FLASH_CR_PSIZE_Msk | FLASH_CR_BER);
        wr32(sim, REG(b, FLASH_CR), cr | (psize << FLASH_CR_PSIZE_Pos));
    }
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER);
}

/* DS12110 Table 53 tERASE128KB: sector erase at each PSIZE, typ and max,
 * on both register sets. */
static void test_sector_erase_time_ds_table53(void **state)
{
    (void)state;
    for (int max = 0; max < 2; max++) {
        struct h7sim *sim = mk_timed(max);
        for (unsigned bank = 1; bank <= 2; bank++)
            for (unsigned ps = 0; ps < 4; ps++)
                measure(sim, bank, ps, start_sector_erase, (max ? 2u : 1u) * terase_sector_typ[ps]);
        assert_no_violations(sim);
        h7sim_free(sim);
    }
}

/* DS12110 Table 53 tME: bank erase (CR.BER) at each PSIZE, typ and max;
 * the other bank stays readable without a stall (docs/FLASH_MODEL.md:
 * tME is the time of one bank). */
static void test_bank_erase_time_ds_table53(void **state)
{
    (void)state;
    for (int max = 0; max < 2; max++) {
        struct h7sim *sim = mk_timed(max);
        for (unsigned bank = 1; bank <= 2; bank++) {
            for (unsigned ps = 0; ps < 4; ps++) {
                uint64_t expect = (max ? 2u : 1u) * tme_typ[ps];
                measure(sim, bank, ps, start_bank_erase, expect);
                /* The other bank is not touched by BER. */
                start_bank_erase(sim, bank, ps);
                uint64_t v, stall = 1;
                assert_int_equal(h7sim_read(sim, bank_base(3u - bank), 4, &v, &stall), H7SIM_OK);
                assert_int_equal(stall, 0);
                assert_true(bank_idle(sim, 3u - bank));
                h7sim_advance(sim, expect);
                assert_true(bank_idle(sim, bank));
                clear_flags(sim, bank);
            }
        }
        struct h7sim_stats st;
        h7sim_get_stats(sim, &st);
        assert_int_equal(st.bank_erases[0], 4 * 4); /* 3 measured + 1 per PSIZE */
        assert_int_equal(st.bank_erases[1], 4 * 4);
        assert_no_violations(sim);
        h7sim_free(sim);
    }
}

/* DS12110 Table 53 tME: mass erase (OPTCR.MER) at each PSIZE, typ and max:
 * both banks busy for tME at once (docs/FLASH_MODEL.md: MER = both banks in
 * parallel, each for tME with its own PSIZE), not 2 x tME. */
static void test_mass_erase_time_ds_table53(void **state)
{
    (void)state;
    for (int max = 0; max < 2; max++) {
        struct h7sim *sim = mk_timed(max);
        for (unsigned ps = 0; ps < 4; ps++) {
            uint64_t expect = (max ? 2u : 1u) * tme_typ[ps];
            measure(sim, 1, ps, start_mass_erase, expect);
            measure(sim, 2, ps, start_mass_erase, expect);
            /* Both banks end at the same instant. */
            start_mass_erase(sim, 1, ps);
            uint64_t t0 = h7sim_now(sim);
            h7sim_advance(sim, expect - 1u);
            assert_false(bank_idle(sim, 1));
            assert_false(bank_idle(sim, 2));
            h7sim_advance(sim, 1);
            assert_true(bank_idle(sim, 1));
            assert_true(bank_idle(sim, 2));
            assert_int_equal(h7sim_now(sim) - t0, expect);
            clear_flags(sim, 1);
            clear_flags(sim, 2);
        }
        assert_no_violations(sim);
        h7sim_free(sim);
    }
}

/* MER with a different PSIZE per bank: each bank erases for its own tME. */
static void test_mass_erase_psize_per_bank_ds_table53(void **state)
{
    (void)state;
    struct h7sim *sim = mk_timed(false);
    unlock(sim, 1);
    unlock(sim, 2);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X8);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PSIZE_X64);
    set_bits(sim, REG(1, FLASH_OPTCR), FLASH_OPTCR_MER);
    uint64_t v, stall = 0;
    assert_int_equal(h7sim_read(sim, H7_BANK2_BASE, 4, &v, &stall), H7SIM_OK);
    assert_int_equal(stall, tme_typ[3]);
    assert_false(bank_idle(sim, 1));
    assert_int_equal(h7sim_read(sim, H7_BANK1_BASE, 4, &v, &stall), H7SIM_OK);
    assert_int_equal(stall, tme_typ[0] - tme_typ[3]);
    assert_true(bank_idle(sim, 1));
    assert_no_violations(sim);
    h7sim_free(sim);
}

/*
 * RM0399 FLASH_CR.PG ("allows preparing program operations even if a sector
 * or bank erase is ongoing") and read-while-write: a flash word filled while
 * a sector erase runs is queued behind it. A read of that bank is held until
 * the bank is idle: the end of the erase plus the program time. A read of
 * the other bank is not held at all. Exact stall values, each PSIZE, both
 * register sets, CPU read, DMA read and instruction fetch.
 */
static void test_read_stall_erase_then_queued_program_5_1(void **state)
{
    (void)state;
    for (int max = 0; max < 2; max++) {
        struct h7sim *sim = mk_timed(max);
        uint64_t k = max ? 2u : 1u;
        unsigned n = 0;
        for (unsigned bank = 1; bank <= 2; bank++) {
            for (unsigned ps = 0; ps < 4; ps++) {
                for (unsigned how = 0; how < 3; how++, n++) {
                    uint32_t base = bank_base(bank);
                    uint32_t word = base + 6u * H7_SECTOR_SIZE + n * H7_FLASH_WORD;
                    start_sector_erase(sim, bank, ps); /* sector 5 */
                    uint64_t t_erase = h7sim_now(sim);
                    h7sim_advance(sim, 200 * MS);
                    /* PSIZE for the program differs from the erase's. */
                    unsigned pps = 3u - ps;
                    wr32(sim, REG(bank, FLASH_CR), (pps << FLASH_CR_PSIZE_Pos) | FLASH_CR_PG);
                    uint8_t d[32];
                    fill_pattern(d, sizeof d, n);
                    store_word(sim, word, d);
                    assert_int_equal(sr(sim, bank) & (FLASH_SR_QW | FLASH_SR_BSY | FLASH_SR_WBNE),
                                     FLASH_SR_QW | FLASH_SR_BSY);
                    h7sim_advance(sim, 100 * MS);
                    uint64_t erase_left = t_erase + k * terase_sector_typ[ps] - h7sim_now(sim);
                    uint64_t expect = erase_left + k * tprog_typ[pps];

                    /* The other bank: no stall, both for data and fetches. */
                    uint64_t v, stall = 1;
                    uint32_t other = bank_base(3u - bank) + 0x1000u;
                    assert_int_equal(h7sim_read(sim, other, 4, &v, &stall), H7SIM_OK);
                    assert_int_equal(stall, 0);
                    assert_int_equal(h7sim_fetch_stall(sim, other), 0);
                    stall = 1;
                    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, other, 8, &v, &stall),
                                     H7SIM_OK);
                    assert_int_equal(stall, 0);

                    /* The busy bank: held until the queued program is done. */
                    uint64_t t_read = h7sim_now(sim);
                    uint32_t a = base + 0x2000u; /* sector 0, untouched */
                    stall = 0;
                    if (how == 0) {
                        assert_int_equal(h7sim_read(sim, a, 4, &v, &stall), H7SIM_OK);
                    } else if (how == 1) {
                        assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, a, 2, &v, &stall),
                                         H7SIM_OK);
                    } else {
                        stall = h7sim_fetch_stall(sim, a);
                    }
                    assert_int_equal(stall, expect);
                    assert_int_equal(h7sim_now(sim) - t_read, expect);
                    assert_true(bank_idle(sim, bank));
                    assert_int_equal(h7sim_word_state(sim, word), H7SIM_WORD_PROGRAMMED);
                    /* Idle now: the next read is not held. */
                    stall = 1;
                    assert_int_equal(h7sim_read(sim, word, 4, &v, &stall), H7SIM_OK);
                    assert_int_equal(stall, 0);
                    clr_bits(sim, REG(bank, FLASH_CR), FLASH_CR_PG);
                    clear_flags(sim, bank);
                }
            }
        }
        struct h7sim_stats st;
        h7sim_get_stats(sim, &st);
        assert_int_equal(st.stall_ns[0] > 0, 1);
        assert_int_equal(st.stall_ns[1] > 0, 1);
        assert_no_violations(sim);
        h7sim_free(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sector_erase_time_ds_table53),
        cmocka_unit_test(test_bank_erase_time_ds_table53),
        cmocka_unit_test(test_mass_erase_time_ds_table53),
        cmocka_unit_test(test_mass_erase_psize_per_bank_ds_table53),
        cmocka_unit_test(test_read_stall_erase_then_queued_program_5_1),
    };
    return cmocka_run_group_tests_name("model_timing", tests, NULL, NULL);
}
