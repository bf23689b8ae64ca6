/*
 * Power cuts during A/B updates (boot/ab/ab.h, docs/POWERLOSS.md "A/B
 * updates"): a cut at every operation of an update and of the boots that
 * follow it (flash words, sector erases, the option change of SWAP_BANK,
 * the trailer words of trial, confirm and rejection), then power-on and
 * boots until the part runs a confirmed image: it must always start the
 * old confirmed image or the new one, never neither.
 *
 * Start state (not swept): bootloader pattern in sector 0 of both banks,
 * images A0 then A installed through the engine itself (update, swap,
 * trial boot, confirm), so A runs from physical bank 1 with SWAP_BANK
 * clear and the confirmed A0 in physical bank 2 is what the update to B
 * overwrites (through 0x08100000): starting A0 again is a failure too.
 *
 * Modes: what the new image B does when it runs on trial.
 *   good  confirms itself at its first trial boot;
 *   bad   never confirms (resets): AB_TRIALS trial boots, then rollback;
 *   wdg   hangs: the watchdog resets it, rollback at the next boot;
 *   copy  as good, but the other bank lost its bootloader copy: B's
 *         commit copies it before the swap;
 *   MODE2 the same, with a second cut during the boots after the first.
 * In every mode no reset may map a bank without the bootloader at
 * 0x08000000.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abfx.h"
#include "pl.h"

enum mode { M_GOOD, M_BAD, M_WDG };

struct image_pair {
    const char *name;
    uint32_t len_a, len_b;
};

static const struct image_pair images[] = {
    { "8k", 6145u, 8197u },
    { "300k", 303107u, 307207u },
};

struct acase {
    enum mode mode;
    bool twice; /* mode name ends in 2: a second cut during the recovery */
    bool copy;  /* mode copy: B's commit must first copy the bootloader */
    const struct image_pair *im;
    uint8_t *a0, *a, *b; /* A0: the confirmed image before A, in the slot B takes */
    uint8_t *c;          /* the update after the cut */
    uint64_t k_image;    /* the operation that programs B's IMAGE word */
};

/* ---- the scenario ---------------------------------------------------- */

struct run {
    struct pl_sim ps;
    struct ab_ctx ab;
    bool wdg;     /* the last reset came from the watchdog */
    bool booted;  /* a confirmed image started */
    bool bricked; /* a reset mapped a bank without the bootloader at 0 */
};

static void power_on(struct run *r, bool wdg)
{
    pl_sim_reset(&r->ps);
    if (!abfx_boot_code_at(r->ps.sim, H7_BANK1_BASE))
        r->bricked = true;
    abfx_ab_init(&r->ab);
    r->wdg = wdg;
}

static bool off(const struct run *r)
{
    return h7sim_powered_off(r->ps.sim);
}

/* Which image the running slot holds: 'A', 'B' or 0. */
static char running(const struct acase *c, struct run *r)
{
    if (abfx_slot_holds(r->ps.sim, BOOT_AB_SLOT_START, c->a, c->im->len_a))
        return 'A';
    if (abfx_slot_holds(r->ps.sim, BOOT_AB_SLOT_START, c->b, c->im->len_b))
        return 'B';
    return 0;
}

/*
 * One power-on: the boot decision, and the image it starts does what the
 * mode says. Returns the image started ('A', 'B'), 'S' for a swap (reset
 * follows), 0 when nothing could be started; *msg on a failed check.
 */
static char boot_once(const struct acase *c, struct run *r, char *msg, size_t n)
{
    struct ab_boot_result br;
    char who;

    ab_boot(&r->ab, r->wdg, &br);
    if (off(r))
        return 'S';
    if (br.act == AB_ACT_SWAP) {
        power_on(r, false);
        return 'S';
    }
    if (br.act != AB_ACT_BOOT && br.act != AB_ACT_TRIAL) {
        snprintf(msg, n, "boot decision %s (err %d): nothing to start", ab_action_name(br.act),
                 br.err);
        return 0;
    }
    who = running(c, r);
    if (!who) {
        snprintf(msg, n, "started an image that is neither A nor B");
        return 0;
    }
    if (br.act == AB_ACT_BOOT) {
        r->booted = true;
        return who;
    }
    if (br.release_cm4) {
        snprintf(msg, n, "CM4 released for an image on trial");
        return 0;
    }
    /* On trial: only B ever is (A was confirmed before the sweep). */
    if (who != 'B') {
        snprintf(msg, n, "image %c started on trial", who);
        return 0;
    }
    switch (c->mode) {
    case M_GOOD:
        if (ab_confirm(&r->ab) != 0 && !off(r)) {
            snprintf(msg, n, "confirm of B failed");
            return 0;
        }
        if (!off(r))
            power_on(r, false);
        break;
    case M_BAD: power_on(r, false); break;
    case M_WDG: power_on(r, true); break;
    }
    return who;
}

/* The swept part: update to B, reset, boots until a confirmed image runs.
 * Stops at a cut. */
static bool scenario(const struct acase *c, struct run *r, char *msg, size_t n)
{
    int rc = abfx_update(&r->ab, c->b, c->im->len_b, c->im->len_b);

    if (off(r))
        return true;
    if (rc) {
        snprintf(msg, n, "update failed: %d", rc);
        return false;
    }
    power_on(r, false);
    for (unsigned i = 0; i < 4u * AB_TRIALS && !r->booted; i++) {
        if (!boot_once(c, r, msg, n))
            return false;
        if (off(r))
            return true;
    }
    if (!r->booted) {
        snprintf(msg, n, "no confirmed image after %u boots", 4u * AB_TRIALS);
        return false;
    }
    return true;
}

/* Update, reset, trial start, confirm, reset, start: 0, or the step that
 * failed. */
static const char *install(struct run *r, const uint8_t *img, uint32_t len)
{
    struct ab_boot_result br;

    if (abfx_update(&r->ab, img, len, len) != 0)
        return "update";
    power_on(r, false);
    ab_boot(&r->ab, false, &br);
    if (br.act != AB_ACT_TRIAL || ab_confirm(&r->ab) != 0)
        return "trial start and confirm";
    power_on(r, false);
    ab_boot(&r->ab, false, &br);
    if (br.act != AB_ACT_BOOT || !abfx_slot_holds(r->ps.sim, BOOT_AB_SLOT_START, img, len))
        return "start of the confirmed image";
    power_on(r, false);
    return NULL;
}

static void start_state(const struct acase *c, struct run *r)
{
    abfx_boot_code_install(r->ps.sim);
    abfx_ab_init(&r->ab);
    if (install(r, c->a0, c->im->len_a) || install(r, c->a, c->im->len_a))
        fail_msg("start state: installing A0 and A failed");
    if (c->copy)
        abfx_boot_copy_erase();
    r->booted = false;
}

/* The model's violations: only what the cut explains (the code ran on a
 * moment without power; torn words read, at either mapping since a swap
 * may follow the cut). */
static const char *violations(struct run *r)
{
    static char why[200];
    struct h7sim *sim = r->ps.sim;

    for (size_t i = 0; i < h7sim_violation_count(sim); i++) {
        const struct h7sim_violation *v = h7sim_violation_get(sim, i);

        if (strcmp(v->rule, "access-powered-off") == 0 && r->ps.cut && v->time_ns >= r->ps.cut_ns)
            continue;
        if (strcmp(v->rule, "read-double-ecc") == 0 &&
            (pl_in_torn(&r->ps, v->addr, 4) || pl_in_torn(&r->ps, v->addr ^ H7_BANK_SIZE, 4)))
            continue;
        snprintf(why, sizeof(why), "model violation %s (H7_FLASH.md %s) at 0x%08" PRIx32 ": %s",
                 v->rule, v->section, v->addr, v->detail);
        return why;
    }
    return NULL;
}

static uint64_t second_cuts; /* points where the second cut came */

/* Power-on, then boots until a confirmed image runs: 1 (*last: which), 0
 * with msg when a check failed, -1 when power went again. */
static int recover(const struct acase *c, struct run *r, char *last, char *msg, size_t n)
{
    power_on(r, false);
    r->booted = false;
    for (unsigned i = 0; i < 4u * AB_TRIALS && !r->booted; i++) {
        *last = boot_once(c, r, msg, n);
        if (off(r))
            return -1;
        if (!*last)
            return 0;
    }
    if (!r->booted) {
        snprintf(msg, n, "no confirmed image after the cut");
        return 0;
    }
    return 1;
}

static bool run_cut(struct acase *c, uint64_t seed, uint64_t k, char *msg, size_t n)
{
    struct run r;
    const char *why;
    char last = 0;
    bool ok = true;

    memset(&r, 0, sizeof(r));
    pl_sim_open(&r.ps, seed * 1000003u + k);
    start_state(c, &r);
    h7sim_violations_clear(r.ps.sim);
    h7sim_fault_power_cut_after_ops(r.ps.sim, k);
    if (!scenario(c, &r, msg, n))
        ok = false;
    else if (!r.ps.cut) {
        snprintf(msg, n, "no cut at operation %" PRIu64, k);
        ok = false;
    }
    if (ok) {
        /* Power comes back: boot until a confirmed image runs. In the
         * "2" modes power goes again during those boots, at one of their
         * first operations (a trial, reject or confirm word, a swap). */
        int rc;

        h7sim_fault_clear(r.ps.sim);
        if (c->twice)
            h7sim_fault_power_cut_after_ops(r.ps.sim, (k * 7u + seed) % 6u);
        /* What the code did without power is checked per cut. */
        if ((why = violations(&r)) != NULL) {
            snprintf(msg, n, "first cut: %s", why);
            ok = false;
        }
        h7sim_violations_clear(r.ps.sim);
        rc = ok ? recover(c, &r, &last, msg, n) : 0;
        if (rc < 0) {
            second_cuts++;
            if ((why = violations(&r)) != NULL) {
                snprintf(msg, n, "second cut: %s", why);
                rc = 0;
            } else {
                h7sim_violations_clear(r.ps.sim);
                rc = recover(c, &r, &last, msg, n);
            }
        }
        h7sim_fault_clear(r.ps.sim);
        ok = rc > 0;
        if (rc < 0)
            snprintf(msg, n, "power went a third time");
    }
    /* bad and wdg: B can never win; good: B once its IMAGE word is done. */
    if (ok && c->mode != M_GOOD && last != 'A') {
        snprintf(msg, n, "runs %c, the rejected image", last);
        ok = false;
    }
    if (ok && c->mode == M_GOOD && k > c->k_image && last != 'B') {
        snprintf(msg, n, "runs %c although B was complete (IMAGE word at op %" PRIu64 ")", last,
                 c->k_image);
        ok = false;
    }
    /* And the next update works, whatever the cut left. */
    if (ok && (why = install(&r, c->c, c->im->len_a)) != NULL) {
        snprintf(msg, n, "the next update C after the cut failed: %s", why);
        ok = false;
    }
    if (ok && r.bricked) {
        snprintf(msg, n, "a reset mapped a bank without the bootloader at 0x08000000");
        ok = false;
    }
    if (ok && !abfx_boot_code_intact(r.ps.sim)) {
        snprintf(msg, n, "a bootloader copy changed");
        ok = false;
    }
    if (ok && (why = violations(&r)) != NULL) {
        snprintf(msg, n, "%s", why);
        ok = false;
    }
    pl_sim_close(&r.ps);
    return ok;
}

/* ---- the suite ------------------------------------------------------- */

static int a_open(struct pl_case *pc, const char *mode, const char *image)
{
    static const char *const modes[] = { "good", "bad", "wdg", "copy" };
    struct acase *c = calloc(1, sizeof(*c));
    struct run r;
    char msg[200] = "";
    unsigned m;

    if (!c)
        return -1;
    for (m = 0; m < 4 && strncmp(mode, modes[m], strlen(modes[m])) != 0; m++)
        ;
    if (m < 4 && strcmp(mode + strlen(modes[m]), "2") == 0)
        c->twice = true;
    else if (m < 4 && mode[strlen(modes[m])] != 0)
        m = 4;
    if (m == 3) { /* copy: B behaves as in good */
        c->copy = true;
        m = M_GOOD;
    }
    for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++)
        if (strcmp(image, images[i].name) == 0)
            c->im = &images[i];
    if (m == 4 || !c->im) {
        free(c);
        return -1;
    }
    c->mode = (enum mode)m;
    c->a0 = malloc(c->im->len_a);
    c->a = malloc(c->im->len_a);
    c->b = malloc(c->im->len_b);
    c->c = malloc(c->im->len_a);
    if (!c->a0 || !c->a || !c->b || !c->c)
        fail_msg("out of memory");
    abfx_image(c->a0, c->im->len_a, 0xA0);
    abfx_image(c->a, c->im->len_a, 0xA);
    abfx_image(c->c, c->im->len_a, 0xC);
    abfx_image(c->b, c->im->len_b, 0xB);
    /* The clean run counts the operations and finds B's IMAGE word. */
    memset(&r, 0, sizeof(r));
    pl_sim_open(&r.ps, 1);
    start_state(c, &r);
    r.ps.tracing = true;
    r.ps.trace_n = 0;
    {
        uint64_t ops0 = r.ps.ops;

        if (!scenario(c, &r, msg, sizeof(msg)))
            fail_msg("clean run: %s", msg);
        pc->nops = r.ps.ops - ops0;
    }
    c->k_image = UINT64_MAX;
    for (size_t i = 0; i < r.ps.trace_n; i++)
        if (r.ps.trace[i].kind == H7SIM_OP_PROGRAM &&
            r.ps.trace[i].addr == BOOT_AB_OTHER_START + BOOT_AB_TRAILER_OFF && i < c->k_image)
            c->k_image = i;
    if (c->k_image == UINT64_MAX)
        fail_msg("clean run: no IMAGE word programmed");
    pl_sim_close(&r.ps);
    pc->ctx = c;
    return 0;
}

static void a_close(struct pl_case *pc)
{
    struct acase *c = pc->ctx;

    free(c->a0);
    free(c->a);
    free(c->b);
    free(c->c);
    free(c);
}

static bool a_run_cut(struct pl_case *pc, uint64_t seed, uint64_t k, char *msg, size_t n)
{
    return run_cut(pc->ctx, seed, k, msg, n);
}

/* Every stride-th operation, and the first and last edge ones: the
 * trailer erase, the IMAGE word, the swap and the boots after it. */
static bool a_pick(const struct pl_case *pc, uint64_t k, uint64_t stride, uint64_t edge)
{
    return k % stride == 0 || k < edge || k + edge >= pc->nops;
}

static const struct pl_suite suite = {
    .family = "ab",
    .names = "modes good bad wdg copy (a 2 after it: a second cut during the recovery), images 8k "
             "300k",
    .open = a_open,
    .close = a_close,
    .run_cut = a_run_cut,
    .pick = a_pick,
};

static void run_case(const char *mode, const char *image, uint64_t seed, uint64_t stride)
{
    struct pl_stats st;

    if (pl_subset(&suite, mode, image, seed, stride, 8, &st))
        fail_msg("%" PRIu64 " of %" PRIu64 " cut points failed (ids above)", st.failures,
                 st.points);
}

/* make test: every operation of the small images, a sample of the large. */
static void test_good_8k(void **s)
{
    (void)s;
    run_case("good", "8k", 1, 1);
}
static void test_bad_8k(void **s)
{
    (void)s;
    run_case("bad", "8k", 2, 1);
}
static void test_wdg_8k(void **s)
{
    (void)s;
    run_case("wdg", "8k", 3, 1);
}
static void test_good_300k(void **s)
{
    (void)s;
    run_case("good", "300k", 4, 1999);
}

static void test_bad_300k(void **s)
{
    (void)s;
    run_case("bad", "300k", 5, 4801);
}

/* A sweep with second cuts (every third point and the ends, where the
 * recovery writes): some must have come. */
static void run_twice(const char *mode, uint64_t seed)
{
    second_cuts = 0;
    run_case(mode, "8k", seed, 3);
    printf("  second cuts: %" PRIu64 "\n", second_cuts);
    assert_true(second_cuts > 0);
}
static void test_good2_8k(void **s)
{
    (void)s;
    run_twice("good2", 6);
}
static void test_bad2_8k(void **s)
{
    (void)s;
    run_twice("bad2", 7);
}

static void test_copy_8k(void **s)
{
    (void)s;
    run_case("copy", "8k", 8, 3);
}

static int run_subsets(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_8k),  cmocka_unit_test(test_bad_8k),
        cmocka_unit_test(test_wdg_8k),   cmocka_unit_test(test_good_300k),
        cmocka_unit_test(test_bad_300k), cmocka_unit_test(test_good2_8k),
        cmocka_unit_test(test_bad2_8k),  cmocka_unit_test(test_copy_8k),
    };

    return cmocka_run_group_tests_name("powerloss_ab", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
    return pl_main(argc, argv, &suite, run_subsets);
}
