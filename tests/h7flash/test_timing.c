/*
 * Timing of a 1.75 MB write (0x08040000-0x081FFFFF) in model time:
 * erase + program, how long the CPU would be stalled if the driver ran
 * from bank 1 instead of RAM, against the physical limit of the array.
 * Prints figures; asserts only what must hold (correct data, no stall from
 * RAM, bounds against the physical limit).
 */
#include "drv_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct figures {
    uint64_t total_ns, busy_ns[2], fetch_stall_ns, access_stall_ns;
    uint64_t erase_ns, program_ns; /* array time per kind, both banks */
};

/* Array time per operation kind, from the model's operation trace. */
static uint64_t op_start[2];
static uint64_t erase_ns, program_ns;

static void on_event(void *ctx, const struct h7sim_event *ev)
{
    (void)ctx;
    unsigned b = ev->bank == 2u ? 1u : 0u;
    if (ev->kind == H7SIM_EV_OP_START) {
        op_start[b] = ev->time_ns;
    } else if (ev->kind == H7SIM_EV_OP_DONE) {
        uint64_t d = ev->time_ns - op_start[b];
        if (ev->op == H7SIM_OP_PROGRAM)
            program_ns += d;
        else if (ev->op == H7SIM_OP_SECTOR_ERASE || ev->op == H7SIM_OP_BANK_ERASE)
            erase_ns += d;
    }
}

static void one_run(const char *name, uint32_t flags, uint32_t fetch_addr, struct figures *fig)
{
    struct fx x;
    struct h7f_writer w;
    uint8_t *data = malloc(WRITE_SPAN);
    assert_non_null(data);
    fx_pattern(data, WRITE_SPAN, 2026);
    fx_open(&x);
    /* The fixture's observer records changes; add the operation trace. */
    struct h7sim_observer obs = { .array_changed = NULL, .event = on_event, .ctx = NULL };
    h7sim_set_observer(x.sim, &obs);
    erase_ns = program_ns = 0;
    h7f_port_fetch_addr = fetch_addr;
    uint64_t t0 = h7sim_now(x.sim);
    assert_int_equal(fx_stream(&x, &w, WRITE_START, data, WRITE_SPAN, WRITE_SPAN, flags, 1024, 1),
                     H7F_OK);
    struct h7sim_stats st;
    h7sim_get_stats(x.sim, &st);
    fig->total_ns = h7sim_now(x.sim) - t0;
    fig->busy_ns[0] = st.busy_ns[0];
    fig->busy_ns[1] = st.busy_ns[1];
    fig->fetch_stall_ns = h7f_port_stats.fetch_stall_ns;
    fig->access_stall_ns = h7f_port_stats.access_stall_ns;
    fig->erase_ns = erase_ns;
    fig->program_ns = program_ns;
    printf("  %-34s total %7.3f s (array: erase %6.3f s + program %5.3f s, "
           "busy bank1 %6.3f s bank2 %6.3f s)\n"
           "  %-34s CPU stalled: fetching from bank 1 %6.3f s, data accesses %.3f s\n",
           name, fig->total_ns / 1e9, erase_ns / 1e9, program_ns / 1e9, st.busy_ns[0] / 1e9,
           st.busy_ns[1] / 1e9, "", fig->fetch_stall_ns / 1e9, fig->access_stall_ns / 1e9);
    fx_assert_written(&x, WRITE_START, data, WRITE_SPAN);
    fx_close_clean(&x);
    free(data);
}

static void test_timing_1m75(void **state)
{
    (void)state;
    struct fx x;
    fx_open(&x);
    struct h7sim_durations d;
    h7sim_durations(x.sim, 3, &d);
    fx_close_clean(&x);
    const uint64_t words = WRITE_SPAN / 32u;
    const uint64_t prog = words * d.program_word;
    const uint64_t serial_limit = 14u * d.sector_erase + prog;
    /* Both banks work at once: bank 1 erases 6 sectors and programs its
     * words, bank 2 does one bank erase and its words. */
    const uint64_t b1 = 6u * d.sector_erase + (6u * H7_WORDS_PER_SECTOR) * d.program_word;
    const uint64_t b2 = d.bank_erase + H7_WORDS_PER_BANK * d.program_word;
    const uint64_t par_limit = b1 > b2 ? b1 : b2;
    /* The stream arrives in address order: bank 2 words cannot be
     * programmed before their data, i.e. after bank 1's. */
    const uint64_t stream_limit =
        (6u * d.sector_erase > d.bank_erase ? 6u * d.sector_erase : d.bank_erase) + prog;

    printf("h7flash timing, 1.75 MB (%llu flash words, x64, model typical times):\n",
           (unsigned long long)words);
    printf("  physical: program %.3f s; 14 sector erases %.3f s; serial limit %.3f s;\n"
           "            stream limit (erase both banks at once, then program) %.3f s;\n"
           "            two banks fully overlapped %.3f s\n",
           prog / 1e9, 14u * d.sector_erase / 1e9, serial_limit / 1e9, stream_limit / 1e9,
           par_limit / 1e9);

    struct figures lazy, upfront, ahead, lazy_b1, upfront_b1;
    one_run("lazy erase, code in RAM", 0, 0, &lazy);
    one_run("erase up front, code in RAM", H7F_WR_ERASE_UPFRONT, 0, &upfront);
    one_run("lazy + bank 2 ahead, code in RAM", H7F_WR_ERASE_AHEAD, 0, &ahead);
    one_run("lazy erase, code in bank 1", 0, H7_BANK1_BASE + 0x1000u, &lazy_b1);
    one_run("erase up front, code in bank 1", H7F_WR_ERASE_UPFRONT, H7_BANK1_BASE + 0x1000u,
            &upfront_b1);
    printf("  overhead over the limit: lazy %.2f %% (serial), up front %.2f %% (stream), "
           "ahead %.2f %% (stream)\n",
           100.0 * ((double)lazy.total_ns - (double)serial_limit) / (double)serial_limit,
           100.0 * ((double)upfront.total_ns - (double)stream_limit) / (double)stream_limit,
           100.0 * ((double)ahead.total_ns - (double)stream_limit) / (double)stream_limit);
    printf("  from bank 1 the CPU (ISRs, UART, watchdog refresh) is frozen for %.3f s of %.3f s;"
           " from RAM for %.3f s\n",
           lazy_b1.fetch_stall_ns / 1e9, lazy_b1.total_ns / 1e9, lazy.fetch_stall_ns / 1e9);

    /* From RAM nothing stalls the CPU: the driver only polls registers. */
    assert_int_equal(lazy.fetch_stall_ns, 0);
    assert_int_equal(lazy.access_stall_ns, 0);
    /* From bank 1 the CPU is stalled for (almost) all of bank 1's busy time. */
    assert_true(lazy_b1.fetch_stall_ns >= lazy_b1.busy_ns[0] * 9u / 10u);
    /* The driver stays close to the physical limits. */
    assert_true(lazy.total_ns >= serial_limit);
    assert_true(lazy.total_ns < serial_limit + serial_limit / 50u);
    assert_true(upfront.total_ns >= stream_limit);
    assert_true(upfront.total_ns < stream_limit + stream_limit / 50u);
    assert_true(ahead.total_ns < stream_limit + stream_limit / 50u);
    assert_int_equal(ahead.fetch_stall_ns, 0);
    /* The array time is the datasheet's: 14 sector erases (or 6 and one
     * bank erase) and 57344 programs. */
    assert_int_equal(lazy.program_ns, prog);
    assert_int_equal(lazy.erase_ns, 14u * d.sector_erase);
    assert_int_equal(upfront.erase_ns, 6u * d.sector_erase + d.bank_erase);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timing_1m75),
    };
    return cmocka_run_group_tests_name("h7flash_timing", tests, NULL, NULL);
}
