/*
 * YMODEM receiver (menu 1) and sender (menu 2). Fixes over ST's IAP example
 * (docs/PRIOR_ART.md 1): the size is checked before anything is erased, a
 * repeated block after a lost ACK is ACKed, the error limit ends the
 * session, every flash error cancels the transfer, the last flash word is
 * reachable, and the image is only marked COMPLETE after a CRC-32 read back
 * from flash matches the received bytes.
 */
#include <string.h>

#include "boot/boot.h"
#include "ymodem.h"

#define YM_WAIT_C_MS    1000u /* 'C' period while waiting for a sender */
#define YM_WAIT_C_TRIES 60u
#define YM_BYTE_MS      1000u /* between bytes of one block */
#define YM_BLOCK_MS     5000u /* between blocks */
#define YM_MAX_ERRORS   10u
#define YM_PURGE_MS     200u

static uint8_t ym_frame[YM_FRAME_MAX];

/* The next byte within ms. Meanwhile the staged download's words are
 * programmed a step at a time, the line looked at between steps; waiting
 * for an erase counts towards ms, programming does not. */
static int rx(struct boot_ctx *c, uint32_t ms)
{
    boot_port_idle();
    for (;;) {
        int w = boot_update_step(c), b;

        /* Nothing staged, or the transfer failed: the next write or the
         * commit returns that error. */
        if (w <= 0)
            return c->ser->getc(c->ser->ctx, ms);
        b = c->ser->getc(c->ser->ctx, w == 2 ? 0u : 1u);
        if (b != BOOT_SER_TIMEOUT)
            return b;
        if (w == 1) {
            if (ms <= 1u)
                return BOOT_SER_TIMEOUT;
            ms -= 1u;
        }
        boot_port_idle();
    }
}

static void tx1(struct boot_ctx *c, uint8_t b)
{
    c->ser->write(c->ser->ctx, &b, 1);
}

/* Drop input until the line has been quiet for YM_PURGE_MS. */
static void purge(struct boot_ctx *c)
{
    while (rx(c, YM_PURGE_MS) != BOOT_SER_TIMEOUT)
        ;
}

static void cancel(struct boot_ctx *c)
{
    static const uint8_t can[5] = { YM_CAN, YM_CAN, YM_CAN, YM_CAN, YM_CAN };

    c->ser->write(c->ser->ctx, can, sizeof(can));
    c->ser->drain(c->ser->ctx);
    purge(c);
}

/*
 * Read the rest of a block whose start byte is frame[0]. 0, or -1 on a
 * timeout or a line error (the caller purges and NAKs).
 */
static int read_block(struct boot_ctx *c)
{
    size_t n = ym_block_len(ym_frame[0]) + YM_OVERHEAD - 1u;
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        int b = rx(c, YM_BYTE_MS);

        if (b == BOOT_SER_TIMEOUT)
            return -1;
        if (b & BOOT_SER_ERRMASK)
            bad = 1;
        ym_frame[1 + i] = (uint8_t)b;
    }
    return bad ? -1 : 0;
}

/*
 * What the line brings next, between blocks: the receiver's phases react
 * to these. A block is read whole and checked here; a bad one has been
 * purged already (the caller NAKs it or asks for it again).
 */
enum rx_event {
    EV_TIMEOUT,   /* nothing within the phase's timeout */
    EV_CANCEL,    /* CAN CAN from the sender (input purged) */
    EV_ABORT_KEY, /* 'a' / 'A': the user aborts (header phase only) */
    EV_EOT,       /* a clean EOT */
    EV_BLOCK,     /* a good block in ym_frame */
    EV_BAD_BLOCK, /* CRC, sequence complement, line error, byte timeout */
    EV_NOISE,     /* anything else (a lone CAN included): ignored */
};

static enum rx_event next_event(struct boot_ctx *c, uint32_t ms)
{
    int b = rx(c, ms);
    uint8_t ch;

    if (b == BOOT_SER_TIMEOUT)
        return EV_TIMEOUT;
    ch = (uint8_t)b;
    if (ch == YM_CAN) {
        if ((rx(c, YM_BYTE_MS) & 0xFF) != YM_CAN)
            return EV_NOISE;
        purge(c);
        return EV_CANCEL;
    }
    if (ch == 'a' || ch == 'A')
        return EV_ABORT_KEY;
    if (ch == YM_EOT)
        return (b & BOOT_SER_ERRMASK) ? EV_NOISE : EV_EOT;
    if (ch != YM_SOH && ch != YM_STX)
        return EV_NOISE;
    ym_frame[0] = ch;
    if (read_block(c) != 0 || (b & BOOT_SER_ERRMASK) || ym_block_check(ym_frame) != YM_OK) {
        purge(c);
        return EV_BAD_BLOCK;
    }
    return EV_BLOCK;
}

/* A bad block or a silence: the sender is asked again with reply, or,
 * past limit in a row, the session ends (CAN x5): false. */
static bool ask_again(struct boot_ctx *c, uint32_t *count, uint32_t limit, uint8_t reply)
{
    if (++*count > limit) {
        cancel(c);
        return false;
    }
    tx1(c, reply);
    return true;
}

/* How a phase of the receiver treats the line between its blocks. */
struct rx_phase {
    uint32_t wait_ms;    /* for the next block */
    uint32_t max_silent; /* silences in a row before the session ends */
    uint8_t again;       /* reply to a silence or a bad block: NAK for
				   a data block, 'C' while a header is due */
    bool abort_key;      /* 'a' aborts */
    int silent;          /* result when the sender stays silent */
    int cancelled;       /* result of CAN CAN */
};

#define RX_EVENT 1

/*
 * Wait for a phase's next good block (in ym_frame) or EOT: RX_EVENT with
 * *ev, or the phase's result (silence, CAN CAN, the abort key, too many
 * bad blocks). Silences count in *silent, bad blocks in *bad: the same
 * counter but in the header phase, which waits 60 s for a sender.
 */
static int rx_next(struct boot_ctx *c, const struct rx_phase *ph, uint32_t *silent, uint32_t *bad,
                   enum rx_event *ev)
{
    for (;;) {
        *ev = next_event(c, ph->wait_ms);
        switch (*ev) {
        case EV_TIMEOUT:
            if (!ask_again(c, silent, ph->max_silent, ph->again))
                return ph->silent;
            continue;
        case EV_BAD_BLOCK:
            if (!ask_again(c, bad, YM_MAX_ERRORS, ph->again))
                return BOOT_E_PROTOCOL;
            continue;
        case EV_CANCEL: return ph->cancelled;
        case EV_ABORT_KEY:
            if (!ph->abort_key)
                continue;
            cancel(c);
            return BOOT_E_CANCELLED;
        case EV_NOISE: continue;
        case EV_EOT:
        case EV_BLOCK: return RX_EVENT;
        }
    }
}

static const struct rx_phase ph_header = {
    YM_WAIT_C_MS, YM_WAIT_C_TRIES, YM_CRC, true, BOOT_E_TIMEOUT, BOOT_E_CANCELLED,
};
static const struct rx_phase ph_data = {
    YM_BLOCK_MS, YM_MAX_ERRORS, YM_NAK, false, BOOT_E_TIMEOUT, BOOT_E_CANCELLED,
};
/* The file is committed: silence or CAN CAN end the batch as it is. */
static const struct rx_phase ph_end = {
    YM_WAIT_C_MS, YM_MAX_ERRORS, YM_CRC, false, 0, 0,
};

/* The end of a header or of the data: rc ends the session (CAN x5), else
 * ACK and 'C' ask for what follows (the data, the end-of-batch header). */
static int ack_next(struct boot_ctx *c, int rc)
{
    if (rc) {
        cancel(c);
        return rc;
    }
    tx1(c, YM_ACK);
    tx1(c, YM_CRC);
    return 0;
}

/* The good block in ym_frame as a header (block 0): 0, or the session
 * ends (CAN x5) when it is not one. */
static int header_block(struct boot_ctx *c, struct ym_header *h)
{
    if (ym_frame[1] != 0 || ym_header_parse(ym_frame + 3, ym_block_len(ym_frame[0]), h) != YM_OK) {
        cancel(c);
        return BOOT_E_PROTOCOL;
    }
    return 0;
}

/*
 * Phase 1, block 0: 'C' every second until the sender's header names a
 * file with a size that fits; the transfer is opened (nothing erased
 * before). 0 with *size, or why not.
 */
static int rx_header(struct boot_ctx *c, uint32_t *size)
{
    uint32_t tries = 0, errors = 0;
    enum rx_event ev;
    struct ym_header h;
    int rc;

    tx1(c, YM_CRC);
    do {
        rc = rx_next(c, &ph_header, &tries, &errors, &ev);
        if (rc != RX_EVENT)
            return rc;
    } while (ev != EV_BLOCK); /* an EOT before any file: ignored */
    rc = header_block(c, &h);
    if (rc)
        return rc;
    if (h.end_of_batch) {
        tx1(c, YM_ACK);
        return BOOT_E_CANCELLED;
    }
    if (!h.has_size) {
        cancel(c);
        return BOOT_E_NOSIZE;
    }
    if (h.size == 0 || h.size > BOOT_APP_SIZE) {
        /* Refused before anything is erased. */
        cancel(c);
        return h.size ? BOOT_E_TOO_BIG : BOOT_E_INCOMPLETE;
    }
    *size = h.size;
    return ack_next(c, boot_update_new_transfer(c, h.size));
}

/* Phase 3, EOT after the data: every announced byte arrived, the image
 * read back from flash matches (COMPLETE record), then the EOT is ACKed. */
static int rx_eot(struct boot_ctx *c, uint32_t got, uint32_t size)
{
    return ack_next(c, got < size ? BOOT_E_INCOMPLETE : boot_update_commit(c));
}

/*
 * Phase 2, data blocks 1, 2, ... (sequence numbers wrap past 255) until
 * the EOT: each written once, a repeat (its ACK was lost) ACKed again,
 * the padding past size dropped.
 */
static int rx_data(struct boot_ctx *c, uint32_t size)
{
    uint32_t got = 0, errors = 0;
    uint8_t expect = 1;
    enum rx_event ev;
    int rc;

    for (;;) {
        uint8_t seq;
        uint32_t n;

        rc = rx_next(c, &ph_data, &errors, &errors, &ev);
        if (rc != RX_EVENT)
            return rc;
        if (ev == EV_EOT)
            return rx_eot(c, got, size);
        errors = 0;
        seq = ym_frame[1];
        if (seq == (uint8_t)(expect - 1u)) {
            /* Repeat of the last block (its ACK was lost):
			 * acknowledge, do not write again. */
            tx1(c, YM_ACK);
            if (expect == 1)
                tx1(c, YM_CRC);
            continue;
        }
        if (seq != expect) {
            cancel(c);
            return BOOT_E_PROTOCOL;
        }
        n = (uint32_t)ym_block_len(ym_frame[0]);
        if (n > size - got)
            n = size - got;
        if (n) {
            rc = boot_update_write(c, BOOT_APP_START + got, ym_frame + 3, n);
            if (rc) {
                cancel(c);
                return rc;
            }
            got += n;
        }
        expect++;
        tx1(c, YM_ACK);
    }
}

/*
 * Phase 4, end of batch: the sender's empty header ends the session (a
 * second file is refused: one file per session).
 */
static int rx_end(struct boot_ctx *c)
{
    uint32_t errors = 0;
    enum rx_event ev;
    struct ym_header h;
    int rc;

    for (;;) {
        rc = rx_next(c, &ph_end, &errors, &errors, &ev);
        if (rc != RX_EVENT)
            return rc;
        if (ev == EV_BLOCK)
            break;
        /* An EOT again: our ACK of it was lost. */
        tx1(c, YM_ACK);
    }
    rc = header_block(c, &h);
    if (rc)
        return rc;
    tx1(c, h.end_of_batch ? YM_ACK : YM_CAN);
    if (!h.end_of_batch)
        cancel(c);
    return 0;
}

static int receive(struct boot_ctx *c, uint32_t *len_out)
{
    uint32_t size = 0;
    int rc;

    *len_out = 0;
    rc = rx_header(c, &size);
    if (rc == 0)
        rc = rx_data(c, size);
    if (rc == 0)
        rc = rx_end(c);
    if (rc == 0)
        *len_out = size;
    return rc;
}

int boot_ymodem_receive(struct boot_ctx *c, uint32_t *len_out)
{
    int rc;

    /* A transfer left by an earlier download or AN3155 session is
	 * dropped; so is this one when it fails: it can never commit. */
    boot_update_abandon(c);
    rc = receive(c, len_out);
    if (rc)
        boot_update_abandon(c);
    return rc;
}

/* ---- sender ---- */

/* Wait for one of the receiver's answers; CAN CAN gives YM_CAN. */
static int wait_reply(struct boot_ctx *c, uint32_t ms)
{
    for (;;) {
        int b = rx(c, ms);

        if (b == BOOT_SER_TIMEOUT)
            return b;
        b &= 0xFF;
        if (b == YM_CAN) {
            if ((rx(c, YM_BYTE_MS) & 0xFF) == YM_CAN)
                return YM_CAN;
            continue;
        }
        if (b == YM_ACK || b == YM_NAK || b == YM_CRC)
            return b;
        if (b == 'a' || b == 'A')
            return YM_CAN;
    }
}

static int send_block(struct boot_ctx *c, size_t flen)
{
    for (unsigned tries = 0; tries < YM_MAX_ERRORS; tries++) {
        int r;

        c->ser->write(c->ser->ctx, ym_frame, flen);
        r = wait_reply(c, 10000u);
        if (r == YM_ACK)
            return 0;
        if (r == YM_CAN)
            return BOOT_E_CANCELLED;
    }
    return BOOT_E_PROTOCOL;
}

static int wait_c(struct boot_ctx *c, unsigned tries)
{
    while (tries--) {
        int r = wait_reply(c, YM_WAIT_C_MS);

        if (r == YM_CRC)
            return 0;
        if (r == YM_CAN)
            return BOOT_E_CANCELLED;
    }
    return BOOT_E_TIMEOUT;
}

int boot_ymodem_send(struct boot_ctx *c)
{
    struct boot_app_info info;
    uint8_t hdr[YM_BLOCK_128];
    uint32_t off = 0, len;
    uint8_t seq = 1;
    int rc;

    boot_app_check(c, &info);
    if (!info.have_rec || info.rec.state != UR_STATE_COMPLETE)
        return info.status ? info.status : BOOT_E_NO_IMAGE;
    /* CRC mismatch, unreadable flash, or a check of the bootloader's. */
    if (info.status == BOOT_E_IMAGE_CRC || boot_err_is_flash(info.status) ||
        info.status <= BOOT_ERR_BASE)
        return info.status;
    len = info.rec.length;
    rc = wait_c(c, YM_WAIT_C_TRIES);
    if (rc)
        goto fail;
    ym_header_encode("h7app.bin", len, hdr, sizeof(hdr));
    ym_block_encode(0, hdr, sizeof(hdr), YM_BLOCK_128, 0, ym_frame);
    rc = send_block(c, YM_BLOCK_128 + YM_OVERHEAD);
    if (rc)
        goto fail;
    rc = wait_c(c, 10);
    if (rc)
        goto fail;
    while (off < len) {
        uint32_t n = len - off;
        size_t blen = n <= YM_BLOCK_128 ? YM_BLOCK_128 : YM_BLOCK_1K;

        if (n > blen)
            n = (uint32_t)blen;
        rc = h7f_read(&c->fl_app, BOOT_APP_START + off, ym_frame + 3, n, NULL);
        if (rc) {
            (void)boot_fail(c, rc, BOOT_APP_START + off);
            goto fail;
        }
        ym_block_encode(seq, ym_frame + 3, n, blen, YM_CPMEOF, ym_frame);
        rc = send_block(c, blen + YM_OVERHEAD);
        if (rc)
            goto fail;
        off += n;
        seq++;
    }
    for (unsigned tries = 0;; tries++) {
        int r;

        if (tries >= YM_MAX_ERRORS) {
            rc = BOOT_E_PROTOCOL;
            goto fail;
        }
        tx1(c, YM_EOT);
        r = wait_reply(c, 10000u);
        if (r == YM_ACK)
            break;
        if (r == YM_CAN) {
            rc = BOOT_E_CANCELLED;
            goto fail;
        }
    }
    /* End of batch: wait for the receiver's 'C' (lrzsz rb drops its
	 * input before asking), then the empty header. The file is complete
	 * whatever happens now. */
    if (wait_c(c, YM_WAIT_C_TRIES) == 0) {
        ym_header_encode(NULL, 0, hdr, sizeof(hdr));
        ym_block_encode(0, hdr, sizeof(hdr), YM_BLOCK_128, 0, ym_frame);
        for (unsigned tries = 0; tries < 5; tries++) {
            int r;

            c->ser->write(c->ser->ctx, ym_frame, YM_BLOCK_128 + YM_OVERHEAD);
            r = wait_reply(c, 2000u);
            if (r == YM_ACK || r == YM_CAN)
                break;
        }
    }
    return 0;
fail:
    if (rc != BOOT_E_CANCELLED)
        cancel(c);
    else
        purge(c);
    return rc;
}
