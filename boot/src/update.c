/*
 * Update engine: the only code that writes flash. Application bytes go
 * through one h7flash streaming writer per transfer (c->upd.w): it owns the
 * partial flash word, turns writes of any length and alignment
 * (stm32flash's 232-byte tails, YMODEM's trimmed last block) into whole
 * 32-byte flash words programmed once each, and moves forward only, so a
 * byte or a word is never written twice (docs/PROTOCOL.md "Write path").
 * A transfer that fails is dropped: only a transfer that ended and whose
 * image CRC, read by the flash CRC unit, equals that of the words the
 * host's bytes made (gaps as 0xFF) is committed.
 *
 * Record protocol (docs/PROTOCOL.md "Update record"):
 *   1. before the first erase or program of the application area: append
 *      STARTED (the image is invalid from this point on);
 *   2. erase / program;
 *   3. the flash CRC unit over the image; append COMPLETE with length and
 *      that CRC (crc32_h7flash_image(), proto/update_record.h).
 * When fewer than two free slots are left, step 1 erases the log sector
 * first. The log holds nothing else, so the only thing lost by a power cut
 * during that erase is the record of an image that is about to be
 * overwritten anyway.
 */
#include <string.h>

#include "boot/boot.h"

/* Flash bytes one step programs: 4 words, 0.4 ms (docs/H7_FLASH.md 6.1),
 * so the line is read between them at any rate the USART runs. */
#define STEP_BYTES (4u * H7_FLASH_WORD)

uint8_t boot_stage_ram[BOOT_FP_SLOTS][BOOT_STAGE_SLOT]
    __attribute__((section(".bss.axisram.stage")));
#define STAGE (&boot_stage_ram[0][0])

/* A slot the driver cannot read (ECC) is torn. */
static int log_read_slot(void *ctx, uint32_t slot, uint8_t out[UR_SIZE])
{
    struct boot_ctx *c = ctx;

    if (h7f_read(&c->upd.fl_log, BOOT_LOG_BASE + slot * UR_SIZE, out, UR_SIZE, NULL))
        return UR_E_UNREADABLE;
    return 0;
}

void boot_log_scan(struct boot_ctx *c)
{
    ur_scan_log(log_read_slot, c, BOOT_LOG_SLOTS, &c->upd.log);
}

void boot_update_init(struct boot_ctx *c)
{
    memset(&c->upd, 0, sizeof(c->upd));
    h7f_init(&c->upd.fl_log);
    c->upd.fl_log.protected_mask = BOOT_PROT_LOG;
    boot_log_scan(c);
}

static int log_append(struct boot_ctx *c, const struct ur_record *r, const struct ur_ext *x)
{
    struct boot_update *u = &c->upd;
    uint8_t buf[UR_SIZE];
    uint32_t slot = u->log.next_free;
    int rc;

    if (slot >= u->log.slots)
        return BOOT_E_LOG;
    ur_encode_ext(r, x, buf);
    /* A slot that failed (or was cut) is never programmed again. */
    u->log.next_free = slot + 1;
    rc = h7f_program_word(&u->fl_log, BOOT_LOG_BASE + slot * UR_SIZE, buf);
    if (rc) {
        u->log.torn++;
        return boot_fail(c, rc, BOOT_LOG_BASE + slot * UR_SIZE);
    }
    u->log.valid++;
    u->log.have_newest = true;
    u->log.newest_slot = slot;
    u->log.newest = *r;
    if (r->sequence > u->log.max_sequence)
        u->log.max_sequence = r->sequence;
    return 0;
}

/* Every record is built here: one retry in the next slot if the word
 * could not be programmed. */
static int log_record(struct boot_ctx *c, uint8_t state, uint32_t seq, uint32_t start, uint32_t len,
                      uint32_t crc, const struct ur_ext *x)
{
    struct ur_record r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.state = state;
    r.sequence = seq;
    r.start = start;
    r.length = len;
    r.image_crc = crc;
    r.version = UR_VERSION;
    rc = log_append(c, &r, x);
    if (rc)
        rc = log_append(c, &r, x);
    return rc;
}

/* STARTED of a new update: the log erased first when fewer than two
 * slots are free (COMPLETE needs one, its retry another). */
static int log_started(struct boot_ctx *c, uint32_t len, uint32_t crc, const struct ur_ext *x)
{
    struct boot_update *u = &c->upd;
    uint32_t seq = u->log.max_sequence + 1u;
    int rc;

    if (u->log.next_free + 2u > u->log.slots) {
        rc = h7f_erase_sector(&u->fl_log, BOOT_LOG_BASE);
        if (rc)
            return boot_fail(c, rc, BOOT_LOG_BASE);
        boot_log_scan(c);
    }
    rc = log_record(c, UR_STATE_STARTED, seq, BOOT_APP_START, len, crc, x);
    if (rc)
        return rc;
    u->open = true;
    u->seq = seq;
    return 0;
}

int boot_update_begin(struct boot_ctx *c, uint32_t planned_len)
{
    struct boot_update *u = &c->upd;

    /* An AN3155 or YMODEM write ends a fast transfer: it gets its own
     * STARTED, so the fast one can no longer be resumed. */
    if (u->fast) {
        u->fast = false;
        u->open = false;
        c->fp.open = false;
    }
    if (u->open)
        return 0;
    return log_started(c, planned_len, 0xFFFFFFFFu, NULL);
}

int boot_update_begin_fast(struct boot_ctx *c, const struct fp_image *im)
{
    struct ur_ext x = { UR_FLAG_RESUMABLE, im->page_mask };
    int rc;

    boot_update_abandon(c);
    c->upd.open = false;
    c->upd.fast = false;
    rc = log_started(c, im->len, im->crc, &x);
    if (rc == 0)
        c->upd.fast = true;
    return rc;
}

void boot_update_resume_fast(struct boot_ctx *c, uint32_t seq)
{
    boot_update_abandon(c);
    c->upd.open = true;
    c->upd.fast = true;
    c->upd.seq = seq;
}

int boot_update_progress(struct boot_ctx *c, uint32_t start, uint32_t done, uint32_t image_len)
{
    struct boot_update *u = &c->upd;
    struct ur_ext x = { UR_FLAGS_NONE, image_len };

    if (!u->open || !u->fast || u->log.next_free + 3u > u->log.slots)
        return 0;
    return log_record(c, UR_STATE_PROGRESS, u->seq, start, done, c->fp.im.crc, &x);
}

int boot_update_complete(struct boot_ctx *c, uint32_t len, uint32_t crc)
{
    struct boot_update *u = &c->upd;
    int rc;

    if (!u->open)
        return boot_fail(c, BOOT_E_NO_IMAGE, BOOT_APP_START);
    rc = log_record(c, UR_STATE_COMPLETE, u->seq, BOOT_APP_START, len, crc, NULL);
    if (rc)
        return rc;
    u->open = false;
    u->fast = false;
    return 0;
}

static int log_read(struct boot_ctx *c, uint32_t slot, struct ur_record *r, struct ur_ext *x)
{
    uint8_t buf[UR_SIZE];

    if (log_read_slot(c, slot, buf))
        return UR_E_UNREADABLE;
    return ur_decode_ext(buf, r, x);
}

bool boot_update_fast_log(struct boot_ctx *c, struct boot_fast_log *out)
{
    uint32_t end = c->upd.log.next_free, s = end;
    struct ur_record r;
    struct ur_ext x;

    memset(out, 0, sizeof(*out));
    while (s-- > 0)
        if (log_read(c, s, &r, &x) == 0 && r.state == UR_STATE_STARTED)
            break;
    if (s >= end || x.flags != UR_FLAG_RESUMABLE || r.start != BOOT_APP_START)
        return false;
    out->seq = r.sequence;
    out->im.len = r.length;
    out->im.crc = r.image_crc;
    out->im.page_mask = x.extra;
    while (++s < end) {
        if (log_read(c, s, &r, &x) != 0 || r.sequence != out->seq)
            continue;
        if (r.state != UR_STATE_PROGRESS)
            return false; /* COMPLETE (or a second STARTED): nothing to resume */
        if (x.extra != out->im.len || r.image_crc != out->im.crc)
            continue;
        for (unsigned g = 0; g < FP_REGIONS; g++)
            if (r.start == (g ? H7_BANK2_BASE : BOOT_APP_START) && r.length > out->done[g])
                out->done[g] = r.length;
    }
    return true;
}

static unsigned page_of(uint32_t addr)
{
    return (addr - H7_FLASH_BASE) / H7_SECTOR_SIZE;
}

/* A failed write, flush or erase ends the transfer: what it wrote can no
 * longer be committed, and later writes are refused until the host starts
 * again (an erase, a new download). A refused write changed nothing: the
 * bytes acknowledged before it are programmed, so that nothing the host
 * was told is written silently disappears. */
static int stream_fail(struct boot_ctx *c, int err)
{
    struct boot_update *u = &c->upd;
    uint32_t addr = h7f_writer_report(&u->w)->err_addr;

    if (err == H7F_E_SEQUENCE || err == H7F_E_NOSPC || !addr)
        addr = h7f_writer_next(&u->w);
    if (err == H7F_E_SEQUENCE)
        (void)h7f_writer_flush(&u->w);
    h7f_writer_abort(&u->w);
    u->stream = false;
    u->stream_dead = true;
    u->st_len = 0;
    return boot_fail(c, err, addr);
}

void boot_update_abandon(struct boot_ctx *c)
{
    struct boot_update *u = &c->upd;

    if (u->stream)
        h7f_writer_abort(&u->w);
    u->stream = false;
    u->stream_dead = false;
    u->staged = false;
    u->st_len = 0;
    u->st_err = 0;
}

/* One step of a staged transfer; wait: for the erase the oldest bytes
 * need, else return 1 while it runs. */
static int stage_step(struct boot_ctx *c, bool wait)
{
    struct boot_update *u = &c->upd;
    uint32_t at, n, run;
    int rc;

    if (u->st_err)
        return u->st_err;
    /* Nothing is erased before the STARTED record (the first write). */
    if (!u->stream || !u->staged || !u->open)
        return 0;
    at = h7f_writer_next(&u->w);
    if (u->st_len == 0) {
        /* Everything before at is programmed: the next sector's erase can
         * start before its bytes arrive. */
        if ((at & (H7_SECTOR_SIZE - 1u)) || at - BOOT_APP_START >= u->w.length)
            return 0;
        rc = h7f_writer_ready(&u->w, at);
        if (rc < 0)
            return u->st_err = stream_fail(c, rc);
        return 0;
    }
    rc = h7f_writer_ready(&u->w, at);
    if (rc < 0)
        return u->st_err = stream_fail(c, rc);
    if (rc == 0 && !wait)
        return 1;
    /* A few words, none past the sector (all ready) or the ring's end. */
    n = u->st_len < STEP_BYTES ? u->st_len : STEP_BYTES;
    run = H7_SECTOR_SIZE - (at & (H7_SECTOR_SIZE - 1u));
    if (n > run)
        n = run;
    run = BOOT_STAGE_SIZE - u->st_head;
    if (n > run)
        n = run;
    rc = h7f_writer_write(&u->w, STAGE + u->st_head, n);
    if (rc)
        return u->st_err = stream_fail(c, rc);
    u->st_head = (u->st_head + n) % BOOT_STAGE_SIZE;
    u->st_len -= n;
    return 2;
}

int boot_update_step(struct boot_ctx *c)
{
    return stage_step(c, false);
}

/* Every staged byte handed to the writer. */
static int stage_drain(struct boot_ctx *c)
{
    int rc;

    while ((rc = stage_step(c, true)) > 0)
        if (c->upd.st_len == 0)
            break;
    return rc < 0 ? rc : 0;
}

/* Keep n bytes in the ring, programming to make room. */
static int stage_put(struct boot_ctx *c, const uint8_t *p, size_t n)
{
    struct boot_update *u = &c->upd;

    while (n) {
        uint32_t tail = (u->st_head + u->st_len) % BOOT_STAGE_SIZE, k;
        int rc;

        if (u->st_len == BOOT_STAGE_SIZE) {
            rc = stage_step(c, true);
            if (rc < 0)
                return rc;
            continue;
        }
        /* Not full, so tail == head only when empty. */
        k = tail >= u->st_head ? BOOT_STAGE_SIZE - tail : u->st_head - tail;
        if (k > n)
            k = (uint32_t)n;
        memcpy(STAGE + tail, p, k);
        u->st_len += k;
        p += k;
        n -= k;
    }
    return 0;
}

static int stream_open(struct boot_ctx *c, uint32_t len, uint32_t flags)
{
    struct boot_update *u = &c->upd;
    int rc = h7f_writer_open(&u->w, &c->fl_app, BOOT_APP_START, len, flags | H7F_WR_VERIFY_UNIT);

    if (rc)
        return boot_fail(c, rc, BOOT_APP_START);
    u->stream = true;
    return 0;
}

int boot_update_new_transfer(struct boot_ctx *c, uint32_t len)
{
    int rc;

    boot_update_abandon(c);
    if (len == 0 || len > BOOT_APP_SIZE)
        return boot_fail(c, BOOT_E_TOO_BIG, BOOT_APP_START);
    /* Each sector is erased before its first word; bank 2's part of the
     * image is erased in the background from the first word on, while
     * bank 1 is written (docs/DRIVER.md "The streaming writer"). */
    rc = stream_open(c, len, H7F_WR_ERASE_AHEAD);
    if (rc == 0) {
        c->upd.staged = true;
        c->upd.st_head = 0;
    }
    return rc;
}

int boot_update_erase_page(struct boot_ctx *c, unsigned page)
{
    if (page < BOOT_APP_FIRST_SECTOR || page >= BOOT_SECTORS)
        return boot_fail(c, BOOT_E_RANGE, BOOT_SECTOR_ADDR(page));
    return boot_update_erase_pages(c, 1u << page);
}

int boot_update_erase_pages(struct boot_ctx *c, uint32_t mask)
{
    struct boot_update *u = &c->upd;
    int rc;

    if (mask & ~BOOT_MASK_APP)
        return boot_fail(c, BOOT_E_RANGE, 0);
    if (!mask)
        return 0;
    rc = boot_update_begin(c, UR_LEN_UNKNOWN);
    if (rc == 0)
        rc = stage_drain(c);
    if (rc)
        return rc;
    /* Erasing a sector that holds bytes of the transfer restarts it: the
	 * buffered partial word is programmed first when its sector stays
	 * (the host was told it is written), and the next write opens a new
	 * transfer at BOOT_APP_START. Sectors beyond the transfer's position
	 * are erased without touching it. */
    uint32_t next = h7f_writer_next(&u->w), word;

    if (u->stream && next > BOOT_APP_START && (mask & ((2u << page_of(next - 1u)) - 1u))) {
        if (h7f_writer_pending(&u->w, &word) && !(mask & (1u << page_of(word)))) {
            rc = h7f_writer_flush(&u->w);
            if (rc)
                return stream_fail(c, rc);
        }
        h7f_writer_abort(&u->w);
        u->stream = false;
        u->stream_dead = false;
    }
    /* One call per run of consecutive pages: the driver erases a run's
	 * bank 1 and bank 2 parts at the same time (RM0399 4.3.11: the banks
	 * are independent), a whole bank with one bank erase. */
    for (unsigned p = BOOT_APP_FIRST_SECTOR; p < BOOT_SECTORS;) {
        unsigned q = p;
        uint32_t erased = 0;

        if (!(mask & (1u << p))) {
            p++;
            continue;
        }
        while (q < BOOT_SECTORS && (mask & (1u << q)))
            q++;
        rc = h7f_erase_range(&c->fl_app, BOOT_SECTOR_ADDR(p), (q - p) * H7_SECTOR_SIZE, &erased);
        if (rc) {
            /* The transfer is unknown now: it cannot commit. */
            u->stream = false;
            u->stream_dead = true;
            return boot_fail(c, rc, c->fl_app.last_addr);
        }
        p = q;
    }
    /* The host starts again: the next write may open a transfer. */
    u->stream_dead = false;
    return 0;
}

int boot_update_flush(struct boot_ctx *c)
{
    struct boot_update *u = &c->upd;
    int rc;

    if (!u->stream)
        return 0;
    rc = stage_drain(c);
    if (rc)
        return rc;
    rc = h7f_writer_flush(&u->w);
    return rc ? stream_fail(c, rc) : 0;
}

int boot_update_flush_overlap(struct boot_ctx *c, uint32_t a, uint32_t n)
{
    uint32_t word;
    int rc = stage_drain(c);

    if (rc)
        return rc;
    if (!c->upd.stream || h7f_writer_pending(&c->upd.w, &word) == 0 || word >= a + n ||
        a >= word + H7_FLASH_WORD)
        return 0;
    return boot_update_flush(c);
}

int boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n)
{
    struct boot_update *u = &c->upd;
    int rc;

    if (n == 0)
        return 0;
    if (addr < BOOT_APP_START || addr >= BOOT_APP_END || n > BOOT_APP_END - addr)
        return boot_fail(c, BOOT_E_RANGE, addr);
    rc = boot_update_begin(c, UR_LEN_UNKNOWN);
    if (rc)
        return rc;
    if (u->st_err)
        return u->st_err; /* a step of this staged transfer failed */
    /* AN3155: the host erases, the length is not known; every word must
	 * be erased (virgin check by the driver, gaps included). */
    if (!u->stream && u->stream_dead)
        return boot_fail(c, BOOT_E_TRANSFER, addr);
    if (!u->stream) {
        rc = stream_open(c, H7F_LEN_UNKNOWN, H7F_WR_NO_ERASE);
        if (rc)
            return rc;
    }
    /* Staged: the bytes that continue the ring and fit the transfer wait
     * there; anything else goes to the writer behind what the ring holds. */
    if (u->staged && addr == h7f_writer_next(&u->w) + u->st_len &&
        addr + n <= BOOT_APP_START + u->w.length)
        return stage_put(c, p, n);
    rc = stage_drain(c);
    if (rc)
        return rc;
    rc = h7f_writer_write_at(&u->w, addr, p, n);
    return rc ? stream_fail(c, rc) : 0;
}

int boot_update_commit(struct boot_ctx *c)
{
    struct boot_update *u = &c->upd;
    const struct h7f_writer_report *rep = h7f_writer_report(&u->w);
    int rc;

    if (u->st_err)
        return u->st_err;
    rc = stage_drain(c);
    if (rc)
        return rc;
    if (!u->open || !u->stream || rep->bytes == 0)
        return boot_fail(c, BOOT_E_NO_IMAGE, BOOT_APP_START);
    u->stream = false;
    u->staged = false;
    /* Last word padded and programmed; the flash CRC unit over the image
     * against the words the host's bytes made. */
    rc = h7f_writer_finish(&u->w);
    if (rc == H7F_E_VERIFY)
        return boot_fail(c, BOOT_E_VERIFY, rep->err_addr);
    if (rc)
        return boot_fail(c, rc, rep->err_addr);
    return boot_update_complete(c, rep->bytes, rep->crc_unit);
}

int boot_update_confirm(struct boot_ctx *c)
{
    return boot_fail(c, BOOT_E_NO_IMAGE, BOOT_APP_START);
}
