/*
 * Driver-level power-loss sweep: the h7flash streaming writer over a range
 * that touches two sectors, with power cut during each of its array
 * operations in turn (the two sector erases and every word program).
 *
 * For each k: the two sectors hold older data; a writer streams new data
 * with a cut during operation k; after power-on (h7sim_reset) a new writer
 * on the same range and with the same flags must succeed, and then:
 *   - the range reads back (h7f_read, with ECC checking) as the new data,
 *     the rest of both sectors is erased, every other byte of the flash is
 *     what it was before;
 *   - the model's violation log holds only what the cut explains
 *     ("access-powered-off" after the cut, "read-double-ecc" in the torn
 *     word or sector).
 * The writer erases a sector before its first word, so torn words and
 * half-erased sectors are wiped before anything is programmed over them.
 *
 * Ranges: "x2"   4 KB before a sector boundary to 4 KB after it (bank 1);
 *         "bank" the same across the bank boundary (0x08100000);
 *         "2s"   two whole sectors (8192 words; exhaustive only in long);
 *         "2b"   the same across the bank boundary.
 * Variants: "lazy" (erase on first word, 1000-byte chunks), "upfront"
 * (H7F_WR_ERASE_UPFRONT, 7-byte chunks), "verify" (H7F_WR_VERIFY_CRC,
 * 4096-byte chunks), "ahead" (H7F_WR_ERASE_AHEAD: the bank-2 sector is
 * erased in the background while bank 1 is written, so a cut can tear an
 * erase and a program at once).
 *
 * Usage: test_pl_writer                         make-test sweeps
 *        test_pl_writer long VARIANT RANGE SEED every k of one case
 *        PL_ID=writer/VARIANT/RANGE/sSEED/kK test_pl_writer
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7flash/h7flash.h"
#include "h7f_port.h"
#include "pl.h"

struct range {
    const char *name;
    uint32_t start, len;
};

static const struct range ranges[] = {
    { "x2", 0x080A0000u - 4096u, 8192u + 3u },
    { "bank", H7_BANK2_BASE - 4096u, 8192u + 5u },
    { "2s", 0x080C0000u, 2u * H7_SECTOR_SIZE },
    { "2b", H7_BANK2_BASE - H7_SECTOR_SIZE, 2u * H7_SECTOR_SIZE },
};

struct variant {
    const char *name;
    uint32_t flags;
    uint32_t chunk;
};

static const struct variant variants[] = {
    { "lazy", 0, 1000 },
    { "upfront", H7F_WR_ERASE_UPFRONT, 7 },
    { "verify", H7F_WR_VERIFY_CRC, 4096 },
    { "ahead", H7F_WR_ERASE_AHEAD, 1000 },
};

#define NRANGES   (sizeof(ranges) / sizeof(ranges[0]))
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* Cuts that tore two operations at once (one per bank), in this case. */
static uint64_t torn_two;

/* First sector and the end of the second (the two sectors the range
 * touches, or the two whole sectors). */
static uint32_t span_lo(const struct range *r)
{
    return r->start & ~(H7_SECTOR_SIZE - 1u);
}

static uint32_t span_hi(const struct range *r)
{
    return ((r->start + r->len - 1u) & ~(H7_SECTOR_SIZE - 1u)) + H7_SECTOR_SIZE;
}

/* Compared bytes: the two sectors and 64 bytes either side. */
static uint32_t cmp_lo(const struct range *r)
{
    return span_lo(r) > H7_FLASH_BASE ? span_lo(r) - 64u : span_lo(r);
}

static uint32_t cmp_hi(const struct range *r)
{
    return span_hi(r) <= H7_FLASH_END - 64u ? span_hi(r) + 64u : span_hi(r);
}

static int stream(struct h7f *f, const struct range *r, const struct variant *v,
                  const uint8_t *data)
{
    struct h7f_writer w;
    int err = h7f_writer_open(&w, f, r->start, r->len, v->flags);

    for (uint32_t off = 0; err == 0 && off < r->len; off += v->chunk) {
        uint32_t n = r->len - off < v->chunk ? r->len - off : v->chunk;

        err = h7f_writer_write(&w, data + off, n);
    }
    if (err == 0 || w.open) {
        int e2 = h7f_writer_finish(&w);

        if (err == 0)
            err = e2;
    }
    return err;
}

struct wcase {
    const struct range *r;
    const struct variant *v;
    uint8_t *data;   /* new data */
    uint8_t *before; /* the whole flash before the write */
    uint8_t *after;  /* what the whole flash must be after it */
    uint8_t *old;    /* older contents of the two sectors + 64 bytes */
    uint64_t nops;
};

static void prepare(struct wcase *c, struct pl_sim *ps)
{
    /* Older data in both sectors, something right after them. */
    uint32_t lo = span_lo(c->r), hi = span_hi(c->r);

    assert_int_equal(h7sim_backdoor_program(ps->sim, lo, c->old, hi - lo), 0);
    if (hi <= H7_FLASH_END - 64u)
        assert_int_equal(h7sim_backdoor_program(ps->sim, hi, c->old + (hi - lo), 64u), 0);
}

static void wcase_init(struct wcase *c, const struct range *r, const struct variant *v)
{
    struct pl_sim ps;
    struct h7f f;
    int err;

    memset(c, 0, sizeof(*c));
    c->r = r;
    c->v = v;
    c->data = malloc(r->len);
    c->before = malloc(H7_FLASH_SIZE);
    c->after = malloc(H7_FLASH_SIZE);
    assert_non_null(c->data);
    assert_non_null(c->before);
    assert_non_null(c->after);
    pl_image(c->data, r->len, 5);
    c->old = malloc(span_hi(r) - span_lo(r) + 64u);
    assert_non_null(c->old);
    pl_image(c->old, span_hi(r) - span_lo(r) + 64u, 77);

    pl_sim_open(&ps, 1);
    prepare(c, &ps);
    h7sim_peek(ps.sim, H7_FLASH_BASE, c->before, H7_FLASH_SIZE);
    memcpy(c->after, c->before, H7_FLASH_SIZE);
    memset(c->after + (span_lo(r) - H7_FLASH_BASE), 0xFF, span_hi(r) - span_lo(r));
    memcpy(c->after + (r->start - H7_FLASH_BASE), c->data, r->len);

    h7f_init(&f);
    ps.tracing = true;
    err = stream(&f, r, v, c->data);
    if (err)
        fail_msg("writer/%s/%s: write without a cut failed: %s", v->name, r->name,
                 h7f_strerror(err));
    c->nops = ps.trace_n;
    {
        const char *why = pl_violations_check(&ps, PL_VIO_NONE, true);

        if (why)
            fail_msg("writer/%s/%s: write without a cut: %s", v->name, r->name, why);
    }
    pl_sim_close(&ps);
}

static void wcase_free(struct wcase *c)
{
    free(c->data);
    free(c->before);
    free(c->after);
    free(c->old);
}

static bool run_cut(struct wcase *c, uint64_t seed, uint64_t k, char *msg, size_t msgn)
{
    static uint8_t now[H7_FLASH_SIZE];
    struct pl_sim ps;
    struct h7f f;
    const char *why;
    uint8_t *back = malloc(c->r->len);
    bool ok = false;
    int err;

    assert_non_null(back);
    msg[0] = 0;
    pl_sim_open(&ps, seed);
    prepare(c, &ps);
    ps.win_lo = span_lo(c->r);
    ps.win_hi = span_hi(c->r);
    h7f_init(&f);
    h7sim_fault_power_cut_after_ops(ps.sim, k);
    err = stream(&f, c->r, c->v, c->data);
    if (pl_sel.verbose)
        fprintf(stderr,
                "cut during operation %" PRIu64 "/%" PRIu64 ": writer returned %s; "
                "torn: %s at 0x%08" PRIx32 "\n",
                k, c->nops, h7f_strerror(err),
                ps.ntorn && ps.torn[0].kind == H7SIM_OP_PROGRAM ? "word" : "sector",
                ps.ntorn ? ps.torn[0].addr : 0u);
    if (!ps.cut) {
        snprintf(msg, msgn, "the cut at operation %" PRIu64 " never happened", k);
        goto out;
    }
    if (ps.ntorn == 2)
        torn_two++;
    if (err == 0) {
        snprintf(msg, msgn, "the writer reported success although power was cut");
        goto out;
    }
    why = pl_violations_check(&ps, PL_VIO_CUT_RUN, true);
    if (why) {
        snprintf(msg, msgn, "during the cut run: %s", why);
        goto out;
    }

    pl_sim_reset(&ps);
    h7f_init(&f);
    err = stream(&f, c->r, c->v, c->data);
    if (pl_sel.verbose)
        fprintf(stderr, "  new writer after power-on: %s\n", h7f_strerror(err));
    if (err) {
        snprintf(msg, msgn, "the new writer after the cut failed: %s (0x%08" PRIx32 ")",
                 h7f_strerror(err), f.last_addr);
        goto out;
    }
    err = h7f_read(&f, c->r->start, back, c->r->len, NULL);
    if (err || memcmp(back, c->data, c->r->len) != 0) {
        snprintf(msg, msgn, "the data does not read back (%s)", h7f_strerror(err));
        goto out;
    }
    /* Nothing outside the two sectors was erased or programmed; inside,
	 * the new data and erased bytes; the neighbours kept. */
    if (ps.ops_outside) {
        snprintf(msg, msgn, "%" PRIu64 " operations outside the two sectors", ps.ops_outside);
        goto out;
    }
    h7sim_peek(ps.sim, cmp_lo(c->r), now, cmp_hi(c->r) - cmp_lo(c->r));
    if (memcmp(now, c->after + (cmp_lo(c->r) - H7_FLASH_BASE), cmp_hi(c->r) - cmp_lo(c->r)) != 0) {
        uint32_t i = 0;

        while (now[i] == c->after[cmp_lo(c->r) - H7_FLASH_BASE + i])
            i++;
        snprintf(msg, msgn, "flash 0x%08" PRIx32 " reads 0x%02x, expected 0x%02x", cmp_lo(c->r) + i,
                 now[i], c->after[cmp_lo(c->r) - H7_FLASH_BASE + i]);
        goto out;
    }
    for (uint32_t a = span_lo(c->r); a < span_hi(c->r); a += H7_FLASH_WORD) {
        enum h7sim_word_state st = h7sim_word_state(ps.sim, a);

        if (st == H7SIM_WORD_ECC_SINGLE || st == H7SIM_WORD_ECC_DOUBLE) {
            snprintf(msg, msgn, "word 0x%08" PRIx32 " left with an ECC error", a);
            goto out;
        }
    }
    why = pl_violations_check(&ps, PL_VIO_AFTER_CUT, true);
    if (why) {
        snprintf(msg, msgn, "after the cut: %s", why);
        goto out;
    }
    ok = true;
out:
    pl_sim_close(&ps);
    free(back);
    return ok;
}

static const struct range *find_range(const char *n)
{
    for (size_t i = 0; i < NRANGES; i++)
        if (strcmp(ranges[i].name, n) == 0)
            return &ranges[i];
    return NULL;
}

static const struct variant *find_variant(const char *n)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        if (strcmp(variants[i].name, n) == 0)
            return &variants[i];
    return NULL;
}

/* ---- the suite -------------------------------------------------------------- */

static int w_open(struct pl_case *pc, const char *mode, const char *image)
{
    const struct range *r = find_range(image);
    const struct variant *v = find_variant(mode);
    struct wcase *c;

    if (!r || !v)
        return -1;
    c = malloc(sizeof(*c));
    assert_non_null(c);
    wcase_init(c, r, v);
    pc->ctx = c;
    pc->nops = c->nops;
    torn_two = 0;
    return 0;
}

static void w_close(struct pl_case *pc)
{
    wcase_free(pc->ctx);
    free(pc->ctx);
}

static bool w_run_cut(struct pl_case *pc, uint64_t seed, uint64_t k, char *msg, size_t n)
{
    return run_cut(pc->ctx, seed, k, msg, n);
}

/* Every stride-th word, and always both erases and the words next to the
 * sector boundary. */
static bool w_pick(const struct pl_case *pc, uint64_t k, uint64_t stride, uint64_t edge)
{
    (void)edge;
    return stride <= 1 || k % stride == 0 || k <= 2 || k + 1 == pc->nops ||
           (k + 1) % (H7_WORDS_PER_SECTOR + 1u) <= 2u;
}

static void w_report(const struct pl_case *pc, uint64_t seed, const struct pl_stats *st)
{
    const struct wcase *c = pc->ctx;

    printf("writer/%s/%s seed %" PRIu64 ": %" PRIu32 " bytes at 0x%08" PRIx32 ", %" PRIu64
           " operations, %" PRIu64 " cut points tested (%" PRIu64 " tore two operations), %" PRIu64
           " failed, %.1f s\n",
           pc->mode, pc->image, seed, c->r->len, c->r->start, pc->nops, st->points, torn_two,
           st->failures, st->seconds);
}

static const struct pl_suite suite = {
    .family = "writer",
    .names = "variants lazy upfront verify ahead, ranges x2 bank 2s 2b",
    .open = w_open,
    .close = w_close,
    .run_cut = w_run_cut,
    .pick = w_pick,
    .report = w_report,
};

static void run_case(const char *vn, const char *rn, uint64_t seed, uint64_t stride)
{
    struct pl_stats st;

    if (pl_subset(&suite, vn, rn, seed, stride, 0, &st))
        fail_msg("%" PRIu64 " of %" PRIu64 " cut points failed (ids above)", st.failures,
                 st.points);
}

/* make test: every operation of the two small ranges, sampled two sectors. */
static void test_lazy_x2(void **s)
{
    (void)s;
    run_case("lazy", "x2", 1, 1);
}
static void test_upfront_bank(void **s)
{
    (void)s;
    run_case("upfront", "bank", 2, 1);
}
static void test_verify_x2(void **s)
{
    (void)s;
    run_case("verify", "x2", 3, 1);
}
static void test_lazy_2s(void **s)
{
    (void)s;
    run_case("lazy", "2s", 4, 1021);
}
static void test_ahead_bank(void **s)
{
    (void)s;
    run_case("ahead", "bank", 5, 1);
    /* The background erase of bank 2 runs beside the bank-1 words. */
    assert_true(torn_two > 0);
}

static int run_subsets(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_x2),    cmocka_unit_test(test_upfront_bank),
        cmocka_unit_test(test_verify_x2),  cmocka_unit_test(test_lazy_2s),
        cmocka_unit_test(test_ahead_bank),
    };

    return cmocka_run_group_tests_name("powerloss_writer", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
    return pl_main(argc, argv, &suite, run_subsets);
}
