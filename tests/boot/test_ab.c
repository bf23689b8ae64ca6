/* A/B updates (boot/ab/ab.h, docs/PROTOCOL.md "A/B updates"): the trailer
 * format, the boot decision as a table, and update / trial / confirm /
 * rollback on the h7sim model with the real bank swap (the model and the
 * boot library's platform hooks from the power-loss support, pl.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abfx.h"
#include "boot/boot.h"
#include "crc32.h"
#include "pl.h"

/* ---- trailer format ------------------------------------------------------ */

static uint8_t trailer[AB_TRAILER_WORDS][AB_WORD_SIZE];
static uint32_t unreadable; /* bit i: word i reads as an ECC error */

static int rd_trailer(void *ctx, uint32_t i, uint8_t out[UR_SIZE])
{
    (void)ctx;
    memcpy(out, trailer[i], AB_WORD_SIZE);
    return unreadable >> i & 1u ? UR_E_UNREADABLE : 0;
}

static void put(unsigned i, uint8_t kind, uint16_t index, uint32_t seq)
{
    struct ab_word w = { kind, index, seq, 100, 1, 2 };

    ab_word_encode(&w, trailer[i]);
}

static struct ab_trailer scan(void)
{
    struct ab_trailer t;

    ab_trailer_scan(rd_trailer, NULL, &t);
    return t;
}

static void test_word_roundtrip(void **state)
{
    struct ab_word w = { AB_KIND_IMAGE, 0, 7, 4096, 0x12345678u, 0x9ABCDEF0u }, r;
    uint8_t b[AB_WORD_SIZE];
    (void)state;
    ab_word_encode(&w, b);
    assert_int_equal(ab_word_decode(b, &r), 0);
    assert_int_equal(r.sequence, 7);
    assert_int_equal(r.length, 4096);
    assert_int_equal(r.crc, 0x12345678u);
    assert_int_equal(r.crc_unit, 0x9ABCDEF0u);
    b[9] ^= 1u;
    assert_int_equal(ab_word_decode(b, &r), UR_E_CRC);
    memset(b, 0xFF, sizeof(b));
    assert_int_equal(ab_word_decode(b, &r), UR_E_EMPTY);
    w.kind = 0x99;
    ab_word_encode(&w, b);
    assert_int_equal(ab_word_decode(b, &r), UR_E_FIELD);
}

static void test_trailer_states(void **state)
{
    struct ab_trailer t;
    (void)state;
    memset(trailer, 0xFF, sizeof(trailer));
    unreadable = 0;
    assert_int_equal(scan().state, AB_SLOT_EMPTY);
    /* a torn IMAGE word: empty slot */
    memset(trailer[AB_W_IMAGE], 0x00, AB_WORD_SIZE);
    t = scan();
    assert_int_equal(t.state, AB_SLOT_EMPTY);
    assert_int_equal(t.torn, 1u << AB_W_IMAGE);
    put(AB_W_IMAGE, AB_KIND_IMAGE, 0, 5);
    t = scan();
    assert_int_equal(t.state, AB_SLOT_TRIAL);
    assert_int_equal(t.trials, 0);
    put(AB_W_TRIAL0, AB_KIND_TRIAL, 0, 5);
    /* a torn trial word counts as used */
    unreadable = 1u << (AB_W_TRIAL0 + 1);
    t = scan();
    assert_int_equal(t.trials, 2);
    assert_int_equal(t.state, AB_SLOT_TRIAL);
    /* a torn confirm does not confirm, the second one does */
    memset(trailer[AB_W_CONFIRM0], 0x12, AB_WORD_SIZE);
    t = scan();
    assert_int_equal(t.state, AB_SLOT_TRIAL);
    assert_int_equal(t.confirms, 1);
    put(AB_W_CONFIRM0 + 1, AB_KIND_CONFIRM, 0, 5);
    assert_int_equal(scan().state, AB_SLOT_CONFIRMED);
    /* a confirm of another image's sequence does not count */
    put(AB_W_CONFIRM0 + 1, AB_KIND_CONFIRM, 0, 4);
    assert_int_equal(scan().state, AB_SLOT_TRIAL);
    /* any REJECT word, torn too, wins */
    memset(trailer[AB_W_REJECT], 0x00, AB_WORD_SIZE);
    assert_int_equal(scan().state, AB_SLOT_REJECTED);
}

/* ---- the decision as a table --------------------------------------------- */

#define V(st, ok, seq, tr)        \
    {                             \
        AB_SLOT_##st, ok, seq, tr \
    }

static void test_decide_table(void **state)
{
    static const struct {
        struct ab_view run, other;
        bool wdg;
        enum ab_action want;
    } t[] = {
        /* nothing anywhere */
        { V(EMPTY, false, 0, 0), V(EMPTY, false, 0, 0), false, AB_ACT_STAY },
        /* confirmed image runs; an older or tried other slot changes nothing */
        { V(CONFIRMED, true, 3, 0), V(CONFIRMED, true, 2, 0), false, AB_ACT_BOOT },
        { V(CONFIRMED, true, 3, 1), V(EMPTY, false, 0, 0), true, AB_ACT_BOOT },
        { V(CONFIRMED, true, 3, 0), V(REJECTED, true, 4, 3), false, AB_ACT_BOOT },
        { V(CONFIRMED, true, 3, 0), V(TRIAL, true, 2, 0), false, AB_ACT_BOOT },
        { V(CONFIRMED, true, 3, 0), V(TRIAL, true, 4, 1), false, AB_ACT_BOOT },
        /* a newer, never tried image in the other slot: the swap did not happen */
        { V(CONFIRMED, true, 3, 0), V(TRIAL, true, 4, 0), false, AB_ACT_SWAP },
        { V(CONFIRMED, true, 0xFFFFFFFFu, 0), V(TRIAL, true, 0, 0), false, AB_ACT_SWAP },
        /* ... but not when its image does not check */
        { V(CONFIRMED, true, 3, 0), V(TRIAL, false, 4, 0), false, AB_ACT_BOOT },
        /* trial boots, then rejection */
        { V(TRIAL, true, 4, 0), V(CONFIRMED, true, 3, 0), false, AB_ACT_TRIAL },
        { V(TRIAL, true, 4, 0), V(CONFIRMED, true, 3, 0), true, AB_ACT_TRIAL },
        { V(TRIAL, true, 4, 2), V(CONFIRMED, true, 3, 0), false, AB_ACT_TRIAL },
        { V(TRIAL, true, 4, AB_TRIALS), V(CONFIRMED, true, 3, 0), false, AB_ACT_REJECT },
        { V(TRIAL, true, 4, 1), V(CONFIRMED, true, 3, 0), true, AB_ACT_REJECT },
        /* rejected or broken running slot: back to the other one */
        { V(REJECTED, true, 4, 3), V(CONFIRMED, true, 3, 0), false, AB_ACT_SWAP },
        { V(CONFIRMED, false, 4, 0), V(CONFIRMED, true, 3, 0), false, AB_ACT_SWAP },
        { V(EMPTY, false, 0, 0), V(TRIAL, true, 1, 0), false, AB_ACT_SWAP },
        { V(EMPTY, false, 0, 0), V(TRIAL, true, 1, AB_TRIALS - 1), false, AB_ACT_SWAP },
        /* neither startable */
        { V(EMPTY, false, 0, 0), V(TRIAL, true, 1, AB_TRIALS), false, AB_ACT_STAY },
        { V(REJECTED, true, 4, 3), V(REJECTED, true, 3, 3), false, AB_ACT_STAY },
        { V(REJECTED, true, 4, 3), V(CONFIRMED, false, 3, 0), false, AB_ACT_STAY },
        { V(TRIAL, false, 4, 0), V(EMPTY, false, 0, 0), false, AB_ACT_STAY },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enum ab_action a = ab_decide(&t[i].run, &t[i].other, t[i].wdg);

        if (a != t[i].want)
            fail_msg("row %zu: %s, want %s", i, ab_action_name(a), ab_action_name(t[i].want));
    }
}

/* ---- on the model -------------------------------------------------------- */

static struct pl_sim ps; /* the power-loss support's traced model */
static struct h7sim *sim;
static struct ab_ctx ab;
#define IMG_A 20000u
#define IMG_B 300000u /* crosses sectors, not a multiple of 128 */
static uint8_t img_a[IMG_A], img_b[IMG_B];

static int setup(void **state)
{
    (void)state;
    pl_sim_open(&ps, 1);
    sim = ps.sim;
    abfx_boot_code_install(sim);
    abfx_image(img_a, IMG_A, 1);
    abfx_image(img_b, IMG_B, 2);
    abfx_ab_init(&ab);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (h7sim_violation_count(sim))
        h7sim_violations_print(sim, stderr);
    assert_int_equal(h7sim_violation_count(sim), 0);
    assert_true(abfx_boot_code_intact(sim));
    pl_sim_close(&ps);
    return 0;
}

static void power_on(void)
{
    pl_sim_reset(&ps);
    abfx_ab_init(&ab);
}

static enum ab_action boot(bool wdg)
{
    struct ab_boot_result r;

    ab_boot(&ab, wdg, &r);
    assert_int_equal(r.err, 0);
    return r.act;
}

static enum ab_slot_state run_state(void)
{
    struct ab_slot s;

    ab_slot_load(&ab, BOOT_AB_SLOT_START, &s);
    return s.t.state;
}

/* Update, reset, first trial boot, confirm: a confirmed running image. */
static void install(const uint8_t *img, uint32_t len, bool swapped_before)
{
    assert_int_equal(h7sim_swapped(sim), swapped_before);
    assert_int_equal(abfx_update(&ab, img, len, len), 0);
    /* the running bank untouched, the swap waits for the reset */
    assert_int_equal(h7sim_swapped(sim), swapped_before);
    assert_true(abfx_slot_holds(sim, BOOT_AB_OTHER_START, img, len));
    power_on();
    assert_int_equal(h7sim_swapped(sim), !swapped_before);
    assert_true(abfx_slot_holds(sim, BOOT_AB_SLOT_START, img, len));
    assert_int_equal(boot(false), AB_ACT_TRIAL);
    assert_int_equal(run_state(), AB_SLOT_TRIAL);
    assert_int_equal(ab_confirm(&ab), 0);
    assert_int_equal(run_state(), AB_SLOT_CONFIRMED);
    power_on();
    assert_int_equal(boot(false), AB_ACT_BOOT);
}

static void test_update_confirm(void **state)
{
    struct h7sim_stats st;
    (void)state;
    power_on();
    assert_int_equal(boot(false), AB_ACT_STAY);
    install(img_a, IMG_A, false);
    h7sim_get_stats(sim, &st);
    /* A went through the window at 0x08100000 into physical bank 2 */
    assert_true(st.programs[1] > 0);
    assert_int_equal(st.programs[0], 0);
    install(img_b, IMG_B, true);
    h7sim_get_stats(sim, &st);
    /* B into physical bank 1, again through 0x08100000 */
    assert_true(st.programs[0] > IMG_B / 32u);
    /* confirmed twice is fine; B stays, A is the fallback */
    assert_int_equal(ab_confirm(&ab), 0);
    {
        struct ab_slot o, r;

        ab_slot_load(&ab, BOOT_AB_OTHER_START, &o);
        ab_slot_load(&ab, BOOT_AB_SLOT_START, &r);
        assert_int_equal(o.t.state, AB_SLOT_CONFIRMED);
        assert_int_equal(o.t.image.sequence, 1);
        assert_int_equal(r.t.image.sequence, 2);
        assert_int_equal(r.t.image.length, IMG_B);
        assert_int_equal(r.t.image.crc, crc32_zlib(0, img_b, IMG_B));
    }
}

/* B never confirms: AB_TRIALS trial boots, then the rollback to A. */
static void test_rollback_budget(void **state)
{
    (void)state;
    install(img_a, IMG_A, false);
    assert_int_equal(abfx_update(&ab, img_b, IMG_B, IMG_B), 0);
    for (unsigned i = 0; i < AB_TRIALS; i++) {
        power_on();
        assert_true(h7sim_swapped(sim) == false);
        assert_int_equal(boot(false), AB_ACT_TRIAL);
    }
    power_on();
    assert_int_equal(boot(false), AB_ACT_SWAP);
    assert_int_equal(run_state(), AB_SLOT_REJECTED);
    power_on();
    assert_true(h7sim_swapped(sim));
    assert_true(abfx_slot_holds(sim, BOOT_AB_SLOT_START, img_a, IMG_A));
    assert_int_equal(boot(false), AB_ACT_BOOT);
    /* and it stays there */
    power_on();
    assert_int_equal(boot(true), AB_ACT_BOOT);
    assert_int_equal(ab_confirm(&ab), 0);
}

/* A watchdog reset during the trial: rolled back at once. */
static void test_rollback_watchdog(void **state)
{
    (void)state;
    install(img_a, IMG_A, false);
    assert_int_equal(abfx_update(&ab, img_b, IMG_B, IMG_B), 0);
    power_on();
    assert_int_equal(boot(false), AB_ACT_TRIAL);
    power_on();
    assert_int_equal(boot(true), AB_ACT_SWAP);
    power_on();
    assert_true(abfx_slot_holds(sim, BOOT_AB_SLOT_START, img_a, IMG_A));
    assert_int_equal(boot(false), AB_ACT_BOOT);
    /* the rejected image cannot confirm any more */
    power_on();
    {
        struct ab_slot o;

        ab_slot_load(&ab, BOOT_AB_OTHER_START, &o);
        assert_int_equal(o.t.state, AB_SLOT_REJECTED);
    }
}

/* A corrupted image in the other slot (two bits, past ECC correction, after the IMAGE word was
 * written): the CRC unit refuses it, no swap. */
static void test_crc_unit_refuses(void **state)
{
    struct ab_slot o;
    (void)state;
    install(img_a, IMG_A, false);
    assert_int_equal(ab_update_begin(&ab, IMG_B), 0);
    assert_int_equal(ab_update_write(&ab, img_b, IMG_B), 0);
    assert_int_equal(ab_update_commit(&ab), 0);
    h7sim_flip_bits(sim, BOOT_AB_OTHER_START + 4096u, 2);
    ab_slot_load(&ab, BOOT_AB_OTHER_START, &o);
    assert_int_not_equal(o.check, 0);
    power_on();
    /* swapped to B by the commit: B does not check, back to A */
    assert_int_equal(boot(false), AB_ACT_SWAP);
    power_on();
    assert_int_equal(boot(false), AB_ACT_BOOT);
    assert_true(abfx_slot_holds(sim, BOOT_AB_SLOT_START, img_a, IMG_A));
    h7sim_violations_clear(sim); /* the flipped word was read on purpose */
}

/* The commit's swap lost (option change failed): the bootloader finishes
 * the update itself. */
static void test_swap_completed_by_boot(void **state)
{
    (void)state;
    install(img_a, IMG_A, false);
    h7sim_fault_optchangeerr_next(sim);
    assert_int_equal(abfx_update(&ab, img_b, IMG_B, IMG_B), H7F_E_OPTCHANGEERR);
    power_on();
    assert_true(h7sim_swapped(sim)); /* still on A */
    assert_int_equal(boot(false), AB_ACT_SWAP);
    power_on();
    assert_false(h7sim_swapped(sim));
    assert_true(abfx_slot_holds(sim, BOOT_AB_SLOT_START, img_b, IMG_B));
    assert_int_equal(boot(false), AB_ACT_TRIAL);
}

/* The CM4 starts with a confirmed image only, and only when the image
 * holds its table. */
static void test_cm4_after_confirm(void **state)
{
    static uint8_t big[600000];
    struct ab_boot_result r;
    struct h7f_options o;
    struct h7sim_stats st;
    uint64_t opt_changes;
    (void)state;
    abfx_image(big, sizeof(big), 3);
    assert_int_equal(abfx_update(&ab, big, sizeof(big), sizeof(big)), 0);
    power_on();
    ab_boot(&ab, false, &r);
    assert_int_equal(r.act, AB_ACT_TRIAL);
    assert_false(r.release_cm4);
    assert_int_equal(h7f_opt_read(&ab.fl_trailer, &o), 0);
    assert_int_equal(o.boot4 & FLASH_BOOT_ADD0_Msk, H7_BANK2_BASE >> 16); /* factory */
    assert_int_equal(ab_confirm(&ab), 0);
    power_on();
    ab_boot(&ab, false, &r);
    assert_int_equal(r.act, AB_ACT_BOOT);
    assert_true(r.release_cm4);
    /* the CM4 boots from the running slot's table, at either mapping */
    assert_int_equal(h7f_opt_read(&ab.fl_trailer, &o), 0);
    assert_int_equal(o.boot4 & FLASH_BOOT_ADD0_Msk, BOOT_AB_CM4_VECTORS >> 16);
    h7sim_get_stats(sim, &st);
    opt_changes = st.option_changes;
    power_on();
    ab_boot(&ab, false, &r);
    assert_true(r.release_cm4);
    h7sim_get_stats(sim, &st);
    assert_int_equal(st.option_changes, opt_changes); /* set once */
    /* an image without a CM4 table: never */
    install(img_a, IMG_A, true);
    power_on();
    ab_boot(&ab, false, &r);
    assert_int_equal(r.act, AB_ACT_BOOT);
    assert_false(r.release_cm4);
    /* a CM4 reset vector outside the image: not plausible */
    big[BOOT_AB_CM4_VECTORS - BOOT_AB_SLOT_START + 6] = 0x20; /* pc += 0x200000 */
    assert_int_equal(abfx_update(&ab, big, sizeof(big), sizeof(big)), 0);
    power_on();
    ab_boot(&ab, false, &r);
    assert_int_equal(ab_confirm(&ab), 0);
    power_on();
    ab_boot(&ab, false, &r);
    assert_int_equal(r.act, AB_ACT_BOOT);
    assert_false(r.release_cm4);
}

/* Figures (docs/PROTOCOL.md "A/B updates"): model time of a 300 KB update
 * through the A/B engine (erase of the trailer sector, lazy erases, CRC
 * unit, IMAGE word, option change) beside the single-slot engine (STARTED,
 * erases, words, CRC-32 read back, COMPLETE), both driven as YMODEM does. */
static void test_update_time(void **state)
{
    static struct boot_ctx b;
    struct h7sim_durations d;
    uint64_t t0, t_ab, t_single;
    (void)state;
    h7sim_durations(sim, 3, &d);
    t0 = h7sim_now(sim);
    assert_int_equal(abfx_update(&ab, img_b, IMG_B, IMG_B), 0);
    t_ab = h7sim_now(sim) - t0;
    power_on();
    boot_init(&b, &pl_null_serial);
    t0 = h7sim_now(sim);
    assert_int_equal(pl_update(&b, false, img_b, IMG_B, UINT32_MAX), 0);
    t_single = h7sim_now(sim) - t0;
    printf("update of %u bytes, model time: A/B %.3f s, single-slot %.3f s "
           "(sector erase %.3f s, option change %.3f s)\n",
           IMG_B, t_ab / 1e9, t_single / 1e9, d.sector_erase / 1e9, d.option_change / 1e9);
    /* The A/B update erases one sector more (its trailer) and changes the
     * option bytes; it must not cost more than that. */
    assert_true(t_ab <= t_single + d.sector_erase + d.option_change + 50000000u);
    assert_true(t_ab >= (IMG_B / 32u) * d.program_word);
}

/* The other bank without the bootloader: the commit copies it before the
 * swap, so the part never resets into a bank without one. */
static void test_boot_copy_before_swap(void **state)
{
    struct h7sim_stats st0, st1;
    (void)state;
    abfx_boot_copy_erase();
    assert_false(abfx_boot_code_intact(sim));
    install(img_a, IMG_A, false);
    assert_true(abfx_boot_code_intact(sim));
    /* equal copies: nothing written the next time */
    h7sim_get_stats(sim, &st0);
    assert_int_equal(ab_boot_copy(&ab), 0);
    h7sim_get_stats(sim, &st1);
    assert_int_equal(st1.sector_erases[0] + st1.sector_erases[1],
                     st0.sector_erases[0] + st0.sector_erases[1]);
    assert_true(st1.crc_runs == st0.crc_runs + 2u);
}

static void test_too_big(void **state)
{
    (void)state;
    assert_int_equal(ab_update_begin(&ab, BOOT_AB_IMAGE_MAX + 1u), BOOT_E_TOO_BIG);
    assert_int_equal(ab_update_write(&ab, img_a, 4), BOOT_E_TRANSFER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_roundtrip),
        cmocka_unit_test(test_trailer_states),
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test_setup_teardown(test_update_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_watchdog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_unit_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_completed_by_boot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cm4_after_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_copy_before_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
