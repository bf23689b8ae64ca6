#include "ab_slot.h"

#include <string.h>

#include "crc32.h"

void ab_word_encode(const struct ab_word *w, uint8_t out[AB_WORD_SIZE])
{
    memset(out, 0xFF, AB_WORD_SIZE);
    ur_put32(out + 0, AB_MAGIC);
    out[4] = AB_VERSION;
    out[5] = w->kind;
    out[6] = (uint8_t)w->index;
    out[7] = (uint8_t)(w->index >> 8);
    ur_put32(out + 8, w->sequence);
    ur_put32(out + 12, w->length);
    ur_put32(out + 16, w->crc);
    ur_put32(out + 20, w->crc_unit);
    ur_put32(out + 28, crc32_zlib(0, out, 28));
}

static bool kind_known(uint8_t k)
{
    return k == AB_KIND_IMAGE || k == AB_KIND_TRIAL || k == AB_KIND_CONFIRM || k == AB_KIND_REJECT;
}

int ab_word_decode(const uint8_t in[AB_WORD_SIZE], struct ab_word *w)
{
    if (ur_is_empty(in))
        return UR_E_EMPTY;
    if (ur_get32(in) != AB_MAGIC)
        return UR_E_MAGIC;
    if (ur_get32(in + 28) != crc32_zlib(0, in, 28))
        return UR_E_CRC;
    if (in[4] != AB_VERSION || !kind_known(in[5]))
        return UR_E_FIELD;
    w->kind = in[5];
    w->index = (uint16_t)(in[6] | in[7] << 8);
    w->sequence = ur_get32(in + 8);
    w->length = ur_get32(in + 12);
    w->crc = ur_get32(in + 16);
    w->crc_unit = ur_get32(in + 20);
    return 0;
}

/* Word i as read: 1 empty, 0 valid with the expected kind (and, for
 * TRIAL, index), -1 anything else (torn, unreadable, foreign). */
static int word_at(ur_read_slot_fn read, void *ctx, uint32_t i, uint8_t kind, uint16_t index,
                   struct ab_word *w)
{
    uint8_t buf[AB_WORD_SIZE];

    if (read(ctx, i, buf) != 0)
        return -1;
    if (ur_is_empty(buf))
        return 1;
    if (ab_word_decode(buf, w) != 0 || w->kind != kind || w->index != index)
        return -1;
    return 0;
}

void ab_trailer_scan(ur_read_slot_fn read, void *ctx, struct ab_trailer *t)
{
    struct ab_word w;
    bool confirmed = false;
    int r;

    memset(t, 0, sizeof(*t));
    t->state = AB_SLOT_EMPTY;
    r = word_at(read, ctx, AB_W_IMAGE, AB_KIND_IMAGE, 0, &t->image);
    if (r < 0)
        t->torn |= 1u << AB_W_IMAGE;
    if (r != 0)
        return;
    for (unsigned i = 0; i < AB_TRIALS; i++) {
        r = word_at(read, ctx, AB_W_TRIAL0 + i, AB_KIND_TRIAL, (uint16_t)i, &w);
        if (r == 1)
            break; /* trials are used in order */
        if (r < 0 || w.sequence != t->image.sequence)
            t->torn |= 1u << (AB_W_TRIAL0 + i);
        t->trials = i + 1u;
    }
    for (unsigned i = 0; i < AB_CONFIRMS; i++) {
        r = word_at(read, ctx, AB_W_CONFIRM0 + i, AB_KIND_CONFIRM, 0, &w);
        if (r == 1)
            break;
        t->confirms = i + 1u;
        if (r == 0 && w.sequence == t->image.sequence)
            confirmed = true;
        else
            t->torn |= 1u << (AB_W_CONFIRM0 + i);
    }
    r = word_at(read, ctx, AB_W_REJECT, AB_KIND_REJECT, 0, &w);
    t->reject_used = r != 1;
    if (r < 0 || (r == 0 && w.sequence != t->image.sequence))
        t->torn |= 1u << AB_W_REJECT;
    if (t->reject_used)
        t->state = AB_SLOT_REJECTED;
    else if (confirmed)
        t->state = AB_SLOT_CONFIRMED;
    else
        t->state = AB_SLOT_TRIAL;
}

const char *ab_slot_state_name(enum ab_slot_state s)
{
    switch (s) {
    case AB_SLOT_EMPTY: return "empty";
    case AB_SLOT_TRIAL: return "trial";
    case AB_SLOT_CONFIRMED: return "confirmed";
    case AB_SLOT_REJECTED: return "rejected";
    default: return "?";
    }
}
