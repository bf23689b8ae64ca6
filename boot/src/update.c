/*
 * Update engine: the only code that writes flash. Application bytes go
 * through one h7flash streaming writer per transfer (c->w): it owns the
 * partial flash word, turns writes of any length and alignment
 * (stm32flash's 232-byte tails, YMODEM's trimmed last block) into whole
 * 32-byte flash words programmed once each, and moves forward only, so a
 * byte or a word is never written twice (docs/PROTOCOL.md "Write path").
 * A transfer that fails is dropped: only a transfer that ended and whose
 * CRC-32 read back from flash equals the CRC of the bytes the host sent
 * (gaps as 0xFF) is committed.
 *
 * Record protocol (docs/PROTOCOL.md "Update record"):
 *   1. before the first erase or program of the application area: append
 *      STARTED (the image is invalid from this point on);
 *   2. erase / program;
 *   3. CRC-32 read back from flash; append COMPLETE with length and CRC.
 * When fewer than two free slots are left, step 1 erases the log sector
 * first. The log holds nothing else, so the only thing lost by a power cut
 * during that erase is the record of an image that is about to be
 * overwritten anyway.
 */
#include <string.h>

#include "boot/boot.h"
#include "crc32.h"

static int log_read_slot(void *ctx, uint32_t slot, uint8_t out[UR_SIZE])
{
	struct boot_ctx *c = ctx;

	return h7f_read(&c->fl_log, BOOT_LOG_BASE + slot * UR_SIZE, out, UR_SIZE, NULL);
}

void boot_log_scan(struct boot_ctx *c)
{
	ur_scan_log(log_read_slot, c, BOOT_LOG_SLOTS, &c->log);
}

static int log_append(struct boot_ctx *c, const struct ur_record *r)
{
	uint8_t buf[UR_SIZE];
	uint32_t slot = c->log.next_free;
	int rc;

	if (slot >= c->log.slots)
		return BOOT_E_LOG;
	ur_encode(r, buf);
	/* A slot that failed (or was cut) is never programmed again. */
	c->log.next_free = slot + 1;
	rc = h7f_program_word(&c->fl_log, BOOT_LOG_BASE + slot * UR_SIZE, buf);
	if (rc) {
		c->log.torn++;
		return boot_fail(c, rc, BOOT_LOG_BASE + slot * UR_SIZE);
	}
	c->log.valid++;
	c->log.have_newest = true;
	c->log.newest_slot = slot;
	c->log.newest = *r;
	if (r->sequence > c->log.max_sequence)
		c->log.max_sequence = r->sequence;
	return 0;
}

int boot_update_begin(struct boot_ctx *c, uint32_t planned_len)
{
	struct ur_record r;
	uint32_t seq;
	int rc;

	if (c->upd_open)
		return 0;
	seq = c->log.max_sequence + 1u;
	if (c->log.next_free + 2u > c->log.slots) {
		rc = h7f_erase_sector(&c->fl_log, BOOT_LOG_BASE);
		if (rc)
			return boot_fail(c, rc, BOOT_LOG_BASE);
		boot_log_scan(c);
	}
	memset(&r, 0, sizeof(r));
	r.state = UR_STATE_STARTED;
	r.sequence = seq;
	r.start = BOOT_APP_START;
	r.length = planned_len;
	r.image_crc = 0xFFFFFFFFu;
	/* One retry in the next slot if the word could not be programmed. */
	rc = log_append(c, &r);
	if (rc)
		rc = log_append(c, &r);
	if (rc)
		return rc;
	c->upd_open = true;
	c->upd_seq = seq;
	return 0;
}

static unsigned page_of(uint32_t addr)
{
	return (addr - BOOT_FLASH_BASE) / H7_SECTOR_SIZE;
}

/* A failed write, flush or erase ends the transfer: what it wrote can no
 * longer be committed, and later writes are refused until the host starts
 * again (an erase, a new download). A refused write changed nothing: the
 * bytes acknowledged before it are programmed, so that nothing the host
 * was told is written silently disappears. */
static int stream_fail(struct boot_ctx *c, int err)
{
	uint32_t addr = h7f_writer_report(&c->w)->err_addr;

	if (err == H7F_E_SEQUENCE || err == H7F_E_NOSPC || !addr)
		addr = c->w.next;
	if (err == H7F_E_SEQUENCE)
		(void)h7f_writer_flush(&c->w);
	c->stream = false;
	c->stream_dead = true;
	return boot_fail(c, err, addr);
}

void boot_update_abandon(struct boot_ctx *c)
{
	c->stream = false;
	c->stream_dead = false;
}

static int stream_open(struct boot_ctx *c, uint32_t len, uint32_t flags)
{
	int rc = h7f_writer_open(&c->w, &c->fl_app, BOOT_APP_START, len,
				 flags | H7F_WR_VERIFY_CRC);

	if (rc)
		return boot_fail(c, rc, BOOT_APP_START);
	c->stream = true;
	return 0;
}

int boot_update_new_transfer(struct boot_ctx *c, uint32_t len)
{
	boot_update_abandon(c);
	if (len == 0 || len > BOOT_APP_SIZE)
		return boot_fail(c, BOOT_E_TOO_BIG, BOOT_APP_START);
	/* Each sector is erased before its first word; bank 2's sectors are
	 * erased in the background while bank 1 is written. */
	return stream_open(c, len, 0);
}

int boot_update_erase_page(struct boot_ctx *c, unsigned page)
{
	if (page < page_of(BOOT_APP_START) || page >= page_of(BOOT_APP_END))
		return boot_fail(c, BOOT_E_RANGE, BOOT_FLASH_BASE + page * H7_SECTOR_SIZE);
	return boot_update_erase_pages(c, 1u << page);
}

int boot_update_erase_pages(struct boot_ctx *c, uint32_t mask)
{
	unsigned first = page_of(BOOT_APP_START), end = page_of(BOOT_APP_END);
	uint32_t app = ((1u << end) - 1u) & ~((1u << first) - 1u);
	int rc;

	if (mask & ~app)
		return boot_fail(c, BOOT_E_RANGE, 0);
	if (!mask)
		return 0;
	rc = boot_update_begin(c, UR_LEN_UNKNOWN);
	if (rc)
		return rc;
	/* Erasing a sector that holds bytes of the transfer restarts it: the
	 * buffered partial word is programmed first when its sector stays
	 * (the host was told it is written), and the next write opens a new
	 * transfer at BOOT_APP_START. Sectors beyond the transfer's position
	 * are erased without touching it. */
	if (c->stream && c->w.next > BOOT_APP_START &&
	    (mask & ((2u << page_of(c->w.next - 1u)) - 1u))) {
		uint32_t word = c->w.next - c->w.fill;

		if (c->w.fill && !(mask & (1u << page_of(word)))) {
			rc = h7f_writer_flush(&c->w);
			if (rc)
				return stream_fail(c, rc);
		}
		c->stream = false;
		c->stream_dead = false;
	}
	/* One call per run of consecutive pages: the driver erases a run's
	 * bank 1 and bank 2 parts at the same time (RM0399 4.3.11: the banks
	 * are independent), a whole bank with one bank erase. */
	for (unsigned p = first; p < end;) {
		unsigned q = p;
		uint32_t erased = 0;

		if (!(mask & (1u << p))) {
			p++;
			continue;
		}
		while (q < end && (mask & (1u << q)))
			q++;
		rc = h7f_erase_range(&c->fl_app, BOOT_FLASH_BASE + p * H7_SECTOR_SIZE,
				     (q - p) * H7_SECTOR_SIZE, &erased);
		if (rc) {
			/* The transfer is unknown now: it cannot commit. */
			c->stream = false;
			c->stream_dead = true;
			return boot_fail(c, rc, c->fl_app.last_addr);
		}
		p = q;
	}
	/* The host starts again: the next write may open a transfer. */
	c->stream_dead = false;
	return 0;
}

int boot_update_flush(struct boot_ctx *c)
{
	int rc;

	if (!c->stream)
		return 0;
	rc = h7f_writer_flush(&c->w);
	return rc ? stream_fail(c, rc) : 0;
}

int boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if (addr < BOOT_APP_START || addr >= BOOT_APP_END || n > BOOT_APP_END - addr)
		return boot_fail(c, BOOT_E_RANGE, addr);
	rc = boot_update_begin(c, UR_LEN_UNKNOWN);
	if (rc)
		return rc;
	/* AN3155: the host erases, the length is not known; every word must
	 * be erased (virgin check by the driver, gaps included). */
	if (!c->stream && c->stream_dead)
		return boot_fail(c, BOOT_E_TRANSFER, addr);
	if (!c->stream) {
		rc = stream_open(c, H7F_LEN_UNKNOWN, H7F_WR_NO_ERASE);
		if (rc)
			return rc;
	}
	rc = h7f_writer_write_at(&c->w, addr, p, n);
	return rc ? stream_fail(c, rc) : 0;
}

int boot_update_commit(struct boot_ctx *c)
{
	const struct h7f_writer_report *rep = h7f_writer_report(&c->w);
	struct ur_record r;
	int rc;

	if (!c->upd_open || !c->stream || rep->bytes == 0)
		return boot_fail(c, BOOT_E_NO_IMAGE, BOOT_APP_START);
	c->stream = false;
	/* Last word padded and programmed; CRC-32 over the image read back
	 * from flash against the CRC of what the host sent. */
	rc = h7f_writer_finish(&c->w);
	if (rc == H7F_E_VERIFY)
		return boot_fail(c, BOOT_E_VERIFY, rep->err_addr);
	if (rc)
		return boot_fail(c, rc, rep->err_addr);
	memset(&r, 0, sizeof(r));
	r.state = UR_STATE_COMPLETE;
	r.sequence = c->upd_seq;
	r.start = BOOT_APP_START;
	r.length = rep->bytes;
	r.image_crc = rep->crc;
	rc = log_append(c, &r);
	if (rc)
		rc = log_append(c, &r);
	if (rc)
		return rc;
	c->upd_open = false;
	return 0;
}
