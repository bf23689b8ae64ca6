/*
 * Recovery after debugger interventions and power cuts (docs/H7_FLASH.md
 * 8.2): after each injected event between two writes, the next write
 * succeeds and the data is right; errors surface and nothing is corrupted.
 */
#include "drv_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum intervention {
    IV_RELOCK,        /* CR = LOCK, as OpenOCD leaves it */
    IV_FLAGS,         /* a stale SR flag (parameter: the flag) */
    IV_ABANDON_OTHER, /* partial buffer left in another flash word */
    IV_ABANDON_SAME,  /* partial buffer left in the word we write next */
    IV_CLEAR_PG,      /* PG cleared */
    IV_INCERR,        /* INCERR pending: every store would be PGSERR */
};

static const char *iv_name(enum intervention iv)
{
    static const char *names[] = { "relock",
                                   "stale flag",
                                   "abandoned buffer (other word)",
                                   "abandoned buffer (same word)",
                                   "PG cleared",
                                   "pending INCERR" };
    return names[iv];
}

/*
 * One writer session of len bytes at start with chunk 1000: the first half
 * is written, the intervention hits the bank of the next word (both banks
 * when `both`), the second half is written, finish. Then the data, the
 * tail and the violation log (except the expected discard of an abandoned
 * buffer) are checked.
 */
static void run_flags(enum intervention iv, uint32_t flag, uint32_t start, uint32_t len,
                      uint32_t wflags)
{
    struct fx x;
    struct h7f_writer w;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    fx_pattern(data, len, iv * 131u + flag);
    fx_open(&x);
    assert_int_equal(h7f_writer_open(&w, &x.f, start, len, wflags), H7F_OK);
    uint32_t half = len / 2u + 5u; /* leaves a partial word in the writer */
    assert_int_equal(h7f_writer_write(&w, data, half), H7F_OK);

    uint32_t next_word = (start + half) & ~31u;
    unsigned bank = next_word >= H7_BANK2_BASE ? 2u : 1u;
    switch (iv) {
    case IV_RELOCK:
        h7sim_dbg_relock(x.sim, 1);
        h7sim_dbg_relock(x.sim, 2);
        break;
    case IV_FLAGS:
        h7sim_dbg_set_flags(x.sim, 1, flag);
        h7sim_dbg_set_flags(x.sim, 2, flag);
        break;
    case IV_ABANDON_OTHER: h7sim_dbg_abandon_buffer(x.sim, next_word + 0x4000u, 5); break;
    case IV_ABANDON_SAME: h7sim_dbg_abandon_buffer(x.sim, next_word, 31); break;
    case IV_CLEAR_PG: h7sim_dbg_clear_pg(x.sim, bank); break;
    case IV_INCERR: h7sim_dbg_set_flags(x.sim, bank, FLASH_SR_INCERR | FLASH_SR_PGSERR); break;
    }
    int err = h7f_writer_write(&w, data + half, len - half);
    if (!err)
        err = h7f_writer_finish(&w);
    if (err)
        fail_msg("after %s (flag 0x%08x, writer flags %u): %s at 0x%08x", iv_name(iv),
                 (unsigned)flag, (unsigned)wflags, h7f_strerror(err),
                 (unsigned)h7f_writer_report(&w)->err_addr);
    fx_assert_written(&x, start, data, len);
    /* docs/H7_FLASH.md 3.3: discarding a loader's partial buffer (clearing PG)
     * is the only way to a clean buffer; the model does not count the loss of a
     * debugger's leftovers as a violation, so the log must stay empty. */
    fx_close_clean(&x);
    free(data);
}

/* Each intervention with lazy erase, and with H7F_WR_ERASE_AHEAD (across
 * the bank boundary the intervention then hits bank 2 while its erase runs
 * in the background). */
static void run(enum intervention iv, uint32_t flag, uint32_t start, uint32_t len)
{
    run_flags(iv, flag, start, len, 0);
    run_flags(iv, flag, start, len, H7F_WR_ERASE_AHEAD);
}

static const uint32_t all_flags[] = {
    FLASH_SR_EOP,    FLASH_SR_WRPERR,   FLASH_SR_PGSERR,    FLASH_SR_STRBERR,  FLASH_SR_INCERR,
    FLASH_SR_OPERR,  FLASH_SR_RDPERR,   FLASH_SR_RDSERR,    FLASH_SR_SNECCERR, FLASH_SR_DBECCERR,
    FLASH_SR_CRCEND, FLASH_SR_CRCRDERR, FLASH_SR_ALL_FLAGS,
};

/* In bank 1, and across the bank boundary into bank 2. */
static const uint32_t starts[] = { WRITE_START + 0x20000u, H7_BANK2_BASE - 0x400u };

static void test_relock(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        run(IV_RELOCK, 0, starts[s], 0x800);
}

static void test_stale_flags(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < sizeof all_flags / sizeof all_flags[0]; i++)
            run(IV_FLAGS, all_flags[i], starts[s], 0x800);
}

static void test_abandoned_buffer(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        run(IV_ABANDON_OTHER, 0, starts[s], 0x800);
        run(IV_ABANDON_SAME, 0, starts[s], 0x800);
    }
}

static void test_pg_cleared(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        run(IV_CLEAR_PG, 0, starts[s], 0x800);
}

static void test_pending_incerr(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        run(IV_INCERR, 0, starts[s], 0x800);
}

/* Stale flags injected before each of the low-level calls. */
static void test_stale_flags_lowlevel(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 9);
    for (size_t i = 0; i < sizeof all_flags / sizeof all_flags[0]; i++) {
        h7sim_dbg_set_flags(x->sim, 1, all_flags[i]);
        assert_int_equal(h7f_erase_sector(&x->f, WRITE_START + 0x40000u), H7F_OK);
        h7sim_dbg_set_flags(x->sim, 1, all_flags[i]);
        h7sim_dbg_relock(x->sim, 1);
        assert_int_equal(h7f_program_word(&x->f, WRITE_START + 0x40000u + 32u * i, d), H7F_OK);
    }
}

/*
 * Power cut in the middle of a sector: the writer reports an error; after
 * the reset a blank check (H7F_WR_NO_ERASE open) finds the torn words, and
 * a normal open erases the sector and writes everything correctly.
 */
static void test_power_cut(void **state)
{
    (void)state;
    const uint32_t start = WRITE_START + 2u * H7_SECTOR_SIZE;
    const uint32_t len = 3000u * 32u + 17u;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    fx_pattern(data, len, 77);
    for (uint64_t cut = 1; cut < 3000; cut += 997) {
        struct fx x;
        struct h7f_writer w;
        fx_open(&x);
        /* op 0 is the sector erase, ops 1.. the words. */
        h7sim_fault_power_cut_after_ops(x.sim, cut);
        int err = fx_stream(&x, &w, start, data, len, len, 0, 1000, 3);
        assert_true(err != H7F_OK);
        assert_true(h7sim_powered_off(x.sim));
        h7sim_reset(x.sim);
        h7sim_violations_clear(x.sim);
        h7f_port_attach(x.sim);

        /* The torn word is found before anything is written over it. */
        err = h7f_writer_open(&w, &x.f, start, len, H7F_WR_NO_ERASE);
        assert_true(err == H7F_E_NOT_VIRGIN || err == H7F_E_DBECCERR || err == H7F_E_SNECCERR);
        h7sim_violations_clear(x.sim); /* a CPU read of a double-ECC word */
        h7f_port_attach(x.sim);

        err = fx_stream(&x, &w, start, data, len, len, 0, 1024, 4);
        if (err)
            fail_msg("cut %llu: rewrite failed: %s at 0x%08x", (unsigned long long)cut,
                     h7f_strerror(err), (unsigned)h7f_writer_report(&w)->err_addr);
        fx_assert_written(&x, start, data, len);
        fx_close_clean(&x);
    }
    /* A cut during the erase itself. */
    struct fx x;
    struct h7f_writer w;
    fx_open(&x);
    h7sim_fault_power_cut_after_ops(x.sim, 0);
    assert_true(fx_stream(&x, &w, start, data, len, len, 0, 1000, 3) != H7F_OK);
    h7sim_reset(x.sim);
    h7sim_violations_clear(x.sim);
    h7f_port_attach(x.sim);
    assert_int_equal(fx_stream(&x, &w, start, data, len, len, 0, 1024, 4), H7F_OK);
    fx_assert_written(&x, start, data, len);
    fx_close_clean(&x);
    free(data);
}

/* ---- interventions in the middle of an operation -------------------------- */

enum mid {
    MID_RELOCK_AFTER_BEGIN, /* re-locked after the driver unlocked and cleared flags */
    MID_CLEAR_PG_AFTER_SET, /* PG cleared right after the driver set it */
    MID_RELOCK_AFTER_PG,    /* re-locked right after the driver set PG */
    MID_RDSERR_DURING,      /* speculative RDSERR while the word programs */
    MID_SNECC_DURING,       /* a memory view hits a single-ECC word meanwhile */
    MID_RELOCK_AFTER_SER,   /* re-locked after SER/SNB were set, before START */
};

static struct {
    enum mid what;
    unsigned bank;
    int fired;
    struct h7sim *sim;
} mid;

static void mid_hook(uint32_t addr, uint32_t v, bool array)
{
    uint32_t cr = H7_FLASH_REG(mid.bank, FLASH_CR);
    if (mid.fired)
        return;
    switch (mid.what) {
    case MID_RELOCK_AFTER_BEGIN:
        /* op_begin writes CR with PSIZE and no request bit. */
        if (!array && addr == cr && !(v & (FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_LOCK))) {
            h7sim_dbg_relock(mid.sim, mid.bank);
            mid.fired = 1;
        }
        break;
    case MID_CLEAR_PG_AFTER_SET:
        if (!array && addr == cr && (v & FLASH_CR_PG)) {
            h7sim_dbg_clear_pg(mid.sim, mid.bank);
            mid.fired = 1;
        }
        break;
    case MID_RELOCK_AFTER_PG:
        if (!array && addr == cr && (v & FLASH_CR_PG)) {
            h7sim_dbg_relock(mid.sim, mid.bank);
            mid.fired = 1;
        }
        break;
    case MID_RDSERR_DURING:
    case MID_SNECC_DURING:
        if (array && (addr & 31u) == 28u) {
            h7sim_dbg_set_flags(mid.sim, mid.bank,
                                mid.what == MID_RDSERR_DURING ? FLASH_SR_RDSERR
                                                              : FLASH_SR_SNECCERR);
            mid.fired = 1;
        }
        break;
    case MID_RELOCK_AFTER_SER:
        if (!array && addr == cr && (v & FLASH_CR_SER) && !(v & FLASH_CR_START)) {
            h7sim_dbg_relock(mid.sim, mid.bank);
            mid.fired = 1;
        }
        break;
    }
}

static void test_mid_operation(void **state)
{
    (void)state;
    static const uint32_t addrs[] = { WRITE_START + 0x60000u, H7_BANK2_BASE + 0x40000u };
    for (int what = MID_RELOCK_AFTER_BEGIN; what <= MID_RELOCK_AFTER_SER; what++) {
        for (size_t i = 0; i < 2; i++) {
            struct fx x;
            uint8_t d[32], r[32];
            fx_pattern(d, sizeof d, (uint32_t)what);
            fx_open(&x);
            mid.what = (enum mid)what;
            mid.bank = i + 1u;
            mid.fired = 0;
            mid.sim = x.sim;
            h7f_port_after_write = mid_hook;
            int err = h7f_erase_sector(&x.f, addrs[i]);
            if (!err)
                err = h7f_program_word(&x.f, addrs[i] + 0x1000u, d);
            h7f_port_after_write = NULL;
            if (err)
                fail_msg("intervention %d in bank %zu: %s", what, i + 1u, h7f_strerror(err));
            assert_int_equal(mid.fired, 1);
            h7sim_peek(x.sim, addrs[i] + 0x1000u, r, sizeof r);
            assert_memory_equal(d, r, sizeof d);
            assert_true(h7f_io_read32(H7_FLASH_REG(i + 1u, FLASH_CR)) & FLASH_CR_LOCK);
            fx_close_clean(&x);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relock),
        cmocka_unit_test(test_stale_flags),
        cmocka_unit_test(test_abandoned_buffer),
        cmocka_unit_test(test_pg_cleared),
        cmocka_unit_test(test_pending_incerr),
        cmocka_unit_test_setup_teardown(test_stale_flags_lowlevel, fx_setup, fx_teardown),
        cmocka_unit_test(test_mid_operation),
        cmocka_unit_test(test_power_cut),
    };
    return cmocka_run_group_tests_name("h7flash_recovery", tests, NULL, NULL);
}
