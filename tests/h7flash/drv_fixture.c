#include "drv_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWORDS (H7_FLASH_SIZE / H7_FLASH_WORD)

static void on_change(void *ctx, uint32_t addr, uint32_t len)
{
    struct fx *x = ctx;
    uint64_t t = h7sim_now(x->sim);
    for (uint64_t a = addr & ~31u; a < (uint64_t)addr + len; a += 32u)
        if (a >= H7_FLASH_BASE && a <= H7_FLASH_END)
            x->changed_ns[(a - H7_FLASH_BASE) / 32u] = t;
}

void fx_open(struct fx *x)
{
    fx_open_timing(x, H7SIM_TIMING_TYP);
}

void fx_open_timing(struct fx *x, enum h7sim_timing timing)
{
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.strict = true;
    cfg.timing = timing;
    memset(x, 0, sizeof *x);
    x->sim = h7sim_new(&cfg);
    assert_non_null(x->sim);
    x->changed_ns = calloc(NWORDS, sizeof *x->changed_ns);
    assert_non_null(x->changed_ns);
    struct h7sim_observer obs = { .array_changed = on_change, .ctx = x };
    h7sim_set_observer(x->sim, &obs);
    h7f_port_attach(x->sim);
    h7f_init(&x->f);
}

static void fx_free(struct fx *x)
{
    h7sim_free(x->sim);
    free(x->changed_ns);
    x->sim = NULL;
    x->changed_ns = NULL;
}

void fx_assert_no_violations(struct fx *x)
{
    size_t n = h7sim_violation_count(x->sim);
    if (n) {
        h7sim_violations_print(x->sim, stderr);
        fail_msg("model violation log holds %zu entries (first: %s)", n,
                 h7sim_violation_get(x->sim, 0)->rule);
    }
}

void fx_expect_violations(struct fx *x, const char *rule, size_t n)
{
    size_t got = h7sim_violation_count(x->sim);
    for (size_t i = 0; i < got; i++) {
        if (strcmp(h7sim_violation_get(x->sim, i)->rule, rule) != 0) {
            h7sim_violations_print(x->sim, stderr);
            fail_msg("unexpected violation %s (expected only %s)",
                     h7sim_violation_get(x->sim, i)->rule, rule);
        }
    }
    if (got != n) {
        h7sim_violations_print(x->sim, stderr);
        fail_msg("%zu violations of %s, expected %zu", got, rule, n);
    }
    h7sim_violations_clear(x->sim);
}

void fx_close_clean(struct fx *x)
{
    fx_assert_no_violations(x);
    assert_int_equal(h7f_port_stats.buserr_writes, 0);
    assert_int_equal(h7f_port_stats.buserr_regs, 0);
    assert_int_equal(h7f_port_stats.inval_misaligned, 0);
    assert_int_equal(h7f_port_stats.inval_outside, 0);
    fx_free(x);
}

void fx_close_any(struct fx *x)
{
    fx_free(x);
}

int fx_setup(void **state)
{
    struct fx *x = malloc(sizeof *x);
    if (x == NULL)
        return -1;
    fx_open(x);
    *state = x;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *x = *state;
    fx_close_clean(x);
    free(x);
    return 0;
}

void fx_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < len; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        buf[i] = (uint8_t)(s >> 7);
    }
}

int fx_stream(struct fx *x, struct h7f_writer *w, uint32_t start, const uint8_t *data, uint32_t len,
              uint32_t open_len, uint32_t flags, unsigned chunk, uint32_t seed)
{
    int err = h7f_writer_open(w, &x->f, start, open_len, flags);
    if (err)
        return err;
    uint32_t s = seed | 1u;
    for (uint32_t off = 0; off < len;) {
        uint32_t n = chunk;
        if (chunk == FX_CHUNK_RANDOM) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            n = 1u + s % 4096u;
        }
        if (n > len - off)
            n = len - off;
        err = h7f_writer_write(w, data + off, n);
        if (err)
            return err;
        off += n;
    }
    return h7f_writer_finish(w);
}

void fx_assert_written(struct fx *x, uint32_t start, const uint8_t *data, uint32_t len)
{
    uint8_t *got = malloc(len ? len : 1u);
    assert_non_null(got);
    h7sim_peek(x->sim, start, got, len);
    if (memcmp(got, data, len) != 0) {
        for (uint32_t i = 0; i < len; i++) {
            if (got[i] != data[i])
                fail_msg("flash 0x%08x reads 0x%02x, written 0x%02x", (unsigned)(start + i), got[i],
                         data[i]);
        }
    }
    free(got);
    static uint8_t tail[4096];
    for (uint64_t a = (uint64_t)start + len; a < WRITE_END; a += sizeof tail) {
        uint32_t n = (uint32_t)(WRITE_END - a < sizeof tail ? WRITE_END - a : sizeof tail);
        h7sim_peek(x->sim, (uint32_t)a, tail, n);
        for (uint32_t i = 0; i < n; i++)
            if (tail[i] != 0xFF)
                fail_msg("flash 0x%08x past the end reads 0x%02x", (unsigned)(a + i), tail[i]);
    }
}

void fx_assert_invalidations(struct fx *x, uint32_t erased_mask, uint32_t start, uint32_t len)
{
    uint32_t prog_end = start + ((len + 31u) & ~31u);
    for (uint32_t i = 0; i < NWORDS; i++) {
        uint32_t a = H7_FLASH_BASE + i * 32u;
        unsigned bit = (a - H7_FLASH_BASE) / H7_SECTOR_SIZE;
        bool expect = (erased_mask >> bit) & 1u;
        expect = expect || (a >= start && a < prog_end);
        uint64_t inv = h7f_port_inval_time(a);
        if (expect && inv == 0)
            fail_msg("flash word 0x%08x changed but was never invalidated", (unsigned)a);
        if (!expect && inv != 0)
            fail_msg("flash word 0x%08x invalidated but neither erased nor programmed",
                     (unsigned)a);
        if (expect && inv - 1u < x->changed_ns[i])
            fail_msg("flash word 0x%08x invalidated at %llu ns, before its change at %llu ns",
                     (unsigned)a, (unsigned long long)(inv - 1u),
                     (unsigned long long)x->changed_ns[i]);
    }
}
