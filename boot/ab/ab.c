/*
 * A/B boot decision and update engine (boot/ab/ab.h, docs/PROTOCOL.md
 * "A/B updates").
 */
#include "ab.h"

#include <string.h>

#include "boot/boot.h"
#include "crc32.h"

/* ---- the decision ------------------------------------------------------ */

static bool startable(const struct ab_view *v)
{
    if (!v->image_ok)
        return false;
    return v->state == AB_SLOT_CONFIRMED || (v->state == AB_SLOT_TRIAL && v->trials < AB_TRIALS);
}

enum ab_action ab_decide(const struct ab_view *run, const struct ab_view *other, bool wdg_reset)
{
    if (run->image_ok && run->state == AB_SLOT_TRIAL) {
        if (run->trials >= AB_TRIALS || (wdg_reset && run->trials > 0))
            return AB_ACT_REJECT;
        return AB_ACT_TRIAL;
    }
    if (run->image_ok && run->state == AB_SLOT_CONFIRMED) {
        if (other->image_ok && other->state == AB_SLOT_TRIAL && other->trials == 0 &&
            ab_seq_newer(other->seq, run->seq))
            return AB_ACT_SWAP;
        return AB_ACT_BOOT;
    }
    return startable(other) ? AB_ACT_SWAP : AB_ACT_STAY;
}

const char *ab_action_name(enum ab_action a)
{
    switch (a) {
    case AB_ACT_BOOT: return "boot";
    case AB_ACT_TRIAL: return "trial";
    case AB_ACT_REJECT: return "reject";
    case AB_ACT_SWAP: return "swap";
    case AB_ACT_STAY: return "stay";
    default: return "?";
    }
}

/* ---- slots on flash ---------------------------------------------------- */

void ab_init(struct ab_ctx *c)
{
    memset(c, 0, sizeof(*c));
    h7f_init(&c->fl_other);
    c->fl_other.protected_mask = BOOT_AB_PROT_OTHER;
    h7f_init(&c->fl_trailer);
    c->fl_trailer.protected_mask = BOOT_AB_PROT_TRAILERS;
    h7f_init(&c->fl_copy);
    c->fl_copy.protected_mask = BOOT_AB_PROT_BOOTCOPY;
    c->boot_len = BOOT_CODE_SIZE;
}

static uint32_t trailer_word(uint32_t base, uint32_t i)
{
    return base + BOOT_AB_TRAILER_OFF + i * AB_WORD_SIZE;
}

struct trailer_rd {
    struct ab_ctx *c;
    uint32_t base;
};

static int read_word(void *ctx, uint32_t i, uint8_t out[UR_SIZE])
{
    struct trailer_rd *t = ctx;
    int rc = h7f_read(&t->c->fl_trailer, trailer_word(t->base, i), out, AB_WORD_SIZE, NULL);

    /* A corrected single-bit error gives the data; the word's CRC decides. */
    return rc == 0 || rc == H7F_E_SNECCERR ? 0 : UR_E_UNREADABLE;
}

/* A vector table at base of an image ending at end: SP in RAM, a Thumb
 * reset vector inside the image past the two words. */
static bool vectors_ok(uint32_t sp, uint32_t pc, uint32_t base, uint32_t end)
{
    return boot_sp_ok(sp) && (pc & 1u) && (pc & ~1u) >= base + 8u && (pc & ~1u) < end;
}

static int check_image(struct ab_ctx *c, struct ab_slot *s)
{
    const struct ab_word *im = &s->t.image;
    uint8_t vec[8];
    uint32_t crc, end = BOOT_AB_SLOT_START + im->length;
    int rc;

    if (s->t.state == AB_SLOT_EMPTY)
        return BOOT_E_NO_IMAGE;
    if (im->length < sizeof(vec) || im->length > BOOT_AB_IMAGE_MAX)
        return BOOT_E_NO_IMAGE;
    rc = h7f_crc_unit(&c->fl_trailer, s->base, CRC32_H7FLASH_SPAN(im->length), &crc);
    if (rc)
        return rc;
    if (crc != im->crc_unit)
        return BOOT_E_IMAGE_CRC;
    rc = h7f_read(&c->fl_trailer, s->base, vec, sizeof(vec), NULL);
    if (rc)
        return rc;
    /* Where it will run: the slot mapped at 0x08020000. */
    s->sp = ur_get32(vec);
    s->entry = ur_get32(vec + 4);
    if (!vectors_ok(s->sp, s->entry, BOOT_AB_SLOT_START, end))
        return BOOT_E_VECTORS;
    /* The CM4's table counts only inside the verified image. */
    if (end >= BOOT_AB_CM4_VECTORS + 8u &&
        h7f_read(&c->fl_trailer, s->base + (BOOT_AB_CM4_VECTORS - BOOT_AB_SLOT_START), vec,
                 sizeof(vec), NULL) == 0)
        s->cm4_valid = vectors_ok(ur_get32(vec), ur_get32(vec + 4), BOOT_AB_CM4_VECTORS, end);
    return 0;
}

void ab_slot_load(struct ab_ctx *c, uint32_t base, struct ab_slot *s)
{
    struct trailer_rd rd = { c, base };

    memset(s, 0, sizeof(*s));
    s->base = base;
    ab_trailer_scan(read_word, &rd, &s->t);
    s->check = check_image(c, s);
}

void ab_slot_view(const struct ab_slot *s, struct ab_view *v)
{
    v->state = s->t.state;
    v->image_ok = s->check == 0;
    v->seq = s->t.image.sequence;
    v->trials = s->t.trials;
}

static int put_word(struct ab_ctx *c, uint32_t base, uint32_t i, const struct ab_word *w)
{
    uint8_t buf[AB_WORD_SIZE];
    int rc;

    ab_word_encode(w, buf);
    rc = h7f_program_word(&c->fl_trailer, trailer_word(base, i), buf);
    return rc ? rc : 0;
}

static struct ab_word mark(uint8_t kind, uint16_t index, uint32_t seq)
{
    struct ab_word w = { kind, index, seq, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu };

    return w;
}

/* ---- the update -------------------------------------------------------- */

int ab_update_begin(struct ab_ctx *c, uint32_t len)
{
    struct ab_slot run, other;
    uint32_t seq = 0;
    int rc;

    c->open = false;
    if (len == 0 || len > BOOT_AB_IMAGE_MAX)
        return BOOT_E_TOO_BIG;
    ab_slot_load(c, BOOT_AB_SLOT_START, &run);
    ab_slot_load(c, BOOT_AB_OTHER_START, &other);
    if (run.t.state != AB_SLOT_EMPTY)
        seq = run.t.image.sequence;
    if (other.t.state != AB_SLOT_EMPTY && (seq == 0 || ab_seq_newer(other.t.image.sequence, seq)))
        seq = other.t.image.sequence;
    /* The trailer first: from here on the other slot is empty. */
    rc = h7f_erase_sector(&c->fl_other, BOOT_AB_OTHER_START + BOOT_AB_SLOT_SIZE - H7_SECTOR_SIZE);
    if (rc)
        return rc;
    rc = h7f_writer_open(&c->w, &c->fl_other, BOOT_AB_OTHER_START, len, H7F_WR_VERIFY_UNIT);
    if (rc)
        return rc;
    c->open = true;
    c->len = len;
    c->seq = seq + 1u;
    return 0;
}

int ab_update_write(struct ab_ctx *c, const void *p, size_t n)
{
    int rc;

    if (!c->open)
        return BOOT_E_TRANSFER;
    rc = h7f_writer_write(&c->w, p, n);
    if (rc) {
        c->open = false;
        return rc;
    }
    return 0;
}

int ab_update_commit(struct ab_ctx *c)
{
    const struct h7f_writer_report *rep = h7f_writer_report(&c->w);
    struct ab_word im;
    int rc;

    if (!c->open)
        return BOOT_E_TRANSFER;
    c->open = false;
    if (rep->bytes != c->len)
        return BOOT_E_INCOMPLETE;
    /* The flash CRC unit over the bytes sent, then erased flash up to the
     * end of the last burst, against the words programmed. */
    rc = h7f_writer_finish(&c->w);
    if (rc == H7F_E_VERIFY)
        return BOOT_E_VERIFY;
    if (rc)
        return rc;
    im = mark(AB_KIND_IMAGE, 0, c->seq);
    im.length = c->len;
    im.crc = rep->crc;
    im.crc_unit = rep->crc_unit;
    rc = put_word(c, BOOT_AB_OTHER_START, AB_W_IMAGE, &im);
    if (rc)
        return rc;
    return ab_swap(c);
}

/* 0 and *same when both sectors 0 read the same through the CRC unit; an
 * unreadable copy in the other bank counts as different. */
static int copies_equal(struct ab_ctx *c, bool *same)
{
    uint32_t run, other;
    int rc = h7f_crc_unit(&c->fl_copy, BOOT_CODE_BASE, c->boot_len, &run);

    if (rc)
        return rc;
    *same = h7f_crc_unit(&c->fl_copy, BOOT_CODE_BASE + H7_BANK_SIZE, c->boot_len, &other) == 0 &&
            other == run;
    return 0;
}

int ab_boot_copy(struct ab_ctx *c)
{
    uint8_t w[H7_FLASH_WORD];
    bool same;
    int rc = copies_equal(c, &same);

    if (rc || same)
        return rc;
    rc = h7f_erase_sector(&c->fl_copy, BOOT_CODE_BASE + H7_BANK_SIZE);
    for (uint32_t off = 0; rc == 0 && off < c->boot_len; off += H7_FLASH_WORD) {
        rc = h7f_read(&c->fl_copy, BOOT_CODE_BASE + off, w, sizeof(w), NULL);
        if (rc == 0 && !ur_is_empty(w))
            rc = h7f_program_word(&c->fl_copy, BOOT_CODE_BASE + H7_BANK_SIZE + off, w);
    }
    if (rc == 0)
        rc = copies_equal(c, &same);
    if (rc == 0 && !same)
        rc = BOOT_E_VERIFY;
    return rc;
}

int ab_swap(struct ab_ctx *c)
{
    struct h7f_options o;
    bool want;
    int rc = ab_boot_copy(c);

    if (rc)
        return rc;
    rc = h7f_opt_read(&c->fl_trailer, &o);
    if (rc)
        return rc;
    want = !o.swap_bank;
    if (((o.optsr & FLASH_OPTSR_SWAP_BANK_OPT) != 0) == want)
        return 0;
    return h7f_opt_set_swap(&c->fl_trailer, want);
}

/* ---- boot and confirm -------------------------------------------------- */

void ab_boot(struct ab_ctx *c, bool wdg_reset, struct ab_boot_result *r)
{
    struct ab_slot run, other;
    struct ab_view vr, vo;

    memset(r, 0, sizeof(*r));
    for (;;) {
        ab_slot_load(c, BOOT_AB_SLOT_START, &run);
        ab_slot_load(c, BOOT_AB_OTHER_START, &other);
        ab_slot_view(&run, &vr);
        ab_slot_view(&other, &vo);
        r->act = ab_decide(&vr, &vo, wdg_reset);
        r->steps++;
        switch (r->act) {
        case AB_ACT_TRIAL: {
            struct ab_word w = mark(AB_KIND_TRIAL, (uint16_t)run.t.trials, vr.seq);

            r->err = put_word(c, BOOT_AB_SLOT_START, AB_W_TRIAL0 + run.t.trials, &w);
            break;
        }
        case AB_ACT_REJECT: {
            struct ab_word w = mark(AB_KIND_REJECT, 0, vr.seq);

            r->err = put_word(c, BOOT_AB_SLOT_START, AB_W_REJECT, &w);
            if (r->err == 0 && r->steps < 4u)
                continue;
            break;
        }
        case AB_ACT_SWAP: r->err = ab_swap(c); break;
        default: break;
        }
        break;
    }
    if (r->err)
        r->act = AB_ACT_STAY;
    if (r->act == AB_ACT_BOOT || r->act == AB_ACT_TRIAL) {
        r->entry = run.entry;
        r->sp = run.sp;
        /* The CM4 starts with a confirmed image only, from the running
         * slot's table (its boot address set to it first). */
        r->release_cm4 = r->act == AB_ACT_BOOT && run.cm4_valid &&
                         h7f_opt_set_boot_cm4(&c->fl_trailer, BOOT_AB_CM4_VECTORS) == 0;
    }
}

int ab_confirm(struct ab_ctx *c)
{
    struct ab_slot run;
    struct ab_word w;

    ab_slot_load(c, BOOT_AB_SLOT_START, &run);
    if (run.t.state == AB_SLOT_CONFIRMED)
        return 0;
    if (run.t.state != AB_SLOT_TRIAL || run.check != 0)
        return BOOT_E_NO_IMAGE;
    if (run.t.confirms >= AB_CONFIRMS)
        return BOOT_E_LOG;
    w = mark(AB_KIND_CONFIRM, 0, run.t.image.sequence);
    return put_word(c, BOOT_AB_SLOT_START, AB_W_CONFIRM0 + run.t.confirms, &w);
}
