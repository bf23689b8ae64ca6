/*
 * Shared fixture of the h7flash driver tests: one strict h7sim model per
 * test, the host port attached to it, an observer recording when each
 * flash word last changed, and checks of what the driver left behind.
 */
#ifndef DRV_FIXTURE_H
#define DRV_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "h7flash/h7flash.h"
#include "h7f_port.h"
#include "h7sim.h"

#define WRITE_START 0x08040000u /* bank 1 sector 2: first byte the bootloader may write */
#define WRITE_END   0x08200000u
#define WRITE_SPAN  (WRITE_END - WRITE_START) /* 1.75 MB */

struct fx {
    struct h7sim *sim;
    struct h7f f;
    /* Model time of the last change of each flash word (0: never). */
    uint64_t *changed_ns;
};

/* cmocka group/test setup and teardown; teardown asserts the violation log
 * is empty and that the port saw no bus error on writes. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* The same by hand, for tests that loop over many fresh models. */
void fx_open(struct fx *x);
/* The same with the datasheet's maximum times instead of typical. */
void fx_open_timing(struct fx *x, enum h7sim_timing timing);
void fx_close_clean(struct fx *x);
void fx_close_any(struct fx *x);

/* Fails the test with the model's violation log when it is not empty. */
void fx_assert_no_violations(struct fx *x);
/* Asserts the log holds exactly n violations, all of rule `rule`, then
 * clears it. */
void fx_expect_violations(struct fx *x, const char *rule, size_t n);

/* Deterministic pattern (xorshift) of len bytes from seed. */
void fx_pattern(uint8_t *buf, size_t len, uint32_t seed);

/* Chunk sizes: a positive value, or FX_CHUNK_RANDOM (1..4096, seeded). */
#define FX_CHUNK_RANDOM 0u
/* Stream data through a writer in the given chunking. Returns the first
 * error of write/finish. */
int fx_stream(struct fx *x, struct h7f_writer *w, uint32_t start, const uint8_t *data, uint32_t len,
              uint32_t open_len, uint32_t flags, unsigned chunk, uint32_t seed);

/* Flash contents (peek) at [start, start+len) equal data, and every byte
 * from start+len up to the end of the flash reads 0xFF. */
void fx_assert_written(struct fx *x, uint32_t start, const uint8_t *data, uint32_t len);
/* The D-cache invalidations match exactly the flash words that were erased
 * (erased_mask) or programmed ([start, start+round32(len))), each done
 * after the word last changed. */
void fx_assert_invalidations(struct fx *x, uint32_t erased_mask, uint32_t start, uint32_t len);

#endif
