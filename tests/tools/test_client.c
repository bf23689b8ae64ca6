/* h7iap AN3155 client against the fake target over a socketpair. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "an3155.h"
#include "fake_an3155.h"
#include "fixtures.h"
#include "iap.h"
#include "iap_client.h"
#include "iap_ops.h"
#include "iap_progress.h"

struct rig {
    struct fake_target f;
    struct iap_transport *t;
    struct iap_client c;
    int fd;
};

static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);
    fake_init(&r->f);
    *state = r;
    iap_verbosity = -1; /* keep the test output clean */
    iap_progress_set_tty(0);
    return 0;
}

static void start(struct rig *r)
{
    assert_int_equal(fake_start_pair(&r->f, &r->t, &r->fd), 0);
    fake_client_init(&r->c, r->t);
}

static int teardown(void **state)
{
    struct rig *r = *state;
    int dbl = fake_stop_pair(&r->f, r->t, r->fd);
    free(r);
    iap_clear_error();
    return dbl ? -1 : 0;
}

static void image(struct iap_image *img, struct iap_image *pad, uint32_t addr, size_t n,
                  uint32_t seed)
{
    uint8_t *d = malloc(n);
    fx_fill(d, n, seed);
    assert_int_equal(iap_image_parse(d, n, addr, img), 0);
    assert_int_equal(iap_image_pad(img, 32, pad), 0);
    free(d);
}

static void test_connect(void **state)
{
    struct rig *r = *state;
    r->f.banner = "h7boot 1.0\r\nmenu: 1 download, 2 run\r\n";
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(r->c.pid, 0x450);
    assert_int_equal(r->c.version, 0x31);
    assert_true(iap_has_cmd(&r->c, AN3155_CMD_EXT_ERASE));
    assert_false(iap_has_cmd(&r->c, AN3155_CMD_GET_CHECKSUM));
    assert_int_equal(r->f.syncs, 1);
}

static void test_late_sync_replies(void **state)
{
    struct rig *r = *state;
    /* A slow boot: three sync bytes queue up; the late ACK comes with a
	 * NACK for the 0x7F 0x7F pair and a third byte half-parsed. */
    r->f.sync_delay_ms = 250;
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(r->c.pid, 0x450);
    assert_int_equal(r->c.n_cmds, 7);
}

static void test_chatter_is_not_ack(void **state)
{
    struct rig *r = *state;
    /* An application that talks ('y' = 0x79 = ACK) but is no bootloader. */
    r->f.silent = true;
    r->f.chatter = true;
    r->f.banner = "y\r\nh7app ready, yes yes yes\r\n";
    start(r);
    assert_int_equal(iap_connect(&r->c), IAP_CLIENT_ERR_NO_ANSWER);
}

/* A transport with a frame format the fake target can see. */
struct ptrans {
    struct iap_transport base;
    struct iap_transport *in;
    volatile int even;
    int switches;
};

static enum iap_port_err pt_write(struct iap_transport *t, const uint8_t *b, size_t n)
{
    struct ptrans *p = (struct ptrans *)t;
    return p->in->ops->write(p->in, b, n);
}

static enum iap_port_err pt_read(struct iap_transport *t, uint8_t *b, size_t n, int ms, size_t *got)
{
    struct ptrans *p = (struct ptrans *)t;
    return p->in->ops->read(p->in, b, n, ms, got);
}

static void pt_drain(struct iap_transport *t)
{
    struct ptrans *p = (struct ptrans *)t;
    p->in->ops->drain(p->in);
}

static void pt_close(struct iap_transport *t)
{
    (void)t;
}

static enum iap_port_err pt_set_parity(struct iap_transport *t, int even)
{
    struct ptrans *p = (struct ptrans *)t;
    p->even = even;
    p->switches++;
    t->parity = even ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
    return 0;
}

static const struct iap_transport_ops pt_ops = {
    pt_write, pt_read, pt_drain, pt_close, pt_set_parity, NULL,
};

static void parity_case(struct rig *r, bool target_even, bool fallback, int want)
{
    static struct ptrans pt;
    memset(&pt, 0, sizeof pt);
    pt.even = 1; /* the host starts in 8E1, as --parity auto does */
    r->f.host_even = &pt.even;
    r->f.target_even = target_even;
    start(r);
    pt.in = r->t;
    pt.base.ops = &pt_ops;
    pt.base.name = "parity";
    pt.base.parity = IAP_PARITY_EVEN;
    pt.base.parity_fallback = fallback;
    r->c.t = &pt.base;
    assert_int_equal(iap_connect(&r->c), want);
    if (want == 0)
        assert_int_equal(r->c.pid, 0x450);
    assert_int_equal(pt.switches, target_even || !fallback ? 0 : 1);
    r->c.t = r->t;
}

static void test_parity_fallback(void **state)
{
    /* Host 8E1, bootloader 8N1: sync works, Get is NACKed, 8N1 works. */
    parity_case(*state, false, true, 0);
}

static void test_parity_match(void **state)
{
    parity_case(*state, true, true, 0);
}

static void test_parity_forced(void **state)
{
    /* --parity even: no fallback, the NACK is reported. */
    parity_case(*state, false, false, IAP_CLIENT_ERR_NACK);
}

static void test_already_synced(void **state)
{
    struct rig *r = *state;
    r->f.start_synced = true;
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(r->c.pid, 0x450);
    assert_int_equal(r->f.syncs, 0);
}

static void test_no_answer(void **state)
{
    struct rig *r = *state;
    r->f.silent = true;
    start(r);
    assert_int_equal(iap_connect(&r->c), IAP_CLIENT_ERR_NO_ANSWER);
    assert_non_null(strstr(iap_error(), "no answer"));
    assert_non_null(strstr(iap_error(), "BOOT0"));
    assert_non_null(strstr(iap_error(), "baud"));
}

static void flash_and_check(struct rig *r, bool checksum)
{
    struct iap_image img, pad;
    image(&img, &pad, 0x0805FF00u, 1000, 7); /* crosses pages 2 -> 3, odd tail */
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_do_erase(&r->c, iap_image_pages(&pad)), 0);
    assert_int_equal(r->f.erased_mask, (1u << 2) | (1u << 3));
    assert_int_equal(iap_do_write(&r->c, &pad), 0);
    assert_int_equal(iap_do_verify(&r->c, &pad, checksum), 0);
    uint32_t off = 0x0805FF00u - H7_FLASH_BASE;
    assert_memory_equal(r->f.flash + off, img.segs[0].data, 1000);
    /* Tail padded to whole flash words with 0xFF (1000 -> 1024). */
    assert_int_equal(r->f.writes, 4);
    for (int i = 1000; i < 1024; i++)
        assert_int_equal(r->f.flash[off + i], 0xFF);
    uint8_t back[1000];
    assert_int_equal(iap_do_read(&r->c, 0x0805FF00u, 1000, back), 0);
    assert_memory_equal(back, img.segs[0].data, 1000);
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_flash_read_verify(void **state)
{
    struct rig *r = *state;
    start(r);
    flash_and_check(r, false);
    assert_true(r->f.reads > 0);
}

static void test_flash_checksum_verify(void **state)
{
    struct rig *r = *state;
    r->f.offer_checksum = true;
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_true(iap_has_cmd(&r->c, AN3155_CMD_GET_CHECKSUM));
    int reads_before = r->f.reads;
    flash_and_check(r, true);
    /* One read of 1000 bytes (4 commands) from iap_do_read only. */
    assert_int_equal(r->f.reads - reads_before, 4);
}

static void test_nack_with_reason(void **state)
{
    struct rig *r = *state;
    r->f.offer_reason = true;
    r->f.nack_write_at = 0x08040100u;
    start(r);
    struct iap_image img, pad;
    image(&img, &pad, 0x08040000u, 1024, 8);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_do_erase(&r->c, iap_image_pages(&pad)), 0);
    assert_int_equal(iap_do_write(&r->c, &pad), IAP_CLIENT_ERR_NACK);
    const char *e = iap_error();
    assert_non_null(strstr(e, "Write Memory at 0x08040100 refused"));
    assert_non_null(strstr(e, "flash controller error"));
    assert_non_null(strstr(e, "the 256 bytes before 0x08040100 were written"));
    assert_non_null(strstr(e, "nothing is sent again"));
    /* Exactly the first block landed; the failed one was not sent again. */
    assert_int_equal(r->f.writes, 1);
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_nack_without_reason(void **state)
{
    struct rig *r = *state;
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    uint16_t page = 1; /* the bootloader's own sector */
    assert_int_equal(iap_erase_pages(&r->c, &page, 1), IAP_CLIENT_ERR_NACK);
    assert_non_null(strstr(iap_error(), "Extended Erase at 0x08020000 refused"));
    assert_non_null(strstr(iap_error(), "no reason"));
}

static void test_rewrite_refused(void **state)
{
    struct rig *r = *state;
    r->f.offer_reason = true;
    start(r);
    struct iap_image img, pad;
    image(&img, &pad, 0x08040000u, 256, 9);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_do_erase(&r->c, iap_image_pages(&pad)), 0);
    assert_int_equal(iap_do_write(&r->c, &pad), 0);
    /* Writing the same words again without erase: the target refuses and
	 * the client reports it instead of retrying. */
    assert_int_equal(iap_do_write(&r->c, &pad), IAP_CLIENT_ERR_NACK);
    assert_non_null(strstr(iap_error(), "not erased"));
    assert_int_equal(r->f.writes, 1);
    r->f.double_programs = 0; /* provoked on purpose here */
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_verify_mismatch(void **state)
{
    struct rig *r = *state;
    r->f.corrupt_at = 0x08040123u;
    start(r);
    struct iap_image img, pad;
    image(&img, &pad, 0x08040000u, 4096, 10);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_do_erase(&r->c, iap_image_pages(&pad)), 0);
    assert_int_equal(iap_do_write(&r->c, &pad), 0);
    assert_int_equal(iap_do_verify(&r->c, &pad, false), IAP_OP_ERR_VERIFY);
    assert_non_null(strstr(iap_error(), "first difference at 0x08040123"));
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_verify_mismatch_checksum(void **state)
{
    struct rig *r = *state;
    r->f.corrupt_at = 0x08040ffeu;
    r->f.offer_checksum = true;
    start(r);
    struct iap_image img, pad;
    image(&img, &pad, 0x08040000u, 4096, 11);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_do_erase(&r->c, iap_image_pages(&pad)), 0);
    assert_int_equal(iap_do_write(&r->c, &pad), 0);
    assert_int_equal(iap_do_verify(&r->c, &pad, true), IAP_OP_ERR_VERIFY);
    assert_non_null(strstr(iap_error(), "first difference at 0x08040ffe"));
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_go_and_reset(void **state)
{
    struct rig *r = *state;
    r->f.banner = "h7boot\r\n";
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_go(&r->c, AN3155_H7_RESET_ADDR), 0);
    assert_int_equal(r->f.resets, 1);
    /* After the reset the target wants a fresh sync, banner first. */
    assert_int_equal(iap_connect(&r->c), 0);
    assert_int_equal(iap_go(&r->c, 0x08040000u), 0);
    assert_int_equal(r->f.gos, 1);
    assert_int_equal(r->f.go_addr, 0x08040000u);
}

/* One enum per layer, distinct ranges, one strerror chain. */
static void test_error_codes(void **state)
{
    (void)state;
    static const struct {
        int first, end;
        const char *unknown;
    } layers[] = {
        { IAP_PORT_ERR_BASE, IAP_PORT_ERR_END, "unknown port error" },
        { IAP_IMAGE_ERR_BASE, IAP_IMAGE_ERR_END, "unknown image error" },
        { IAP_CLIENT_ERR_BASE, IAP_CLIENT_ERR_END, "unknown client error" },
        { IAP_OP_ERR_BASE, IAP_OP_ERR_END, "unknown operation error" },
    };
    assert_string_equal(iap_strerror(0), "success");
    assert_true(iap_err_valid(0));
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        /* Each layer has its own 256 values; none is shared. */
        assert_true(layers[l].end - layers[l].first < 0x100);
        for (size_t k = 0; k < l; k++)
            assert_int_not_equal(IAP_ERR_LAYER(layers[l].first), IAP_ERR_LAYER(layers[k].first));
        for (int e = layers[l].first + 1; e < layers[l].end; e++) {
            assert_true(iap_err_valid(e));
            assert_int_equal(IAP_ERR_LAYER(e), layers[l].first);
            const char *t = iap_strerror(e);
            if (strstr(t, "unknown"))
                fail_msg("0x%x has no name", e);
        }
        assert_false(iap_err_valid(layers[l].first));
        assert_false(iap_err_valid(layers[l].end));
        assert_string_equal(iap_strerror(layers[l].end), layers[l].unknown);
    }
    assert_false(iap_err_valid(-1));
    assert_false(iap_err_valid(0x500));
    assert_string_equal(iap_strerror(0x7777), "unknown error");
    assert_string_equal(iap_strerror(IAP_CLIENT_ERR_NACK),
                        "the bootloader refused a command (NACK)");
    assert_string_equal(iap_strerror(IAP_OP_ERR_VERIFY), "verify mismatch");
    /* iap_fail keeps the text and hands the code back unchanged. */
    assert_int_equal(iap_fail(IAP_PORT_ERR_CLOSED, "line %d", 3), IAP_PORT_ERR_CLOSED);
    assert_string_equal(iap_error(), "line 3");
}

/* A line that fails under the client: its code comes up unchanged. */
static void test_port_error_passes_through(void **state)
{
    struct rig *r = *state;
    start(r);
    assert_int_equal(iap_connect(&r->c), 0);
    fake_stop(&r->f);
    close(r->fd);
    signal(SIGPIPE, SIG_IGN); /* the write then fails with EPIPE */
    uint8_t b[8];
    int rc = iap_read_mem(&r->c, 0x08040000u, b, sizeof b);
    if (rc != IAP_PORT_ERR_CLOSED && rc != IAP_PORT_ERR_IO)
        fail_msg("expected the line's error, got 0x%x (%s)", rc, iap_error());
    assert_int_equal(IAP_ERR_LAYER(rc), IAP_PORT_ERR_BASE);
    r->t->ops->close(r->t);
    r->t = NULL; /* all closed already */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test_setup_teardown(test_port_error_passes_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_already_synced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parity_forced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chatter_is_not_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_sync_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_read_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_checksum_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_with_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_without_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mismatch_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_go_and_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
