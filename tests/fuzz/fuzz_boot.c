/*
 * Fuzz harness: the bootloader session (boot_session: menu, YMODEM and
 * AN3155) on the strict model, with the fuzz input as the serial line.
 *
 * Input: byte 0 = options (bit 0: a valid image and its COMPLETE record
 * are installed first; bit 1: the H7BOOT_HOST_RAM build option; bit 2:
 * escapes: 0xF5 0xF5 is a literal 0xF5, 0xF5 followed by an odd byte is a
 * line timeout, by an even byte gives the next byte a framing error). The
 * rest is what the host sends. When the session hands over (Go, reset,
 * jump) the part is reset and the next session reads on, as on the chip.
 *
 * Invariants, checked at every flash operation (model observer) and after
 * every input; a broken one abort()s:
 * - sector 0 never changes;
 * - sector 1 only ever receives valid update records;
 * - nothing outside 0x08040000-0x081FFFFF and sector 1 is programmed or
 *   erased;
 * - every programmed byte of the application area equals the byte the
 *   host sent for that address since the sector's last erase, 0xFF where
 *   it sent none;
 * - a COMPLETE record is written only for a transfer without a failed
 *   write or erase, whose length is the highest byte sent, whose CRC is
 *   that of the image in flash, and where every byte the host sent reads
 *   back as sent;
 * - the model's violation log stays empty.
 *
 * "What the host sent" is taken where the protocol front ends hand bytes to
 * the update engine (boot_update_write, boot_update_erase_pages, ... are
 * wrapped with ld --wrap): the engine below that seam is what is tested.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "crc32.h"
#include "h7f_port.h"
#include "h7sim.h"

#define APP_N   (BOOT_APP_END - BOOT_APP_START)
#define SECTORS 16u

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "fuzz_boot: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* ---- the shadow: what the host sent ------------------------------------ */

static uint8_t sent[APP_N];
static uint32_t stamp[APP_N];       /* write call that sent the byte (0: none) */
static uint32_t erase_gen[SECTORS]; /* bytes with stamp <= this are erased */
static uint32_t calls;              /* write calls so far */
static bool in_write;
static size_t stamp_hi; /* stamp[] is zero from here on */
static bool trace;      /* FUZZ_BOOT_TRACE is set */

static struct {
    bool active, failed;
    uint32_t hi; /* highest address sent + 1 */
    /* A download's transfer (boot_update_new_transfer): staged, its
     * writer erases each sector before its first word, while or after its
     * bytes are written (they wait in RAM), so its erases keep every byte
     * sent since gen0. */
    bool staged;
    uint32_t gen0;
} tr;

static struct h7sim *sim;
static uint8_t boot_code[512];

/* The write call in progress: its range, and what the shadow held there
 * before it. A word programmed during the call may hold either: the
 * writer flushes the bytes it already acknowledged before it refuses a
 * write. An accepted write must not leave an old byte where it wrote, a
 * refused one must not leave a new byte anywhere. */
static struct {
    uint32_t lo, hi;       /* [lo, hi) in the application area */
    bool saw_old, saw_new; /* a byte that only the old / new shadow explains */
    uint8_t sent[4096];
    uint32_t stamp[4096];
} cur;

static bool valid_byte(uint32_t a)
{
    uint32_t i = a - BOOT_APP_START;

    return stamp[i] && stamp[i] > erase_gen[(a - H7_FLASH_BASE) / H7_SECTOR_SIZE];
}

int __real_boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n);
int __wrap_boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n);
int __wrap_boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n)
{
    int rc;

    calls++;
    if (trace)
        fprintf(stderr, "write #%u 0x%08x %zu\n", (unsigned)calls, (unsigned)addr, n);
    if (!tr.active) {
        tr.active = true;
        tr.failed = false;
        tr.staged = false;
        tr.hi = BOOT_APP_START;
    }
    bool in_app = addr >= BOOT_APP_START && addr < BOOT_APP_END && n <= BOOT_APP_END - addr &&
                  n <= sizeof(cur.sent);

    cur.lo = cur.hi = 0;
    cur.saw_old = cur.saw_new = false;
    if (in_app) {
        cur.lo = addr;
        cur.hi = (uint32_t)(addr + n);
        memcpy(cur.sent, sent + (addr - BOOT_APP_START), n);
        memcpy(cur.stamp, stamp + (addr - BOOT_APP_START), n * sizeof(*stamp));
        for (size_t i = 0; i < n; i++) {
            sent[addr - BOOT_APP_START + i] = ((const uint8_t *)p)[i];
            stamp[addr - BOOT_APP_START + i] = calls;
        }
        if (addr - BOOT_APP_START + n > stamp_hi)
            stamp_hi = addr - BOOT_APP_START + n;
    }
    in_write = true;
    rc = __real_boot_update_write(c, addr, p, n);
    in_write = false;
    /* A write refused before it touched anything did not send its
	 * bytes as far as the flash is concerned. */
    if (in_app && (rc == H7F_E_SEQUENCE || rc == BOOT_E_TRANSFER || rc == BOOT_E_RANGE)) {
        CHECK(!cur.saw_new);
        memcpy(sent + (addr - BOOT_APP_START), cur.sent, n);
        memcpy(stamp + (addr - BOOT_APP_START), cur.stamp, n * sizeof(*stamp));
    } else if (rc == 0) {
        CHECK(!cur.saw_old);
    }
    cur.lo = cur.hi = 0;
    if (trace)
        fprintf(stderr, "  -> %d\n", rc);
    if (rc)
        tr.failed = true;
    else if (n && addr + n > tr.hi)
        tr.hi = (uint32_t)(addr + n);
    return rc;
}

int __real_boot_update_erase_pages(struct boot_ctx *c, uint32_t mask);
int __wrap_boot_update_erase_pages(struct boot_ctx *c, uint32_t mask);
int __wrap_boot_update_erase_pages(struct boot_ctx *c, uint32_t mask)
{
    int rc;

    /* Erasing a sector the transfer wrote ends the transfer. */
    if (tr.active && tr.hi > BOOT_APP_START &&
        (mask & ((2u << ((tr.hi - 1u - H7_FLASH_BASE) / H7_SECTOR_SIZE)) - 1u)))
        tr.active = false;
    rc = __real_boot_update_erase_pages(c, mask);
    if (rc && tr.active)
        tr.failed = true;
    /* After a failed transfer, an erase lets the host start again. */
    if (rc == 0 && tr.failed)
        tr.active = false;
    return rc;
}

int __real_boot_update_new_transfer(struct boot_ctx *c, uint32_t len);
int __wrap_boot_update_new_transfer(struct boot_ctx *c, uint32_t len);
int __wrap_boot_update_new_transfer(struct boot_ctx *c, uint32_t len)
{
    int rc = __real_boot_update_new_transfer(c, len);

    tr.active = rc == 0;
    tr.failed = false;
    tr.staged = rc == 0;
    tr.gen0 = calls;
    tr.hi = BOOT_APP_START;
    return rc;
}

int __real_boot_ymodem_receive(struct boot_ctx *c, uint32_t *len);
int __wrap_boot_ymodem_receive(struct boot_ctx *c, uint32_t *len);
int __wrap_boot_ymodem_receive(struct boot_ctx *c, uint32_t *len)
{
    /* A new download starts a new transfer; a failed one is dead. */
    tr.active = false;
    int rc = __real_boot_ymodem_receive(c, len);
    if (rc)
        tr.active = false;
    return rc;
}

/* ---- checks at each flash operation ------------------------------------ */

static void check_image(uint32_t len, uint32_t crc)
{
    static uint8_t now[CRC32_H7FLASH_SPAN(APP_N)];

    CHECK(len > 0 && len <= APP_N);
    /* What the flash CRC unit reads: the image's whole bursts. */
    h7sim_peek(sim, BOOT_APP_START, now, CRC32_H7FLASH_SPAN(len));
    CHECK(crc32_h7flash(CRC32_H7FLASH_INIT, now, CRC32_H7FLASH_SPAN(len)) == crc);
    for (uint32_t i = 0; i < len; i++) {
        uint32_t a = BOOT_APP_START + i;

        /* Bytes the transfer did not send are what the flash held
		 * (a gap of an AN3155 transfer) or padding: programmed ones
		 * were checked when they were programmed. */
        if (valid_byte(a))
            CHECK(now[i] == sent[i]);
    }
}

static void on_event(void *ctx, const struct h7sim_event *ev)
{
    (void)ctx;
    if (ev->kind != H7SIM_EV_OP_DONE)
        return;
    if (trace)
        fprintf(stderr, "  op %d at 0x%08x len %u\n", (int)ev->op, (unsigned)ev->addr,
                (unsigned)ev->len);
    if (ev->op == H7SIM_OP_PROGRAM) {
        uint8_t w[32];

        h7sim_peek(sim, ev->addr, w, sizeof(w));
        CHECK(ev->addr >= BOOT_LOG_BASE && ev->addr < BOOT_APP_END);
        if (ev->addr < BOOT_APP_START) {
            struct ur_record r;

            CHECK(ur_decode(w, &r) == UR_OK);
            if (r.state == UR_STATE_COMPLETE) {
                CHECK(tr.active && !tr.failed);
                CHECK(r.start == BOOT_APP_START);
                CHECK(r.length == tr.hi - BOOT_APP_START);
                check_image(r.length, r.image_crc);
                tr.active = false;
            }
            return;
        }
        for (unsigned i = 0; i < 32; i++) {
            uint32_t a = ev->addr + i;
            bool new_ok = valid_byte(a) ? w[i] == sent[a - BOOT_APP_START] : w[i] == 0xFF;

            if (in_write && a >= cur.lo && a < cur.hi) {
                uint32_t k = a - cur.lo, s = (a - H7_FLASH_BASE) / H7_SECTOR_SIZE;
                bool old_ok = cur.stamp[k] && cur.stamp[k] > erase_gen[s] ? w[i] == cur.sent[k]
                                                                          : w[i] == 0xFF;

                CHECK(new_ok || old_ok);
                cur.saw_old |= !new_ok;
                cur.saw_new |= !old_ok;
            } else {
                CHECK(new_ok);
            }
        }
        return;
    }
    if (ev->op == H7SIM_OP_SECTOR_ERASE || ev->op == H7SIM_OP_BANK_ERASE ||
        ev->op == H7SIM_OP_MASS_ERASE) {
        uint32_t first = (ev->addr - H7_FLASH_BASE) / H7_SECTOR_SIZE;
        uint32_t n = ev->len / H7_SECTOR_SIZE;

        CHECK(first >= 1);
        for (uint32_t s = first; s < first + n && s < SECTORS; s++) {
            /* Inside a write call, that call's bytes are the new data. */
            if (s >= 2)
                erase_gen[s] = tr.active && tr.staged ? tr.gen0 : in_write ? calls - 1u : calls;
        }
    }
}

/* ---- serial line from the input ----------------------------------------- */

static const uint8_t *in;
static size_t in_n, in_pos;
static bool escapes;
static unsigned idle;
static jmp_buf escape;

static int fz_getc(void *ctx, uint32_t ms)
{
    (void)ctx;
    (void)ms;
    if (in_pos < in_n) {
        uint8_t b = in[in_pos++];

        idle = 0;
        if (escapes && b == 0xF5 && in_pos < in_n) {
            uint8_t x = in[in_pos++];

            if (x == 0xF5)
                return 0xF5;
            if (x & 1u)
                return BOOT_SER_TIMEOUT;
            if (in_pos < in_n)
                return in[in_pos++] | BOOT_SER_FE;
            return BOOT_SER_TIMEOUT;
        }
        return b;
    }
    if (++idle > 100)
        longjmp(escape, 1);
    return BOOT_SER_TIMEOUT;
}

static void fz_write(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
}

static void fz_drain(void *ctx)
{
    (void)ctx;
}

static void fz_format(void *ctx, enum boot_ser_format f)
{
    (void)ctx;
    (void)f;
}

static uint32_t fz_overruns(void *ctx)
{
    (void)ctx;
    return 0;
}

static const struct boot_serial ser = { fz_getc,     fz_write, fz_drain, fz_format,
                                        fz_overruns, NULL,     NULL,     NULL };

/* Platform hooks: tests/boot/host_ram.c (an access outside the host's
 * RAM aborts). */

/* ---- one input ------------------------------------------------------------ */

static void install_image(void)
{
    static uint8_t img[4096];
    uint32_t sp = 0x20020000u, pc = BOOT_APP_START + 0x101u;
    uint8_t rec[UR_SIZE];
    struct ur_record r;

    for (unsigned i = 0; i < sizeof(img); i++)
        img[i] = (uint8_t)(i * 7u + 3u);
    memcpy(img, &sp, 4);
    memcpy(img + 4, &pc, 4);
    CHECK(h7sim_backdoor_program(sim, BOOT_APP_START, img, sizeof(img)) == 0);
    memset(&r, 0, sizeof(r));
    r.state = UR_STATE_COMPLETE;
    r.sequence = 1;
    r.start = BOOT_APP_START;
    r.length = sizeof(img);
    r.image_crc = crc32_h7flash_image(img, sizeof(img));
    ur_encode(&r, rec);
    CHECK(h7sim_backdoor_program(sim, BOOT_LOG_BASE, rec, sizeof(rec)) == 0);
    /* The old image counts as sent by an earlier host. */
    memcpy(sent, img, sizeof(img));
    for (unsigned i = 0; i < sizeof(img); i++)
        stamp[i] = 1;
    if (stamp_hi < sizeof(img))
        stamp_hi = sizeof(img);
    calls = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_ctx c;
    static const struct h7sim_observer obs = { NULL, NULL, on_event, NULL };
    struct h7sim_config cfg;
    uint8_t now[sizeof(boot_code)];
    bool host_ram;
    unsigned boots = 0;

    if (size < 1 || size > 1u << 20)
        return 0;
    /* Only what the last input stamped (7 MB otherwise, per input). */
    memset(stamp, 0, stamp_hi * sizeof(*stamp));
    stamp_hi = 0;
    trace = getenv("FUZZ_BOOT_TRACE") != NULL;
    memset(erase_gen, 0, sizeof(erase_gen));
    memset(&tr, 0, sizeof(tr));
    calls = 0;
    in_write = false;
    h7sim_config_default(&cfg);
    cfg.strict = true;
    sim = h7sim_new(&cfg);
    CHECK(sim != NULL);
    h7f_port_attach(sim);
    for (unsigned i = 0; i < sizeof(boot_code); i++)
        boot_code[i] = (uint8_t)(0xA5 ^ i);
    CHECK(h7sim_backdoor_program(sim, BOOT_CODE_BASE, boot_code, sizeof(boot_code)) == 0);
    if (data[0] & 1u)
        install_image();
    h7sim_set_observer(sim, &obs);
    host_ram = data[0] & 2u;
    escapes = data[0] & 4u;
    in = data + 1;
    in_n = size - 1;
    in_pos = 0;

    while (in_pos < in_n && boots++ < 16) {
        struct boot_app_info info;
        volatile int first;

        h7sim_reset(sim);
        boot_init(&c, &ser);
        c.host_ram = host_ram;
        boot_app_check(&c, &info);
        if (info.status == 0) {
            CHECK(c.upd.log.newest.state == UR_STATE_COMPLETE);
            CHECK(info.entry & 1u);
        }
        tr.active = false; /* RAM state is gone */
        idle = 0;
        first = fz_getc(NULL, 300);
        if (setjmp(escape) == 0)
            (void)boot_session(&c, first);
        else
            break;
    }
    /* Let what is still running finish (a background erase). */
    h7sim_advance(sim, 30ull * 1000000000ull);

    h7sim_peek(sim, BOOT_CODE_BASE, now, sizeof(now));
    CHECK(memcmp(now, boot_code, sizeof(now)) == 0);
    CHECK(h7sim_word_state(sim, BOOT_CODE_BASE + 0x1000) == H7SIM_WORD_VIRGIN);
    for (uint32_t slot = 0; slot < BOOT_LOG_SLOTS; slot++) {
        uint8_t w[UR_SIZE];
        struct ur_record r;

        if (h7sim_word_state(sim, BOOT_LOG_BASE + slot * UR_SIZE) == H7SIM_WORD_VIRGIN)
            continue;
        h7sim_peek(sim, BOOT_LOG_BASE + slot * UR_SIZE, w, sizeof(w));
        CHECK(ur_decode(w, &r) == UR_OK);
    }
    if (h7sim_violation_count(sim)) {
        h7sim_violations_print(sim, stderr);
        CHECK(!"model violation");
    }
    h7sim_set_observer(sim, NULL);
    h7sim_free(sim);
    sim = NULL;
    return 0;
}
