/* YMODEM download/upload through the bootloader core, on the h7sim model. */
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "crc32.h"
#include "peers.h"
#include "ymodem.h"

static struct bfx X;

BFX_SETUP_TEARDOWN(X)

static void assert_flash(const uint8_t *data, uint32_t len)
{
    uint8_t *now = malloc(len);

    h7sim_peek(X.sim, BOOT_APP_START, now, len);
    assert_memory_equal(now, data, len);
    free(now);
}

static int run_rx(struct ysend *y, uint32_t *len)
{
    X.ser.peer = ysend_peer;
    X.ser.peer_ctx = y;
    X.ser.out_seen = X.ser.out_len; /* a new sender starts fresh */
    X.ser.in_head = X.ser.in_tail;
    int rc = boot_ymodem_receive(&X.c, len);
    ysend_peer(&X.ser); /* let the sender see the last reply */
    return rc;
}

static void app_status(int expect)
{
    struct boot_app_info info;

    bfx_reboot(&X);
    boot_app_check(&X.c, &info);
    assert_int_equal(info.status, expect);
}

/* A whole download, checked byte for byte: the model time it took. */
static uint64_t download(uint32_t n, bool use128, uint32_t seed)
{
    uint8_t *img = malloc(n);
    struct ysend y = { 0 };
    uint32_t len;
    uint64_t t0 = h7sim_now(X.sim), t;

    bfx_image(img, n, seed);
    y.data = img;
    y.len = y.announce = n;
    y.use128 = use128;
    assert_int_equal(run_rx(&y, &len), 0);
    t = h7sim_now(X.sim) - t0;
    assert_true(y.done);
    assert_false(y.cancelled);
    assert_int_equal(len, n);
    assert_flash(img, n);
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_COMPLETE);
    assert_int_equal(X.c.upd.log.newest.length, n);
    assert_int_equal(X.c.upd.log.newest.image_crc, crc32_h7flash_image(img, n));
    app_status(n >= 8 ? 0 : BOOT_E_VECTORS);
    free(img);
    return t;
}

static void test_download_1k(void **state)
{
    (void)state;
    download(3000, false, 1);
}

static void test_download_128_seq_wrap(void **state)
{
    (void)state;
    /* 300 blocks of 128 bytes: sequence numbers wrap past 255 */
    download(300 * 128 + 77, true, 2);
}

static void test_download_odd_sizes(void **state)
{
    (void)state;
    download(33, false, 3);
    /* a second update on top: new sequence, sectors erased again */
    download(1, false, 4);
    assert_int_equal(X.c.upd.log.newest.sequence, 2);
}

static void test_download_bank_crossing(void **state)
{
    (void)state;
    /* 0x08040000 + 0xC0000 = bank 2; cross it by 5000 bytes */
    download(0xC0000u + 5000u, false, 5);
}

static void test_download_full(void **state)
{
    struct h7sim_stats st;
    struct h7sim_durations d;
    uint64_t t;

    (void)state;
    /* the whole 1.75 MB: the last flash word (0x081FFFE0) included */
    t = download(BOOT_APP_SIZE, false, 6);
    /* Erase ahead: bank 2 (all of it: one bank erase) is erased while bank
     * 1 is erased and written, so the download takes bank 1's array time
     * plus bank 2's programs, not both banks' one after the other (the
     * line of this fixture costs no time). */
    h7sim_get_stats(X.sim, &st);
    h7sim_durations(X.sim, 3, &d);
    assert_int_equal(st.bank_erases[1], 1);
    assert_int_equal(st.sector_erases[1], 0);
    assert_true(t + d.bank_erase * 9u / 10u < st.busy_ns[0] + st.busy_ns[1]);
}

/* Erase ahead in bank 1 too: with the wire costing its time (921600
 * baud), the blocks that arrive while a sector erases wait in RAM, so the
 * download takes the wire plus the programs (this fixture does not overlap
 * those with the line), not the six erases of bank 1 as well. */
static void test_download_wire(void **state)
{
    const uint64_t byte_ns = 10u * 1000000000ull / 921600u;
    const uint32_t blocks = BOOT_APP_SIZE / 1024u;
    struct h7sim_stats st;
    struct h7sim_durations d;
    uint64_t t, wire, prog;

    (void)state;
    X.ser.byte_ns = byte_ns;
    t = download(BOOT_APP_SIZE, false, 7);
    h7sim_get_stats(X.sim, &st);
    h7sim_durations(X.sim, 3, &d);
    wire = ((uint64_t)blocks * YM_FRAME_MAX + 2u * (YM_BLOCK_128 + YM_OVERHEAD)) * byte_ns;
    prog = (st.programs[0] + st.programs[1]) * d.program_word;
    assert_int_equal(st.sector_erases[0], 6);
    assert_true(t > wire + prog);
    assert_true(t < wire + prog + d.sector_erase);
}

static void test_corrupt_and_lost_ack(void **state)
{
    uint8_t img[5000];
    struct ysend y = { 0 };
    uint32_t len;
    (void)state;

    bfx_image(img, sizeof(img), 7);
    y.data = img;
    y.len = y.announce = sizeof(img);
    y.corrupt_block = 2;  /* NAKed and sent again */
    y.drop_ack_block = 3; /* sent twice: the repeat is ACKed, not rewritten */
    y.noise_before = 4;   /* noise between blocks ignored */
    assert_int_equal(run_rx(&y, &len), 0);
    assert_true(y.done);
    assert_false(y.cancelled);
    assert_true(y.resends >= 2);
    assert_flash(img, sizeof(img));
    app_status(0);
}

static void test_too_large_refused_before_erase(void **state)
{
    uint8_t img[4096];
    struct ysend y = { 0 };
    struct h7sim_stats st;
    uint32_t len;
    (void)state;

    /* a valid app first */
    download(3000, false, 8);
    h7sim_get_stats(X.sim, &st);
    uint64_t erases = st.sector_erases[0] + st.sector_erases[1];

    bfx_image(img, sizeof(img), 9);
    y.data = img;
    y.len = sizeof(img);
    y.announce = BOOT_APP_SIZE + 1u;
    assert_int_equal(run_rx(&y, &len), BOOT_E_TOO_BIG);
    assert_true(y.cancelled);
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.sector_erases[0] + st.sector_erases[1], erases);
    /* the previous application is untouched and still runs */
    app_status(0);

    /* header without size: refused too */
    memset(&y, 0, sizeof(y));
    y.data = img;
    y.len = sizeof(img);
    y.no_size = true;
    assert_int_equal(run_rx(&y, &len), BOOT_E_NOSIZE);
    app_status(0);
}

static void test_abort_midway_then_new_upload(void **state)
{
    uint8_t img[20000];
    struct ysend y = { 0 };
    uint32_t len;
    (void)state;

    download(3000, false, 10);
    bfx_image(img, sizeof(img), 11);
    y.data = img;
    y.len = y.announce = sizeof(img);
    y.stop_after = 5; /* sender killed */
    assert_int_equal(run_rx(&y, &len), BOOT_E_TIMEOUT);
    /* the interrupted image is never started */
    app_status(BOOT_E_STARTED);

    /* cancel from the sender (CAN CAN) */
    memset(&y, 0, sizeof(y));
    y.data = img;
    y.len = y.announce = sizeof(img);
    y.can_after = 3;
    assert_int_equal(run_rx(&y, &len), BOOT_E_CANCELLED);
    /* (no reset: the retry below runs in the same session) */

    /* a new upload works, without a reset in between */
    memset(&y, 0, sizeof(y));
    y.data = img;
    y.len = y.announce = sizeof(img);
    assert_int_equal(run_rx(&y, &len), 0);
    assert_flash(img, sizeof(img));
    app_status(0);
    /* and after a reset */
    download(sizeof(img), false, 12);
}

/* Issue 14, defect 3: a cancelled download followed by an AN3155 Go must
 * not commit what the download wrote. */
static void test_cancelled_then_go_commits_nothing(void **state)
{
    uint8_t img[8192], go[2 + 5];
    struct ysend y = { 0 };
    struct boot_result res;
    uint32_t len;
    (void)state;

    bfx_image(img, sizeof(img), 31);
    y.data = img;
    y.len = y.announce = sizeof(img);
    y.can_after = 3;
    assert_int_equal(run_rx(&y, &len), BOOT_E_CANCELLED);
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_STARTED);
    /* Go 0x08040000 in an AN3155 session of the same boot */
    X.ser.peer = NULL;
    an3155_cmd_encode(AN3155_CMD_GO, go);
    an3155_addr_encode(BOOT_APP_START, go + 2);
    fser_push(&X.ser, go, sizeof(go));
    X.ser.idle = 0;
    X.ser.idle_limit = 5;
    if (setjmp(X.ser.escape) == 0)
        res = boot_an3155(&X.c, AN3155_SYNC);
    (void)res;
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_STARTED);
    /* and the next boot does not start it */
    app_status(BOOT_E_STARTED);
}

static void test_upload_identical(void **state)
{
    struct yrecv r = { 0 };
    uint8_t img[2500];
    (void)state;

    download(sizeof(img), false, 13);
    bfx_image(img, sizeof(img), 13);
    X.ser.peer = yrecv_peer;
    X.ser.peer_ctx = &r;
    assert_int_equal(boot_ymodem_send(&X.c), 0);
    yrecv_peer(&X.ser);
    assert_true(r.done);
    assert_false(r.cancelled);
    assert_int_equal(r.size, sizeof(img));
    assert_memory_equal(r.data, img, sizeof(img));
    free(r.data);

    /* with NAKed blocks resent */
    memset(&r, 0, sizeof(r));
    r.naks_left = 2;
    X.ser.peer_ctx = &r;
    assert_int_equal(boot_ymodem_send(&X.c), 0);
    assert_memory_equal(r.data, img, sizeof(img));
    free(r.data);
}

static void test_upload_without_image(void **state)
{
    (void)state;
    assert_int_equal(boot_ymodem_send(&X.c), BOOT_E_NO_IMAGE);
}

static void peer_then_execute(struct fser *s)
{
    struct ysend *y = s->peer_ctx;

    ysend_peer(s);
    s->out[s->out_len] = 0;
    if (y->done && s->in_head == s->in_tail && strstr((char *)s->out, "Programming completed")) {
        s->peer = NULL;
        fser_push(s, "43", 2);
    }
}

static void test_menu_flow(void **state)
{
    uint8_t img[3000];
    struct ysend y = { 0 };
    struct boot_result res;
    (void)state;

    bfx_image(img, sizeof(img), 15);
    y.data = img;
    y.len = y.announce = sizeof(img);
    X.ser.peer = peer_then_execute;
    X.ser.peer_ctx = &y;
    X.ser.ops.write(X.ser.ops.ctx, "", 0); /* allocate the output buffer */
    res = boot_session(&X.c, '1');
    assert_int_equal(res.act, BOOT_ACT_JUMP_APP);
    assert_int_equal(res.addr, BOOT_APP_START);
    assert_false(res.release_cm4);
    X.ser.out[X.ser.out_len] = 0;
    assert_non_null(strstr((char *)X.ser.out, "Programming completed successfully: 3000 bytes"));
    assert_non_null(strstr((char *)X.ser.out, "application: valid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_download_1k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_128_seq_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_odd_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_bank_crossing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_lost_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_refused_before_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_then_go_commits_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_midway_then_new_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_without_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_menu_flow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
