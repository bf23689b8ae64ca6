#include "update_record.h"

#include <string.h>

#include "crc32.h"

void ur_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t ur_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ur_encode(const struct ur_record *r, uint8_t out[UR_SIZE])
{
    ur_encode_ext(r, NULL, out);
}

void ur_encode_ext(const struct ur_record *r, const struct ur_ext *x, uint8_t out[UR_SIZE])
{
    memset(out, 0xFF, UR_SIZE);
    ur_put32(out + 0, UR_MAGIC);
    out[4] = r->version ? r->version : UR_VERSION;
    out[5] = r->state;
    if (x) {
        out[6] = (uint8_t)x->flags;
        out[7] = (uint8_t)(x->flags >> 8);
        ur_put32(out + 24, x->extra);
    }
    ur_put32(out + 8, r->sequence);
    ur_put32(out + 12, r->start);
    ur_put32(out + 16, r->length);
    ur_put32(out + 20, r->image_crc);
    ur_put32(out + 28, crc32_zlib(0, out, 28));
}

bool ur_is_empty(const uint8_t in[UR_SIZE])
{
    for (unsigned i = 0; i < UR_SIZE; i++)
        if (in[i] != 0xFFu)
            return false;
    return true;
}

const char *ur_strerror(int err)
{
    switch (err) {
    case UR_OK: return "ok";
    case UR_E_EMPTY: return "record slot empty";
    case UR_E_MAGIC: return "record magic mismatch";
    case UR_E_CRC: return "record CRC mismatch";
    case UR_E_FIELD: return "record version or state unknown";
    case UR_E_UNREADABLE: return "record slot unreadable";
    default: return "unknown record error";
    }
}

int ur_decode(const uint8_t in[UR_SIZE], struct ur_record *r)
{
    return ur_decode_ext(in, r, NULL);
}

int ur_decode_ext(const uint8_t in[UR_SIZE], struct ur_record *r, struct ur_ext *x)
{
    if (ur_is_empty(in))
        return UR_E_EMPTY;
    if (ur_get32(in) != UR_MAGIC)
        return UR_E_MAGIC;
    if (ur_get32(in + 28) != crc32_zlib(0, in, 28))
        return UR_E_CRC;
    if ((in[4] != UR_VERSION && in[4] != UR_VERSION_1) ||
        (in[5] != UR_STATE_STARTED && in[5] != UR_STATE_COMPLETE && in[5] != UR_STATE_PROGRESS))
        return UR_E_FIELD;
    if (x) {
        x->flags = (uint16_t)(in[6] | in[7] << 8);
        x->extra = ur_get32(in + 24);
    }
    r->version = in[4];
    r->state = in[5];
    r->sequence = ur_get32(in + 8);
    r->start = ur_get32(in + 12);
    r->length = ur_get32(in + 16);
    r->image_crc = ur_get32(in + 20);
    return UR_OK;
}

void ur_scan_log(ur_read_slot_fn read, void *ctx, uint32_t slots, struct ur_scan *s)
{
    uint8_t buf[UR_SIZE];
    struct ur_record r;

    memset(s, 0, sizeof(*s));
    s->slots = slots;
    for (uint32_t i = 0; i < slots; i++) {
        int rc = read(ctx, i, buf);

        if (rc == 0 && ur_is_empty(buf))
            continue;
        s->next_free = i + 1;
        if (rc != 0 || ur_decode(buf, &r) != UR_OK) {
            s->torn++;
            continue;
        }
        s->valid++;
        s->have_newest = true;
        s->newest_slot = i;
        s->newest = r;
        if (r.sequence > s->max_sequence)
            s->max_sequence = r.sequence;
    }
}

/* *empty: the slot is erased (an unreadable one is not). 0 or the read's
 * error. */
static int slot_empty(ur_read_slot_fn read, void *ctx, uint32_t slot, uint8_t buf[UR_SIZE],
                      bool *empty)
{
    int rc = read(ctx, slot, buf);

    if (rc == UR_E_UNREADABLE) {
        memset(buf, 0, UR_SIZE);
        *empty = false;
        return 0;
    }
    if (rc)
        return rc;
    *empty = ur_is_empty(buf);
    return 0;
}

int ur_find_newest(ur_read_slot_fn read, void *ctx, uint32_t slots, struct ur_newest *n)
{
    uint8_t buf[UR_SIZE];
    uint32_t lo, hi = slots; /* the first empty slot is in [lo, hi] */
    bool empty = true;
    int rc;

    memset(n, 0, sizeof(*n));
    n->slots = slots;
    if (slots && (rc = slot_empty(read, ctx, 0, buf, &empty)))
        return rc;
    if (empty) {
        n->state = UR_NEWEST_EMPTY;
        return 0;
    }
    lo = 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if ((rc = slot_empty(read, ctx, mid, buf, &empty)))
            return rc;
        if (empty)
            hi = mid;
        else
            lo = mid + 1;
    }
    n->used = lo;
    for (uint32_t s = lo; s-- > 0 && lo - s <= UR_NEWEST_BACK;) {
        if ((rc = slot_empty(read, ctx, s, buf, &empty)))
            return rc;
        if (ur_decode(buf, &n->rec) != UR_OK)
            continue;
        n->state = UR_NEWEST_RECORD;
        n->slot = s;
        return 0;
    }
    memset(&n->rec, 0, sizeof(n->rec));
    n->state = UR_NEWEST_NO_VALID;
    return 0;
}
