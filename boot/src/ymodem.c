/*
 * YMODEM receiver (menu 1) and sender (menu 2). Fixes over ST's IAP example
 * (anchors section 1): the size is checked before anything is erased, a
 * repeated block after a lost ACK is ACKed, the error limit ends the
 * session, every flash error cancels the transfer, the last flash word is
 * reachable, and the image is only marked COMPLETE after a CRC-32 read back
 * from flash matches the received bytes.
 */
#include <string.h>

#include "boot/boot.h"
#include "ymodem.h"

#define YM_WAIT_C_MS      1000u  /* 'C' period while waiting for a sender */
#define YM_WAIT_C_TRIES   60u
#define YM_BYTE_MS        1000u  /* between bytes of one block */
#define YM_BLOCK_MS       5000u  /* between blocks */
#define YM_MAX_ERRORS     10u
#define YM_PURGE_MS       200u

static uint8_t ym_frame[YM_FRAME_MAX];

static int rx(struct boot_ctx *c, uint32_t ms)
{
	boot_port_idle();
	return c->ser->getc(c->ser->ctx, ms);
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

enum rx_phase { PH_HEADER, PH_DATA, PH_END };

static int receive(struct boot_ctx *c, uint32_t *len_out)
{
	enum rx_phase ph = PH_HEADER;
	uint32_t size = 0, got = 0, tries = 0, errors = 0;
	uint8_t expect = 0;
	int rc;

	*len_out = 0;
	tx1(c, YM_CRC);
	for (;;) {
		int b = rx(c, ph == PH_DATA ? YM_BLOCK_MS : YM_WAIT_C_MS);
		uint8_t ch;

		if (b == BOOT_SER_TIMEOUT) {
			if (ph == PH_HEADER) {
				if (++tries > YM_WAIT_C_TRIES) {
					cancel(c);
					return BOOT_E_TIMEOUT;
				}
				tx1(c, YM_CRC);
				continue;
			}
			if (++errors > YM_MAX_ERRORS) {
				cancel(c);
				/* The file was committed before the end header. */
				if (ph == PH_END) {
					*len_out = size;
					return 0;
				}
				return BOOT_E_TIMEOUT;
			}
			tx1(c, ph == PH_DATA ? YM_NAK : YM_CRC);
			continue;
		}
		ch = (uint8_t)b;
		if (ch == YM_CAN) {
			if ((rx(c, YM_BYTE_MS) & 0xFF) == YM_CAN) {
				purge(c);
				if (ph == PH_END) {
					*len_out = size;
					return 0;
				}
				return BOOT_E_CANCELLED;
			}
			continue;
		}
		if (ph == PH_HEADER && (ch == 'a' || ch == 'A')) {
			cancel(c);
			return BOOT_E_CANCELLED;
		}
		if (ch == YM_EOT && (b & BOOT_SER_ERRMASK) == 0) {
			if (ph == PH_END) {
				/* Our ACK of the EOT was lost. */
				tx1(c, YM_ACK);
				continue;
			}
			if (ph != PH_DATA)
				continue;
			if (got < size) {
				cancel(c);
				return BOOT_E_INCOMPLETE;
			}
			rc = boot_update_commit(c);
			if (rc) {
				cancel(c);
				return rc;
			}
			tx1(c, YM_ACK);
			tx1(c, YM_CRC);
			ph = PH_END;
			errors = 0;
			continue;
		}
		if (ch != YM_SOH && ch != YM_STX) {
			/* Line noise between blocks: ignored. */
			continue;
		}
		ym_frame[0] = ch;
		if (read_block(c) != 0 || (b & BOOT_SER_ERRMASK) || ym_block_check(ym_frame) != YM_OK) {
			purge(c);
			if (++errors > YM_MAX_ERRORS) {
				cancel(c);
				return BOOT_E_PROTOCOL;
			}
			tx1(c, ph == PH_DATA ? YM_NAK : YM_CRC);
			continue;
		}
		errors = 0;
		{
			uint8_t seq = ym_frame[1];
			size_t blen = ym_block_len(ch);
			struct ym_header h;

			if (ph == PH_HEADER || ph == PH_END) {
				if (seq != 0 || ym_header_parse(ym_frame + 3, blen, &h) != YM_OK) {
					cancel(c);
					return BOOT_E_PROTOCOL;
				}
				if (ph == PH_END) {
					tx1(c, h.end_of_batch ? YM_ACK : YM_CAN);
					if (!h.end_of_batch) {
						/* One file per session. */
						cancel(c);
					}
					*len_out = size;
					return 0;
				}
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
				rc = boot_update_new_transfer(c, h.size);
				if (rc) {
					cancel(c);
					return rc;
				}
				size = h.size;
				ph = PH_DATA;
				expect = 1;
				tx1(c, YM_ACK);
				tx1(c, YM_CRC);
				continue;
			}
			/* PH_DATA */
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
			if (got < size) {
				uint32_t n = size - got < blen ? size - got : (uint32_t)blen;

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
