#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "ymodem.h"

static void push_block(struct fser *s, struct ysend *y, bool again)
{
    if (!again) {
        uint32_t n = y->len - y->off;
        size_t blen = (y->use128 || n <= 128) ? 128 : 1024;

        if (n > blen)
            n = (uint32_t)blen;
        y->flen = (size_t)ym_block_encode(y->seq, y->data + y->off, n, blen, YM_CPMEOF, y->frame);
        y->blocks++;
        if (y->noise_before == y->blocks) {
            static const uint8_t noise[] = { 0x55, 0x00, 0xFF, 0x13, 0x80 };
            fser_push(s, noise, sizeof(noise));
        }
    } else {
        y->resends++;
    }
    if (y->corrupt_block == y->blocks && !y->corrupted) {
        uint8_t bad[1029];

        memcpy(bad, y->frame, y->flen);
        bad[10] ^= 0x20;
        y->corrupted = true;
        fser_push(s, bad, y->flen);
    } else {
        fser_push(s, y->frame, y->flen);
    }
}

static void push_header(struct fser *s, struct ysend *y, bool end)
{
    uint8_t d[128];

    if (end)
        ym_header_encode(NULL, 0, d, 128);
    else if (y->no_size) {
        memset(d, 0, sizeof(d));
        memcpy(d, "app.bin", 8);
    } else
        ym_header_encode("app.bin", y->announce, d, 128);
    y->flen = (size_t)ym_block_encode(0, d, 128, 128, 0, y->frame);
    fser_push(s, y->frame, y->flen);
}

void ysend_peer(struct fser *s)
{
    struct ysend *y = s->peer_ctx;
    int b;

    while (!y->done && y->st != 10 && (b = fser_next(s)) >= 0) {
        if (b == YM_CAN) {
            y->done = y->cancelled = true;
            return;
        }
        switch (y->st) {
        case 0: /* waiting for 'C' */
            if (b == YM_CRC) {
                push_header(s, y, false);
                y->st = 1;
                return;
            }
            break;
        case 1: /* header ACK */
            if (b == YM_ACK)
                y->st = 2;
            else if (b == YM_CRC || b == YM_NAK) {
                push_header(s, y, false);
                return;
            }
            break;
        case 2:
            if (b == YM_CRC) {
                y->seq = 1;
                y->off = 0;
                push_block(s, y, false);
                y->st = y->stop_after == y->blocks ? 10 : 3;
                return;
            }
            break;
        case 3: /* data ACK */
            if (b == YM_ACK) {
                if (y->drop_ack_block == y->blocks && !y->dropped) {
                    y->dropped = true;
                    push_block(s, y, true);
                    return;
                }
                if (y->can_after == y->blocks) {
                    static const uint8_t can[2] = { YM_CAN, YM_CAN };
                    fser_push(s, can, 2);
                    y->done = y->cancelled = true;
                    return;
                }
                y->off += y->flen - 5 < y->len - y->off ? (uint32_t)(y->flen - 5) : y->len - y->off;
                y->seq++;
                if (y->off >= y->len) {
                    uint8_t e = YM_EOT;
                    fser_push(s, &e, 1);
                    y->st = 4;
                } else {
                    push_block(s, y, false);
                    if (y->stop_after == y->blocks)
                        y->st = 10;
                }
                return;
            }
            if (b == YM_NAK) {
                push_block(s, y, true);
                return;
            }
            break;
        case 4: /* EOT ACK */
            if (b == YM_ACK)
                y->st = 5;
            else if (b == YM_NAK) {
                uint8_t e = YM_EOT;
                fser_push(s, &e, 1);
                return;
            }
            break;
        case 5:
            if (b == YM_CRC) {
                push_header(s, y, true);
                y->st = 6;
                return;
            }
            break;
        case 6:
            if (b == YM_ACK) {
                y->done = true;
                return;
            }
            break;
        }
    }
}

void yrecv_peer(struct fser *s)
{
    struct yrecv *y = s->peer_ctx;
    int b;

    if (y->st == 0) {
        uint8_t c = YM_CRC;
        fser_push(s, &c, 1);
        y->st = 1;
        return;
    }
    while (!y->done && (b = fser_next(s)) >= 0) {
        if (b == YM_CAN) {
            y->done = y->cancelled = true;
            return;
        }
        if (b == YM_EOT) {
            uint8_t r[2] = { YM_ACK, YM_CRC };
            fser_push(s, r, 2);
            y->st = 3;
            return;
        }
        if (b != YM_SOH && b != YM_STX)
            continue;
        size_t blen = ym_block_len((uint8_t)b);
        y->pending[0] = (uint8_t)b;
        for (size_t i = 1; i < blen + 5; i++) {
            int v = fser_next(s);
            assert_true(v >= 0);
            y->pending[i] = (uint8_t)v;
        }
        assert_int_equal(ym_block_check(y->pending), YM_OK);
        if (y->st == 1) {
            struct ym_header h;
            assert_int_equal(ym_header_parse(y->pending + 3, blen, &h), YM_OK);
            strcpy(y->name, h.name);
            y->size = h.size;
            y->data = calloc(1, h.size + 1024);
            uint8_t r[2] = { YM_ACK, YM_CRC };
            fser_push(s, r, 2);
            y->st = 2;
            return;
        }
        if (y->st == 2) {
            uint8_t r;
            if (y->naks_left > 0) {
                y->naks_left--;
                r = YM_NAK;
            } else {
                memcpy(y->data + y->got, y->pending + 3, blen);
                y->got += (uint32_t)blen;
                r = YM_ACK;
            }
            fser_push(s, &r, 1);
            return;
        }
        if (y->st == 3) {
            uint8_t r = YM_ACK;
            fser_push(s, &r, 1);
            y->done = true;
            return;
        }
    }
}
