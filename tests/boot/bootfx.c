#include "bootfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"

/* ---- serial ---- */

void fser_push(struct fser *s, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        fser_push_flags(s, b[i], 0);
}

void fser_push_flags(struct fser *s, uint8_t b, uint16_t flags)
{
    if (s->in_head == s->in_tail)
        s->in_head = s->in_tail = 0;
    assert_true(s->in_tail < FS_IN_MAX);
    s->in[s->in_tail++] = (uint16_t)(b | flags);
}

size_t fser_unseen(struct fser *s)
{
    return s->out_len - s->out_seen;
}

int fser_next(struct fser *s)
{
    if (s->out_seen >= s->out_len)
        return -1;
    return s->out[s->out_seen++];
}

static int fs_getc(void *ctx, uint32_t timeout_ms)
{
    struct fser *s = ctx;

    if (s->in_head == s->in_tail && s->peer)
        s->peer(s);
    if (s->in_head == s->in_tail) {
        s->now_ms += timeout_ms;
        if (s->sim)
            h7sim_advance(s->sim, (uint64_t)timeout_ms * 1000000u);
        /* A poll between two flash steps (0 or 1 ms: the bootloader has
         * work, it is not waiting for the host) counts for nothing. */
        if (timeout_ms > 1u)
            s->idle++;
        if (s->idle_limit && s->idle >= s->idle_limit)
            longjmp(s->escape, 1);
        return BOOT_SER_TIMEOUT;
    }
    s->idle = 0;
    if (s->sim && s->byte_ns)
        h7sim_advance(s->sim, s->byte_ns);
    return s->in[s->in_head++];
}

static void fs_write(void *ctx, const void *p, size_t n)
{
    struct fser *s = ctx;

    s->out = realloc(s->out, s->out_len + n + 1);
    assert_non_null(s->out);
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
}

static void fs_drain(void *ctx)
{
    (void)ctx;
}

static void fs_set_format(void *ctx, enum boot_ser_format f)
{
    struct fser *s = ctx;

    if (f != s->fmt)
        s->format_changes++;
    s->fmt = f;
}

static uint32_t fs_overruns(void *ctx)
{
    (void)ctx;
    return 0;
}

static uint32_t fs_now_ms(void *ctx)
{
    return (uint32_t)((struct fser *)ctx)->now_ms;
}

/* The USART's rates: PCLK1 / BRR with BRR >= 16 (RM0399 48.5.7). */
static uint32_t fs_baud(void *ctx, uint32_t want, bool apply)
{
    struct fser *s = ctx;
    uint32_t brr;

    if (want == 0)
        return s->baud;
    brr = (BOOT_PCLK1_HZ + want / 2u) / want;
    if (brr < 16u || brr > 0xFFFFu)
        return 0;
    if (apply && BOOT_PCLK1_HZ / brr != s->baud) {
        s->baud = BOOT_PCLK1_HZ / brr;
        s->baud_changes++;
    }
    return BOOT_PCLK1_HZ / brr;
}

/* ---- fixture ---- */

void bfx_image(uint8_t *buf, uint32_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1u;

    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    if (len >= 8) {
        uint32_t sp = 0x20020000u, pc = BOOT_APP_START + (len > 0x200 ? 0x1C1u : 9u);

        memcpy(buf, &sp, 4);
        memcpy(buf + 4, &pc, 4);
    }
}

void bfx_put_record(struct bfx *x, uint32_t slot, uint8_t state, uint32_t seq, uint32_t len,
                    uint32_t crc)
{
    bfx_put_record_v(x, slot, state, seq, len, crc, UR_VERSION);
}

void bfx_put_record_v(struct bfx *x, uint32_t slot, uint8_t state, uint32_t seq, uint32_t len,
                      uint32_t crc, uint8_t version)
{
    struct ur_record r = { state, seq, BOOT_APP_START, len, crc, version };

    assert_int_equal(bfx_backdoor_record(x->sim, slot, &r), 0);
}

int bfx_backdoor_record(struct h7sim *sim, uint32_t slot, const struct ur_record *r)
{
    uint8_t b[UR_SIZE];

    ur_encode(r, b);
    return h7sim_backdoor_program(sim, BOOT_LOG_BASE + slot * UR_SIZE, b, UR_SIZE);
}

void bfx_open(struct bfx *x)
{
    struct h7sim_config cfg;

    memset(x, 0, sizeof(*x));
    h7sim_config_default(&cfg);
    cfg.strict = true;
    x->sim = h7sim_new(&cfg);
    assert_non_null(x->sim);
    h7f_port_attach(x->sim);
    for (unsigned i = 0; i < sizeof(x->boot_code); i++)
        x->boot_code[i] = (uint8_t)(0xA5 ^ i);
    assert_int_equal(
        h7sim_backdoor_program(x->sim, BOOT_CODE_BASE, x->boot_code, sizeof(x->boot_code)), 0);
    x->ser.in = calloc(FS_IN_MAX, sizeof(uint16_t));
    assert_non_null(x->ser.in);
    x->ser.idle_limit = 200;
    x->ser.ops.getc = fs_getc;
    x->ser.ops.write = fs_write;
    x->ser.ops.drain = fs_drain;
    x->ser.ops.set_format = fs_set_format;
    x->ser.ops.overruns = fs_overruns;
    x->ser.ops.ctx = &x->ser;
    x->ser.ops.now_ms = fs_now_ms;
    x->ser.ops.baud = fs_baud;
    x->ser.baud = 115200u;
    x->ser.sim = x->sim;
    bfx_ram_clear();
    boot_init(&x->c, &x->ser.ops);
}

void bfx_reboot(struct bfx *x)
{
    h7sim_reset(x->sim);
    boot_init(&x->c, &x->ser.ops);
}

void bfx_close(struct bfx *x)
{
    uint8_t now[256];
    size_t n = h7sim_violation_count(x->sim);

    if (n != x->expect_violations) {
        h7sim_violations_print(x->sim, stderr);
        fail_msg("model violation log holds %zu entries, %zu expected", n, x->expect_violations);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h7sim_violation_get(x->sim, i)->rule, x->expect_rule);
    h7sim_peek(x->sim, BOOT_CODE_BASE, now, sizeof(now));
    assert_memory_equal(now, x->boot_code, sizeof(now));
    /* the rest of sector 0 stays erased */
    assert_int_equal(h7sim_word_state(x->sim, BOOT_CODE_BASE + 0x1000), H7SIM_WORD_VIRGIN);
    h7sim_free(x->sim);
    free(x->ser.in);
    free(x->ser.out);
    memset(x, 0, sizeof(*x));
}
