/*
 * h7sim rule: every interrupt enable bit of FLASH_CR drives the FLASH IRQ
 * line (RM0399 FLASH_CR1/2 bits 16-28, FLASH_SR1/2, FLASH_CCR1/2;
 * docs/FLASH_MODEL.md "Registers": IRQ = OR over the register sets of
 * SR flag & IE bit at the same position).
 *
 * One table: for each of the 12 flags, on both register sets, the flag is
 * provoked the way the silicon sets it wherever the model can (misuse,
 * protection, ECC, CRC), otherwise injected. With the IE bit set the line
 * rises when the flag is set and falls when CCR clears it; with the IE bit
 * clear (and the same IE bit set in the other bank's CR) the flag alone
 * leaves the line low, and setting the IE bit afterwards raises it.
 */
#include "model_helpers.h"

struct irq_log {
    struct h7sim *sim;
    unsigned edges;
    bool level;
    uint64_t t_edge; /* time of the last edge */
    uint64_t t_op;   /* time of the last operation done / refused */
};

static void on_irq(void *ctx, bool level)
{
    struct irq_log *l = ctx;
    l->edges++;
    l->level = level;
    l->t_edge = h7sim_now(l->sim);
}

static void on_event(void *ctx, const struct h7sim_event *ev)
{
    struct irq_log *l = ctx;
    if (ev->kind == H7SIM_EV_OP_DONE || ev->kind == H7SIM_EV_OP_ERROR)
        l->t_op = ev->time_ns;
}

static uint32_t base_of(unsigned bank)
{
    return bank == 1 ? H7_BANK1_BASE : H7_BANK2_BASE;
}

/* ---- preparations (before the IE bit is set; may reset the part) ------- */

static void prep_wrp_sector0(struct h7sim *sim, unsigned bank)
{
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.wpsn[bank - 1] = 0xFEu; /* sector 0 write protected */
    h7sim_set_option_bytes(sim, &ob);
    h7sim_reset(sim);
}

static void prep_pcrop_block1(struct h7sim *sim, unsigned bank)
{
    uint8_t d[32];
    fill_pattern(d, sizeof d, bank);
    assert_int_equal(h7sim_backdoor_program(sim, base_of(bank) + 0x100u, d, 32), 0);
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.prar[bank - 1] = 0x00010001u; /* PCROP: bank offsets 0x100..0x1FF */
    h7sim_set_option_bytes(sim, &ob);
    h7sim_reset(sim);
}

static void prep_programmed_word(struct h7sim *sim, unsigned bank)
{
    uint8_t d[32];
    fill_pattern(d, sizeof d, 3u + bank);
    assert_int_equal(h7sim_backdoor_program(sim, base_of(bank) + 0x200u, d, 32), 0);
}

/* ---- provocations ------------------------------------------------------ */

static void pv_eop(struct h7sim *sim, unsigned bank)
{
    uint8_t d[32];
    fill_pattern(d, sizeof d, 9);
    program_word(sim, base_of(bank) + 0x400u, d);
}

static void pv_wrperr(struct h7sim *sim, unsigned bank)
{
    erase_sector(sim, bank, 0); /* protected by prep_wrp_sector0 */
}

static void pv_pgserr(struct h7sim *sim, unsigned bank)
{
    wr32(sim, base_of(bank) + 0x400u, 0); /* store with PG=0 */
}

static void pv_strberr(struct h7sim *sim, unsigned bank)
{
    pg_begin(sim, bank);
    wr32(sim, base_of(bank) + 0x400u, 1);
    wr32(sim, base_of(bank) + 0x400u, 2); /* same bytes again */
}

static void pv_incerr(struct h7sim *sim, unsigned bank)
{
    pg_begin(sim, bank);
    wr32(sim, base_of(bank) + 0x400u, 0);
    wr32(sim, base_of(bank) + 0x420u, 0); /* another flash word */
}

static void pv_operr(struct h7sim *sim, unsigned bank)
{
    /* No documented trigger (docs/FLASH_MODEL.md): injected on the next
     * operation, which then runs through the bus as usual. */
    h7sim_fault_operr_next(sim, bank);
    erase_sector(sim, bank, 1);
}

static void pv_rdperr(struct h7sim *sim, unsigned bank)
{
    uint64_t v;
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, base_of(bank) + 0x100u, 4, &v, NULL),
                     H7SIM_OK);
}

static void pv_rdserr(struct h7sim *sim, unsigned bank)
{
    /* Secure-only reads are not modelled (no secure execution state):
     * injected, as the spurious RDSERR of speculative reads. */
    h7sim_dbg_set_flags(sim, bank, FLASH_SR_RDSERR);
}

static void pv_sneccerr(struct h7sim *sim, unsigned bank)
{
    h7sim_flip_bits(sim, base_of(bank) + 0x200u, 1);
    (void)rd32(sim, base_of(bank) + 0x200u);
}

static void pv_dbeccerr(struct h7sim *sim, unsigned bank)
{
    h7sim_flip_bits(sim, base_of(bank) + 0x200u, 2);
    uint64_t v;
    assert_int_equal(h7sim_read_ex(sim, H7SIM_MASTER_DMA, base_of(bank) + 0x200u, 4, &v, NULL),
                     H7SIM_OK);
}

/* CRC of sector s by the HAL sequence (CRC_EN, CLEAN_CRC, sector list,
 * START_CRC, wait CRC_BUSY). */
static void crc_sector(struct h7sim *sim, unsigned bank, unsigned s)
{
    unlock(sim, bank);
    set_bits(sim, REG(bank, FLASH_CR), FLASH_CR_CRC_EN);
    wr32(sim, REG(bank, FLASH_CRCCR),
         FLASH_CRCCR_CLEAN_CRC | FLASH_CRCCR_CRC_BY_SECT | FLASH_CRCCR_CLEAN_SECT);
    wr32(sim, REG(bank, FLASH_CRCCR), FLASH_CRCCR_CRC_BY_SECT | FLASH_CRCCR_ADD_SECT | s);
    set_bits(sim, REG(bank, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    assert_true(sr(sim, bank) & FLASH_SR_CRC_BUSY);
    while (sr(sim, bank) & FLASH_SR_CRC_BUSY)
        h7sim_advance(sim, 10000);
}

static void pv_crcend(struct h7sim *sim, unsigned bank)
{
    crc_sector(sim, bank, 1);
}

static void pv_crcrderr(struct h7sim *sim, unsigned bank)
{
    crc_sector(sim, bank, 0); /* sector 0 holds the PCROP block */
}

struct irq_case {
    const char *name;
    uint32_t ie;   /* FLASH_CR bit */
    uint32_t flag; /* FLASH_SR bit (= FLASH_CCR clear bit) */
    void (*prep)(struct h7sim *sim, unsigned bank);
    void (*provoke)(struct h7sim *sim, unsigned bank);
    const char *rule; /* violation the provocation logs, or NULL */
    bool by_op;       /* set when an operation ends or is refused */
};

static const struct irq_case cases[] = {
    { "EOP", FLASH_CR_EOPIE, FLASH_SR_EOP, NULL, pv_eop, NULL, true },
    { "WRPERR", FLASH_CR_WRPERRIE, FLASH_SR_WRPERR, prep_wrp_sector0, pv_wrperr,
      "erase-write-protected", true },
    { "PGSERR", FLASH_CR_PGSERRIE, FLASH_SR_PGSERR, NULL, pv_pgserr, "store-pg-clear", false },
    { "STRBERR", FLASH_CR_STRBERRIE, FLASH_SR_STRBERR, NULL, pv_strberr, "byte-written-twice",
      false },
    { "INCERR", FLASH_CR_INCERRIE, FLASH_SR_INCERR, NULL, pv_incerr, "incerr", false },
    { "OPERR", FLASH_CR_OPERRIE, FLASH_SR_OPERR, NULL, pv_operr, NULL, true },
    { "RDPERR", FLASH_CR_RDPERRIE, FLASH_SR_RDPERR, prep_pcrop_block1, pv_rdperr, "read-pcrop",
      false },
    { "RDSERR", FLASH_CR_RDSERRIE, FLASH_SR_RDSERR, NULL, pv_rdserr, NULL, false },
    { "SNECCERR", FLASH_CR_SNECCERRIE, FLASH_SR_SNECCERR, prep_programmed_word, pv_sneccerr, NULL,
      false },
    { "DBECCERR", FLASH_CR_DBECCERRIE, FLASH_SR_DBECCERR, prep_programmed_word, pv_dbeccerr, NULL,
      false },
    { "CRCEND", FLASH_CR_CRCENDIE, FLASH_SR_CRCEND, NULL, pv_crcend, NULL, true },
    { "CRCRDERR", FLASH_CR_CRCRDERRIE, FLASH_SR_CRCRDERR, prep_pcrop_block1, pv_crcrderr, NULL,
      true },
};

static void check_log(struct h7sim *sim, const struct irq_case *c)
{
    if (c->rule)
        expect_violation(sim, c->rule);
    assert_no_violations(sim);
}

static void run_case(const struct irq_case *c, unsigned bank, bool ie_on)
{
    struct h7sim *sim = mk_sim();
    struct irq_log l;
    memset(&l, 0, sizeof l);
    l.sim = sim;
    l.t_op = UINT64_MAX;
    struct h7sim_observer o = { NULL, on_irq, on_event, &l };
    if (c->prep)
        c->prep(sim, bank);
    h7sim_set_observer(sim, &o);
    unsigned on = ie_on ? bank : 3u - bank; /* register set with the IE bit */
    unlock(sim, on);
    set_bits(sim, REG(on, FLASH_CR), c->ie);
    assert_true(rd32(sim, REG(on, FLASH_CR)) & c->ie);
    assert_false(h7sim_irq_level(sim));
    assert_int_equal(l.edges, 0);

    c->provoke(sim, bank);
    check_log(sim, c);
    if (!(sr(sim, bank) & c->flag))
        fail_msg("%s not set on bank %u", c->name, bank);
    assert_int_equal(sr(sim, 3u - bank) & c->flag, 0);

    if (ie_on) {
        if (!h7sim_irq_level(sim) || l.edges != 1 || !l.level)
            fail_msg("%sIE%u set, %s set: IRQ %d after %u edges", c->name, bank, c->name,
                     (int)h7sim_irq_level(sim), l.edges);
        /* The line rose when the flag was set: at the end (or refusal) of
         * the operation, or at the bus access that set it. */
        if (c->by_op)
            assert_int_equal(l.t_edge, l.t_op);
        else
            assert_int_equal(l.t_edge, h7sim_now(sim));
        /* The IE bit is kept by the register read-modify-writes above. */
        assert_true(rd32(sim, REG(bank, FLASH_CR)) & c->ie);
    } else {
        if (h7sim_irq_level(sim) || l.edges != 0)
            fail_msg("%sIE%u clear, %s set: IRQ %d after %u edges", c->name, bank, c->name,
                     (int)h7sim_irq_level(sim), l.edges);
        /* Level-sensitive: enabling the interrupt with the flag pending
         * raises the line. */
        unlock(sim, bank);
        set_bits(sim, REG(bank, FLASH_CR), c->ie);
        assert_true(h7sim_irq_level(sim));
        assert_int_equal(l.edges, 1);
        assert_true(l.level);
    }
    /* Clearing another flag leaves the line up; CCR with the flag's own
     * CLR bit lowers it. */
    wr32(sim, REG(bank, FLASH_CCR), FLASH_CCR_CLR_ALL & ~c->flag);
    assert_true(sr(sim, bank) & c->flag);
    assert_true(h7sim_irq_level(sim));
    wr32(sim, REG(bank, FLASH_CCR), c->flag);
    assert_int_equal(sr(sim, bank) & c->flag, 0);
    if (h7sim_irq_level(sim) || l.edges != 2 || l.level)
        fail_msg("%s cleared on bank %u: IRQ %d after %u edges", c->name, bank,
                 (int)h7sim_irq_level(sim), l.edges);
    assert_no_violations(sim);
    h7sim_free(sim);
}

static void test_irq_every_ie_bit_both_banks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(cases[i].ie, cases[i].flag); /* same bit position */
        for (unsigned bank = 1; bank <= 2; bank++) {
            run_case(&cases[i], bank, true);
            run_case(&cases[i], bank, false);
        }
    }
}

/* The 12 IE bits of the table are exactly CR bits 16-19 and 21-28. */
static void test_irq_table_complete(void **state)
{
    (void)state;
    uint32_t all = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(all & cases[i].ie, 0);
        all |= cases[i].ie;
    }
    assert_int_equal(sizeof cases / sizeof cases[0], 12);
    assert_int_equal(all, 0x1FEF0000u);
    assert_int_equal(all, FLASH_SR_ALL_FLAGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irq_table_complete),
        cmocka_unit_test(test_irq_every_ie_bit_both_banks),
    };
    return cmocka_run_group_tests_name("model_irq", tests, NULL, NULL);
}
