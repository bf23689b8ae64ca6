/*
 * Host fixture of the bootloader tests: a strict h7sim model behind the
 * h7flash host port, a scripted serial line with an optional reactive peer
 * (a YMODEM sender/receiver written here, independent of the firmware's),
 * fake RAM for AN3155 Read/Write/Go, and checks that the bootloader's own
 * sector never changes.
 */
#ifndef BOOTFX_H
#define BOOTFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "boot/boot.h"
#include "h7f_port.h"
#include "h7sim.h"
#include "host_ram.h"

#define FS_IN_MAX (1u << 22)

struct fser;
/* Called when the bootloader wants input and none is queued. */
typedef void (*fser_peer_fn)(struct fser *s);

struct fser {
    uint16_t *in; /* queued input: byte | BOOT_SER_* flags */
    size_t in_head, in_tail;
    uint8_t *out;             /* everything the bootloader sent */
    size_t out_len, out_seen; /* out_seen: consumed by the peer */
    uint64_t now_ms;
    unsigned idle;       /* consecutive timeouts (of more than 1 ms) */
    unsigned idle_limit; /* then longjmp(escape) (0: never) */
    jmp_buf escape;
    enum boot_ser_format fmt;
    unsigned format_changes;
    struct h7sim *sim; /* its clock moves on with each timeout */
    uint32_t baud;     /* the rate the fake UART runs at */
    uint64_t byte_ns;  /* each byte read advances the model clock this much
                          (the wire; 0: bytes cost no time) */
    unsigned baud_changes;
    fser_peer_fn peer;
    void *peer_ctx;
    struct boot_serial ops;
};

struct bfx {
    struct h7sim *sim;
    struct fser ser;
    struct boot_ctx c;
    uint8_t boot_code[256]; /* pattern in sector 0 */
    /* Violations a test provokes on purpose (e.g. a read of a double-ECC
	 * word it injected): bfx_close requires exactly this many, all of
	 * rule expect_rule. */
    size_t expect_violations;
    const char *expect_rule;
};

void bfx_open(struct bfx *x);
/* Checks: no model violations, sector 0 unchanged. Frees. */
void bfx_close(struct bfx *x);
/* Re-run boot_init (as after a reset): record log rescanned. */
void bfx_reboot(struct bfx *x);

void fser_push(struct fser *s, const void *p, size_t n);
void fser_push_flags(struct fser *s, uint8_t b, uint16_t flags);
/* Output bytes not yet consumed by the peer / the test. */
size_t fser_unseen(struct fser *s);
int fser_next(struct fser *s); /* next unseen output byte or -1 */

/* The cmocka setup() and teardown() of a test file whose tests each run
 * on a fresh model and bootloader in the fixture x. */
#define BFX_SETUP_TEARDOWN(x)         \
    static int setup(void **state)    \
    {                                 \
        (void)state;                  \
        bfx_open(&(x));               \
        return 0;                     \
    }                                 \
    static int teardown(void **state) \
    {                                 \
        (void)state;                  \
        bfx_close(&(x));              \
        return 0;                     \
    }

/* Deterministic test image with a valid vector table (SP 0x20020000,
 * reset vector inside the image when len allows). */
void bfx_image(uint8_t *buf, uint32_t len, uint32_t seed);

/* Backdoor: put a record in log slot i (record version UR_VERSION, or
 * the one given). */
void bfx_put_record(struct bfx *x, uint32_t slot, uint8_t state, uint32_t seq, uint32_t len,
                    uint32_t crc);
void bfx_put_record_v(struct bfx *x, uint32_t slot, uint8_t state, uint32_t seq, uint32_t len,
                      uint32_t crc, uint8_t version);
/* The same on any model (tests/powerloss): 0 or h7sim's error. */
int bfx_backdoor_record(struct h7sim *sim, uint32_t slot, const struct ur_record *r);

#endif
