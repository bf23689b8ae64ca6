#define _POSIX_C_SOURCE 200809L
#include "pl.h"

#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "crc32.h"
#include "h7f_port.h"

static void die(const char *what)
{
    fprintf(stderr, "powerloss: %s\n", what);
    abort();
}

static bool is_array_op(enum h7sim_op_kind k)
{
    return k == H7SIM_OP_PROGRAM || k == H7SIM_OP_SECTOR_ERASE || k == H7SIM_OP_BANK_ERASE ||
           k == H7SIM_OP_MASS_ERASE;
}

static void trace_add(struct pl_sim *ps, struct pl_op op)
{
    if (ps->trace_n == ps->trace_cap) {
        ps->trace_cap = ps->trace_cap ? 2 * ps->trace_cap : 4096;
        ps->trace = realloc(ps->trace, ps->trace_cap * sizeof(*ps->trace));
        if (!ps->trace)
            die("out of memory (trace)");
    }
    ps->trace[ps->trace_n++] = op;
}

static void on_event(void *ctx, const struct h7sim_event *ev)
{
    struct pl_sim *ps = ctx;
    unsigned b = ev->bank == 2u ? 1u : 0u;

    switch (ev->kind) {
    case H7SIM_EV_OP_START:
        if (!is_array_op(ev->op) && ev->op != H7SIM_OP_OPTION)
            return;
        /* An option change counts (the model's cut countdown counts it)
         * but tears nothing: it is not kept as running. */
        ps->ops++;
        if (ev->op == H7SIM_OP_OPTION) {
            if (ps->tracing)
                trace_add(ps, (struct pl_op){ (uint8_t)ev->op, 0, 0, 0 });
            break;
        }
        ps->running[b] = (struct pl_op){ (uint8_t)ev->op, ev->addr, ev->len, 0 };
        ps->run_valid[b] = true;
        if (ps->win_hi && (ev->addr < ps->win_lo || ev->addr + ev->len > ps->win_hi))
            ps->ops_outside++;
        if (ps->tracing) {
            ps->run_trace[b] = ps->trace_n;
            trace_add(ps, ps->running[b]);
        }
        break;
    case H7SIM_EV_OP_DONE:
        if (!is_array_op(ev->op))
            return;
        if (ps->tracing && ps->run_valid[b])
            ps->trace[ps->run_trace[b]].done_ns = ev->time_ns;
        ps->run_valid[b] = false;
        break;
    case H7SIM_EV_POWER_CUT:
        ps->cut = true;
        ps->cut_ns = ev->time_ns;
        for (unsigned i = 0; i < 2; i++)
            if (ps->run_valid[i] && ps->ntorn < 4) {
                ps->torn[ps->ntorn++] = ps->running[i];
                ps->run_valid[i] = false;
            }
        break;
    default: break;
    }
}

void pl_sim_open(struct pl_sim *ps, uint64_t seed)
{
    struct h7sim_config cfg;
    struct h7sim_observer obs;

    memset(ps, 0, sizeof(*ps));
    h7sim_config_default(&cfg);
    cfg.strict = true;
    cfg.seed = seed;
    ps->seed = seed;
    ps->sim = h7sim_new(&cfg);
    if (!ps->sim)
        die("h7sim_new failed");
    memset(&obs, 0, sizeof(obs));
    obs.event = on_event;
    obs.ctx = ps;
    h7sim_set_observer(ps->sim, &obs);
    h7f_port_attach(ps->sim);
}

void pl_sim_close(struct pl_sim *ps)
{
    h7sim_free(ps->sim);
    free(ps->trace);
    memset(ps, 0, sizeof(*ps));
}

void pl_sim_reset(struct pl_sim *ps)
{
    h7sim_reset(ps->sim);
    ps->run_valid[0] = ps->run_valid[1] = false;
}

bool pl_in_torn(const struct pl_sim *ps, uint32_t addr, uint32_t len)
{
    for (unsigned i = 0; i < ps->ntorn; i++) {
        const struct pl_op *t = &ps->torn[i];

        if (addr < t->addr + t->len && t->addr < addr + len)
            return true;
    }
    return false;
}

const char *pl_violations_check(struct pl_sim *ps, enum pl_vio what, bool clear)
{
    static char why[256];
    size_t n = h7sim_violation_count(ps->sim);
    const char *bad = NULL;

    for (size_t i = 0; i < n && !bad; i++) {
        const struct h7sim_violation *v = h7sim_violation_get(ps->sim, i);
        bool ok = false;

        if (what != PL_VIO_NONE && strcmp(v->rule, "read-double-ecc") == 0)
            ok = pl_in_torn(ps, v->addr, 4);
        if (what == PL_VIO_CUT_RUN && strcmp(v->rule, "access-powered-off") == 0)
            ok = ps->cut && v->time_ns >= ps->cut_ns;
        if (!ok) {
            snprintf(why, sizeof(why),
                     "unexpected model violation %zu/%zu: %s (H7_FLASH.md %s) at 0x%08" PRIx32
                     " t=%" PRIu64 " ns: %s",
                     i + 1, n, v->rule, v->section, v->addr, v->time_ns, v->detail);
            bad = why;
        }
    }
    if (clear)
        h7sim_violations_clear(ps->sim);
    return bad;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void pl_image(uint8_t *buf, uint32_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 0x9E3779B9u;

    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 8);
    }
    /* CM7 vector table: initial SP at the top of DTCM, reset handler
	 * inside the image (Thumb bit). */
    if (len >= 0x200u) {
        put_le32(buf, H7_DTCM_BASE + H7_DTCM_SIZE);
        put_le32(buf + 4, (BOOT_APP_START + 0x1C0u) | 1u);
    }
    /* CM4 vector table at its boot address when the image covers it. */
    if (BOOT_APP_START + len >= BOOT_CM4_VECTORS + 0x200u) {
        uint32_t off = BOOT_CM4_VECTORS - BOOT_APP_START;

        put_le32(buf + off, H7_SRAM3_BASE + H7_SRAM3_SIZE);
        put_le32(buf + off + 4, (BOOT_CM4_VECTORS + 0x1C0u) | 1u);
    }
}

static uint8_t boot_code_pattern(uint32_t i)
{
    return (uint8_t)(0xA5u ^ i ^ (i >> 8) ^ (i >> 16));
}

void pl_boot_code_install(struct pl_sim *ps)
{
    static uint8_t code[BOOT_CODE_SIZE];

    for (uint32_t i = 0; i < BOOT_CODE_SIZE; i++)
        code[i] = boot_code_pattern(i);
    if (h7sim_backdoor_program(ps->sim, BOOT_CODE_BASE, code, sizeof(code)) != 0)
        die("back-door program of sector 0 failed");
}

bool pl_boot_code_intact(struct pl_sim *ps)
{
    static uint8_t now[BOOT_CODE_SIZE];
    struct h7sim_stats st;

    h7sim_get_stats(ps->sim, &st);
    if (st.erase_count[0][0] != 0 || st.bank_erases[0] != 0)
        return false;
    h7sim_peek(ps->sim, BOOT_CODE_BASE, now, sizeof(now));
    for (uint32_t i = 0; i < BOOT_CODE_SIZE; i++)
        if (now[i] != boot_code_pattern(i))
            return false;
    for (uint32_t a = BOOT_CODE_BASE; a < BOOT_CODE_BASE + BOOT_CODE_SIZE; a += 32u)
        if (h7sim_word_state(ps->sim, a) != H7SIM_WORD_PROGRAMMED)
            return false;
    return true;
}

/* ---- ids ------------------------------------------------------------------ */

static int take_field(const char **p, char *out, size_t n)
{
    const char *s = *p, *e = strchr(s, '/');
    size_t len = e ? (size_t)(e - s) : strlen(s);

    if (len == 0 || len >= n || !e)
        return -1;
    memcpy(out, s, len);
    out[len] = 0;
    *p = e + 1;
    return 0;
}

int pl_id_parse(const char *s, struct pl_id *id)
{
    char *end;

    memset(id, 0, sizeof(*id));
    if (take_field(&s, id->family, sizeof(id->family)) ||
        take_field(&s, id->mode, sizeof(id->mode)) || take_field(&s, id->image, sizeof(id->image)))
        return -1;
    if (s[0] != 's')
        return -1;
    id->seed = strtoull(s + 1, &end, 10);
    if (end == s + 1 || end[0] != '/' || end[1] != 'k')
        return -1;
    s = end + 2;
    id->k = strtoull(s, &end, 10);
    if (end == s || *end)
        return -1;
    return 0;
}

void pl_id_format(char *out, size_t n, const char *family, const char *mode, const char *image,
                  uint64_t seed, uint64_t k)
{
    snprintf(out, n, "%s/%s/%s/s%" PRIu64 "/k%" PRIu64, family, mode, image, seed, k);
}

void pl_sel_from_env(struct pl_sel *s)
{
    const char *id = getenv(PL_ID_ENV);

    memset(s, 0, sizeof(*s));
    s->max_report = 10;
    s->verbose = getenv("PL_VERBOSE") != NULL;
    if (id && *id) {
        if (pl_id_parse(id, &s->id)) {
            fprintf(stderr, "%s=%s: not an id (family/mode/image/sSEED/kOP)\n", PL_ID_ENV, id);
            exit(2);
        }
        s->have_id = true;
        s->verbose = true;
    }
}

int pl_update(struct boot_ctx *b, bool an3155, const uint8_t *img, uint32_t len, uint32_t stop)
{
    uint32_t chunk = an3155 ? 256u : 1024u;
    int rc;

    if (an3155) {
        unsigned first = (BOOT_APP_START - H7_FLASH_BASE) / H7_SECTOR_SIZE;
        unsigned last = (BOOT_APP_START + len - 1u - H7_FLASH_BASE) / H7_SECTOR_SIZE;

        boot_update_abandon(b);
        for (unsigned p = first; p <= last; p++) {
            rc = boot_update_erase_page(b, p);
            if (rc)
                return rc;
        }
    } else {
        rc = boot_update_new_transfer(b, len);
        if (rc)
            return rc;
    }
    for (uint32_t off = 0; off < len && off < stop; off += chunk) {
        uint32_t n = len - off < chunk ? len - off : chunk;

        rc = boot_update_write(b, BOOT_APP_START + off, img + off, n);
        if (rc)
            return rc;
    }
    if (stop < len)
        return 0;
    rc = boot_update_commit(b);
    if (rc == 0 && b->upd.log.newest.image_crc != crc32_h7flash_image(img, len))
        return BOOT_E_VERIFY;
    return rc;
}

/* ---- the sweep runner ------------------------------------------------------ */

struct pl_sel pl_sel;
static const char *pl_argv0 = "powerloss";

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static bool default_pick(const struct pl_case *c, uint64_t k, uint64_t stride)
{
    return stride <= 1 || k % stride == 0 || k + 1 == c->nops;
}

void pl_sweep(const struct pl_suite *s, struct pl_case *c, uint64_t seed, uint64_t stride,
              uint64_t edge, uint64_t first, uint64_t last, struct pl_stats *st)
{
    char msg[512], id[96];
    double t0 = now_s();

    for (uint64_t k = first; k < c->nops && k <= last; k++) {
        if (s->pick ? !s->pick(c, k, stride, edge) : !default_pick(c, k, stride))
            continue;
        st->points++;
        msg[0] = 0;
        if (s->run_cut(c, seed, k, msg, sizeof(msg)))
            continue;
        if (++st->failures > pl_sel.max_report) {
            if (st->failures == pl_sel.max_report + 1)
                fprintf(stderr, "  (further failures of this sweep not printed)\n");
            continue;
        }
        pl_id_format(id, sizeof(id), s->family, c->mode, c->image, seed, k);
        fprintf(stderr, "FAIL %s: %s\n  rerun: %s=%s %s\n", id, msg, PL_ID_ENV, id, pl_argv0);
    }
    st->seconds += now_s() - t0;
}

static void report(const struct pl_suite *s, const struct pl_case *c, uint64_t seed,
                   const struct pl_stats *st)
{
    if (s->report)
        s->report(c, seed, st);
    else
        printf("%s/%s/%s seed %" PRIu64 ": %" PRIu64 " operations, %" PRIu64
               " cut points tested, %" PRIu64 " failed, %.1f s\n",
               s->family, c->mode, c->image, seed, c->nops, st->points, st->failures, st->seconds);
    fflush(stdout);
}

static int open_case(const struct pl_suite *s, struct pl_case *c, const char *mode,
                     const char *image)
{
    memset(c, 0, sizeof(*c));
    if (s->open(c, mode, image) != 0) {
        fprintf(stderr, "%s: no case %s/%s/%s (%s)\n", pl_argv0, s->family, mode, image, s->names);
        return -1;
    }
    c->mode = mode;
    c->image = image;
    return 0;
}

uint64_t pl_subset(const struct pl_suite *s, const char *mode, const char *image, uint64_t seed,
                   uint64_t stride, uint64_t edge, struct pl_stats *st)
{
    struct pl_case c;

    memset(st, 0, sizeof(*st));
    if (open_case(s, &c, mode, image) != 0) {
        st->failures = 1;
        return 1;
    }
    pl_sweep(s, &c, seed, stride, edge, 0, UINT64_MAX, st);
    report(s, &c, seed, st);
    s->close(&c);
    return st->failures;
}

static int run_id(const struct pl_suite *s)
{
    const struct pl_id *id = &pl_sel.id;
    struct pl_case c;
    char msg[512] = "";
    const char *env = getenv(PL_ID_ENV);
    bool ok;

    if (strcmp(id->family, s->family) != 0) {
        fprintf(stderr, "%s: %s is not a %s id\n", pl_argv0, env, s->family);
        return 2;
    }
    if (open_case(s, &c, id->mode, id->image) != 0)
        return 2;
    if (id->k >= c.nops) {
        fprintf(stderr, "k%" PRIu64 ": the case has %" PRIu64 " operations\n", id->k, c.nops);
        s->close(&c);
        return 2;
    }
    ok = s->run_cut(&c, id->seed, id->k, msg, sizeof(msg));
    s->close(&c);
    printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", env, ok ? "" : ": ", msg);
    return ok ? 0 : 1;
}

static int run_long(const struct pl_suite *s, int argc, char **argv)
{
    struct pl_case c;
    struct pl_stats st = { 0, 0, 0.0 };
    uint64_t seed, first = 0, last = UINT64_MAX;

    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: %s long MODE IMAGE SEED [FIRST LAST] (%s)\n", argv[0], s->names);
        return 2;
    }
    seed = strtoull(argv[4], NULL, 10);
    if (argc == 7) {
        first = strtoull(argv[5], NULL, 10);
        last = strtoull(argv[6], NULL, 10);
    }
    if (open_case(s, &c, argv[2], argv[3]) != 0)
        return 2;
    pl_sweep(s, &c, seed, 1, 0, first, last, &st);
    report(s, &c, seed, &st);
    s->close(&c);
    return st.failures ? 1 : 0;
}

int pl_main(int argc, char **argv, const struct pl_suite *s, int (*run_subsets)(void))
{
    pl_argv0 = argv[0];
    pl_sel_from_env(&pl_sel);
    if (pl_sel.have_id)
        return run_id(s);
    if (argc > 1 && strcmp(argv[1], "long") == 0)
        return run_long(s, argc, argv);
    return run_subsets();
}

/* The boot library's platform hooks: tests/boot/host_ram.c. */

static int ser_getc(void *ctx, uint32_t timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    return BOOT_SER_TIMEOUT;
}

static void ser_write(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
}

static void ser_drain(void *ctx)
{
    (void)ctx;
}

static void ser_set_format(void *ctx, enum boot_ser_format f)
{
    (void)ctx;
    (void)f;
}

const struct boot_serial pl_null_serial = {
    ser_getc, ser_write, ser_drain, ser_set_format, NULL, NULL, NULL, NULL,
};
