/*
 * h7flash streaming writer against the strict model: lengths, chunkings,
 * start addresses, sector and bank crossings, padding of the last word,
 * D-cache invalidation of exactly what changed, the whole 1.75 MB.
 */
#include "drv_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"

static const uint32_t lengths[] = { 0, 1, 31, 32, 33, 4095, 131071, 131072, 131073 };
static const unsigned chunks[] = { 1, 7, 32, 1000, 1024, FX_CHUNK_RANDOM };

/* Sectors a write of len bytes at start erases (lazy erase). */
static uint32_t sectors_of(uint32_t start, uint32_t len)
{
    uint32_t m = 0;
    if (len == 0)
        return 0;
    uint32_t first = (start - H7_FLASH_BASE) / H7_SECTOR_SIZE;
    uint32_t last = (start + ((len + 31u) & ~31u) - 1u - H7_FLASH_BASE) / H7_SECTOR_SIZE;
    for (uint32_t s = first; s <= last; s++)
        m |= 1u << s;
    return m;
}

static unsigned popcount(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1u)
        n++;
    return n;
}

/* One complete case on a fresh model: stream, check data, tail, report,
 * invalidations, violation log. */
static void run_case(uint32_t start, uint32_t len, unsigned chunk, uint32_t flags, bool known)
{
    struct fx x;
    struct h7f_writer w;
    uint8_t *data = malloc(len ? len : 1u);
    assert_non_null(data);
    fx_pattern(data, len, start ^ len ^ chunk);
    fx_open(&x);
    int err = fx_stream(&x, &w, start, data, len, known ? len : H7F_LEN_UNKNOWN, flags, chunk,
                        len + chunk);
    if (err)
        fail_msg("start 0x%08x len %u chunk %u flags %u: %s (at 0x%08x)", (unsigned)start,
                 (unsigned)len, chunk, (unsigned)flags, h7f_strerror(err),
                 (unsigned)h7f_writer_report(&w)->err_addr);
    const struct h7f_writer_report *r = h7f_writer_report(&w);
    assert_int_equal(r->err, 0);
    assert_int_equal(r->bytes, len);
    assert_int_equal(r->words, (len + 31u) / 32u);
    uint32_t expect_erased = (flags & H7F_WR_NO_ERASE) ? 0u : sectors_of(start, len);
    assert_int_equal(r->sectors_erased, popcount(expect_erased));
    assert_int_equal(w.erased_mask, expect_erased);
    if (flags & H7F_WR_VERIFY_UNIT)
        assert_int_equal(r->crc_unit, crc32_h7flash_image(data, len));
    fx_assert_written(&x, start, data, len);
    fx_assert_invalidations(&x, expect_erased, start, len);
    fx_close_clean(&x);
    free(data);
}

static void test_lengths_and_chunks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
            run_case(WRITE_START, lengths[i], chunks[c], 0, true);
}

static void test_unknown_length(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        run_case(WRITE_START + H7_SECTOR_SIZE, lengths[i], FX_CHUNK_RANDOM, 0, false);
}

static void test_crc_and_upfront(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        run_case(WRITE_START, lengths[i], 1000, H7F_WR_VERIFY_CRC, true);
        run_case(WRITE_START, lengths[i], 1024, H7F_WR_ERASE_UPFRONT | H7F_WR_VERIFY_CRC, true);
    }
}

/* H7F_WR_VERIFY_UNIT: the flash CRC unit's value over the image's bursts
 * (both banks' units across the boundary) equals crc32_h7flash_image() of
 * the stream; a word that changed on the flash after its program is a
 * verify error. */
static void test_verify_unit(void **state)
{
    static uint8_t data[4096];
    struct fx x;
    struct h7f_writer w;
    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        run_case(WRITE_START, lengths[i], 1000, H7F_WR_VERIFY_UNIT, true);
    run_case(H7_BANK2_BASE - 1024u, 4095, FX_CHUNK_RANDOM, H7F_WR_VERIFY_UNIT, true);
    run_case(WRITE_START, 1000, 7, H7F_WR_VERIFY_UNIT, false);

    fx_pattern(data, sizeof data, 5);
    fx_open(&x);
    assert_int_equal(h7f_writer_open(&w, &x.f, WRITE_START, sizeof data, H7F_WR_VERIFY_UNIT), 0);
    assert_int_equal(h7f_writer_write(&w, data, sizeof data - 100u), 0);
    h7sim_flip_bits(x.sim, WRITE_START + 0x200u, 2);
    assert_int_equal(h7f_writer_write(&w, data + sizeof data - 100u, 100u), 0);
    assert_int_equal(h7f_writer_finish(&w), H7F_E_VERIFY);
    assert_int_equal(h7f_writer_report(&w)->err_addr, WRITE_START);
    fx_close_any(&x);
}

/* Every sector boundary from bank 1 sector 2 to bank 2 sector 7, a write
 * that crosses into the next sector (or ends at the end of the flash). */
static void test_every_sector_start(void **state)
{
    (void)state;
    for (uint32_t a = WRITE_START; a < WRITE_END; a += H7_SECTOR_SIZE) {
        uint32_t len = a + H7_SECTOR_SIZE == WRITE_END ? H7_SECTOR_SIZE : H7_SECTOR_SIZE + 33u;
        run_case(a, len, FX_CHUNK_RANDOM, 0, true);
        run_case(a, 1000, 7, 0, true);
    }
}

/* Just before the bank boundary: 0x080FFFFF -> 0x08100000 changes register
 * set (bank 2 uses CR2/SR2/KEYR2/CCR2). */
static void test_bank_boundary(void **state)
{
    (void)state;
    run_case(H7_BANK2_BASE - 32u, 64, 1, 0, true);
    run_case(H7_BANK2_BASE - 32u, 33, 7, 0, true);
    run_case(H7_BANK2_BASE - 1024u, 4095, FX_CHUNK_RANDOM, 0, true);
    run_case(H7_BANK2_BASE - H7_SECTOR_SIZE, 2u * H7_SECTOR_SIZE + 5u, 1000, 0, true);
    run_case(H7_BANK2_BASE - 32u, 64, 32, H7F_WR_ERASE_UPFRONT, true);
    /* The last flash word of the device (the IAP example's off-by-one). */
    run_case(H7_FLASH_END + 1u - 32u, 32, 7, 0, true);
    run_case(H7_FLASH_END + 1u - 64u, 63, 1, 0, true);
}

static void whole(unsigned chunk, uint32_t flags)
{
    run_case(WRITE_START, WRITE_SPAN, chunk, flags, true);
}

static void test_whole_lazy_random(void **state)
{
    (void)state;
    whole(FX_CHUNK_RANDOM, 0);
}
static void test_whole_lazy_1024_crc(void **state)
{
    (void)state;
    whole(1024, H7F_WR_VERIFY_CRC);
}
static void test_whole_upfront_7(void **state)
{
    (void)state;
    whole(7, H7F_WR_ERASE_UPFRONT);
}
static void test_whole_unknown(void **state)
{
    (void)state;
    run_case(WRITE_START, WRITE_SPAN, 1000, 0, false);
}

/* H7F_WR_ERASE_AHEAD: bank 2's part erased in the background while bank 1
 * is written; the same result as lazy erase. */
static void test_erase_ahead(void **state)
{
    (void)state;
    static const uint32_t starts[] = { H7_BANK2_BASE - 32u, H7_BANK2_BASE - 0x21000u,
                                       WRITE_START + 0x40000u, H7_BANK2_BASE + 0x20000u };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
            run_case(starts[i], lengths[l], FX_CHUNK_RANDOM, H7F_WR_ERASE_AHEAD, true);
    run_case(H7_BANK2_BASE - 0x1000u, 0x1000u + 3u * H7_SECTOR_SIZE + 5u, 7,
             H7F_WR_ERASE_AHEAD | H7F_WR_VERIFY_CRC, true);
}

static void test_whole_ahead(void **state)
{
    (void)state;
    whole(1000, H7F_WR_ERASE_AHEAD | H7F_WR_VERIFY_CRC);
}

/* The slowest part the datasheet allows (maximum times, x8 parallelism):
 * the driver's timeouts (maximum x2) never fire. */
static void test_slowest_part(void **state)
{
    (void)state;
    static const uint32_t flags[] = { 0, H7F_WR_ERASE_UPFRONT, H7F_WR_ERASE_AHEAD };
    for (size_t i = 0; i < 3; i++) {
        struct fx x;
        struct h7f_writer w;
        const uint32_t start = H7_BANK2_BASE - H7_SECTOR_SIZE - 64u;
        const uint32_t len = 2u * H7_SECTOR_SIZE + 100u;
        uint8_t *data = malloc(len);
        assert_non_null(data);
        fx_pattern(data, len, 99);
        fx_open_timing(&x, H7SIM_TIMING_MAX);
        x.f.psize = FLASH_CR_PSIZE_X8;
        uint64_t t0 = h7sim_now(x.sim);
        int err = fx_stream(&x, &w, start, data, len, len, flags[i], 1024, 2);
        if (err)
            fail_msg("flags %u: %s", (unsigned)flags[i], h7f_strerror(err));
        struct h7sim_durations d;
        h7sim_durations(x.sim, 0, &d);
        assert_true(h7sim_now(x.sim) - t0 >= (len / 32u) * d.program_word);
        fx_assert_written(&x, start, data, len);
        fx_close_clean(&x);
        free(data);
    }
}

/* Target already erased (H7F_WR_NO_ERASE): blank-check at open, nothing
 * erased, everything programmed. */
static void test_no_erase(void **state)
{
    (void)state;
    run_case(WRITE_START + 3u * H7_SECTOR_SIZE + 64u, 5000, 1000, H7F_WR_NO_ERASE, true);
}

/* write_at: forward jumps, refusals before the position, flush of a
 * partial word, all-0xFF words never programmed; CRC over flash with the
 * gaps. Both modes: lazy erase (gaps 0xFF) and no-erase (gaps as read). */
static void test_write_at_seek_flush(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct fx x;
        struct h7f_writer w;
        const uint32_t s = WRITE_START;
        uint8_t a[40], ff[64], back[256];
        uint32_t flags = H7F_WR_VERIFY_CRC | (mode ? H7F_WR_NO_ERASE : 0u);
        fx_open(&x);
        fx_pattern(a, sizeof a, 5);
        memset(ff, 0xFF, sizeof ff);
        /* no-erase: a word of old data in the gap, kept as it is */
        if (mode) {
            assert_int_equal(h7f_erase_sector(&x.f, s), 0);
            assert_int_equal(h7f_program_word(&x.f, s + 0x80, a), 0);
        }
        assert_int_equal(h7f_writer_open(&w, &x.f, s, H7F_LEN_UNKNOWN, flags), 0);
        assert_int_equal(h7f_writer_write_at(&w, s + 1, a, 1), 0);
        assert_int_equal(h7f_writer_write_at(&w, s + 2, a + 1, 31), 0);
        /* byte 0x20 belongs to the next word, not merged into the first */
        assert_int_equal(h7sim_word_state(x.sim, s), H7SIM_WORD_PROGRAMMED);
        assert_int_equal(h7sim_word_state(x.sim, s + 0x20), H7SIM_WORD_VIRGIN);
        /* before the position: refused, nothing happens, still usable */
        assert_int_equal(h7f_writer_write_at(&w, s + 1, a, 1), H7F_E_SEQUENCE);
        assert_int_equal(h7f_writer_write_at(&w, s + 0x21, a, 1), 0);
        assert_int_equal(h7f_writer_flush(&w), 0);
        assert_int_equal(h7sim_word_state(x.sim, s + 0x20), H7SIM_WORD_PROGRAMMED);
        /* the rest of a flushed word cannot be written any more */
        assert_int_equal(h7f_writer_next(&w), s + 0x40);
        assert_int_equal(h7f_writer_write_at(&w, s + 0x22, a, 1), H7F_E_SEQUENCE);
        /* two words of 0xFF: never programmed */
        assert_int_equal(h7f_writer_write_at(&w, s + 0x40, ff, 64), 0);
        assert_int_equal(h7sim_word_state(x.sim, s + 0x40), H7SIM_WORD_VIRGIN);
        assert_int_equal(h7sim_word_state(x.sim, s + 0x60), H7SIM_WORD_VIRGIN);
        /* a jump over the old word (mode 1) and past it */
        assert_int_equal(h7f_writer_seek(&w, s + 0xC3), 0);
        assert_int_equal(h7f_writer_write(&w, a, 8), 0);
        assert_int_equal(h7f_writer_finish(&w), 0);
        h7sim_peek(x.sim, s, back, sizeof back);
        assert_int_equal(back[0], 0xFF);
        assert_memory_equal(back + 1, a, 32);
        assert_int_equal(back[0x21], a[0]);
        for (unsigned i = 0x22; i < 0x80; i++)
            assert_int_equal(back[i], i == 0x21 ? a[0] : 0xFF);
        if (mode)
            assert_memory_equal(back + 0x80, a, 32);
        assert_memory_equal(back + 0xC3, a, 8);
        assert_int_equal(h7f_writer_report(&w)->bytes, 0xC3 + 8);
        fx_close_clean(&x);
    }
}

/* h7f_writer_ready(): the sector's erase starts in the background and
 * returns at once; a write after it ended programs without erasing, one
 * that comes early waits for it; abort never leaves an erase running. */
static void test_ready_background_erase(void **state)
{
    struct fx x;
    struct h7f_writer w;
    struct h7sim_durations d;
    const uint32_t s = WRITE_START + H7_SECTOR_SIZE - 32u, s5 = WRITE_START + 3u * H7_SECTOR_SIZE;
    uint8_t a[64];
    uint64_t t0;

    (void)state;
    fx_open(&x);
    h7sim_durations(x.sim, 3, &d);
    fx_pattern(a, sizeof a, 8);
    assert_int_equal(h7f_writer_open(&w, &x.f, s, sizeof a, H7F_WR_VERIFY_CRC), 0);
    t0 = h7sim_now(x.sim);
    assert_int_equal(h7f_writer_ready(&w, s), 0);
    assert_true(h7sim_bank_busy(x.sim, s));
    assert_true(h7sim_now(x.sim) - t0 < d.sector_erase / 100u);
    assert_int_equal(h7f_writer_ready(&w, s), 0);
    h7sim_advance(x.sim, d.sector_erase);
    assert_int_equal(h7f_writer_ready(&w, s), 1);
    t0 = h7sim_now(x.sim);
    assert_int_equal(h7f_writer_write(&w, a, 32), 0);
    assert_int_equal(h7sim_word_state(x.sim, s), H7SIM_WORD_PROGRAMMED);
    assert_true(h7sim_now(x.sim) - t0 < 2u * d.program_word + d.sector_erase / 100u);
    /* the next sector: started, and the write that follows waits for it */
    assert_int_equal(h7f_writer_ready(&w, s + 32u), 0);
    assert_int_equal(h7f_writer_write(&w, a + 32, 32), 0);
    assert_int_equal(h7f_writer_finish(&w), 0);
    assert_int_equal(h7f_writer_report(&w)->sectors_erased, 2);
    fx_assert_written(&x, s, a, sizeof a);
    fx_assert_invalidations(&x, (1u << 2) | (1u << 3), s, sizeof a);
    /* abort while a background erase runs: it is collected */
    assert_int_equal(h7f_writer_open(&w, &x.f, s5, 100, 0), 0);
    assert_int_equal(h7f_writer_ready(&w, s5), 0);
    assert_true(h7sim_bank_busy(x.sim, s5));
    h7f_writer_abort(&w);
    assert_false(h7sim_bank_busy(x.sim, s5));
    assert_int_equal(h7f_blank_check(&x.f, s5, H7_SECTOR_SIZE, NULL), 0);
    assert_int_equal(h7f_writer_write(&w, a, 1), H7F_E_INVAL);
    fx_close_clean(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths_and_chunks),
        cmocka_unit_test(test_unknown_length),
        cmocka_unit_test(test_crc_and_upfront),
        cmocka_unit_test(test_verify_unit),
        cmocka_unit_test(test_every_sector_start),
        cmocka_unit_test(test_bank_boundary),
        cmocka_unit_test(test_no_erase),
        cmocka_unit_test(test_write_at_seek_flush),
        cmocka_unit_test(test_slowest_part),
        cmocka_unit_test(test_whole_lazy_random),
        cmocka_unit_test(test_whole_lazy_1024_crc),
        cmocka_unit_test(test_whole_upfront_7),
        cmocka_unit_test(test_whole_unknown),
        cmocka_unit_test(test_erase_ahead),
        cmocka_unit_test(test_whole_ahead),
        cmocka_unit_test(test_ready_background_erase),
    };
    return cmocka_run_group_tests_name("h7flash_writer", tests, NULL, NULL);
}
