/*
 * The h7iap fast protocol, device side (docs/PROTOCOL.md "h7iap fast
 * protocol": entry, frames, window, order, progress, errors, end-to-end
 * check, resume; proto/fastp.h is the codec). Entered from the AN3155
 * server on 0xE1.
 *
 * One loop: bytes from the line are assembled into frames; a checked DATA
 * frame waits in one of BOOT_FP_SLOTS buffers (AXI SRAM) until its turn
 * in its region; each region (bank 1: sectors 2-7, bank 2: sectors 8-15)
 * has its own writer (h7f_writer in H7F_WR_NO_ERASE mode: this file erases,
 * one background erase job per bank) and programs its frames in sequence
 * order a few flash words at a time, so that the line is read between
 * them and one bank programs while the other erases. A region erases the
 * page mask's sectors in address order: the first at BEGIN, the next when
 * its predecessor is written (or when a frame needs it). Every word is
 * programmed once and verified by the driver; a sector is recorded as
 * done (PROGRESS) only when every word below it is. END compares the
 * flash CRC unit's result per region with the host's before COMPLETE.
 */
#include <string.h>

#include "boot/boot.h"
#include "crc32.h"
#include "fastp.h"

/* Flash bytes programmed between two looks at the line: 4 words, 0.4 ms
 * (docs/H7_FLASH.md 6.1), 160 bytes at 4 Mbaud against the 1024-entry
 * receive ring. */
#define FPS_CHUNK     (4u * FP_WORD)
#define FPS_RAW_MAX   BOOT_STAGE_SLOT
#define FPS_REPLY_MAX (FP_OVERHEAD + 4u + 8u * FP_SECTORS_MAX)
#define FPS_WAIT_MS   10u /* getc() timeout when nothing else is to do */
#define FPS_SECTORS   (BOOT_APP_SIZE / H7_SECTOR_SIZE)
#define FPS_SR_ERRORS                                                                          \
    (FLASH_SR_WRPERR | FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR | FLASH_SR_OPERR | \
     FLASH_SR_RDPERR | FLASH_SR_RDSERR | FLASH_SR_SNECCERR | FLASH_SR_DBECCERR |               \
     FLASH_SR_CRCRDERR)

/* The frames' bytes are in boot_stage_ram (update.c), one slot each; the
 * receive buffer and the decoder's workspace in AXI SRAM too
 * (boot/target/boot.ld places .bss.axisram*), ordinary .bss on the host. */
#define FPS_AXI __attribute__((section(".bss.axisram.fastp")))
static FPS_AXI uint8_t fps_rx[FP_FRAME_MAX];
static FPS_AXI struct infl_ws fps_ws;

static const struct fp_geom fps_geom = {
    .area_base = BOOT_APP_START,
    .area_size = BOOT_APP_SIZE,
    .bank_split = H7_BANK2_BASE - BOOT_APP_START,
    .sector_size = H7_SECTOR_SIZE,
    .raw_max = FPS_RAW_MAX,
    .slots = BOOT_FP_SLOTS,
};

/* The session: what lives only while the host talks (the transfer itself
 * is c->fp and survives sessions). */
struct fps_sess {
    struct boot_ctx *c;
    struct boot_fastp *t;
    uint32_t rx_len, rx_need; /* rx_need: frame length once the header checked */
    uint32_t now, last_valid, last_byte, last_status;
    uint32_t entry_baud;
    uint8_t last_type, last_tag; /* the last request carried out */
    bool have_last;
    uint8_t cur_tag; /* the frame being answered */
    uint8_t reply[FPS_REPLY_MAX];
    uint32_t reply_len;
    bool stop, go;
    struct boot_result *res;
};

/* ---- time and line ---- */

static uint32_t clock_ms(struct fps_sess *s)
{
    const struct boot_serial *ser = s->c->ser;

    return ser->now_ms ? ser->now_ms(ser->ctx) : s->now;
}

/* Next byte, waiting at most wait_ms; keeps the session's clock. */
static int line_getc(struct fps_sess *s, uint32_t wait_ms)
{
    const struct boot_serial *ser = s->c->ser;
    int b = ser->getc(ser->ctx, wait_ms);

    if (b == BOOT_SER_TIMEOUT && !ser->now_ms)
        s->now += wait_ms;
    if (!ser->now_ms && b != BOOT_SER_TIMEOUT)
        s->last_byte = s->now;
    s->now = clock_ms(s);
    if (b != BOOT_SER_TIMEOUT)
        s->last_byte = s->now;
    return b;
}

static void send(struct fps_sess *s, const struct fp_msg *m0, bool remember)
{
    uint8_t out[FPS_REPLY_MAX];
    struct fp_msg m = *m0;
    int n;

    if (remember)
        m.tag = s->cur_tag; /* a reply echoes its request's tag */
    n = fp_encode(&m, &fps_geom, out, sizeof(out));

    if (n <= 0) {
        s->c->diag.unsent++; /* a bug: nothing this side builds fails to encode */
        return;
    }
    s->c->ser->write(s->c->ser->ctx, out, (size_t)n);
    if (remember) {
        memcpy(s->reply, out, (size_t)n);
        s->reply_len = (uint32_t)n;
    }
}

/* ---- transfer state ---- */

static uint32_t region_start(unsigned r)
{
    return fp_region_start(&fps_geom, r);
}

static unsigned sector_of(uint32_t off)
{
    return off / H7_SECTOR_SIZE;
}

static uint32_t region_mask(unsigned r)
{
    unsigned a = sector_of(region_start(r));
    unsigned b = a + fp_region_size(&fps_geom, r) / H7_SECTOR_SIZE;

    return (uint32_t)((1ull << b) - (1ull << a));
}

static uint32_t lowest(uint32_t m)
{
    unsigned i = 0;

    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
}

static void status_fill(struct boot_fastp *t, struct fp_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = FP_STATUS;
    m->u.status.cum = t->cum;
    m->u.status.limit = t->cum + BOOT_FP_SLOTS - t->pending;
    for (unsigned i = 0; i < BOOT_FP_SLOTS; i++) {
        const struct boot_fp_slot *sl = &t->slot[i];

        if (sl->held && sl->seq > t->cum && sl->seq - t->cum - 1u < FP_SACK_BITS)
            m->u.status.sack |= 1ull << (sl->seq - t->cum - 1u);
    }
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        struct fp_bank_status *b = &m->u.status.bank[r];

        b->done = t->rg[r].done;
        b->state = t->rg[r].state;
        b->page = t->rg[r].page;
    }
    m->u.status.bad_frames = t->bad_frames;
}

static void send_status(struct fps_sess *s)
{
    struct fp_msg m;

    status_fill(s->t, &m);
    for (unsigned r = 0; r < FP_REGIONS; r++)
        if (s->t->rg[r].job.pending) {
            uint32_t ms = s->now - s->t->rg[r].erase_t0;

            m.u.status.bank[r].erase_ms = (uint16_t)(ms > 0xFFFFu ? 0xFFFFu : ms);
        }
    send(s, &m, false);
    s->last_status = s->now;
}

static void send_error(struct fps_sess *s, uint8_t req, int code, uint32_t sr, uint32_t addr,
                       uint32_t seq, bool fatal)
{
    struct fp_msg m;

    memset(&m, 0, sizeof(m));
    m.type = FP_ERROR;
    m.tag = s->cur_tag;
    m.u.error.code = code;
    m.u.error.sr = sr & FPS_SR_ERRORS;
    m.u.error.addr = addr;
    m.u.error.seq = seq;
    m.u.error.req = req;
    m.u.error.fatal = fatal;
    send(s, &m, req != FP_DATA);
}

/* Wait for a region's erase to end (before its bank is read or the
 * transfer is dropped). */
static void region_quiesce(struct boot_ctx *c, struct boot_fp_region *g)
{
    if (g->job.pending)
        (void)h7f_erase_job_poll(&c->fl_app, &g->job, true);
}

/* The transfer can no longer commit: everything of it in RAM is gone. */
static void drop(struct boot_ctx *c)
{
    struct boot_fastp *t = &c->fp;

    for (unsigned r = 0; r < FP_REGIONS; r++)
        region_quiesce(c, &t->rg[r]);
    memset(t, 0, sizeof(*t));
}

/* A fatal error: ERROR with the flash's status bits, transfer dropped. */
static void fatal(struct fps_sess *s, uint8_t req, int code, uint32_t addr, uint32_t seq)
{
    uint32_t sr = boot_err_is_flash(code) ? s->c->fl_app.last_sr : 0;

    (void)boot_fail(s->c, code, addr);
    drop(s->c);
    send_error(s, req, code, sr, addr, seq, true);
}

/* ---- flash work ---- */

static void region_init(struct boot_fastp *t, unsigned r, uint32_t done)
{
    struct boot_fp_region *g = &t->rg[r];
    uint32_t start = region_start(r), end = start + fp_region_image_len(&fps_geom, t->im.len, r);
    uint32_t todo = t->im.page_mask & region_mask(r);

    memset(g, 0, sizeof(*g));
    g->done = done;
    g->rec = done;
    g->page = FP_PAGE_NONE;
    /* From the sector at the resume point on: a sector the log does not
     * count as done may hold words of the interrupted attempt. */
    todo &= ~((1u << sector_of(start + done)) - 1u);
    g->todo = start + done >= end ? 0 : todo;
    g->state = start + done >= end ? FP_BANK_DONE : FP_BANK_IDLE;
}

static int region_open_writer(struct boot_ctx *c, unsigned r)
{
    struct boot_fp_region *g = &c->fp.rg[r];
    int rc;

    if (g->wopen)
        return 0;
    rc = h7f_writer_open(&g->w, &c->fl_app, BOOT_APP_START + region_start(r) + g->done,
                         H7F_LEN_UNKNOWN, H7F_WR_NO_ERASE);
    if (rc == 0)
        g->wopen = true;
    return rc;
}

/* Collect a finished erase. 0 or the erase's error. */
static int region_poll(struct fps_sess *s, unsigned r, bool wait)
{
    struct boot_fp_region *g = &s->t->rg[r];
    int rc;

    if (!g->job.pending)
        return 0;
    rc = h7f_erase_job_poll(&s->c->fl_app, &g->job, wait);
    if (rc == 1)
        return 0;
    g->page = FP_PAGE_NONE;
    g->state = FP_BANK_IDLE;
    if (rc)
        return rc;
    g->todo &= ~(1u << g->job_sector);
    return 0;
}

static int region_erase(struct fps_sess *s, unsigned r, unsigned sector)
{
    struct boot_fp_region *g = &s->t->rg[r];
    int rc = h7f_erase_job_start(&s->c->fl_app, &g->job, BOOT_APP_START + sector * H7_SECTOR_SIZE,
                                 H7_SECTOR_SIZE);

    if (rc)
        return rc;
    g->job_sector = (uint8_t)sector;
    g->erase_t0 = s->now;
    g->state = FP_BANK_ERASING;
    g->page = (uint8_t)sector; /* the area's sector index (docs/PROTOCOL.md "Frames") */
    return 0;
}

/* PROGRESS records wait until bank 1 (the log's bank) is not erasing. */
static int region_record(struct fps_sess *s, unsigned r)
{
    struct boot_fastp *t = s->t;
    struct boot_fp_region *g = &t->rg[r];
    int rc;

    if (g->rec_want <= g->rec || t->rg[0].job.pending)
        return 0;
    rc = boot_update_progress(s->c, BOOT_APP_START + region_start(r), g->rec_want, t->im.len);
    if (rc)
        return rc;
    g->rec = g->rec_want;
    return 0;
}

/*
 * One step of region r: collect its erase, start the next one it needs,
 * or (when may_program) program FPS_CHUNK bytes of its head frame. drain:
 * END or QUERY wait for this: every mask sector is erased, frame or not.
 * Returns 0 (or 1 when it did something) or an error, with *addr the
 * flash address.
 */
static int region_step(struct fps_sess *s, unsigned r, bool drain, bool may_program, uint32_t *addr)
{
    struct boot_fastp *t = s->t;
    struct boot_fp_region *g = &t->rg[r];
    struct boot_fp_slot *sl = g->qn ? &t->slot[g->q[g->qh]] : NULL;
    uint32_t pos = region_start(r) + g->done;
    int rc;

    *addr = BOOT_APP_START + pos;
    if (g->job.pending) {
        *addr = BOOT_APP_START + g->job_sector * H7_SECTOR_SIZE;
        rc = region_poll(s, r, false);
        return rc ? rc : !g->job.pending;
    }
    rc = region_record(s, r);
    if (rc)
        return rc;
    if (g->todo) {
        unsigned e = lowest(g->todo);
        /* Needed now: a frame in or past it, END; or the region has just
         * reached its start. */
        if ((sl && sector_of(sl->offset) >= e) || (drain && !sl) ||
            (!sl && pos == e * H7_SECTOR_SIZE)) {
            *addr = BOOT_APP_START + e * H7_SECTOR_SIZE;
            rc = region_erase(s, r, e);
            return rc ? rc : 1;
        }
    }
    if (!sl || !may_program)
        return 0;
    /* The head frame's sector is erased (every mask sector below the next
     * one to erase is). */
    rc = region_open_writer(s->c, r);
    if (rc)
        return rc;
    if (g->qoff == 0) {
        /* Every word before this frame's sector is programmed and verified. */
        uint32_t at = (sl->offset & ~(H7_SECTOR_SIZE - 1u)) - region_start(r);

        if (at > g->rec && at > g->rec_want)
            g->rec_want = at;
    }
    {
        uint32_t n = sl->len - g->qoff < FPS_CHUNK ? sl->len - g->qoff : FPS_CHUNK;
        uint32_t a = BOOT_APP_START + sl->offset + g->qoff;

        g->state = FP_BANK_PROGRAMMING;
        g->page = (uint8_t)sector_of(sl->offset);
        *addr = a;
        rc = h7f_writer_write_at(&g->w, a, &boot_stage_ram[g->q[g->qh]][g->qoff], n);
        if (rc) {
            *addr = h7f_writer_report(&g->w)->err_addr ? h7f_writer_report(&g->w)->err_addr : a;
            g->state = FP_BANK_FAILED;
            return rc;
        }
        g->qoff += n;
        g->done = sl->offset + g->qoff - region_start(r);
    }
    if (g->qoff == sl->len) {
        sl->held = false;
        g->qh = (uint8_t)((g->qh + 1u) % BOOT_FP_SLOTS);
        g->qn--;
        g->qoff = 0;
        t->pending--;
        g->state = FP_BANK_IDLE;
        g->page = FP_PAGE_NONE;
    }
    return 1;
}

/* What is left of region r in units of one word's program time: the
 * erases still to run (a sector erase typically costs as much as 10000
 * word programs at x64: 1 s against 100 us, docs/H7_FLASH.md 6.1) and
 * the words still to program. */
#define FPS_ERASE_WORDS 10000u

static uint32_t region_left(const struct fps_sess *s, unsigned r)
{
    const struct boot_fp_region *g = &s->t->rg[r];
    uint32_t len = fp_region_image_len(&fps_geom, s->t->im.len, r);
    uint32_t words = len > g->done ? (len - g->done + FP_WORD - 1u) / FP_WORD : 0u;

    return (uint32_t)__builtin_popcount(g->todo) * FPS_ERASE_WORDS + words;
}

/*
 * One step of both regions: 2 work done, 1 only erases running, 0
 * nothing to do, or a fatal error (sent).
 *
 * The CPU waits for each word it programs (h7flash), so a step that
 * programs in both banks costs both banks' time and each bank idles while
 * the other programs. The region with more work left (bank 2, whose area
 * part is larger, in the default layout) goes first; the other programs
 * only in a step in which the first did not (it was erasing, or had no
 * frame): its words fill the first's erases. Erases start in both at
 * once regardless. The transfer then takes the longer region's flash
 * time, not the sum of both regions' programs.
 */
static int flash_step(struct fps_sess *s, bool drain)
{
    int busy = 0;
    unsigned first = FP_REGIONS > 1u && region_left(s, 1) > region_left(s, 0) ? 1u : 0u;
    bool programmed = false;

    for (unsigned i = 0; i < FP_REGIONS; i++) {
        unsigned r = (first + i) % FP_REGIONS;
        uint32_t addr = 0, done = s->t->rg[r].done;
        int rc = region_step(s, r, drain, !programmed, &addr);

        if (s->t->rg[r].done != done)
            programmed = true;
        if (rc < 0) {
            fatal(s, 0, rc, addr, 0xFFFFFFFFu);
            return rc;
        }
        if (rc)
            busy = 2;
        else if (s->t->rg[r].job.pending && !busy)
            busy = 1;
    }
    return busy;
}

/* While only erases run: wait for the line at most 1 ms (the receive
 * interrupt or the tick wakes the CPU), keeping what arrives. */
static void line_wait(struct fps_sess *s)
{
    int b;

    if (s->rx_len < sizeof(fps_rx) && (b = line_getc(s, 1u)) != BOOT_SER_TIMEOUT)
        fps_rx[s->rx_len++] = (uint8_t)b;
}

/* Periodic duties while the flash works: STATUS every FP_T_STATUS_MS. */
static void tick(struct fps_sess *s)
{
    if (s->t->active && s->now - s->last_status >= FP_T_STATUS_MS)
        send_status(s);
}

/* Every frame below cum programmed, every mask sector erased (drain) or
 * at least every erase finished; then the PROGRESS records. */
static int flash_finish(struct fps_sess *s, bool drain)
{
    int rc;

    if (!s->t->open)
        return 0;
    while ((rc = flash_step(s, drain)) > 0) {
        if (rc == 1)
            line_wait(s);
        s->now = clock_ms(s);
        boot_port_idle();
        tick(s);
    }
    if (rc < 0)
        return rc;
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        struct boot_fp_region *g = &s->t->rg[r];

        if (drain && g->done < fp_region_image_len(&fps_geom, s->t->im.len, r) && !g->todo &&
            !g->qn)
            g->done = fp_region_image_len(&fps_geom, s->t->im.len, r);
        if (drain && g->done >= fp_region_image_len(&fps_geom, s->t->im.len, r))
            g->state = FP_BANK_DONE;
        g->rec_want = g->done;
        rc = region_record(s, r);
        if (rc) {
            fatal(s, 0, rc, BOOT_LOG_BASE, 0xFFFFFFFFu);
            return rc;
        }
    }
    return 0;
}

/* Frames held above cum are dropped (the host sends them again). */
static void drop_window(struct boot_fastp *t)
{
    for (unsigned i = 0; i < BOOT_FP_SLOTS; i++)
        if (t->slot[i].held && t->slot[i].seq >= t->cum)
            t->slot[i].held = false;
}

/* ---- requests ---- */

static void on_hello(struct fps_sess *s, const struct fp_msg *q)
{
    struct fp_msg m;
    const struct boot_serial *ser = s->c->ser;

    if (q->u.hello.version != FP_VERSION) {
        send_error(s, FP_HELLO, FP_E_VERSION, 0, 0, 0xFFFFFFFFu, false);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.type = FP_HELLO_R;
    m.u.hello_r.version = FP_VERSION;
    m.u.hello_r.flags = FP_HF_DEFLATE;
    m.u.hello_r.geom = fps_geom;
    m.u.hello_r.uart_clk = BOOT_PCLK1_HZ;
    m.u.hello_r.baud_max = BOOT_PCLK1_HZ / 16u;
    m.u.hello_r.baud_now = ser->baud ? ser->baud(ser->ctx, 0, false) : 0;
    send(s, &m, true);
}

static void on_baud(struct fps_sess *s, const struct fp_msg *q)
{
    const struct boot_serial *ser = s->c->ser;
    uint32_t want = q->u.baud, got;
    struct fp_msg m;

    got = ser->baud && want <= BOOT_PCLK1_HZ / 16u ? ser->baud(ser->ctx, want, false) : 0;
    if (!got ||
        (got > want ? got - want : want - got) > (uint64_t)want * FP_BAUD_TOL_PERMILLE / 1000u) {
        send_error(s, FP_BAUD, FP_E_BAUD, 0, 0, 0xFFFFFFFFu, false);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.type = FP_BAUD_R;
    m.u.baud = got;
    send(s, &m, true);
    /* Switch once BAUD_R has left the wire (baud() drains first). */
    (void)ser->baud(ser->ctx, want, true);
}

static void on_query(struct fps_sess *s)
{
    struct boot_fastp *t = s->t;
    struct boot_fast_log lg;
    struct fp_msg m;

    memset(&m, 0, sizeof(m));
    m.type = FP_RESUME_R;
    if (t->open) {
        /* done[] final: the frames below cum programmed, the rest dropped. */
        if (flash_finish(s, false))
            return;
    }
    if (t->open) {
        drop_window(t);
        m.u.resume_r.state = FP_RS_RAM;
        m.u.resume_r.image = t->im;
        m.u.resume_r.done[0] = t->rg[0].done;
        m.u.resume_r.done[1] = t->rg[1].done;
    } else if (boot_update_fast_log(s->c, &lg) && fp_image_check(&fps_geom, &lg.im) == 0) {
        m.u.resume_r.state = FP_RS_LOG;
        m.u.resume_r.image = lg.im;
        for (unsigned r = 0; r < FP_REGIONS; r++) {
            uint32_t max = fp_region_image_len(&fps_geom, lg.im.len, r);

            m.u.resume_r.done[r] = lg.done[r] < max ? lg.done[r] & ~(FP_WORD - 1u) : max;
        }
    }
    send(s, &m, true);
}

static void on_sectors(struct fps_sess *s, const struct fp_msg *q)
{
    struct boot_ctx *c = s->c;
    struct fp_msg m;

    if (s->t->active) {
        send_error(s, FP_SECTORS, FP_E_STATE, 0, 0, 0xFFFFFFFFu, false);
        return;
    }
    for (unsigned r = 0; r < FP_REGIONS; r++)
        region_quiesce(c, &s->t->rg[r]);
    memset(&m, 0, sizeof(m));
    m.type = FP_SECTORS_R;
    m.u.sectors_r.first = q->u.sectors.first;
    m.u.sectors_r.count = q->u.sectors.count;
    for (unsigned i = 0; i < q->u.sectors.count; i++) {
        uint32_t a = BOOT_APP_START + (q->u.sectors.first + i) * H7_SECTOR_SIZE, crc = 0;

        if (h7f_crc_unit(&c->fl_app, a, H7_SECTOR_SIZE, &crc) != 0) {
            m.u.sectors_r.sr[i] = c->fl_app.last_sr & FPS_SR_ERRORS;
            if (!m.u.sectors_r.sr[i])
                m.u.sectors_r.sr[i] = FLASH_SR_DBECCERR;
        }
        m.u.sectors_r.crc[i] = crc;
        boot_port_idle();
    }
    send(s, &m, true);
}

static void on_begin(struct fps_sess *s, const struct fp_msg *q)
{
    struct boot_ctx *c = s->c;
    struct boot_fastp *t = s->t;
    const struct fp_begin *b = &q->u.begin;
    struct boot_fast_log lg;
    int rc;

    if (b->flags & FP_BF_RESUME) {
        bool ram = t->open && !memcmp(&t->im, &b->image, sizeof(t->im)) &&
                   b->resume[0] == t->rg[0].done && b->resume[1] == t->rg[1].done;
        bool log =
            !t->open && boot_update_fast_log(c, &lg) && !memcmp(&lg.im, &b->image, sizeof(lg.im));

        if (log)
            for (unsigned r = 0; r < FP_REGIONS; r++) {
                uint32_t max = fp_region_image_len(&fps_geom, lg.im.len, r);
                uint32_t d = lg.done[r] < max ? lg.done[r] & ~(FP_WORD - 1u) : max;

                log = log && b->resume[r] == d;
            }
        if (!ram && !log) {
            send_error(s, FP_BEGIN, FP_E_RESUME, 0, 0, 0xFFFFFFFFu, false);
            return;
        }
        if (ram) {
            if (flash_finish(s, false))
                return;
            drop_window(t);
        } else {
            memset(t, 0, sizeof(*t));
            t->im = lg.im;
            for (unsigned r = 0; r < FP_REGIONS; r++)
                region_init(t, r, b->resume[r]);
            boot_update_resume_fast(c, lg.seq);
            t->open = true;
        }
    } else {
        drop(c);
        t->im = b->image;
        rc = boot_update_begin_fast(c, &b->image);
        if (rc) {
            memset(t, 0, sizeof(*t));
            send_error(s, FP_BEGIN, rc, c->upd.fl_log.last_sr, c->diag.last_err_addr, 0xFFFFFFFFu,
                       false);
            return;
        }
        for (unsigned r = 0; r < FP_REGIONS; r++)
            region_init(t, r, 0);
        t->open = true;
    }
    {
        uint32_t done[FP_REGIONS] = { t->rg[0].done, t->rg[1].done };

        fp_order_init(&t->ord, &fps_geom, done);
    }
    t->cum = 0;
    t->bad_frames = 0;
    t->active = true;
    /* Both regions' first erases start now. */
    (void)flash_step(s, false);
    if (!t->open)
        return;
    {
        struct fp_msg m;

        status_fill(t, &m);
        send(s, &m, true);
    }
}

static int slot_find(const struct boot_fastp *t, uint32_t seq)
{
    for (unsigned i = 0; i < BOOT_FP_SLOTS; i++)
        if (t->slot[i].held && t->slot[i].seq == seq)
            return (int)i;
    return -1;
}

static bool slot_queued(const struct boot_fastp *t, unsigned i)
{
    for (unsigned r = 0; r < FP_REGIONS; r++)
        for (unsigned k = 0; k < t->rg[r].qn; k++)
            if (t->rg[r].q[(t->rg[r].qh + k) % BOOT_FP_SLOTS] == i)
                return true;
    return false;
}

static void on_data(struct fps_sess *s, const struct fp_msg *q)
{
    struct boot_fastp *t = s->t;
    const struct fp_data *d = &q->u.data;
    uint32_t limit = t->cum + BOOT_FP_SLOTS - t->pending;
    int rc, i;

    if (!t->active) {
        send_error(s, FP_DATA, FP_E_STATE, 0, 0, d->seq, false);
        return;
    }
    rc = fp_data_check_image(&fps_geom, &t->im, d);
    if (rc) {
        fatal(s, FP_DATA, rc, BOOT_APP_START + d->offset, d->seq);
        return;
    }
    if (d->seq < t->cum || slot_find(t, d->seq) >= 0) {
        send_status(s); /* a repeat */
        return;
    }
    if (d->seq >= limit) {
        send_error(s, FP_DATA, FP_E_WINDOW, 0, 0, d->seq, false);
        return;
    }
    for (i = 0; i < (int)BOOT_FP_SLOTS; i++)
        if (!t->slot[i].held)
            break;
    if (i == (int)BOOT_FP_SLOTS) {
        /* Cannot happen: limit leaves a slot for every frame below it. */
        send_error(s, FP_DATA, FP_E_WINDOW, 0, 0, d->seq, false);
        return;
    }
    rc = fp_data_unpack(&t->im, d, &fps_ws, boot_stage_ram[i]);
    if (rc) {
        fatal(s, FP_DATA, rc, BOOT_APP_START + d->offset, d->seq);
        return;
    }
    t->slot[i].seq = d->seq;
    t->slot[i].offset = d->offset;
    t->slot[i].len = d->raw_len;
    t->slot[i].held = true;
    /* Frames in sequence go to their region's queue, forward only. */
    while ((i = slot_find(t, t->cum)) >= 0 && !slot_queued(t, (unsigned)i)) {
        struct boot_fp_slot *sl = &t->slot[i];
        struct fp_data od = { .seq = sl->seq, .offset = sl->offset, .raw_len = sl->len };
        struct boot_fp_region *g = &t->rg[fp_region_of(&fps_geom, sl->offset)];

        rc = fp_order_accept(&t->ord, &fps_geom, &od);
        if (rc) {
            fatal(s, FP_DATA, rc, BOOT_APP_START + sl->offset, sl->seq);
            return;
        }
        g->q[(g->qh + g->qn) % BOOT_FP_SLOTS] = (uint8_t)i;
        g->qn++;
        t->pending++;
        t->cum++;
    }
    send_status(s);
}

static void on_end(struct fps_sess *s, const struct fp_msg *q)
{
    struct boot_ctx *c = s->c;
    struct boot_fastp *t = s->t;
    struct fp_msg m;
    int rc;

    if (!t->active || q->u.end.frames != t->cum) {
        send_error(s, FP_END, FP_E_STATE, 0, 0, 0xFFFFFFFFu, false);
        return;
    }
    if (flash_finish(s, true))
        return;
    memset(&m, 0, sizeof(m));
    m.type = FP_END_R;
    /* The COMPLETE record's image CRC: the two regions' unit values
     * combined, crc32_h7flash_image() of the image (proto/update_record.h). */
    uint32_t image_crc = CRC32_H7FLASH_INIT;
    for (unsigned r = 0; r < FP_REGIONS; r++) {
        uint32_t n = fp_region_crc_len(&fps_geom, t->im.len, r), crc = CRC32_H7FLASH_INIT;

        if (n) {
            rc = h7f_crc_unit(&c->fl_app, BOOT_APP_START + region_start(r), n, &crc);
            if (rc) {
                fatal(s, FP_END, rc, c->fl_app.last_addr, 0xFFFFFFFFu);
                return;
            }
        }
        m.u.end_r.crc[r] = crc;
        image_crc = crc32_h7flash_combine(image_crc, crc, n);
        if (crc != q->u.end.crc[r])
            m.u.end_r.result = FP_E_VERIFY;
    }
    if (m.u.end_r.result == 0) {
        rc = boot_update_complete(c, t->im.len, image_crc);
        if (rc)
            m.u.end_r.result = rc;
    } else {
        (void)boot_fail(c, FP_E_VERIFY, BOOT_APP_START);
    }
    drop(c);
    send(s, &m, true);
}

static void on_go(struct fps_sess *s, const struct fp_msg *q)
{
    struct fp_msg m;
    uint8_t reason;

    if (!boot_go(s->c, q->u.addr, s->res, &reason)) {
        send_error(s, FP_GO, BOOT_E_NO_IMAGE, 0, q->u.addr, 0xFFFFFFFFu, false);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.type = FP_GO_R;
    send(s, &m, true);
    s->go = s->stop = true;
}

static void dispatch(struct fps_sess *s, const struct fp_msg *m)
{
    struct fp_msg r;

    s->last_valid = s->now;
    s->cur_tag = m->tag;
    if (m->type != FP_DATA) {
        if (s->have_last && m->type == s->last_type && m->tag == s->last_tag) {
            /* A repeated request: the same reply, not done again. */
            s->c->ser->write(s->c->ser->ctx, s->reply, s->reply_len);
            return;
        }
        s->have_last = true;
        s->last_type = m->type;
        s->last_tag = m->tag;
    }
    switch (m->type) {
    case FP_HELLO: on_hello(s, m); break;
    case FP_BAUD: on_baud(s, m); break;
    case FP_PING:
        memset(&r, 0, sizeof(r));
        r.type = FP_PONG;
        r.tag = m->tag;
        r.u.token = m->u.token;
        send(s, &r, true);
        break;
    case FP_QUERY: on_query(s); break;
    case FP_SECTORS: on_sectors(s, m); break;
    case FP_BEGIN: on_begin(s, m); break;
    case FP_DATA: on_data(s, m); break;
    case FP_END: on_end(s, m); break;
    case FP_GO: on_go(s, m); break;
    case FP_BYE:
        memset(&r, 0, sizeof(r));
        r.type = FP_BYE_R;
        send(s, &r, true);
        s->stop = true;
        break;
    default: break;
    }
    s->last_valid = s->now = clock_ms(s); /* a request may take seconds (END) */
}

/* ---- frames from the line ---- */

static void rx_drop(struct fps_sess *s, uint32_t n)
{
    memmove(fps_rx, fps_rx + n, s->rx_len - n);
    s->rx_len -= n;
    s->rx_need = 0;
}

static void bad_frame(struct fps_sess *s)
{
    if (s->t->bad_frames < 0xFFFFu)
        s->t->bad_frames++;
}

/* Frames and resynchronisation over what rx holds. */
static void rx_frames(struct fps_sess *s)
{
    struct fp_msg m;

    while (!s->stop && s->rx_len) {
        if (!s->rx_need) {
            int h;

            if (s->rx_len < FP_HDR_LEN) {
                /* Drop what cannot start a frame. */
                uint32_t k = (uint32_t)fp_resync(fps_rx, s->rx_len);

                if (fps_rx[0] == FP_SOF0 && (s->rx_len == 1 || fps_rx[1] == FP_SOF1))
                    return;
                rx_drop(s, k < s->rx_len ? k : s->rx_len);
                continue;
            }
            h = fp_header(fps_rx, s->rx_len);
            if (h < 0) {
                if (h != FP_E_SOF)
                    bad_frame(s);
                rx_drop(s, (uint32_t)fp_resync(fps_rx, s->rx_len));
                continue;
            }
            s->rx_need = (uint32_t)h;
        }
        if (s->rx_len < s->rx_need)
            return;
        {
            uint8_t type = fps_rx[2];
            int n = fp_decode(fps_rx, s->rx_len, &fps_geom, FP_TO_DEVICE, &m);

            if (n == FP_E_CRC || n == FP_E_SHORT) {
                bad_frame(s);
                rx_drop(s, 1);
                if (s->t->active)
                    send_status(s);
                continue;
            }
            if (n < 0) {
                /* Checked frame, bad content: the request is refused. */
                uint32_t need = s->rx_need;

                s->last_valid = s->now;
                s->cur_tag = fps_rx[3];
                if (type == FP_DATA && s->t->active && n != FP_E_TYPE && n != FP_E_LEN) {
                    uint32_t seq = (uint32_t)fps_rx[8] | (uint32_t)fps_rx[9] << 8 |
                                   (uint32_t)fps_rx[10] << 16 | (uint32_t)fps_rx[11] << 24;

                    fatal(s, FP_DATA, n, 0, seq);
                } else {
                    send_error(s, type, n, 0, 0, 0xFFFFFFFFu, false);
                }
                rx_drop(s, need);
                continue;
            }
            dispatch(s, &m);
            rx_drop(s, (uint32_t)n);
        }
    }
}

/* ---- the session ---- */

bool boot_fastp(struct boot_ctx *c, struct boot_result *res)
{
    struct fps_sess s;
    const struct boot_serial *ser = c->ser;

    memset(&s, 0, sizeof(s));
    s.c = c;
    s.t = &c->fp;
    s.res = res;
    s.now = clock_ms(&s);
    s.last_valid = s.last_byte = s.last_status = s.now;
    s.entry_baud = ser->baud ? ser->baud(ser->ctx, 0, false) : 0;
    s.t->active = false;
    ser->set_format(ser->ctx, BOOT_SER_8N1);
    while (!s.stop) {
        int busy = s.t->open ? flash_step(&s, false) : 0;
        uint32_t got = 0;
        int b;

        /* The line: everything queued, then the flash again. */
        while (s.rx_len < sizeof(fps_rx) &&
               (b = line_getc(&s, busy == 2 || got ? 0u
                                  : busy           ? 1u
                                                   : FPS_WAIT_MS)) != BOOT_SER_TIMEOUT) {
            fps_rx[s.rx_len++] = (uint8_t)b;
            if (++got >= FPS_CHUNK)
                break;
        }
        if (got)
            rx_frames(&s);
        else if (s.rx_len && s.now - s.last_byte >= FP_T_FRAME_GAP_MS) {
            bad_frame(&s); /* a stalled frame */
            rx_drop(&s, s.rx_len);
        }
        boot_port_idle();
        tick(&s);
        if (s.now - s.last_valid >= FP_T_SILENCE_MS)
            break;
    }
    /* Leaving: what is below cum is programmed; the transfer stays open. */
    if (s.t->open && !flash_finish(&s, false))
        drop_window(s.t);
    s.t->active = false;
    /* AN3155 again at the entry rate (GO too: the rate is handed on). */
    if (ser->baud && s.entry_baud && ser->baud(ser->ctx, 0, false) != s.entry_baud)
        (void)ser->baud(ser->ctx, s.entry_baud, true);
    return s.go;
}
