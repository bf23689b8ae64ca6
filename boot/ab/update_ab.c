/*
 * The update engine of h7boot_ab (docs/PROTOCOL.md "A/B updates"): the
 * functions of boot/src/update.c, for the A/B layout, on the A/B engine
 * (boot/ab/ab.c). The protocols of boot/src (menu, YMODEM, AN3155, fast
 * protocol) call these unchanged.
 *
 * Linked into the h7boot_ab firmware as an object of its own, ahead of
 * libh7boot_core.a: it defines every global symbol of update.c, so the
 * linker never takes update.o from the archive (a symbol missing here
 * would pull update.o in and fail the link with duplicate definitions;
 * the map check boot_ab_map_no_update_o says update.o stays out).
 *
 * What the A/B layout takes:
 *   YMODEM download (menu 1): the whole image, always written to the other
 *     slot (0x08120000, whatever the swap state): ab_update_begin at the
 *     header, ab_update_write per block, ab_update_commit at the EOT (the
 *     flash CRC unit over the image, the IMAGE word, SWAP_BANK toggled);
 *     reset_after_download makes the menu reset into the new mapping.
 *   AN3155 Confirm (0xE2, listed in Get instead of the fast protocol:
 *     boot_ctx.ab_layout): boot_update_confirm -> ab_confirm;
 *   refused with BOOT_E_RANGE: AN3155 Write Memory and Erase, the fast
 *     protocol (their addresses are the single-slot layout's, 0x08040000
 *     up, and the running slot must never be written).
 * There is no record log: the slots' trailers hold the state, so the log
 * scan is empty and boot_app_check (core.c) finds no single-slot image
 * (menu 3 and AN3155 Go of the application refuse; a reset starts it).
 */
#include <string.h>

#include "ab.h"
#include "boot/boot.h"

/* The fast protocol's frame slots (fastp_srv.c refers to them). */
uint8_t boot_stage_ram[BOOT_FP_SLOTS][BOOT_STAGE_SLOT]
    __attribute__((section(".bss.axisram.stage")));

static struct ab_ctx ab;
static uint32_t ab_next; /* address the next YMODEM write must have */

struct ab_ctx *boot_ab(void)
{
    return &ab;
}

void boot_update_init(struct boot_ctx *c)
{
    memset(&c->upd, 0, sizeof(c->upd));
    ab_init(&ab);
    c->reset_after_download = true;
    c->ab_layout = true;
}

void boot_log_scan(struct boot_ctx *c)
{
    (void)c;
}

int boot_update_new_transfer(struct boot_ctx *c, uint32_t len)
{
    int rc;

    boot_update_abandon(c);
    rc = ab_update_begin(&ab, len);
    if (rc)
        return boot_fail(c, rc, BOOT_AB_OTHER_START);
    c->upd.stream = true;
    ab_next = BOOT_APP_START;
    return 0;
}

void boot_update_abandon(struct boot_ctx *c)
{
    if (ab.open)
        h7f_writer_abort(&ab.w);
    ab.open = false;
    c->upd.stream = false;
}

int boot_update_step(struct boot_ctx *c)
{
    (void)c;
    return 0; /* nothing staged: ab_update_write programs at once */
}

int boot_update_begin(struct boot_ctx *c, uint32_t planned_len)
{
    (void)planned_len;
    return boot_fail(c, BOOT_E_RANGE, BOOT_APP_START);
}

/* YMODEM gives BOOT_APP_START + the bytes received so far: the A/B image
 * goes to the other slot in the same order. */
int boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n)
{
    int rc;

    if (!c->upd.stream || addr != ab_next)
        return boot_fail(c, c->upd.stream ? H7F_E_SEQUENCE : BOOT_E_RANGE, addr);
    rc = ab_update_write(&ab, p, n);
    if (rc) {
        c->upd.stream = false;
        return boot_fail(c, rc, BOOT_AB_OTHER_START + (addr - BOOT_APP_START));
    }
    ab_next += (uint32_t)n;
    return 0;
}

int boot_update_flush(struct boot_ctx *c)
{
    (void)c;
    return 0;
}

int boot_update_flush_overlap(struct boot_ctx *c, uint32_t a, uint32_t n)
{
    (void)c;
    (void)a;
    (void)n;
    return 0;
}

int boot_update_erase_page(struct boot_ctx *c, unsigned page)
{
    return boot_fail(c, BOOT_E_RANGE, BOOT_SECTOR_ADDR(page));
}

int boot_update_erase_pages(struct boot_ctx *c, uint32_t mask)
{
    (void)mask;
    return boot_fail(c, BOOT_E_RANGE, BOOT_APP_START);
}

int boot_update_commit(struct boot_ctx *c)
{
    int rc;

    if (!c->upd.stream)
        return BOOT_E_NO_IMAGE;
    c->upd.stream = false;
    rc = ab_update_commit(&ab);
    if (rc)
        return boot_fail(c, rc, BOOT_AB_OTHER_START);
    /* What the menu prints after the download. */
    c->upd.log.newest.image_crc = h7f_writer_report(&ab.w)->crc;
    c->upd.log.newest.length = ab.len;
    return 0;
}

int boot_update_confirm(struct boot_ctx *c)
{
    int rc = ab_confirm(&ab);

    return rc ? boot_fail(c, rc, BOOT_AB_SLOT_START + BOOT_AB_TRAILER_OFF) : 0;
}

int boot_update_begin_fast(struct boot_ctx *c, const struct fp_image *im)
{
    (void)im;
    return boot_fail(c, BOOT_E_RANGE, BOOT_APP_START);
}

int boot_update_progress(struct boot_ctx *c, uint32_t start, uint32_t done, uint32_t image_len)
{
    (void)done;
    (void)image_len;
    return boot_fail(c, BOOT_E_RANGE, start);
}

int boot_update_complete(struct boot_ctx *c, uint32_t len, uint32_t crc)
{
    (void)len;
    (void)crc;
    return boot_fail(c, BOOT_E_RANGE, BOOT_APP_START);
}

bool boot_update_fast_log(struct boot_ctx *c, struct boot_fast_log *out)
{
    (void)c;
    (void)out;
    return false;
}

void boot_update_resume_fast(struct boot_ctx *c, uint32_t seq)
{
    (void)c;
    (void)seq;
}
