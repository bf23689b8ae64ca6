/*
 * h7flash streaming writer: bytes in any chunking become 32-byte flash
 * words, each programmed (and verified by h7f_program_word) as soon as it
 * is complete; sectors are erased just before their first word (or all at
 * open); the last partial word is padded with 0xFF (docs/H7_FLASH.md 3.4,
 * 8.1). The stream moves forward only (write_at, seek): each flash word is
 * assembled in one buffer and programmed once.
 */
#include <string.h>

#include "h7f_internal.h"

static int fail(struct h7f_writer *w, int err, uint32_t addr)
{
    if (err && !w->rep.err) {
        w->rep.err = err;
        w->rep.err_addr = addr;
    }
    return w->rep.err;
}

/* End of the writable window: start + length, or the end of the flash. */
static uint32_t limit(const struct h7f_writer *w)
{
    if (w->length == H7F_LEN_UNKNOWN)
        return H7_FLASH_END + 1u;
    return w->start + w->length;
}

static unsigned popcount(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1u)
        n++;
    return n;
}

/* Fold what a background erase finished into the writer's state. */
static void job_collect(struct h7f_writer *w, struct h7f_erase_job *j, bool wait)
{
    if (!j->pending)
        return;
    uint32_t before = j->erased;
    /* A failed background erase is not an error of the write: the sectors
     * it did not erase are erased lazily, which reports the error then. */
    (void)h7f_erase_job_poll(w->f, j, wait);
    w->erased_mask |= j->erased;
    w->rep.sectors_erased += popcount(j->erased & ~before);
}

static void ahead_collect(struct h7f_writer *w, bool wait)
{
    job_collect(w, &w->ahead, wait);
}

/* H7F_WR_ERASE_AHEAD: while words go to bank 1, erase the range's part of
 * bank 2 (the banks are independent, RM0399 4.3.11); before the first word
 * of bank 2, wait for it. */
static void ahead_service(struct h7f_writer *w, uint32_t addr, bool wait)
{
    if (!(w->flags & H7F_WR_ERASE_AHEAD) || w->length == H7F_LEN_UNKNOWN)
        return;
    uint32_t end = w->start + w->length;
    if (!w->ahead_started && addr < H7_BANK2_BASE && end > H7_BANK2_BASE) {
        w->ahead_started = true;
        (void)h7f_erase_job_start(w->f, &w->ahead, H7_BANK2_BASE, end - H7_BANK2_BASE);
    }
    ahead_collect(w, wait && addr >= H7_BANK2_BASE);
}

/* Whether addr's sector needs no erase before its words are programmed
 * (erased by this writer, or a mode that never erases lazily). */
static bool sector_ready(const struct h7f_writer *w, uint32_t addr)
{
    return (w->flags & (H7F_WR_ERASE_UPFRONT | H7F_WR_NO_ERASE)) ||
           (w->erased_mask & h7f_sector_bit(addr));
}

/* Program the word in w->buf (complete or padded) at its address. */
static int flush_word(struct h7f_writer *w)
{
    uint32_t addr = w->next - w->fill;
    int err;

    memset(w->buf + w->fill, 0xFF, H7_FLASH_WORD - w->fill);
    ahead_service(w, addr, true);
    if (!sector_ready(w, addr))
        job_collect(w, &w->lazy, true); /* h7f_writer_ready() may have started it */
    if (!sector_ready(w, addr)) {
        uint32_t erased = 0;
        err = h7f_erase_range(w->f, addr, H7_FLASH_WORD, &erased);
        w->erased_mask |= erased;
        w->rep.sectors_erased += popcount(erased);
        if (err)
            return fail(w, err, w->f->last_addr);
    }
    err = h7f_program_word(w->f, addr, w->buf);
    if (err)
        return fail(w, err, w->f->last_addr);
    w->rep.crc_unit = crc32_h7flash(w->rep.crc_unit, w->buf, H7_FLASH_WORD);
    w->rep.words++;
    w->fill = 0;
    return H7F_OK;
}

int h7f_writer_open(struct h7f_writer *w, struct h7f *f, uint32_t start, uint32_t length,
                    uint32_t flags)
{
    if (w == NULL || f == NULL)
        return H7F_E_INVAL;
    memset(w, 0, sizeof *w);
    w->f = f;
    w->start = start;
    w->length = length;
    w->flags = flags;
    w->next = start;
    w->floor = start;

    bool unknown = length == H7F_LEN_UNKNOWN;
    if ((flags & H7F_WR_ERASE_UPFRONT) && (unknown || (flags & H7F_WR_NO_ERASE)))
        return fail(w, H7F_E_INVAL, start);
    if ((flags & H7F_WR_ERASE_AHEAD) && (flags & (H7F_WR_ERASE_UPFRONT | H7F_WR_NO_ERASE)))
        return fail(w, H7F_E_INVAL, start);
    if (start & (H7_FLASH_WORD - 1u))
        return fail(w, H7F_E_ALIGN, start);
    /* With an unknown length only the start is known; later sectors are
     * checked as they are reached. */
    int err = h7f_check_writable(f, start, unknown ? 1u : length);
    if (err)
        return fail(w, err, start);

    if (!unknown && length != 0) {
        uint32_t span = (length + (H7_FLASH_WORD - 1u)) & ~(H7_FLASH_WORD - 1u);
        if (span > H7_FLASH_END - start + 1u)
            return fail(w, H7F_E_RANGE, start);
        if (flags & H7F_WR_ERASE_UPFRONT) {
            uint32_t erased = 0;
            err = h7f_erase_range(f, start, length, &erased);
            w->erased_mask = erased;
            w->rep.sectors_erased = popcount(erased);
            if (err)
                return fail(w, err, f->last_addr);
        } else if (flags & H7F_WR_NO_ERASE) {
            uint32_t bad = start;
            err = h7f_blank_check(f, start, span, &bad);
            if (err)
                return fail(w, err, bad);
        }
    }
    w->open = true;
    return H7F_OK;
}

/* Append n stream bytes at w->next: from p, or 0xFF when p is NULL (a gap:
 * never programmed on its own, see h7f_program_word). */
static int put(struct h7f_writer *w, const uint8_t *p, size_t n)
{
    while (n) {
        uint32_t take = H7_FLASH_WORD - w->fill;
        if (take > n)
            take = (uint32_t)n;
        /* H7F_WR_NO_ERASE: a word that is not erased can never take these
         * bytes; refuse them now, not at the word's deferred program. */
        if (w->fill == 0 && (w->flags & H7F_WR_NO_ERASE)) {
            uint32_t bad = w->next;
            int err = h7f_blank_check(w->f, w->next, H7_FLASH_WORD, &bad);
            if (err)
                return fail(w, err, bad);
        }
        if (p) {
            memcpy(w->buf + w->fill, p, take);
            p += take;
        } else {
            memset(w->buf + w->fill, 0xFF, take);
        }
        w->rep.crc = crc32_zlib(w->rep.crc, w->buf + w->fill, take);
        w->fill += take;
        w->next += take;
        w->floor = w->next;
        w->rep.bytes += take;
        n -= take;
        if (w->fill == H7_FLASH_WORD) {
            int err = flush_word(w);
            if (err)
                return err;
        }
    }
    return H7F_OK;
}

/* Move the stream from next to addr without data. The rest of a buffered
 * word is padding (0xFF, programmed with the word). In the erase modes the
 * words passed are erased with their sectors and count as 0xFF; in
 * H7F_WR_NO_ERASE they keep what the flash holds and count as read back
 * (an update of part of an image); the start of addr's word is 0xFF. */
static int skip(struct h7f_writer *w, uint32_t addr)
{
    if (addr == w->next)
        return H7F_OK;
    if (!(w->flags & H7F_WR_NO_ERASE))
        return put(w, NULL, addr - w->next);
    if (w->fill) {
        uint32_t pad = H7_FLASH_WORD - w->fill;
        int err = put(w, NULL, addr - w->next < pad ? addr - w->next : pad);
        if (err || addr == w->next)
            return err;
    }
    /* Whole words passed are not read here (a jump over most of a bank
     * would keep the host waiting): the stream's CRC no longer covers
     * them, and finish() takes the CRC from flash instead (every word
     * programmed was verified by reading it back). */
    uint32_t word = addr & ~(H7_FLASH_WORD - 1u);
    if (w->next < word) {
        w->rep.bytes += word - w->next;
        w->next = word;
        w->floor = word;
        w->gaps = true;
    }
    return put(w, NULL, addr - w->next);
}

int h7f_writer_write_at(struct h7f_writer *w, uint32_t addr, const void *buf, size_t n)
{
    if (w == NULL || !w->open || (buf == NULL && n != 0))
        return H7F_E_INVAL;
    if (w->rep.err)
        return w->rep.err;
    /* Forward only: before floor the bytes, or their flash word, are
     * written. Nothing happened, so the writer stays usable. */
    if (addr < w->floor)
        return H7F_E_SEQUENCE;
    if (addr > limit(w) || n > limit(w) - addr)
        return fail(w, H7F_E_NOSPC, addr);

    /* After a flushed partial word, the rest of that word is on flash as
     * padding: stream bytes of 0xFF, not programmed again. */
    if (w->floor > w->next) {
        uint8_t ff[H7_FLASH_WORD];
        uint32_t pad = w->floor - w->next;
        memset(ff, 0xFF, sizeof ff);
        w->rep.crc = crc32_zlib(w->rep.crc, ff, pad);
        w->rep.bytes += pad;
        w->next = w->floor;
    }
    int err = skip(w, addr);
    if (err)
        return err;
    return put(w, buf, n);
}

int h7f_writer_write(struct h7f_writer *w, const void *buf, size_t n)
{
    if (w == NULL)
        return H7F_E_INVAL;
    return h7f_writer_write_at(w, w->floor, buf, n);
}

int h7f_writer_seek(struct h7f_writer *w, uint32_t addr)
{
    static const uint8_t none;
    return h7f_writer_write_at(w, addr, &none, 0);
}

int h7f_writer_flush(struct h7f_writer *w)
{
    if (w == NULL || !w->open)
        return H7F_E_INVAL;
    if (w->rep.err)
        return w->rep.err;
    if (w->fill == 0)
        return H7F_OK;
    uint32_t end = w->next - w->fill + H7_FLASH_WORD;
    int err = flush_word(w);
    if (err)
        return err;
    w->floor = end;
    return H7F_OK;
}

uint32_t h7f_writer_next(const struct h7f_writer *w)
{
    return w->floor;
}

uint32_t h7f_writer_pending(const struct h7f_writer *w, uint32_t *word)
{
    if (word)
        *word = w->next - w->fill;
    return w->fill;
}

/* H7F_WR_VERIFY_UNIT: the flash CRC unit over the stream's words and
 * the erased rest of their last burst, against the words programmed. */
static int verify_unit(struct h7f_writer *w)
{
    static const uint8_t ff[H7_FLASH_WORD] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint32_t words = (w->rep.bytes + (H7_FLASH_WORD - 1u)) & ~(H7_FLASH_WORD - 1u);
    uint32_t span = CRC32_H7FLASH_SPAN(words), crc = 0;
    int err = h7f_crc_unit_span(w->f, w->start, span, &crc);

    if (err)
        return fail(w, err, w->f->last_addr);
    for (; words < span; words += H7_FLASH_WORD)
        w->rep.crc_unit = crc32_h7flash(w->rep.crc_unit, ff, H7_FLASH_WORD);
    if (w->gaps)
        w->rep.crc_unit = crc;
    else if (crc != w->rep.crc_unit)
        return fail(w, H7F_E_VERIFY, w->start);
    return H7F_OK;
}

int h7f_writer_ready(struct h7f_writer *w, uint32_t addr)
{
    if (w == NULL || !w->open)
        return H7F_E_INVAL;
    if (w->rep.err)
        return w->rep.err;
    ahead_service(w, addr, false);
    job_collect(w, &w->lazy, false);
    if (sector_ready(w, addr))
        return 1;
    /* Bank 2's background erase will get there. */
    if (w->ahead.pending && addr >= H7_BANK2_BASE)
        return 0;
    if (w->lazy.pending)
        return 0; /* another sector still erasing (its bank is busy) */
    int err = h7f_erase_job_start(w->f, &w->lazy, addr & ~(H7_SECTOR_SIZE - 1u), H7_SECTOR_SIZE);
    if (err)
        return fail(w, err, addr);
    job_collect(w, &w->lazy, false); /* starts it */
    return sector_ready(w, addr) ? 1 : 0;
}

void h7f_writer_abort(struct h7f_writer *w)
{
    if (w == NULL || !w->open)
        return;
    w->open = false;
    ahead_collect(w, true);
    job_collect(w, &w->lazy, true);
}

int h7f_writer_finish(struct h7f_writer *w)
{
    if (w == NULL || !w->open)
        return H7F_E_INVAL;
    w->open = false;
    /* Never leave a background erase behind, even after an error. */
    ahead_collect(w, true);
    job_collect(w, &w->lazy, true);
    if (w->rep.err)
        return w->rep.err;
    if (w->fill) {
        /* docs/H7_FLASH.md 8.1: pad the last partial word and program it;
         * a partial buffer is never committed by the hardware on its own. */
        int err = flush_word(w);
        if (err)
            return err;
    }
    if ((w->flags & H7F_WR_VERIFY_CRC) && w->rep.bytes) {
        uint32_t crc = 0;
        int err = h7f_crc32(w->f, w->start, w->rep.bytes, &crc);
        if (err)
            return fail(w, err, w->f->last_addr);
        if (w->gaps)
            w->rep.crc = crc;
        else if (crc != w->rep.crc)
            return fail(w, H7F_E_VERIFY, w->start);
    }
    if ((w->flags & H7F_WR_VERIFY_UNIT) && w->rep.bytes)
        return verify_unit(w);
    return H7F_OK;
}

const struct h7f_writer_report *h7f_writer_report(const struct h7f_writer *w)
{
    return &w->rep;
}
