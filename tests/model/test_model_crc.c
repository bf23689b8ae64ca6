/*
 * h7sim rules: the CRC unit of the embedded flash (RM0399 "CRC computation",
 * FLASH_CRCCR/CRCSADD/CRCEADD/CRCDATAR; ST AN5507 section 4; convention and
 * evidence in docs/FLASH_MODEL.md "CRC unit").
 *
 * Expected values come from ref_crc() below, an independent bit-serial
 * implementation of AN5507's SW_crc32_Calcul: register 0 after CLEAN_CRC;
 * every 32-bit little-endian word shifted in most-significant bit first
 * (polynomial 0x04C11DB7, no reflection), then the register XORed with
 * 0x55555555; no final XOR; the register runs on across bursts and sectors.
 */
#include "model_helpers.h"

#define H753_ZERO_VECTOR 0x11E66C62u /* 128 zero bytes, one 4-word burst */
#define BURST4_SEED      0xB6C0AE5Au /* the same, read as a CRC-32 seed */

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

/* Shift the 32-bit little-endian word at p into c, most-significant bit
 * first (bit-serial, not the table form the model uses). */
static uint32_t shift_word(uint32_t c, const uint8_t *p)
{
    uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    for (int b = 31; b >= 0; b--) {
        uint32_t top = (c >> 31) ^ ((w >> b) & 1u);
        c = (c << 1) ^ (top ? 0x04C11DB7u : 0u);
    }
    return c;
}

/* AN5507 SW_crc32_Calcul over n bytes from register value c. */
static uint32_t ref_from(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i += 4)
        c = shift_word(c, p + i) ^ 0x55555555u;
    return c;
}

static uint32_t ref_crc(const uint8_t *p, size_t n)
{
    return ref_from(0, p, n);
}

/* Plain CRC-32/MPEG-2 arithmetic with another initial value, no XOR. */
static uint32_t plain_crc(uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i += 4)
        c = shift_word(c, p + i);
    return c;
}

static const unsigned burst_of[4] = { 4, 16, 64, 256 };

/* FLASH_CRCCR.CRC_BURST field for a burst of bw flash words. */
static uint32_t burst_field(unsigned bw)
{
    for (uint32_t f = 0; f < 4; f++)
        if (burst_of[f] == bw)
            return f << FLASH_CRCCR_CRC_BURST_Pos;
    fail_msg("no CRC_BURST for %u words", bw);
    return 0;
}

enum sel { BY_ADDR, BY_SECT, WHOLE_BANK };

struct crc_run {
    uint32_t data;   /* CRCDATA */
    uint32_t sr;     /* SR at the end (flags) */
    uint64_t dur_ns; /* scheduled duration, seen right after START_CRC */
};

/*
 * One CRC computation with full control of CRCCR (no read-modify-write of
 * the reset value's CRC_BURST, unlike the HAL, see test_crc_hal_burst_or):
 * CRC_EN, clear CRCEND/CRCRDERR, CRCCR = selection | burst (| CLEAN_CRC),
 * sector list or addresses, START_CRC, wait CRC_BUSY. CRCRDERR must not
 * show while CRC_BUSY (it is valid with CRCEND only).
 */
static struct crc_run crc(struct h7sim *sim, unsigned bank, enum sel how, unsigned bw,
                          uint8_t sectors, uint32_t start, uint32_t end, bool clean)
{
    struct crc_run r;
    unlock(sim, bank);
    set_bits(sim, REG(bank, FLASH_CR), FLASH_CR_CRC_EN);
    wr32(sim, REG(bank, FLASH_CCR), FLASH_CCR_CLR_CRCEND | FLASH_CCR_CLR_CRCRDERR);
    uint32_t cfg = burst_field(bw);
    if (how == BY_SECT)
        cfg |= FLASH_CRCCR_CRC_BY_SECT;
    else if (how == WHOLE_BANK)
        cfg |= FLASH_CRCCR_CRC_BY_SECT | FLASH_CRCCR_ALL_BANK;
    wr32(sim, REG(bank, FLASH_CRCCR),
         cfg | (clean ? FLASH_CRCCR_CLEAN_CRC : 0u) | FLASH_CRCCR_CLEAN_SECT);
    if (how == BY_SECT) {
        for (unsigned s = 0; s < 8; s++)
            if (sectors & (1u << s))
                wr32(sim, REG(bank, FLASH_CRCCR), cfg | s | FLASH_CRCCR_ADD_SECT);
    } else if (how == BY_ADDR) {
        wr32(sim, REG(bank, FLASH_CRCSADD), start);
        wr32(sim, REG(bank, FLASH_CRCEADD), end);
    }
    assert_int_equal(rd32(sim, REG(bank, FLASH_CRCCR)) & FLASH_CRCCR_CRC_BURST_Msk,
                     burst_field(bw));
    wr32(sim, REG(bank, FLASH_CRCCR), cfg | FLASH_CRCCR_START_CRC);
    assert_true(sr(sim, bank) & FLASH_SR_CRC_BUSY);
    r.dur_ns = h7sim_next_event(sim) - h7sim_now(sim);
    while (sr(sim, bank) & FLASH_SR_CRC_BUSY) {
        assert_int_equal(sr(sim, bank) & (FLASH_SR_CRCEND | FLASH_SR_CRCRDERR), 0);
        h7sim_advance(sim, 1000);
    }
    r.sr = sr(sim, bank);
    assert_true(r.sr & FLASH_SR_CRCEND);
    r.data = rd32(sim, REG(bank, FLASH_CRCDATA));
    /* The HAL reads FLASH->CRCDATA (0x05C) for both banks. */
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCDATA)), r.data);
    return r;
}

/* STM32H753 report (docs/FLASH_MODEL.md "CRC unit"): CRC_BURST = 4 flash
 * words, 128 zero bytes: 0x11E66C62. AN5507's convention gives it; so does a
 * plain CRC-32 seeded with 0xB6C0AE5A over that one burst, whatever the 128
 * bytes are. Same for the other bank, and for start and end addresses
 * anywhere inside the burst (aligned down). */
static void test_crc_h753_zero_vector(void **state)
{
    struct h7sim *sim = *state;
    static const uint8_t zeros[128];
    assert_int_equal(ref_crc(zeros, sizeof zeros), H753_ZERO_VECTOR);
    assert_int_equal(plain_crc(BURST4_SEED, zeros, sizeof zeros), H753_ZERO_VECTOR);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08040000u, zeros, sizeof zeros), 0);
    assert_int_equal(h7sim_backdoor_program(sim, 0x081E0080u, zeros, sizeof zeros), 0);
    struct crc_run r = crc(sim, 1, BY_ADDR, 4, 0, 0x08040000u, 0x08040000u, true);
    assert_int_equal(r.data, H753_ZERO_VECTOR);
    assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
    r = crc(sim, 1, BY_ADDR, 4, 0, 0x08040000u, 0x0804007Cu, true);
    assert_int_equal(r.data, H753_ZERO_VECTOR);
    r = crc(sim, 2, BY_ADDR, 4, 0, 0x081E00A4u, 0x081E0087u, true); /* unaligned */
    assert_int_equal(r.data, H753_ZERO_VECTOR);
    /* Any 128 bytes: AN5507 = plain CRC-32 seeded with 0xB6C0AE5A. */
    uint8_t d[128];
    fill_pattern(d, sizeof d, 40);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08040080u, d, sizeof d), 0);
    r = crc(sim, 1, BY_ADDR, 4, 0, 0x08040080u, 0x080400FFu, true);
    assert_int_equal(r.data, ref_crc(d, sizeof d));
    assert_int_equal(r.data, plain_crc(BURST4_SEED, d, sizeof d));
    /* The same 128 zero bytes inside a 16-word burst: 512 bytes are read. */
    r = crc(sim, 1, BY_ADDR, 16, 0, 0x08040000u, 0x08040000u, true);
    static uint8_t b16[16 * 32];
    h7sim_peek(sim, 0x08040000u, b16, sizeof b16);
    assert_int_equal(r.data, ref_crc(b16, sizeof b16));
    assert_true(r.data != H753_ZERO_VECTOR);
    assert_no_violations(sim);
}

/* The reset value of CRCCR has CRC_BURST = 01 (16 words): the HAL's
 * `CRCCR |= CLEAN_CRC | BurstSize | TypeCRC` cannot select 4 words (00) and
 * turns 64 (10) into 256 (11). The model keeps that consequence: a
 * "BURST_SIZE_4" CRC of one 128-byte block reads 512 bytes. */
static void test_crc_hal_burst_or(void **state)
{
    struct h7sim *sim = *state;
    static const uint8_t zeros[128];
    assert_int_equal(h7sim_backdoor_program(sim, 0x08040000u, zeros, sizeof zeros), 0);
    unlock(sim, 1);
    set_bits(sim, REG(1, FLASH_CR), FLASH_CR_CRC_EN);
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCCR)), FLASH_CRCCR_RESET);
    set_bits(sim, REG(1, FLASH_CRCCR), FLASH_CRCCR_CLEAN_CRC | (0u << FLASH_CRCCR_CRC_BURST_Pos));
    wr32(sim, REG(1, FLASH_CRCSADD), 0x08040000u);
    wr32(sim, REG(1, FLASH_CRCEADD), 0x0804007Fu);
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCCR)) & FLASH_CRCCR_CRC_BURST_Msk,
                     1u << FLASH_CRCCR_CRC_BURST_Pos);
    set_bits(sim, REG(1, FLASH_CRCCR), FLASH_CRCCR_START_CRC);
    while (sr(sim, 1) & FLASH_SR_CRC_BUSY)
        h7sim_advance(sim, 1000);
    static uint8_t b16[16 * 32];
    h7sim_peek(sim, 0x08040000u, b16, sizeof b16);
    assert_int_equal(rd32(sim, REG(1, FLASH_CRCDATA)), ref_crc(b16, sizeof b16));
    assert_true(rd32(sim, REG(1, FLASH_CRCDATA)) != H753_ZERO_VECTOR);
    assert_no_violations(sim);
}

/* Every CRC_BURST over a range of many bursts (64 KB: 512 x 4 ... 8 x 256
 * words), by address. The register runs on from burst to burst, so an
 * aligned range gives the same value for every burst size; unaligned start
 * and end addresses widen the range to whole bursts, a different extent
 * for each size. Duration: AN5507 Table 1 (per word and per burst). */
static void test_crc_each_burst_by_address(void **state)
{
    struct h7sim *sim = *state;
    static uint8_t img[64 * 1024];
    fill_pattern(img, sizeof img, 21);
    for (size_t i = 0; i < sizeof img; i += 97)
        img[i] ^= (uint8_t)(i >> 7);
    const uint32_t base = 0x08120000u; /* bank 2, sectors 1 and 2 */
    assert_int_equal(h7sim_backdoor_program(sim, base, img, sizeof img), 0);
    struct h7sim_durations d;
    h7sim_durations(sim, 3, &d);
    const uint32_t expect = ref_crc(img, sizeof img);
    uint32_t seen[4];
    for (unsigned f = 0; f < 4; f++) {
        unsigned bw = burst_of[f];
        uint32_t bb = bw * H7_FLASH_WORD;
        uint32_t last = base + (uint32_t)sizeof img - bb; /* start of the last burst */
        struct crc_run r = crc(sim, 2, BY_ADDR, bw, 0, base, last, true);
        assert_int_equal(r.data, expect);
        uint64_t words = sizeof img / H7_FLASH_WORD;
        assert_int_equal(r.dur_ns, words * d.crc_per_word + words / bw * d.crc_per_burst);
        /* AN5507 usage: CRCEndAddr = last byte of the area. */
        r = crc(sim, 2, BY_ADDR, bw, 0, base, base + (uint32_t)sizeof img - 1u, true);
        assert_int_equal(r.data, expect);
        /* Start and end addresses inside their bursts: aligned down. */
        r = crc(sim, 2, BY_ADDR, bw, 0, base + bb - 4u, last + bb - 4u, true);
        assert_int_equal(r.data, expect);
        /* From the second burst on. */
        r = crc(sim, 2, BY_ADDR, bw, 0, base + bb, last, true);
        assert_int_equal(r.data, ref_crc(img + bb, sizeof img - bb));
        /* Unaligned area 0x1A4..0x8C13 of the image: whole bursts around it. */
        uint32_t s0 = 0x1A4u, e0 = 0x8C13u;
        uint32_t from = s0 / bb * bb, to = (e0 / bb + 1u) * bb;
        r = crc(sim, 2, BY_ADDR, bw, 0, base + s0, base + e0, true);
        assert_int_equal(r.data, ref_crc(img + from, to - from));
        seen[f] = r.data;
        for (unsigned g = 0; g < f; g++)
            assert_true(seen[g] != r.data);
        /* End before start: nothing read, CRCDATA 0. */
        r = crc(sim, 2, BY_ADDR, bw, 0, base + bb, base, true);
        assert_int_equal(r.data, 0);
    }
    assert_no_violations(sim);
}

/* By sector (a list, read in ascending order) and the whole bank, each
 * CRC_BURST: the same value for every burst size. */
static void test_crc_each_burst_by_sector_and_bank(void **state)
{
    struct h7sim *sim = *state;
    static uint8_t img[2 * H7_SECTOR_SIZE];
    fill_pattern(img, sizeof img, 5);
    for (size_t i = 0; i < sizeof img; i += 61)
        img[i] = (uint8_t)(i * 13u);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08020000u, img, H7_SECTOR_SIZE), 0);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08060000u, img + H7_SECTOR_SIZE, H7_SECTOR_SIZE),
                     0);
    static uint8_t bank[H7_BANK_SIZE];
    h7sim_peek(sim, H7_BANK1_BASE, bank, sizeof bank);
    const uint32_t both = ref_crc(img, sizeof img), one = ref_crc(img, H7_SECTOR_SIZE);
    const uint32_t whole = ref_crc(bank, sizeof bank);
    for (unsigned f = 0; f < 4; f++) {
        unsigned bw = burst_of[f];
        struct crc_run r = crc(sim, 1, BY_SECT, bw, 0x0Au, 0, 0, true); /* sectors 1, 3 */
        assert_int_equal(r.data, both);
        r = crc(sim, 1, BY_SECT, bw, 0x02u, 0, 0, true);
        assert_int_equal(r.data, one);
        r = crc(sim, 1, WHOLE_BANK, bw, 0, 0, 0, true);
        assert_int_equal(r.data, whole);
        /* By address over sector 1 = by sector 1. */
        r = crc(sim, 1, BY_ADDR, bw, 0, 0x08020000u, 0x08040000u - bw * H7_FLASH_WORD, true);
        assert_int_equal(r.data, one);
    }
    assert_no_violations(sim);
}

/* CLEAN_CRC clears CRCDATA; a second START_CRC without it goes on from the
 * previous register value. */
static void test_crc_continue_without_clean(void **state)
{
    struct h7sim *sim = *state;
    static uint8_t img[8 * 1024];
    fill_pattern(img, sizeof img, 77);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08100000u, img, sizeof img), 0);
    struct crc_run a = crc(sim, 2, BY_ADDR, 16, 0, 0x08100000u, 0x08100E00u, true);
    assert_int_equal(a.data, ref_crc(img, 4096));
    struct crc_run b = crc(sim, 2, BY_ADDR, 4, 0, 0x08101000u, 0x08101F80u, false);
    assert_int_equal(b.data, ref_crc(img, sizeof img));
    assert_int_equal(b.data, ref_from(a.data, img + 4096, 4096));
    unlock(sim, 2);
    set_bits(sim, REG(2, FLASH_CRCCR), FLASH_CRCCR_CLEAN_CRC);
    assert_int_equal(rd32(sim, REG(2, FLASH_CRCDATA)), 0);
    assert_no_violations(sim);
}

/* CRCRDERR (FLASH_SR bit 28, docs/FLASH_MODEL.md "CRC unit": "a word is
 * found read protected during a CRC operation", valid only with CRCEND),
 * also checked on both banks by test_model_irq.c: a CRC whose selection
 * meets a PCROP area (PRAR_CUR) or a secure-only area (SCAR_CUR) ends with
 * CRCEND | CRCRDERR, and the protected words do not give their data (they
 * are read as zeros). A selection next to the area, an area of the other
 * bank or a disabled area (START > END) leave CRCRDERR clear. */
static void test_crc_rderr_protected_areas(void **state)
{
    struct h7sim *sim = *state;
    static uint8_t img[H7_SECTOR_SIZE];
    fill_pattern(img, sizeof img, 33);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08000000u, img, sizeof img), 0);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08100000u, img, sizeof img), 0);
    static uint8_t seen[H7_SECTOR_SIZE];

    for (int area = 0; area < 2; area++) { /* 0: PCROP, 1: secure-only */
        struct h7sim_option_bytes ob;
        h7sim_get_option_bytes(sim, &ob);
        ob.prar[0] = ob.prar[1] = 0x000000FFu; /* disabled */
        ob.scar[0] = ob.scar[1] = 0x000000FFu;
        if (area == 0)
            ob.prar[0] = 0x00040003u; /* bank 1, 0x300..0x4FF */
        else
            ob.scar[0] = 0x00040003u;
        h7sim_set_option_bytes(sim, &ob);
        h7sim_reset(sim);
        memcpy(seen, img, sizeof seen);
        memset(seen + 0x300, 0, 0x200);

        for (unsigned f = 0; f < 4; f++) {
            unsigned bw = burst_of[f];
            struct crc_run r = crc(sim, 1, BY_SECT, bw, 0x01u, 0, 0, true);
            assert_int_equal(r.sr & (FLASH_SR_CRCEND | FLASH_SR_CRCRDERR),
                             FLASH_SR_CRCEND | FLASH_SR_CRCRDERR);
            assert_int_equal(r.data, ref_crc(seen, sizeof seen));
            assert_true(r.data != ref_crc(img, sizeof img));
            wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_CRCRDERR);
            assert_int_equal(sr(sim, 1) & FLASH_SR_CRCRDERR, 0);
            /* The same sector of bank 2: no protected area there. */
            r = crc(sim, 2, BY_SECT, bw, 0x01u, 0, 0, true);
            assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
            assert_int_equal(r.data, ref_crc(img, sizeof img));
        }
        /* By address: the bursts touching 0x300..0x4FF, or not. */
        struct crc_run r = crc(sim, 1, BY_ADDR, 4, 0, 0x08000480u, 0x08000480u, true);
        assert_true(r.sr & FLASH_SR_CRCRDERR);
        assert_int_equal(r.data, ref_crc(seen + 0x480, 128));
        r = crc(sim, 1, BY_ADDR, 4, 0, 0x08000500u, 0x08000F80u, true);
        assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
        assert_int_equal(r.data, ref_crc(img + 0x500, 0xB00));
        r = crc(sim, 1, BY_ADDR, 4, 0, 0x08000000u, 0x08000280u, true);
        assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
        r = crc(sim, 1, BY_ADDR, 4, 0, 0x08000280u, 0x08000280u, true);
        assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
        r = crc(sim, 1, BY_ADDR, 16, 0, 0x08000000u, 0x08000000u, true); /* 0x000..0x1FF */
        assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
        r = crc(sim, 1, BY_ADDR, 16, 0, 0x08000200u, 0x08000200u, true); /* 0x200..0x3FF */
        assert_true(r.sr & FLASH_SR_CRCRDERR);
        /* Other sectors of bank 1: clear. */
        r = crc(sim, 1, BY_SECT, 64, 0xFEu, 0, 0, true);
        assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
        /* The whole bank includes sector 0. */
        r = crc(sim, 1, WHOLE_BANK, 256, 0, 0, 0, true);
        assert_true(r.sr & FLASH_SR_CRCRDERR);
        wr32(sim, REG(1, FLASH_CCR), FLASH_CCR_CLR_CRCRDERR | FLASH_CCR_CLR_CRCEND);
    }
    assert_no_violations(sim);
}

/* A CRC over a double-ECC word sets DBECCERR with CRCEND (no bus error: the
 * CRC unit is not a CPU). */
static void test_crc_double_ecc_word(void **state)
{
    struct h7sim *sim = *state;
    uint8_t d[32];
    fill_pattern(d, sizeof d, 2);
    assert_int_equal(h7sim_backdoor_program(sim, 0x08100040u, d, sizeof d), 0);
    h7sim_flip_bits(sim, 0x08100040u, 2);
    struct crc_run r = crc(sim, 2, BY_ADDR, 4, 0, 0x08100000u, 0x08100000u, true);
    assert_int_equal(r.sr & (FLASH_SR_CRCEND | FLASH_SR_DBECCERR),
                     FLASH_SR_CRCEND | FLASH_SR_DBECCERR);
    assert_int_equal(r.sr & FLASH_SR_CRCRDERR, 0);
    assert_no_violations(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crc_h753_zero_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_hal_burst_or, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_each_burst_by_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_each_burst_by_sector_and_bank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_continue_without_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_rderr_protected_areas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_double_ecc_word, setup, teardown),
    };
    return cmocka_run_group_tests_name("model_crc", tests, NULL, NULL);
}
