/*
 * Power-loss test support: a model with an operation tracer, the expected
 * violation entries after a cut, images with plausible vector tables, and
 * the reproducible ids every failure prints (docs/POWERLOSS.md).
 *
 * An "operation" is an array operation the model starts: a flash-word
 * program, a sector erase or a bank erase (each bank's half of a mass erase
 * counts as one), or an option byte change (it tears nothing: the option
 * bytes keep their old values or take the new ones). h7sim_fault_power_cut_after_ops(sim, k) cuts power during
 * operation k (0-based) of what follows, at a point drawn from the seed.
 */
#ifndef PL_H
#define PL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7sim.h"

/* One traced array operation. */
struct pl_op {
    uint8_t kind;     /* enum h7sim_op_kind */
    uint32_t addr;    /* logical address of the word or sector */
    uint32_t len;     /* bytes affected */
    uint64_t done_ns; /* trace: model time it completed (0: not) */
};

/* A model with its tracer. */
struct pl_sim {
    struct h7sim *sim;
    uint64_t seed;
    uint64_t ops; /* operations started since pl_sim_open (option changes too) */
    /* Operations in flight, per physical bank (event bank 1/2). */
    struct pl_op running[2];
    bool run_valid[2];
    size_t run_trace[2]; /* its index in the trace (tracing only) */
    /* What the cuts tore (copied from running at each cut). */
    struct pl_op torn[4];
    unsigned ntorn;
    bool cut;
    uint64_t cut_ns;
    /* Optional trace of every operation (the counting run). */
    struct pl_op *trace;
    size_t trace_n, trace_cap;
    bool tracing;
    /* Operations that touch anything outside [win_lo, win_hi) when
	 * win_hi != 0 (tests set the window they allow). */
    uint32_t win_lo, win_hi;
    uint64_t ops_outside;
};

/* New strict model with the given seed, attached to the h7flash host port,
 * traced. Aborts on allocation failure. */
void pl_sim_open(struct pl_sim *ps, uint64_t seed);
void pl_sim_close(struct pl_sim *ps);
/* Power-on after a cut (h7sim_reset); the driver port stays attached. */
void pl_sim_reset(struct pl_sim *ps);
/* Whether [addr, addr+len) overlaps what the cut tore. */
bool pl_in_torn(const struct pl_sim *ps, uint32_t addr, uint32_t len);

/*
 * The model's violation log against what a cut explains:
 *   PL_VIO_NONE      no entry at all;
 *   PL_VIO_CUT_RUN   only "access-powered-off" at or after the last cut
 *                    (the code kept running for a moment without power),
 *                    and "read-double-ecc" inside what an earlier cut tore;
 *   PL_VIO_AFTER_CUT only "read-double-ecc" inside the torn word or sector
 *                    (a reader that met it and reported it as an error).
 * Returns NULL when the log fits, else a description of the first entry
 * that does not (static buffer). Clears the log when clear is true.
 */
enum pl_vio { PL_VIO_NONE, PL_VIO_CUT_RUN, PL_VIO_AFTER_CUT };
const char *pl_violations_check(struct pl_sim *ps, enum pl_vio what, bool clear);

/* Bytes of an application image: pseudo-random from seed, with an initial
 * SP at the top of DTCM and a reset vector inside the image (Thumb bit);
 * when the image covers 0x08100000 + 8, a CM4 vector table there too. */
void pl_image(uint8_t *buf, uint32_t len, uint32_t seed);

/* A serial port that never receives and drops what is sent (boot_init
 * needs one; the update engine does not talk). pl.c also defines the boot
 * library's platform hooks (boot_port_*). */
struct boot_serial;
extern const struct boot_serial pl_null_serial;

/* Drive the update engine as a protocol front end does. an3155: as
 * stm32flash (a new AN3155 transfer, page erases of the sectors the image
 * needs, 256-byte writes, commit on Go); otherwise as boot_ymodem_receive
 * (a new transfer of len bytes, 1024-byte blocks). The host stops after
 * `stop` bytes without a commit (returns 0 then); UINT32_MAX: the whole
 * image, committed, and the committed record's CRC checked against the
 * image (BOOT_E_VERIFY when it differs). */
struct boot_ctx;
int pl_update(struct boot_ctx *b, bool an3155, const uint8_t *img, uint32_t len, uint32_t stop);

/* Program the bootloader's sector 0 with a pattern (back door) / compare. */
void pl_boot_code_install(struct pl_sim *ps);
bool pl_boot_code_intact(struct pl_sim *ps);

/* ---- failure ids -------------------------------------------------------- */

/* Environment variable that selects one case: its value is the id a
 * failure printed, e.g. PL_ID=update/ymodem/300k/s1/k523. */
#define PL_ID_ENV "PL_ID"

/* Parsed id. */
struct pl_id {
    char family[16]; /* "update" or "writer" */
    char mode[16];   /* update: ymodem, an3155, compact; writer: variant */
    char image[16];  /* update: image name; writer: "-" */
    uint64_t seed;
    uint64_t k;
};
/* 0 when s is a well-formed id. */
int pl_id_parse(const char *s, struct pl_id *id);
void pl_id_format(char *out, size_t n, const char *family, const char *mode, const char *image,
                  uint64_t seed, uint64_t k);

/* Sweep selection from the command line and the environment. */
struct pl_sel {
    bool have_id; /* PL_ID set: only that case */
    struct pl_id id;
    bool verbose;        /* PL_VERBOSE set, or PL_ID given */
    unsigned max_report; /* failures printed in full per sweep */
};
void pl_sel_from_env(struct pl_sel *s);

/* ---- the sweep runner ----------------------------------------------------
 *
 * One runner for every power-loss sweep (littlefs's reentrant test cases
 * are the model): a test describes its cases; the runner picks the cut
 * points, runs them, prints each failure with its id, and provides the
 * entry points: the make-test subsets, `long` sweeps of every point, and
 * PL_ID replays of one point.
 */

/* One case, opened by its suite from (mode, image). */
struct pl_case {
    const char *mode, *image; /* id parts */
    uint64_t nops;            /* operations of the clean run (option changes too) */
    void *ctx;                /* the suite's state for this case */
};

struct pl_stats {
    uint64_t points, failures;
    double seconds; /* wall time of the sweep */
};

struct pl_suite {
    const char *family; /* first part of the ids: "update", "writer" */
    const char *names;  /* usage text: the modes and images it knows */
    /* Open the case (its clean run, which counts nops); -1 when the names
	 * are unknown. */
    int (*open)(struct pl_case *c, const char *mode, const char *image);
    void (*close)(struct pl_case *c);
    /* Power cut during operation k of the case (a seed picks the point
	 * inside the operation), then power-on and every check. True when all
	 * held; otherwise msg says which did not. */
    bool (*run_cut)(struct pl_case *c, uint64_t seed, uint64_t k, char *msg, size_t n);
    /* Whether a subset with this stride and edge sweeps k (NULL: every
	 * stride-th operation and the last). */
    bool (*pick)(const struct pl_case *c, uint64_t k, uint64_t stride, uint64_t edge);
    /* One line after a sweep (NULL: the runner's own). */
    void (*report)(const struct pl_case *c, uint64_t seed, const struct pl_stats *st);
};

/* Options of the running test (pl_main sets them from the environment). */
extern struct pl_sel pl_sel;

/* Sweep the points k in [first, last] that the suite's pick selects
 * (stride 1, edge 0: all of them). */
void pl_sweep(const struct pl_suite *s, struct pl_case *c, uint64_t seed, uint64_t stride,
              uint64_t edge, uint64_t first, uint64_t last, struct pl_stats *st);

/* A make-test subset: open, sweep, report, close. Returns the number of
 * failed points (the caller fails its cmocka test when it is not 0). */
uint64_t pl_subset(const struct pl_suite *s, const char *mode, const char *image, uint64_t seed,
                   uint64_t stride, uint64_t edge, struct pl_stats *st);

/* main() of a power-loss test:
 *   PL_ID=<id> prog                              that one point, verbosely
 *   prog long MODE IMAGE SEED [FIRST LAST]       every point (or k in FIRST..LAST)
 *   prog                                         run_subsets() (the cmocka group)
 */
int pl_main(int argc, char **argv, const struct pl_suite *s, int (*run_subsets)(void));

#endif /* PL_H */
