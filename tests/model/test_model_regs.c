/*
 * h7sim rules: register details, protection areas, reset, the violation
 * log itself, instances (docs/H7_FLASH.md 2, 3.7, 4, 9).
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

/* docs/H7_FLASH.md 2.10, 3.7: PCROP area (PRAR_CUR, 256-byte blocks): data
 * reads set RDPERR (CPU bus error, DMA flag only), fetches allowed, program and
 * erase touching it refused with WRPERR; CRC over it sets CRCRDERR. */
static void test_pcrop_area_2_10(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[64];
    fill_pattern(d, sizeof d, 1);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08000100u, d, 32), 0);
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.prar[0] = 0x00010001u; /* block 1: 0x08000100..0x080001FF */
    h7sim_set_option_bytes(sim, &ob);
    h7sim_reset(sim);
    uint64_t v = 1;
    assert_int_equal(h7sim_read(sim, 0x08000100u, 4, &v, NULL), H7SIM_BUSERR);
    assert_true(sr(sim, 1) & FLASH_SR_RDPERR);
    expect_violation(sim, "read-pcrop");
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, 0x080001FCu, 4, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0);
    expect_violation(sim, "read-pcrop");
    assert_int_equal(h7sim_fetch_stall(sim, 0x08000100u), 0);
    assert_int_equal(h7sim_read(sim, 0x08000200u, 4, &v, NULL), H7SIM_OK); /* outside */
    assert_int_equal(h7sim_read(sim, 0x080000FCu, 4, &v, NULL), H7SIM_OK);
    clear_flags(sim, 1);
    program_word(sim, 0x08000120u, d);
    assert_true(sr(sim, 1) & FLASH_SR_WRPERR);
    assert_int_equal(h7sim_word_state(sim, 0x08000120u), H7SIM_WORD_VIRGIN);
    expect_violation(sim, "program-write-protected");
    clear_flags(sim, 1);
    erase_sector(sim, 1, 0);
    assert_true(sr(sim, 1) & FLASH_SR_WRPERR);
    expect_violation(sim, "erase-write-protected");
    clear_flags(sim, 1);
    program_word(sim, 0x08000200u, d); /* next block: allowed */
    assert_int_equal(sr(sim, 1) & FLASH_SR_WRPERR, 0);
    unlock(sim, 1);
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_CRC_EN);
    set_bits(sim, REG(1, FLASH_CRCCR),
             FLASH_CRCCR_CLEAN_CRC | FLASH_CRCCR_ALL_BANK | FLASH_CRCCR_CRC_BY_SECT);
    set_bits(sim, REG(1, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    while (sr(sim, 1) & FLASH_SR_CRC_BUSY)
        h7sim_advance(sim, 100000);
    assert_int_equal(sr(sim, 1) & (FLASH_SR_CRCEND | FLASH_SR_CRCRDERR),
                     FLASH_SR_CRCEND | FLASH_SR_CRCRDERR);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.5: START with neither SER nor BER does nothing
 * (inferred). */
static void test_start_without_ser_ber_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_START);
    assert_int_equal(sr(sim, 1) & FLASH_SR_QW, 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_START, 0);
    expect_violation(sim, "start-without-ser-ber");
}

/* docs/H7_FLASH.md 2.1: reserved offsets read 0; writes are ignored and
 * logged. */
static void test_reserved_offsets_2_1(void **state)
{
    struct h7sim *sim = *state;
    assert_int_equal(rd32(sim, H7_FLASH_R_BASE + 0x064u), 0);
    assert_int_equal(rd32(sim, H7_FLASH_R_BASE + 0x400u), 0);
    wr32(sim, H7_FLASH_R_BASE + 0x400u, 1);
    expect_violation(sim, "write-reserved");
    wr32(sim, H7_FLASH_R_BASE + 0x070u, 1);
    expect_violation(sim, "write-reserved");
}

/* Narrow register accesses touch only their byte lanes (docs/H7_FLASH.md 2.5
 * bit map): a byte write to CR byte 2 sets EOPIE without touching PG/PSIZE. */
static void test_narrow_register_access_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X32 | FLASH_CR_PG);
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_CR) + 2u, 1, 0x01u, NULL), H7SIM_OK);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)),
                     FLASH_CR_PSIZE_X32 | FLASH_CR_PG | FLASH_CR_EOPIE);
    uint64_t v;
    assert_int_equal(h7sim_read(sim, REG(1, FLASH_CR) + 2u, 2, &v, NULL), H7SIM_OK);
    assert_int_equal(v, 0x0001u);
    /* A 16-bit KEYR write is not a key: wrong key (docs/H7_FLASH.md 2.4). */
    assert_int_equal(h7sim_write(sim, REG(2, FLASH_KEYR), 2, 0x0123u, NULL), H7SIM_BUSERR);
    expect_violation(sim, "wrong-key");
}

/* docs/H7_FLASH.md 2.2, 4: reset keeps the array and option bytes, clears
 * registers, keys, buffers and flags. */
static void test_reset_clears_registers_2_2(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, 32, 2);
    program_word(sim, 0x08100000u, d);
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PG | FLASH_CR_EOPIE);
    wr32(sim, 0x08100020u, 0);
    opt_unlock(sim);
    wr32(sim, REG(1, FLASH_WPSN_PRG), 0x0Fu);
    wr32(sim, REG(1, FLASH_ACR), 0x02u);
    assert_true(h7sim_irq_level(sim));
    h7sim_reset(sim);
    assert_int_equal(rd32(sim, REG(2, FLASH_CR)), 0x31u);
    assert_int_equal(sr(sim, 2), 0);
    assert_int_equal(rd32(sim, REG(1, FLASH_OPTCR)), FLASH_OPTCR_OPTLOCK);
    assert_int_equal(rd32(sim, REG(1, FLASH_WPSN_PRG)), 0xFFu);
    assert_int_equal(rd32(sim, REG(1, FLASH_ACR)), 0x37u);
    assert_false(h7sim_irq_level(sim));
    assert_int_equal(h7sim_word_state(sim, 0x08100000u), H7SIM_WORD_PROGRAMMED);
    assert_int_equal(h7sim_word_state(sim, 0x08100020u), H7SIM_WORD_VIRGIN);
    assert_no_violations(sim);
}

/* The log records time, address, rule and docs/H7_FLASH.md section;
 * strict=false records nothing; clear empties it. */
static void test_violation_log_fields(void **state)
{
    struct h7sim *sim = *state;
    h7sim_advance(sim, 777);
    wr32(sim, 0x08000040u, 0); /* PG=0 */
    assert_int_equal(h7sim_violation_count(sim), 1);
    const struct h7sim_violation *v = h7sim_violation_get(sim, 0);
    assert_non_null(v);
    assert_int_equal(v->time_ns, 777);
    assert_int_equal(v->addr, 0x08000040u);
    assert_string_equal(v->rule, "store-pg-clear");
    assert_string_equal(v->section, "3.3");
    assert_null(h7sim_violation_get(sim, 1));
    h7sim_violations_clear(sim);
    assert_int_equal(h7sim_violation_count(sim), 0);

    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.strict = false;
    struct h7sim *lax = h7sim_new(&cfg);
    wr32(lax, 0x08000040u, 0);
    assert_true(sr(lax, 1) & FLASH_SR_PGSERR); /* same behaviour, no log */
    assert_int_equal(h7sim_violation_count(lax), 0);
    h7sim_free(lax);
}

/* No globals: two instances are independent. */
static void test_instances_independent(void **state)
{
    struct h7sim *a = *state;
    struct h7sim *b = mk_sim();
    uint8_t d[32];
    fill_pattern(d, 32, 3);
    program_word(a, 0x08000000u, d);
    unlock(a, 2);
    assert_int_equal(h7sim_word_state(b, 0x08000000u), H7SIM_WORD_VIRGIN);
    assert_true(rd32(b, REG(2, FLASH_CR)) & FLASH_CR_LOCK);
    assert_int_equal(h7sim_now(b), 0);
    assert_no_violations(a);
    assert_no_violations(b);
    h7sim_free(b);
}

/* IRQ for error flags with their IE bit (docs/H7_FLASH.md 2.5, 9). */
static void test_irq_error_flags_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_PGSERRIE);
    assert_false(h7sim_irq_level(sim));
    wr32(sim, 0x08000000u, 0); /* PGSERR */
    expect_violation(sim, "store-pg-clear");
    assert_true(h7sim_irq_level(sim));
    wr32(sim, REG(1, FLASH_CR), FLASH_CR_PSIZE_X64); /* IE off: line low */
    assert_false(h7sim_irq_level(sim));
    wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_PGSERR);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 5.1: instruction fetch and DMA reads of a busy bank stall
 * too. */
static void test_fetch_and_dma_stall_5_1(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 2);
    wr32(sim, REG(2, FLASH_CR), FLASH_CR_PSIZE_X64 | FLASH_CR_PG);
    uint8_t d[32];
    fill_pattern(d, 32, 4);
    store_word(sim, 0x08100000u, d);
    assert_int_equal(h7sim_fetch_stall(sim, 0x08100400u), 100000u);
    store_word(sim, 0x08100020u, d);
    uint64_t v, st;
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, 0x08100020u, 4, &v, &st), H7SIM_OK);
    assert_int_equal(st, 100000u);
    assert_memory_equal(&v, d, 4); /* the read sees the programmed data */
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.stall_ns[1], 200000u);
    assert_int_equal(s.busy_ns[1], 200000u);
    assert_int_equal(s.programs[1], 2);
    assert_int_equal(s.bytes_programmed[1], 64);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 2.5: clearing CRC_EN resets CRC configuration and
 * CRCDATA. */
static void test_crc_en_clear_resets_2_5(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 2);
    set_bits(sim, REG(2, FLASH_CR), FLASH_CR_CRC_EN);
    set_bits(sim, REG(2, FLASH_CRCCR), FLASH_CRCCR_ALL_BANK | FLASH_CRCCR_CRC_BY_SECT);
    assert_true(rd32(sim, REG(2, FLASH_CRCCR)) & FLASH_CRCCR_ALL_BANK);
    set_bits(sim, REG(2, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    assert_true(sr(sim, 2) & FLASH_SR_CRC_BUSY);
    clr_bits(sim, REG(2, FLASH_CR), FLASH_CR_CRC_EN);
    assert_int_equal(sr(sim, 2) & FLASH_SR_CRC_BUSY, 0);
    assert_int_equal(rd32(sim, REG(2, FLASH_CRCCR)), FLASH_CRCCR_RESET);
    assert_int_equal(rd32(sim, REG(2, FLASH_CRCDATA)), 0);
    h7sim_advance(sim, 10000000);
    assert_int_equal(sr(sim, 2) & FLASH_SR_CRCEND, 0);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 5.2: array_changed covers the whole array when a reset
 * changes the mapping; event addresses are logical. */
struct swap_obs {
    uint32_t addr, len;
    unsigned n;
};

static void swap_changed(void *ctx, uint32_t addr, uint32_t len)
{
    struct swap_obs *o = ctx;
    o->addr = addr;
    o->len = len;
    o->n++;
}

static void test_swap_reset_notifies_5_2(void **state)
{
    struct h7sim *sim = *state;
    struct swap_obs o = { 0, 0, 0 };
    struct h7sim_observer obs = { swap_changed, NULL, NULL, &o };
    h7sim_set_observer(sim, &obs);
    h7sim_reset(sim);
    assert_int_equal(o.n, 0);
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.optsr |= FLASH_OPTSR_SWAP_BANK_OPT;
    h7sim_set_option_bytes(sim, &ob);
    assert_false(h7sim_swapped(sim));
    h7sim_reset(sim);
    assert_true(h7sim_swapped(sim));
    assert_int_equal(o.n, 1);
    assert_int_equal(o.addr, H7_FLASH_BASE);
    assert_int_equal(o.len, H7_FLASH_SIZE);
    /* A program through set 2 (physical bank 1) reports its logical address. */
    uint8_t d[32];
    fill_pattern(d, 32, 5);
    program_word(sim, 0x08100040u, d);
    assert_int_equal(o.addr, 0x08100040u);
    assert_int_equal(o.len, 32u);
    assert_no_violations(sim);
}

/* docs/H7_FLASH.md 9 (model choice): START with a full queue is held until a
 * slot frees; START still reads back 0 (docs/H7_FLASH.md 2.5). */
static void test_start_held_when_queue_full_9(void **state)
{
    struct h7sim *sim = *state;
    unlock(sim, 1);
    uint32_t ser = FLASH_CR_PSIZE_X64 | FLASH_CR_SER | FLASH_CR_START;
    wr32(sim, REG(1, FLASH_CR), ser | (1u << FLASH_CR_SNB_Pos));
    wr32(sim, REG(1, FLASH_CR), ser | (2u << FLASH_CR_SNB_Pos));
    uint64_t st;
    assert_int_equal(h7sim_write(sim, REG(1, FLASH_CR), 4, ser | (3u << FLASH_CR_SNB_Pos), &st),
                     H7SIM_OK);
    assert_int_equal(st, 1000000000ull);
    assert_int_equal(rd32(sim, REG(1, FLASH_CR)) & FLASH_CR_START, 0);
    wait_idle(sim, 1);
    assert_int_equal(h7sim_now(sim), 3000000000ull);
    struct h7sim_stats s;
    h7sim_get_stats(sim, &s);
    assert_int_equal(s.sector_erases[0], 3);
    assert_no_violations(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pcrop_area_2_10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_without_ser_ber_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_offsets_2_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_register_access_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_clears_registers_2_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violation_log_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instances_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_error_flags_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_and_dma_stall_5_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_en_clear_resets_2_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_reset_notifies_5_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_held_when_queue_full_9, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_regs", tests, NULL, NULL);
}
