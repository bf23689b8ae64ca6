/*
 * h7flash low-level API against the strict model: program, erase, blank
 * check, checked reads, CRC, option bytes, and every refusal.
 */
#include "drv_fixture.h"
#include "crc32.h"

#include <string.h>

#define A_WORD (WRITE_START + 0x100u)

static void test_program_word_and_read(void **state)
{
    struct fx *x = *state;
    uint8_t d[32], r[32];
    fx_pattern(d, sizeof d, 1);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, d), H7F_OK);
    h7sim_peek(x->sim, A_WORD, r, sizeof r);
    assert_memory_equal(d, r, sizeof d);
    /* Checked read at odd alignment and length. */
    uint8_t o[13];
    uint32_t bad = 0;
    assert_int_equal(h7f_read(&x->f, A_WORD + 3u, o, sizeof o, &bad), H7F_OK);
    assert_memory_equal(o, d + 3, sizeof o);
    /* Source buffer at an odd address. */
    uint8_t shifted[33];
    memcpy(shifted + 1, d, 32);
    assert_int_equal(h7f_program_word(&x->f, A_WORD + 32u, shifted + 1), H7F_OK);
    h7sim_peek(x->sim, A_WORD + 32u, r, sizeof r);
    assert_memory_equal(d, r, sizeof d);
    /* Bank 2 uses register set 2. */
    assert_int_equal(h7f_program_word(&x->f, H7_BANK2_BASE, d), H7F_OK);
    h7sim_peek(x->sim, H7_BANK2_BASE, r, sizeof r);
    assert_memory_equal(d, r, sizeof d);
    /* The bank is locked after every call. */
    assert_true(h7f_io_read32(H7_FLASH_REG(1, FLASH_CR)) & FLASH_CR_LOCK);
    assert_true(h7f_io_read32(H7_FLASH_REG(2, FLASH_CR)) & FLASH_CR_LOCK);
}

static void test_refusals(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 2);
    assert_int_equal(h7f_program_word(&x->f, A_WORD + 4u, d), H7F_E_ALIGN);
    assert_int_equal(h7f_program_word(&x->f, 0x08200000u, d), H7F_E_RANGE);
    assert_int_equal(h7f_program_word(&x->f, 0x07FFFFE0u, d), H7F_E_RANGE);
    assert_int_equal(h7f_program_word(&x->f, 0x08000000u, d), H7F_E_PROTECTED);
    assert_int_equal(h7f_program_word(&x->f, 0x0803FFE0u, d), H7F_E_PROTECTED);
    assert_int_equal(h7f_erase_sector(&x->f, 0x08020000u), H7F_E_PROTECTED);
    assert_int_equal(h7f_erase_bank(&x->f, 1), H7F_E_PROTECTED);
    assert_int_equal(h7f_erase_bank(&x->f, 3), H7F_E_INVAL);
    assert_int_equal(h7f_erase_sector(&x->f, 0x08200000u), H7F_E_RANGE);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, NULL), H7F_E_INVAL);
    struct h7f_writer w;
    assert_int_equal(h7f_writer_open(&w, &x->f, WRITE_START + 1u, 10, 0), H7F_E_ALIGN);
    assert_int_equal(h7f_writer_open(&w, &x->f, 0x08000000u, 10, 0), H7F_E_PROTECTED);
    assert_int_equal(h7f_writer_open(&w, &x->f, 0x081FFFE0u, 33, 0), H7F_E_RANGE);
    assert_int_equal(h7f_writer_open(&w, &x->f, WRITE_START, H7F_LEN_UNKNOWN, H7F_WR_ERASE_UPFRONT),
                     H7F_E_INVAL);
    /* More data than opened. */
    assert_int_equal(h7f_writer_open(&w, &x->f, WRITE_START, 10, 0), H7F_OK);
    assert_int_equal(h7f_writer_write(&w, d, 11), H7F_E_NOSPC);
    assert_int_equal(h7f_writer_report(&w)->err, H7F_E_NOSPC);
    assert_int_equal(h7f_writer_finish(&w), H7F_E_NOSPC);
    /* Nothing reached the model: no operation at all. */
    struct h7sim_stats st;
    h7sim_get_stats(x->sim, &st);
    assert_int_equal(st.programs[0] + st.programs[1], 0);
    assert_int_equal(st.sector_erases[0] + st.sector_erases[1], 0);
    /* Protection can be lifted by the caller. */
    x->f.protected_mask = 0;
    assert_int_equal(h7f_program_word(&x->f, 0x08000000u, d), H7F_OK);
}

static void test_not_virgin(void **state)
{
    struct fx *x = *state;
    uint8_t d[32], other[32], r[32];
    fx_pattern(d, sizeof d, 3);
    fx_pattern(other, sizeof other, 4);
    assert_int_equal(h7sim_backdoor_program(x->sim, A_WORD, d, sizeof d), 0);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, other), H7F_E_NOT_VIRGIN);
    assert_int_equal(x->f.last_addr, A_WORD);
    h7sim_peek(x->sim, A_WORD, r, sizeof r);
    assert_memory_equal(d, r, sizeof d);
    /* One byte programmed is enough to refuse. */
    uint8_t one = 0x7E;
    assert_int_equal(h7sim_backdoor_program(x->sim, A_WORD + 64u + 31u - 31u, &one, 1), 0);
    assert_int_equal(h7f_program_word(&x->f, A_WORD + 64u, other), H7F_E_NOT_VIRGIN);
    /* Writer with H7F_WR_NO_ERASE refuses at open, naming the word. */
    struct h7f_writer w;
    assert_int_equal(h7f_writer_open(&w, &x->f, WRITE_START, 0x1000, H7F_WR_NO_ERASE),
                     H7F_E_NOT_VIRGIN);
    assert_int_equal(h7f_writer_report(&w)->err_addr, A_WORD);
    /* Blank check reports the first bad word. */
    uint32_t bad = 0;
    assert_int_equal(h7f_blank_check(&x->f, WRITE_START, 0x1000, &bad), H7F_E_NOT_VIRGIN);
    assert_int_equal(bad, A_WORD);
    assert_int_equal(h7f_blank_check(&x->f, A_WORD + 96u, 0x1000, &bad), H7F_OK);
    /* After an erase the same word programs. */
    assert_int_equal(h7f_erase_sector(&x->f, A_WORD), H7F_OK);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, other), H7F_OK);
}

static void test_erase_sector_and_bank(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 5);
    assert_int_equal(h7sim_backdoor_program(x->sim, WRITE_START + 5u * H7_SECTOR_SIZE, d, 32), 0);
    assert_int_equal(h7sim_backdoor_program(x->sim, H7_BANK2_BASE + 0x12340u, d, 32), 0);
    uint64_t t0 = h7sim_now(x->sim);
    assert_int_equal(h7f_erase_sector(&x->f, WRITE_START + 5u * H7_SECTOR_SIZE + 77u), H7F_OK);
    struct h7sim_durations du;
    h7sim_durations(x->sim, 3, &du);
    assert_true(h7sim_now(x->sim) - t0 >= du.sector_erase);
    assert_int_equal(
        h7f_blank_check(&x->f, WRITE_START + 5u * H7_SECTOR_SIZE, H7_SECTOR_SIZE, NULL), H7F_OK);
    assert_int_equal(h7f_erase_bank(&x->f, 2), H7F_OK);
    assert_int_equal(h7f_blank_check(&x->f, H7_BANK2_BASE, H7_BANK_SIZE, NULL), H7F_OK);
    struct h7sim_stats st;
    h7sim_get_stats(x->sim, &st);
    assert_int_equal(st.sector_erases[0], 1);
    assert_int_equal(st.bank_erases[1], 1);
}

/* Both banks erase at the same time: the range's time is the longer lane. */
static void test_erase_range_parallel(void **state)
{
    struct fx *x = *state;
    struct h7sim_durations du;
    h7sim_durations(x->sim, 3, &du);
    uint32_t erased = 0;
    uint64_t t0 = h7sim_now(x->sim);
    assert_int_equal(
        h7f_erase_range(&x->f, H7_BANK2_BASE - 2u * H7_SECTOR_SIZE, 4u * H7_SECTOR_SIZE, &erased),
        H7F_OK);
    uint64_t dt = h7sim_now(x->sim) - t0;
    assert_int_equal(erased, 0x3C0u);
    assert_true(dt >= 2u * du.sector_erase);
    assert_true(dt < 3u * du.sector_erase);
}

static void test_ecc_reported(void **state)
{
    struct fx *x = *state;
    uint8_t d[32], o[64];
    fx_pattern(d, sizeof d, 6);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, d), H7F_OK);
    assert_int_equal(h7f_program_word(&x->f, A_WORD + 32u, d), H7F_OK);
    h7sim_flip_bits(x->sim, A_WORD, 1);
    h7sim_flip_bits(x->sim, A_WORD + 32u, 2);
    uint32_t bad = 0;
    assert_int_equal(h7f_read(&x->f, A_WORD, o, 32, &bad), H7F_E_SNECCERR);
    assert_int_equal(bad, A_WORD);
    assert_int_equal(h7f_read(&x->f, A_WORD + 32u, o, 32, &bad), H7F_E_DBECCERR);
    assert_int_equal(bad, A_WORD + 32u);
    assert_int_equal(h7f_blank_check(&x->f, A_WORD + 32u, 32, &bad), H7F_E_DBECCERR);
    uint32_t crc;
    assert_int_equal(h7f_crc32(&x->f, A_WORD, 64, &crc), H7F_E_DBECCERR);
    /* The CPU read of a double-ECC word is what the model logs; the driver
     * returned an error instead of faulting. */
    fx_expect_violations(x, "read-double-ecc", h7sim_violation_count(x->sim));
    assert_int_equal(h7f_port_stats.buserr_reads, 3);
}

static void test_crc32(void **state)
{
    struct fx *x = *state;
    static const char msg[] = "123456789";
    uint8_t word[32];
    memset(word, 0xFF, sizeof word);
    memcpy(word, msg, 9);
    assert_int_equal(h7f_program_word(&x->f, A_WORD, word), H7F_OK);
    uint32_t crc = 0;
    assert_int_equal(h7f_crc32(&x->f, A_WORD, 9, &crc), H7F_OK);
    assert_int_equal(crc, 0xCBF43926u); /* the CRC-32 check value */
}

static void test_options(void **state)
{
    struct fx *x = *state;
    struct h7f_options o;
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_int_equal(o.wpsn[0] & 0xFFu, 0xFFu);
    assert_int_equal(o.wpsn[1] & 0xFFu, 0xFFu);
    assert_false(o.swap_bank);
    assert_int_equal(h7f_opt_set_wrp(&x->f, 2, 0x81), H7F_OK);
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_int_equal(o.wpsn[1] & 0xFFu, 0x7Eu);
    assert_int_equal(o.wpsn[0] & 0xFFu, 0xFFu);
    assert_int_equal(h7f_opt_set_wrp(&x->f, 2, 0), H7F_OK);
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_int_equal(o.wpsn[1] & 0xFFu, 0xFFu);
    /* SWAP_BANK_OPT is programmed; the mapping changes only at reset. */
    assert_int_equal(h7f_opt_set_swap(&x->f, true), H7F_OK);
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_true(o.optsr & FLASH_OPTSR_SWAP_BANK_OPT);
    assert_false(o.swap_bank);
    assert_int_equal(h7f_opt_set_swap(&x->f, false), H7F_OK);
    assert_true(h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK);
}

/* Write protection set through the option bytes: refused before any
 * operation is queued, nothing changes; lifted, the write goes through. */
static void test_write_protected(void **state)
{
    struct fx *x = *state;
    uint8_t d[32], r[32];
    fx_pattern(d, sizeof d, 7);
    uint32_t sec3 = H7_BANK1_BASE + 3u * H7_SECTOR_SIZE;
    assert_int_equal(h7sim_backdoor_program(x->sim, sec3 + 64u, d, 32), 0);
    assert_int_equal(h7f_opt_set_wrp(&x->f, 1, 1u << 3), H7F_OK);
    assert_int_equal(h7f_program_word(&x->f, sec3, d), H7F_E_WRPERR);
    assert_int_equal(h7f_erase_sector(&x->f, sec3), H7F_E_WRPERR);
    assert_int_equal(h7f_erase_bank(&x->f, 2), H7F_OK);
    struct h7f_writer w;
    uint8_t big[300];
    fx_pattern(big, sizeof big, 8);
    assert_int_equal(fx_stream(x, &w, sec3 - 128u, big, sizeof big, sizeof big, 0, 7, 1),
                     H7F_E_WRPERR);
    assert_int_equal(h7f_writer_report(&w)->err_addr, sec3);
    assert_int_equal(h7f_writer_report(&w)->words, 4);
    h7sim_peek(x->sim, sec3 + 64u, r, 32);
    assert_memory_equal(d, r, 32);
    assert_int_equal(h7f_opt_set_wrp(&x->f, 1, 0), H7F_OK);
    assert_int_equal(h7f_erase_sector(&x->f, sec3), H7F_OK);
    assert_int_equal(h7f_program_word(&x->f, sec3, d), H7F_OK);
}

/* Option registers h7flash has no setter for (PRAR), programmed with the
 * documented sequence straight on the model (docs/H7_FLASH.md 5.3). */
static void set_option_reg(struct fx *x, uint32_t reg, uint32_t value)
{
    uint64_t v = 0;
    h7sim_write(x->sim, H7_FLASH_R_BASE + FLASH_OPTKEYR, 4, FLASH_OPT_KEY1, NULL);
    h7sim_write(x->sim, H7_FLASH_R_BASE + FLASH_OPTKEYR, 4, FLASH_OPT_KEY2, NULL);
    h7sim_write(x->sim, reg, 4, value, NULL);
    h7sim_read(x->sim, H7_FLASH_R_BASE + FLASH_OPTCR, 4, &v, NULL);
    h7sim_write(x->sim, H7_FLASH_R_BASE + FLASH_OPTCR, 4, v | FLASH_OPTCR_OPTSTART, NULL);
    for (;;) {
        h7sim_read(x->sim, H7_FLASH_R_BASE + FLASH_OPTSR_CUR, 4, &v, NULL);
        if (!(v & FLASH_OPTSR_OPT_BUSY))
            break;
        h7sim_advance(x->sim, h7sim_next_event(x->sim) - h7sim_now(x->sim));
    }
    h7sim_read(x->sim, H7_FLASH_R_BASE + FLASH_OPTCR, 4, &v, NULL);
    h7sim_write(x->sim, H7_FLASH_R_BASE + FLASH_OPTCR, 4, v | FLASH_OPTCR_OPTLOCK, NULL);
}

/* A PCROP area (256-byte blocks) refuses program and erase like WRP. */
static void test_pcrop_area(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 10);
    const uint32_t area = 0x08060000u; /* bank 1 sector 3 */
    const uint32_t blk = (area - H7_BANK1_BASE) / 256u;
    set_option_reg(x, H7_FLASH_REG(1, FLASH_PRAR_PRG), blk | (blk << 16));
    assert_int_equal(h7f_program_word(&x->f, area + 64u, d), H7F_E_WRPERR);
    assert_int_equal(h7f_erase_sector(&x->f, area), H7F_E_WRPERR);
    assert_int_equal(h7f_program_word(&x->f, area + 256u, d), H7F_OK);
    assert_int_equal(h7f_erase_sector(&x->f, area + H7_SECTOR_SIZE), H7F_OK);
}

/* The flash's CRC unit against the same bytes in software (crc/crc32.h,
 * AN5507): random data in both banks, starting on a 128-byte but not a
 * 512-byte boundary (a burst size ORed into the reset value, as the HAL
 * does, would read 16-word bursts and get another result), zeros (the
 * STM32H753 measurement), erased flash; refusals; the bank left locked
 * with the CRC unit off; a PCROP area is a CRCRDERR. */
static void test_crc_unit(void **state)
{
    struct fx *x = *state;
    static uint8_t d[8192], z[128], ff[1024];
    uint32_t crc = 0;
    fx_pattern(d, sizeof d, 21);
    memset(ff, 0xFF, sizeof ff);
    const uint32_t a1 = 0x08040080u, a2 = H7_BANK2_BASE + 0x3000u + 0x180u;
    assert_int_equal(h7sim_backdoor_program(x->sim, a1, d, 4096), 0);
    assert_int_equal(h7sim_backdoor_program(x->sim, a2, d + 4096, 4096), 0);
    assert_int_equal(h7sim_backdoor_program(x->sim, 0x08060000u, z, sizeof z), 0);

    assert_int_equal(h7f_crc_unit(&x->f, a1, 4096, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, d, 4096));
    assert_int_equal(h7f_crc_unit(&x->f, a2, 4096, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, d + 4096, 4096));
    assert_int_equal(h7f_crc_unit(&x->f, a1 + 128u, 128, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, d + 128, 128));
    assert_int_equal(h7f_crc_unit(&x->f, 0x08060000u, 128, &crc), H7F_OK);
    assert_int_equal(crc, 0x11E66C62u);
    assert_int_equal(h7f_crc_unit(&x->f, 0x08080000u, sizeof ff, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, ff, sizeof ff));

    assert_int_equal(h7f_crc_unit(&x->f, a1 + 32u, 128, &crc), H7F_E_ALIGN);
    assert_int_equal(h7f_crc_unit(&x->f, a1, 96, &crc), H7F_E_ALIGN);
    assert_int_equal(h7f_crc_unit(&x->f, a1, 0, &crc), H7F_E_INVAL);
    assert_int_equal(h7f_crc_unit(&x->f, H7_BANK2_BASE - 128u, 256, &crc), H7F_E_RANGE);
    assert_int_equal(h7f_crc_unit(&x->f, H7_FLASH_END + 1u - 128u, 256, &crc), H7F_E_RANGE);
    /* Across the bank boundary: both units, combined, as one run over the
     * bytes (the update record's image CRC). */
    assert_int_equal(h7sim_backdoor_program(x->sim, H7_BANK2_BASE - 256u, d, 512), 0);
    assert_int_equal(h7f_crc_unit_span(&x->f, H7_BANK2_BASE - 256u, 512, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, d, 512));
    assert_int_equal(h7f_crc_unit_span(&x->f, a1, 4096, &crc), H7F_OK);
    assert_int_equal(crc, crc32_h7flash(CRC32_H7FLASH_INIT, d, 4096));
    assert_int_equal(h7f_crc_unit_span(&x->f, H7_BANK2_BASE - 128u, 96, &crc), H7F_E_ALIGN);

    for (unsigned bank = 1; bank <= 2; bank++) {
        uint64_t cr = 0;
        assert_int_equal(h7sim_read(x->sim, H7_FLASH_REG(bank, FLASH_CR), 4, &cr, NULL), H7SIM_OK);
        assert_true(cr & FLASH_CR_LOCK);
        assert_false(cr & FLASH_CR_CRC_EN);
    }

    const uint32_t area = 0x080A0000u;
    const uint32_t blk = (area - H7_BANK1_BASE) / 256u;
    set_option_reg(x, H7_FLASH_REG(1, FLASH_PRAR_PRG), blk | (blk << 16));
    assert_int_equal(h7f_crc_unit(&x->f, area, 512, &crc), H7F_E_CRCRDERR);
    assert_int_equal(h7f_crc_unit(&x->f, area + 256u, 256, &crc), H7F_OK);
}

/* With SWAP_BANK in force the driver still addresses by CPU address:
 * register set 1 drives 0x08000000 (now physical bank 2); WPSN/PRAR are
 * taken as physical, like the model does (docs/H7_FLASH.md 5.2). */
static void test_swapped_banks(void **state)
{
    struct fx *x = *state;
    assert_int_equal(h7f_opt_set_swap(&x->f, true), H7F_OK);
    h7sim_reset(x->sim);
    h7f_port_attach(x->sim);
    assert_true(h7sim_swapped(x->sim));
    struct h7f_options o;
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_true(o.swap_bank);

    uint8_t data[0x2000];
    fx_pattern(data, sizeof data, 11);
    struct h7f_writer w;
    assert_int_equal(
        fx_stream(x, &w, H7_BANK2_BASE - 0x1000u, data, sizeof data, sizeof data, 0, 1000, 5),
        H7F_OK);
    uint8_t got[sizeof data];
    h7sim_peek(x->sim, H7_BANK2_BASE - 0x1000u, got, sizeof got);
    assert_memory_equal(data, got, sizeof data);

    /* Set 1's WPSN protects physical bank 1, mapped at 0x08100000 now. */
    assert_int_equal(h7f_opt_set_wrp(&x->f, 1, 0x04), H7F_OK);
    assert_int_equal(h7f_program_word(&x->f, H7_BANK2_BASE + 2u * H7_SECTOR_SIZE, data),
                     H7F_E_WRPERR);
    assert_int_equal(h7f_program_word(&x->f, H7_BANK1_BASE + 2u * H7_SECTOR_SIZE, data), H7F_OK);
    assert_int_equal(h7f_opt_set_wrp(&x->f, 1, 0), H7F_OK);
    assert_int_equal(h7f_opt_set_swap(&x->f, false), H7F_OK);
}

/* The CM4 boot address (BOOT4 ADD0): set through the option sequence,
 * kept across a reset, nothing done when it holds the value, refused when
 * not 64 KB aligned (ADD0 is bits 31:16). */
static void test_boot_cm4(void **state)
{
    struct fx *x = *state;
    struct h7f_options o;
    struct h7sim_stats st;
    uint64_t n;

    assert_int_equal(h7f_opt_set_boot_cm4(&x->f, 0x08084000u), H7F_E_INVAL);
    assert_int_equal(h7f_opt_set_boot_cm4(&x->f, 0x08080000u), H7F_OK);
    h7sim_reset(x->sim);
    h7f_port_attach(x->sim);
    assert_int_equal(h7f_opt_read(&x->f, &o), H7F_OK);
    assert_int_equal(o.boot4 & FLASH_BOOT_ADD0_Msk, 0x0808u);
    h7sim_get_stats(x->sim, &st);
    n = st.option_changes;
    assert_int_equal(h7f_opt_set_boot_cm4(&x->f, 0x08080000u), H7F_OK);
    h7sim_get_stats(x->sim, &st);
    assert_int_equal(st.option_changes, n);
    assert_int_equal(h7sim_violation_count(x->sim), 0);
}

/* A controller whose BSY never clears: every wait ends with H7F_E_TIMEOUT
 * after the datasheet maximum x2, and the bank is relocked. */
static uint32_t stuck_bsy(uint32_t addr, uint32_t v)
{
    if (addr == H7_FLASH_REG(1, FLASH_SR) || addr == H7_FLASH_REG(2, FLASH_SR))
        return v | FLASH_SR_BSY;
    return v;
}

static void test_timeouts(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 12);
    /* Busy from the start: op_begin waits for the queue (bank erase max x2). */
    h7f_port_read_filter = stuck_bsy;
    uint64_t t0 = h7sim_now(x->sim);
    assert_int_equal(h7f_erase_sector(&x->f, WRITE_START), H7F_E_TIMEOUT);
    uint64_t dt = h7sim_now(x->sim) - t0;
    assert_true(dt >= 52000000000ull && dt < 52001000000ull);
    h7f_port_read_filter = NULL;
    assert_true(h7f_io_read32(H7_FLASH_REG(1, FLASH_CR)) & FLASH_CR_LOCK);
    assert_int_equal(h7f_program_word(&x->f, WRITE_START + 0x20000u, d), H7F_OK);
}

/* BSY sticks once the last store of the word is done. */
static void arm_stuck(uint32_t addr, uint32_t v, bool array)
{
    (void)v;
    if (array && (addr & 31u) == 28u)
        h7f_port_read_filter = stuck_bsy;
}

static void test_timeout_program(void **state)
{
    struct fx *x = *state;
    uint8_t d[32];
    fx_pattern(d, sizeof d, 13);
    h7f_port_after_write = arm_stuck;
    uint64_t t0 = h7sim_now(x->sim);
    assert_int_equal(h7f_program_word(&x->f, WRITE_START + 0x40u, d), H7F_E_TIMEOUT);
    uint64_t dt = h7sim_now(x->sim) - t0;
    assert_true(dt >= 1160000u && dt < 1300000u);
    h7f_port_after_write = NULL;
    h7f_port_read_filter = NULL;
    assert_true(h7f_io_read32(H7_FLASH_REG(1, FLASH_CR)) & FLASH_CR_LOCK);
    /* The word was programmed after all (only SR lied): the next word is fine. */
    assert_int_equal(h7f_program_word(&x->f, WRITE_START + 0x60u, d), H7F_OK);
}

static void test_strerror(void **state)
{
    (void)state;
    static const int codes[] = {
        H7F_OK,         H7F_E_INVAL,     H7F_E_ALIGN,
        H7F_E_RANGE,    H7F_E_PROTECTED, H7F_E_NOT_VIRGIN,
        H7F_E_TIMEOUT,  H7F_E_LOCKED,    H7F_E_VERIFY,
        H7F_E_NOSPC,    H7F_E_WRPERR,    H7F_E_PGSERR,
        H7F_E_STRBERR,  H7F_E_INCERR,    H7F_E_OPERR,
        H7F_E_RDPERR,   H7F_E_RDSERR,    H7F_E_SNECCERR,
        H7F_E_DBECCERR, H7F_E_CRCRDERR,  H7F_E_OPTCHANGEERR,
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_string_not_equal(h7f_strerror(codes[i]), "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(h7f_strerror(codes[i]), h7f_strerror(codes[j]));
    }
    assert_string_equal(h7f_strerror(-9999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_program_word_and_read, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_not_virgin, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_erase_sector_and_bank, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_erase_range_parallel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ecc_reported, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crc32, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_options, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_write_protected, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pcrop_area, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crc_unit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_swapped_banks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_boot_cm4, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_program, fx_setup, fx_teardown),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests_name("h7flash_lowlevel", tests, NULL, NULL);
}
