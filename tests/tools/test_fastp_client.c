/*
 * h7iap's fast protocol client (tools/iap_fastp.c) against a scripted
 * device (fake_fastp.c) over a socketpair: a clean transfer across both
 * banks, compression, smart re-flash, lost and corrupted frames, a flash
 * error with its FLASH_SR bits, a CRC mismatch at END, a lost link and a
 * power cut followed by resume, a baud switch that fails or is refused.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_an3155.h"
#include "fake_fastp.h"
#include "fixtures.h"
#include "h7_layout.h"
#include "iap.h"
#include "iap_client.h"
#include "iap_fastp.h"
#include "iap_progress.h"

struct rig {
    struct fake_target f;
    struct fake_fastp p;
    struct iap_transport *t;
    struct iap_client c;
    struct iap_fastp_opts o;
    struct iap_fastp_stats st;
    struct iap_image img, pad;
    int fd;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);
    fake_init(&r->f);
    fake_fastp_init(&r->p);
    r->f.fastp = &r->p;
    iap_fastp_defaults(&r->o, 115200);
    *state = r;
    iap_verbosity = -1;
    iap_progress_set_tty(0);
    return 0;
}

static void start(struct rig *r)
{
    assert_int_equal(fake_start_pair(&r->f, &r->t, &r->fd), 0);
    fake_client_init(&r->c, r->t);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_true(iap_has_cmd(&r->c, 0xE1));
}

static int teardown(void **state)
{
    struct rig *r = *state;
    int dbl = fake_stop_pair(&r->f, r->t, r->fd);
    iap_image_free(&r->img);
    iap_image_free(&r->pad);
    free(r);
    iap_clear_error();
    return dbl ? -1 : 0;
}

/* Random bytes, or text-like bytes that deflate well. */
static void image(struct rig *r, uint32_t addr, size_t n, uint32_t seed, bool text)
{
    uint8_t *d = malloc(n);
    fx_fill(d, n, seed);
    if (text) {
        static const char *w[] = { "flash ", "word ",   "erase ",  "bank ",    "sector ",
                                   "frame ", "window ", "0x0804 ", "ldr r0, ", "bl memcpy\n" };
        size_t k = 0;
        for (size_t i = 0; k < n; i++) {
            const char *s = w[d[i % n] % 10];
            for (size_t j = 0; s[j] && k < n; j++)
                d[k++] = (uint8_t)s[j];
        }
    }
    assert_int_equal(iap_image_parse(d, n, addr, &r->img), 0);
    assert_int_equal(iap_image_pad(&r->img, 32, &r->pad), 0);
    free(d);
}

static const uint8_t *flash(struct rig *r, uint32_t addr)
{
    return r->f.flash + (addr - H7_FLASH_BASE);
}

static void assert_flash_is_image(struct rig *r)
{
    for (size_t i = 0; i < r->img.n; i++)
        assert_memory_equal(flash(r, r->img.segs[i].addr), r->img.segs[i].data, r->img.segs[i].len);
}

static int run(struct rig *r)
{
    return iap_fastp_flash(&r->c, &r->pad, &r->o, &r->st);
}

/* 1 MB from the area's start: both banks, interleaved; every frame once. */
static void test_clean_both_banks(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 1024 * 1024, 1, false);
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_int_equal(r->st.frames, 128);
    assert_int_equal(r->st.sent, 128);
    assert_int_equal(r->st.repeats, 0);
    assert_int_equal(r->p.deflated, 0); /* random bytes: raw */
    assert_int_equal(r->st.baud, 2000000);
    assert_int_equal(r->p.bauds, 1);
    /* both regions were fed: bank 2 got frames too */
    assert_true(r->p.max_offset_seen[1] >= H7_BANK2_BASE - BOOT_APP_START);
    assert_int_equal(r->st.sectors, 8);
    /* after BYE the AN3155 loop answers again */
    assert_int_equal(iap_sync(&r->c), 0);
}

static void test_compressed(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 300 * 1024, 2, true);
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_int_equal(r->p.deflated, r->st.frames);
    assert_true(r->st.payload_bytes * 2 < r->st.raw_bytes);
}

static void test_no_compress_option(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 64 * 1024, 3, true);
    r->o.compress = false;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_int_equal(r->p.deflated, 0);
}

/* Smart re-flash: the flash holds the image but for one sector. */
static void test_smart_one_sector(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 1792 * 1024, 4, false);
    for (size_t i = 0; i < r->img.n; i++)
        memcpy(r->f.flash + (r->img.segs[i].addr - H7_FLASH_BASE), r->img.segs[i].data,
               r->img.segs[i].len);
    r->f.flash[BOOT_APP_START - H7_FLASH_BASE + 9 * H7_SECTOR_SIZE + 77] ^= 0xFF;
    /* the fake counts double programs per word: mark what is there as programmed */
    memset(r->f.programmed + (BOOT_APP_START - H7_FLASH_BASE) / 32, 1, BOOT_APP_SIZE / 32);
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_int_equal(r->p.sectors_q, 1);
    assert_int_equal(r->st.page_mask, 1u << 9);
    assert_int_equal(r->st.skipped, 13);
    assert_int_equal(r->st.frames, H7_SECTOR_SIZE / 8192);
}

/* Smart re-flash of what the flash already holds: no sector, no frame;
 * END still checks the whole image and commits it. */
static void test_smart_nothing_to_write(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 300 * 1024, 14, false);
    for (size_t i = 0; i < r->img.n; i++)
        memcpy(r->f.flash + (r->img.segs[i].addr - H7_FLASH_BASE), r->img.segs[i].data,
               r->img.segs[i].len);
    start(r);
    assert_int_equal(run(r), 0);
    assert_true(r->p.complete);
    assert_int_equal(r->st.page_mask, 0);
    assert_int_equal(r->st.frames, 0);
    assert_int_equal(r->p.data_frames, 0);
    assert_int_equal(r->p.ends, 1);
}

/* Frames lost on the wire: sent again (sack or timeout), flash exact. */
static void test_lost_frames(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 512 * 1024, 5, false);
    r->p.drop[0] = 3 + 1;
    r->p.drop[1] = 10 + 1;
    r->p.drop[2] = 11 + 1;
    r->p.drop[3] = 63 + 1; /* the last frame: only a timeout can find it */
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_true(r->st.repeats >= 4);
    assert_true(r->st.repeats < 16);
}

static void test_corrupt_frames(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 256 * 1024, 6, true);
    r->p.corrupt[0] = 0 + 1;
    r->p.corrupt[1] = 7 + 1;
    r->p.corrupt[2] = 31 + 1;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_true(r->st.repeats >= 3);
    assert_int_equal(r->st.bad_frames, 3);
}

/* A flash error: reported with FLASH_SR by name, nothing committed. */
static void test_flash_error(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 256 * 1024, 7, false);
    r->p.fail_seq = 5 + 1;
    start(r);
    int rc = run(r);
    assert_int_equal(rc, IAP_FASTP_ERR_FLASH);
    assert_non_null(strstr(iap_error(), "PGSERR"));
    assert_non_null(strstr(iap_error(), "nothing was committed"));
    assert_false(r->p.complete);
    assert_int_equal(r->p.ends, 0);
}

static void test_verify_mismatch(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 128 * 1024, 8, false);
    r->p.verify_fail = true;
    start(r);
    assert_int_equal(run(r), IAP_FASTP_ERR_VERIFY);
    assert_non_null(strstr(iap_error(), "flash CRC differs"));
    assert_false(r->p.complete);
}

/* The link goes silent mid-transfer: reconnect, resume in RAM state. */
static void test_link_lost_resume(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 1024 * 1024, 9, false);
    r->p.lose_after = 60;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_int_equal(r->p.resumes, 1);
    assert_true(r->st.resumed);
    /* the 60 frames before the loss were programmed: the rest was sent
     * again, and of the first session's frames fewer than a window twice */
    assert_int_equal(r->st.frames, 128 - 60);
    assert_true(r->st.sent - 128 < 52);
    assert_int_equal(r->p.sessions, 2);
}

/* A power cut: the log's done[] at sector starts; at most a sector per region again. */
static void test_power_cut_resume(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 1792 * 1024, 10, false);
    r->p.cut_after = 112;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->p.complete);
    assert_int_equal(r->p.resumes, 1);
    uint32_t resumed = r->p.resume_at[0] + r->p.resume_at[1];
    assert_true(resumed > 0);
    assert_int_equal(r->p.resume_at[0] % H7_SECTOR_SIZE, 0);
    assert_int_equal(r->p.resume_at[1] % H7_SECTOR_SIZE, 0);
    /* bytes sent again: at most one sector per region plus what was in flight */
    uint64_t again = (uint64_t)112 * 8192 - resumed;
    assert_true(again <= 2u * H7_SECTOR_SIZE + 52u * 8192u);
}

static void test_baud_switch_fails(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 64 * 1024, 11, false);
    r->p.baud_dead = true;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_true(r->st.baud_fallback);
    assert_int_equal(r->st.baud, 115200);
    assert_int_equal(r->p.sessions, 2);
}

static void test_baud_refused(void **state)
{
    struct rig *r = *state;
    image(r, BOOT_APP_START, 64 * 1024, 12, false);
    r->p.baud_refuse = true;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_int_equal(r->st.baud, 115200);
    assert_int_equal(r->p.sessions, 1);
}

/* An image of bank 2 only, with a gap: sectors before it stay in the
 * mask (erased), no frame is sent for them. */
static void test_bank2_only(void **state)
{
    struct rig *r = *state;
    image(r, H7_BANK2_BASE + 0x1000, 40000, 13, false);
    memset(r->f.flash + (BOOT_APP_START - H7_FLASH_BASE), 0x00, 64); /* old bytes in sector 2 */
    r->o.smart = false;
    start(r);
    assert_int_equal(run(r), 0);
    assert_flash_is_image(r);
    assert_int_equal(flash(r, BOOT_APP_START)[0], 0xFF);
    assert_int_equal(r->st.frames, 6);
    assert_true(r->p.complete);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_both_banks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_compress_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smart_one_sector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smart_nothing_to_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_lost_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baud_switch_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baud_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bank2_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
