/*
 * h7iap's client against the real bootloader code: boot_session() from
 * h7boot_core runs in a thread on the h7sim model (tests/boot fixture), its
 * serial port is one end of a socketpair, h7iap's client the other. The
 * same bytes as on the board, minus the CPU emulator.
 */
#define _DEFAULT_SOURCE
#include "bootfx.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "an3155.h"
#include "iap.h"
#include "iap_client.h"
#include "iap_image.h"
#include "iap_ops.h"
#include "iap_progress.h"

/* A call that must succeed; on failure the message says why. */
#define OK(call)                                               \
    do {                                                       \
        int rc_ = (call);                                      \
        if (rc_)                                               \
            fail_msg("%s -> %d: %s", #call, rc_, iap_error()); \
    } while (0)

struct link {
    struct bfx x;
    int fd; /* bootloader side */
    volatile int stop;
    jmp_buf esc;
    pthread_t th;
    struct boot_serial ops;
    /* what the bootloader asked for */
    int resets, app_starts;
    uint32_t app_addr;
    /* client side */
    struct iap_transport *t;
    struct iap_client c;
};

static int lk_getc(void *ctx, uint32_t timeout_ms)
{
    struct link *l = ctx;
    uint32_t waited = 0;
    for (;;) {
        if (l->stop)
            longjmp(l->esc, 1);
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        uint32_t step = timeout_ms - waited < 20 ? timeout_ms - waited : 20;
        int r = poll(&p, 1, (int)step);
        if (r > 0) {
            uint8_t b;
            ssize_t n = read(l->fd, &b, 1);
            if (n == 1)
                return b;
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                longjmp(l->esc, 1);
            continue;
        }
        waited += step;
        if (waited >= timeout_ms)
            return BOOT_SER_TIMEOUT;
    }
}

static void lk_write(void *ctx, const void *p, size_t n)
{
    struct link *l = ctx;
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(l->fd, b, n);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

static void lk_drain(void *ctx)
{
    (void)ctx;
}

static void lk_set_format(void *ctx, enum boot_ser_format f)
{
    (void)ctx;
    (void)f;
}

static uint32_t lk_overruns(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The firmware's main loop: session, then reset or "run the app". */
static void *boot_thread(void *arg)
{
    struct link *l = arg;
    if (setjmp(l->esc))
        return NULL;
    for (;;) {
        struct boot_result r = boot_session(&l->x.c, BOOT_SER_TIMEOUT);
        if (r.act == BOOT_ACT_JUMP_APP) {
            l->app_starts++;
            l->app_addr = r.addr;
            lk_write(l, "h7app (host link test)\r\n", 24);
        } else {
            l->resets++;
        }
        /* Either way the next thing on the line is a fresh bootloader. */
        h7sim_reset(l->x.sim);
        boot_init(&l->x.c, &l->ops);
    }
    return NULL;
}

static int setup(void **state)
{
    struct link *l = calloc(1, sizeof *l);
    int sv[2];
    bfx_open(&l->x);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    l->fd = sv[1];
    l->ops = (struct boot_serial){ lk_getc,     lk_write, lk_drain, lk_set_format,
                                   lk_overruns, l,        NULL,     NULL };
    boot_init(&l->x.c, &l->ops);
    assert_int_equal(pthread_create(&l->th, NULL, boot_thread, l), 0);
    assert_int_equal(iap_fd_transport(sv[0], "bootloader", &l->t), 0);
    iap_client_init(&l->c, l->t);
    l->c.sync_timeout_ms = 200;
    iap_verbosity = -1;
    iap_progress_set_tty(0);
    *state = l;
    return 0;
}

static int teardown(void **state)
{
    struct link *l = *state;
    l->stop = 1;
    pthread_join(l->th, NULL);
    l->t->ops->close(l->t);
    close(l->fd);
    bfx_close(&l->x); /* no model violations, sector 0 untouched */
    free(l);
    return 0;
}

static void load(struct iap_image *img, struct iap_image *pad, uint32_t len, uint32_t seed)
{
    uint8_t *d = malloc(len);
    bfx_image(d, len, seed);
    assert_int_equal(iap_image_parse(d, len, BOOT_APP_START, img), 0);
    assert_int_equal(iap_image_check_region(img, BOOT_APP_START, BOOT_APP_END), 0);
    assert_int_equal(iap_image_pad(img, H7_FLASH_WORD, pad), 0);
    free(d);
}

static void test_identity(void **state)
{
    struct link *l = *state;
    OK(iap_connect(&l->c));
    assert_int_equal(l->c.pid, AN3155_PID_H74X);
    assert_true(iap_has_cmd(&l->c, AN3155_CMD_GET_CHECKSUM));
    assert_true(iap_has_cmd(&l->c, AN3155_CMD_H7_GET_REASON));
    /* A second connect finds the bootloader already in sync. */
    OK(iap_connect(&l->c));
}

static void test_flash_verify_go(void **state)
{
    struct link *l = *state;
    struct iap_image img, pad;
    load(&img, &pad, 0x21000 + 1000, 5); /* pages 2 and 3, odd tail */
    OK(iap_connect(&l->c));
    OK(iap_do_erase(&l->c, iap_image_pages(&pad)));
    OK(iap_do_write(&l->c, &pad));
    OK(iap_do_verify(&l->c, &pad, true));
    OK(iap_do_verify(&l->c, &pad, false));
    uint8_t back[512];
    OK(iap_do_read(&l->c, 0x08040000u + 0x20F00u, sizeof back, back));
    assert_memory_equal(back, img.segs[0].data + 0x20F00u, sizeof back);
    /* Go: the bootloader commits the record, checks the image, starts it. */
    OK(iap_go(&l->c, BOOT_APP_START));
    uint8_t banner[24];
    size_t got;
    assert_int_equal(l->t->ops->read(l->t, banner, sizeof banner, 2000, &got), 0);
    assert_int_equal(got, 24);
    assert_memory_equal(banner, "h7app (host link test)\r\n", 24);
    assert_int_equal(l->app_starts, 1);
    /* After the "reset" the image is still valid: Go works without flashing. */
    OK(iap_connect(&l->c));
    OK(iap_do_verify(&l->c, &pad, true));
    OK(iap_go(&l->c, AN3155_H7_RESET_ADDR));
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_nack_reasons(void **state)
{
    struct link *l = *state;
    struct iap_image img, pad;
    load(&img, &pad, 4096, 6);
    OK(iap_connect(&l->c));
    /* Go with nothing flashed: refused, with the bootloader's reason. */
    assert_int_equal(iap_go(&l->c, BOOT_APP_START), IAP_CLIENT_ERR_NACK);
    assert_non_null(strstr(iap_error(), "no valid application image"));
    /* The bootloader's own sectors: refused. */
    uint16_t page = 1;
    assert_int_equal(iap_erase_pages(&l->c, &page, 1), IAP_CLIENT_ERR_NACK);
    assert_non_null(strstr(iap_error(), "Extended Erase"));
    assert_non_null(strstr(iap_error(), "protected"));
    /* Writing the same words twice: the second write is refused (the
	 * bootloader's transfer only moves forward; the all-0xFF chunks before
	 * the first data were never programmed) and the client does not try
	 * again. */
    OK(iap_do_erase(&l->c, iap_image_pages(&pad)));
    OK(iap_do_write(&l->c, &pad));
    assert_int_equal(iap_do_write(&l->c, &pad), IAP_CLIENT_ERR_NACK);
    assert_non_null(strstr(iap_error(), "Write Memory at 0x0804"));
    assert_non_null(strstr(iap_error(), "already written"));
    assert_non_null(strstr(iap_error(), "nothing is sent again"));
    /* The first copy is intact. */
    OK(iap_do_verify(&l->c, &pad, true));
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_verify_mismatch(void **state)
{
    struct link *l = *state;
    struct iap_image img, pad, other, opad;
    load(&img, &pad, 8192, 7);
    load(&other, &opad, 8192, 7);
    other.segs[0].data[0x1234] ^= 0x40;
    opad.segs[0].data[0x1234] ^= 0x40;
    OK(iap_connect(&l->c));
    OK(iap_do_erase(&l->c, iap_image_pages(&pad)));
    OK(iap_do_write(&l->c, &pad));
    assert_int_equal(iap_do_verify(&l->c, &opad, true), IAP_OP_ERR_VERIFY);
    assert_non_null(strstr(iap_error(), "first difference at 0x08041234"));
    assert_int_equal(iap_do_verify(&l->c, &opad, false), IAP_OP_ERR_VERIFY);
    assert_non_null(strstr(iap_error(), "first difference at 0x08041234"));
    iap_image_free(&img);
    iap_image_free(&pad);
    iap_image_free(&other);
    iap_image_free(&opad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_verify_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_mismatch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
