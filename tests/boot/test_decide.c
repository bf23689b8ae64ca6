/* Boot decision (image check), record log compaction, torn records and
 * power cuts during an update, on the h7sim model. */
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "crc32.h"
#include "peers.h"
#include "proto_err.h"
#include "ymodem.h"

static struct bfx X;

BFX_SETUP_TEARDOWN(X)

/* Backdoor an image and its COMPLETE record. */
static void put_image(const uint8_t *img, uint32_t len, uint32_t slot, uint32_t crc)
{
    assert_int_equal(h7sim_backdoor_program(X.sim, BOOT_APP_START, img, len), 0);
    bfx_put_record(&X, slot, UR_STATE_COMPLETE, slot + 1, len, crc);
    bfx_reboot(&X);
}

static int status(void)
{
    struct boot_app_info info;

    boot_app_check(&X.c, &info);
    return info.status;
}

static void test_no_record(void **state)
{
    (void)state;
    assert_int_equal(status(), BOOT_E_NO_IMAGE);
}

static void test_valid_and_crc_mismatch(void **state)
{
    uint8_t img[1024];
    (void)state;
    bfx_image(img, sizeof(img), 31);
    put_image(img, sizeof(img), 0, crc32_h7flash_image(img, sizeof(img)) ^ 1u);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    /* a newer record with the right CRC wins */
    bfx_put_record(&X, 1, UR_STATE_COMPLETE, 2, sizeof(img), crc32_h7flash_image(img, sizeof(img)));
    bfx_reboot(&X);
    assert_int_equal(status(), 0);
    /* then an update that started and never ended */
    bfx_put_record(&X, 2, UR_STATE_STARTED, 3, UR_LEN_UNKNOWN, 0xFFFFFFFFu);
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_STARTED);
}

static void check_vectors(uint32_t sp, uint32_t pc, int expect)
{
    uint8_t img[1024];

    bfx_image(img, sizeof(img), 32);
    memcpy(img, &sp, 4);
    memcpy(img + 4, &pc, 4);
    put_image(img, sizeof(img), 0, crc32_h7flash_image(img, sizeof(img)));
    assert_int_equal(status(), expect);
}

#define VEC_TEST(name, sp, pc, expect) \
    static void name(void **state)     \
    {                                  \
        (void)state;                   \
        check_vectors(sp, pc, expect); \
    }

/* ST's mask test rejected these two (docs/PRIOR_ART.md 1.8) */
VEC_TEST(test_sp_end_of_dtcm, 0x20020000u, 0x08040101u, 0)
VEC_TEST(test_sp_end_of_axi, 0x24080000u, 0x08040101u, 0)
VEC_TEST(test_sp_sram4, 0x38010000u, 0x08040101u, 0)
VEC_TEST(test_sp_not_ram, 0x10000000u, 0x08040101u, BOOT_E_VECTORS)
VEC_TEST(test_sp_erased, 0xFFFFFFFFu, 0x08040101u, BOOT_E_VECTORS)
VEC_TEST(test_sp_misaligned, 0x2001FFFEu, 0x08040101u, BOOT_E_VECTORS)
VEC_TEST(test_pc_no_thumb, 0x20020000u, 0x08040100u, BOOT_E_VECTORS)
VEC_TEST(test_pc_outside_image, 0x20020000u, 0x08050001u, BOOT_E_VECTORS)
VEC_TEST(test_pc_in_vector_words, 0x20020000u, 0x08040001u, BOOT_E_VECTORS)

/* A version 2 record: the image CRC is the flash CRC unit's
 * (crc32_h7flash_image), checked without a CPU read of the image; one
 * changed byte refuses it, and so does data past the length. */
static void test_v2_record_crc_unit(void **state)
{
    static uint8_t img[3000];
    struct h7sim_stats st0, st1;
    (void)state;

    bfx_image(img, sizeof(img), 43);
    put_image(img, sizeof(img), 0, crc32_h7flash_image(img, sizeof(img)));
    h7sim_get_stats(X.sim, &st0);
    assert_int_equal(status(), 0);
    h7sim_get_stats(X.sim, &st1);
    assert_int_equal(st1.crc_runs, st0.crc_runs + 1u); /* bank 1 only */
    /* the zlib CRC of version 1 is not accepted in a version 2 record */
    bfx_put_record(&X, 1, UR_STATE_COMPLETE, 2, sizeof(img), crc32_zlib(0, img, sizeof(img)));
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    /* the unit reads whole bursts: a byte past the length must be 0xFF */
    bfx_put_record(&X, 2, UR_STATE_COMPLETE, 3, sizeof(img) - 1u,
                   crc32_h7flash_image(img, sizeof(img) - 1u));
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    /* a corrupted image: the record is of other bytes */
    img[2000] ^= 0x10u;
    bfx_put_record(&X, 3, UR_STATE_COMPLETE, 4, sizeof(img), crc32_h7flash_image(img, sizeof(img)));
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
}

/* An image across the bank boundary: both banks' units, combined. */
static void test_v2_record_two_banks(void **state)
{
    const uint32_t len = H7_BANK2_BASE - BOOT_APP_START + 5000u;
    uint8_t *img = malloc(len);
    struct h7sim_stats st0, st1;
    (void)state;

    assert_non_null(img);
    bfx_image(img, len, 44);
    put_image(img, len, 0, crc32_h7flash_image(img, len));
    h7sim_get_stats(X.sim, &st0);
    assert_int_equal(status(), 0);
    h7sim_get_stats(X.sim, &st1);
    assert_int_equal(st1.crc_runs, st0.crc_runs + 2u);
    img[len - 1u] ^= 1u;
    bfx_put_record(&X, 1, UR_STATE_COMPLETE, 2, len, crc32_h7flash_image(img, len));
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    free(img);
}

/* A version 1 record (written by an earlier bootloader): CRC-32 (zlib)
 * over a CPU read, still booted; a wrong CRC refused. */
static void test_v1_record_boots(void **state)
{
    uint8_t img[2048];
    (void)state;

    bfx_image(img, sizeof(img), 45);
    assert_int_equal(h7sim_backdoor_program(X.sim, BOOT_APP_START, img, sizeof(img)), 0);
    bfx_put_record_v(&X, 0, UR_STATE_COMPLETE, 1, sizeof(img), crc32_zlib(0, img, sizeof(img)),
                     UR_VERSION_1);
    bfx_reboot(&X);
    assert_int_equal(X.c.upd.log.newest.version, UR_VERSION_1);
    assert_int_equal(status(), 0);
    bfx_put_record_v(&X, 1, UR_STATE_COMPLETE, 2, sizeof(img), crc32_zlib(0, img, sizeof(img)) ^ 1u,
                     UR_VERSION_1);
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    /* nor the unit's CRC in a version 1 record */
    bfx_put_record_v(&X, 2, UR_STATE_COMPLETE, 3, sizeof(img),
                     crc32_h7flash_image(img, sizeof(img)), UR_VERSION_1);
    bfx_reboot(&X);
    assert_int_equal(status(), BOOT_E_IMAGE_CRC);
    /* A single ECC error refuses a version 1 image (its CPU read sees it:
     * the data was corrected, the flash is failing). */
    bfx_put_record_v(&X, 3, UR_STATE_COMPLETE, 4, sizeof(img), crc32_zlib(0, img, sizeof(img)),
                     UR_VERSION_1);
    bfx_reboot(&X);
    h7sim_flip_bits(X.sim, BOOT_APP_START + 0x400, 1);
    assert_int_equal(status(), H7F_E_SNECCERR);
}

/* A double-ECC word inside the image: the check fails cleanly with the
 * word's address (never a bus fault), the status page names it. A single
 * ECC error under a version 2 record: the CRC unit reads the corrected
 * word, so the image boots (a version 1 record refuses it,
 * test_v1_record_boots). */
static void test_ecc_in_image(void **state)
{
    uint8_t img[4096];
    struct boot_app_info info;
    (void)state;

    bfx_image(img, sizeof(img), 41);
    put_image(img, sizeof(img), 0, crc32_h7flash_image(img, sizeof(img)));
    assert_int_equal(status(), 0);
    h7sim_flip_bits(X.sim, BOOT_APP_START + 0x400, 1);
    assert_int_equal(status(), 0);
    h7sim_flip_bits(X.sim, BOOT_APP_START + 0x800, 2);
    boot_app_check(&X.c, &info);
    assert_true(info.status == H7F_E_DBECCERR || info.status == H7F_E_SNECCERR);
    assert_int_equal(info.bad_addr, info.status == H7F_E_DBECCERR ? BOOT_APP_START + 0x800
                                                                  : BOOT_APP_START + 0x400);
    assert_int_equal(X.c.diag.last_err, info.status);
    assert_int_equal(X.c.diag.last_err_addr, info.bad_addr);
    /* the bootloader's checked read of the injected word, once */
    X.expect_violations = h7sim_violation_count(X.sim);
    assert_true(X.expect_violations <= 1);
    X.expect_rule = "read-double-ecc";
}

static void test_cm4_vectors(void **state)
{
    uint32_t len = 0xC0000u + 1024u;
    uint8_t *img = malloc(len);
    uint32_t sp4 = 0x10048000u, pc4 = 0x08100101u;
    (void)state;

    bfx_image(img, len, 33);
    put_image(img, len, 0, crc32_h7flash_image(img, len));
    struct boot_app_info info;
    boot_app_check(&X.c, &info);
    assert_int_equal(info.status, 0);
    assert_false(info.cm4_valid); /* random bytes at 0x08100000 */
    bfx_close(&X);
    bfx_open(&X);
    sp4 = 0x30048000u;
    memcpy(img + 0xC0000u, &sp4, 4);
    memcpy(img + 0xC0004u, &pc4, 4);
    put_image(img, len, 0, crc32_h7flash_image(img, len));
    boot_app_check(&X.c, &info);
    assert_int_equal(info.status, 0);
    assert_true(info.cm4_valid);
    free(img);
}

static void test_torn_record_skipped(void **state)
{
    uint8_t img[512];
    (void)state;
    bfx_image(img, sizeof(img), 34);
    put_image(img, sizeof(img), 0, crc32_h7flash_image(img, sizeof(img)));
    /* a STARTED record then a torn COMPLETE (double-ECC word) */
    bfx_put_record(&X, 1, UR_STATE_STARTED, 2, UR_LEN_UNKNOWN, 0xFFFFFFFFu);
    bfx_put_record(&X, 2, UR_STATE_COMPLETE, 2, sizeof(img), crc32_h7flash_image(img, sizeof(img)));
    h7sim_flip_bits(X.sim, BOOT_LOG_BASE + 64, 2);
    bfx_reboot(&X);
    assert_int_equal(X.c.upd.log.torn, 1);
    assert_int_equal(X.c.upd.log.next_free, 3);
    assert_int_equal(status(), BOOT_E_STARTED);
    /* the next update appends after the torn slot, never into it */
    assert_int_equal(boot_update_begin(&X.c, 100), 0);
    assert_int_equal(X.c.upd.log.newest_slot, 3);
    assert_int_equal(X.c.upd.log.newest.sequence, 3);
    h7sim_violations_clear(X.sim);
}

static void test_log_full_compaction(void **state)
{
    uint8_t img[300];
    struct ysend y = { 0 };
    uint32_t len;
    (void)state;

    /* 4095 records: one slot left, not enough for STARTED + COMPLETE */
    for (uint32_t i = 0; i < BOOT_LOG_SLOTS - 1u; i++)
        bfx_put_record(&X, i, UR_STATE_COMPLETE, 1000u + i, 8, 0);
    bfx_reboot(&X);
    assert_int_equal(X.c.upd.log.next_free, BOOT_LOG_SLOTS - 1u);
    bfx_image(img, sizeof(img), 35);
    y.data = img;
    y.len = y.announce = sizeof(img);
    X.ser.peer = ysend_peer;
    X.ser.peer_ctx = &y;
    assert_int_equal(boot_ymodem_receive(&X.c, &len), 0);
    /* log erased, then STARTED and COMPLETE in slots 0 and 1, the
	 * sequence continues */
    bfx_reboot(&X);
    assert_int_equal(X.c.upd.log.next_free, 2);
    assert_int_equal(X.c.upd.log.valid, 2);
    assert_int_equal(X.c.upd.log.newest.sequence, 1000u + BOOT_LOG_SLOTS - 1u);
    assert_int_equal(status(), 0);
    struct h7sim_stats st;
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.erase_count[0][1], 1);
    assert_int_equal(st.erase_count[0][0], 0);
}

/* Power cut at every k-th flash operation of a YMODEM update over a valid
 * image: after the cut, the bootloader never accepts a half-written image,
 * and a new update always works. */
static void test_power_cut_sweep(void **state)
{
    uint8_t old[600], img[5000];
    (void)state;

    bfx_image(old, sizeof(old), 36);
    bfx_image(img, sizeof(img), 37);
    for (uint64_t n = 0; n < 400; n += 3) {
        struct ysend y = { 0 };
        uint32_t len;

        bfx_close(&X);
        bfx_open(&X);
        put_image(old, sizeof(old), 0, crc32_h7flash_image(old, sizeof(old)));
        h7sim_fault_power_cut_after_ops(X.sim, n);
        y.data = img;
        y.len = y.announce = sizeof(img);
        X.ser.peer = ysend_peer;
        X.ser.peer_ctx = &y;
        int rc = boot_ymodem_receive(&X.c, &len);
        bool cut = h7sim_powered_off(X.sim);
        h7sim_violations_clear(X.sim);
        bfx_reboot(&X);
        int st = status();
        if (!cut) {
            /* n is past the last operation of the update: done */
            assert_int_equal(rc, 0);
            assert_int_equal(st, 0);
            assert_int_equal(X.c.upd.log.newest.length, sizeof(img));
            assert_true(n > 150);
            break;
        }
        if (st == 0) {
            /* only a complete old or new image may run */
            uint32_t l = X.c.upd.log.newest.length;
            assert_true(l == sizeof(old) || l == sizeof(img));
            uint8_t *now = malloc(l);
            h7sim_peek(X.sim, BOOT_APP_START, now, l);
            assert_memory_equal(now, l == sizeof(img) ? img : old, l);
            free(now);
        }
        /* a new update works */
        memset(&y, 0, sizeof(y));
        y.data = img;
        y.len = y.announce = sizeof(img);
        X.ser.out_seen = X.ser.out_len;
        X.ser.in_head = X.ser.in_tail;
        X.ser.peer_ctx = &y;
        rc = boot_ymodem_receive(&X.c, &len);
        if (rc)
            fail_msg("cut after %u ops: new update failed: %s (last error at 0x%08x)", (unsigned)n,
                     boot_strerror(rc), (unsigned)X.c.diag.last_err_addr);
        bfx_reboot(&X);
        assert_int_equal(status(), 0);
        h7sim_violations_clear(X.sim);
    }
}

/* boot_strerror() names the bootloader's codes and hands every other
 * code down the chain: the formats' (proto_strerror), then the driver's. */
static void test_error_chain(void **state)
{
    (void)state;
    for (int e = BOOT_E_RANGE; e >= BOOT_E_TRANSFER; e--) {
        assert_true(e < BOOT_ERR_BASE && e > PROTO_ERR_UR_BASE);
        assert_null(proto_strerror(e));
        assert_string_not_equal(boot_strerror(e), h7f_strerror(e));
        if (e < BOOT_E_RANGE)
            assert_string_not_equal(boot_strerror(e), boot_strerror(e + 1));
    }
    assert_string_equal(boot_strerror(BOOT_E_VERIFY),
                        "read-back CRC differs from the received data");
    assert_string_equal(boot_strerror(UR_E_CRC), ur_strerror(UR_E_CRC));
    assert_string_equal(boot_strerror(YM_E_HEADER), ym_strerror(YM_E_HEADER));
    assert_string_equal(boot_strerror(AN3155_ERR_COMPL), an3155_strerror(AN3155_ERR_COMPL));
    assert_string_equal(boot_strerror(H7F_E_DBECCERR), h7f_strerror(H7F_E_DBECCERR));
    assert_string_equal(boot_strerror(H7F_E_PROTECTED), h7f_strerror(H7F_E_PROTECTED));
    /* Only the driver's flash-operation codes carry an address. */
    assert_true(boot_err_is_flash(H7F_E_NOT_VIRGIN));
    assert_false(boot_err_is_flash(H7F_E_PROTECTED));
    assert_false(boot_err_is_flash(BOOT_E_VERIFY));
    assert_false(boot_err_is_flash(UR_E_CRC));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_and_crc_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_end_of_dtcm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_end_of_axi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_sram4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_not_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sp_misaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pc_no_thumb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pc_outside_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pc_in_vector_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_record_crc_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_record_two_banks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_record_boots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecc_in_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cm4_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_record_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_full_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_sweep, setup, teardown),
        cmocka_unit_test(test_error_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
