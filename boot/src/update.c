/*
 * Update engine: the only code that writes flash. Application bytes go
 * through a one-word RAM buffer so that writes of any length and alignment
 * (stm32flash's 232-byte tails, YMODEM's trimmed last block) become whole
 * 32-byte flash words, each programmed once (facts 8.1, 8.5).
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
		c->last_err = rc;
		c->last_err_addr = BOOT_LOG_BASE + slot * UR_SIZE;
		return rc;
	}
	c->log.valid++;
	c->log.have_newest = true;
	c->log.newest_slot = slot;
	c->log.newest = *r;
	if (r->sequence > c->log.max_sequence)
		c->log.max_sequence = r->sequence;
	return 0;
}

void boot_update_new_transfer(struct boot_ctx *c, bool auto_erase)
{
	/* A transfer abandoned earlier in this session may have left data in
	 * sectors it had erased: every sector is erased again before use. An
	 * open update (STARTED record) stays open; the image is refused until
	 * a transfer commits. */
	c->auto_erase = auto_erase;
	c->erased_mask = 0;
	c->pend = false;
	c->upd_end = BOOT_APP_START;
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
		if (rc) {
			c->last_err = rc;
			c->last_err_addr = BOOT_LOG_BASE;
			return rc;
		}
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
	c->upd_end = BOOT_APP_START;
	c->erased_mask = 0;
	return 0;
}

static unsigned page_of(uint32_t addr)
{
	return (addr - BOOT_FLASH_BASE) / H7_SECTOR_SIZE;
}

int boot_update_erase_page(struct boot_ctx *c, unsigned page)
{
	uint32_t addr = BOOT_FLASH_BASE + page * H7_SECTOR_SIZE;
	int rc;

	if (page < page_of(BOOT_APP_START) || page >= page_of(BOOT_APP_END))
		return BOOT_E_RANGE;
	rc = boot_update_begin(c, UR_LEN_UNKNOWN);
	if (rc)
		return rc;
	/* A buffered partial word inside the erased page is dropped. */
	if (c->pend && page_of(c->pend_addr) == page)
		c->pend = false;
	rc = h7f_erase_sector(&c->fl_app, addr);
	if (rc) {
		c->last_err = rc;
		c->last_err_addr = addr;
		return rc;
	}
	c->erased_mask |= 1u << page;
	return 0;
}

int boot_update_erase_pages(struct boot_ctx *c, uint32_t mask)
{
	unsigned first = page_of(BOOT_APP_START), end = page_of(BOOT_APP_END);
	uint32_t app = ((1u << end) - 1u) & ~((1u << first) - 1u);
	int rc;

	if (mask & ~app)
		return BOOT_E_RANGE;
	if (!mask)
		return 0;
	rc = boot_update_begin(c, UR_LEN_UNKNOWN);
	if (rc)
		return rc;
	/* One call per run of consecutive pages: the driver erases a run's
	 * bank 1 and bank 2 parts at the same time (facts 5.1: the banks are
	 * independent), a whole bank with one bank erase. */
	for (unsigned p = first; p < end;) {
		unsigned q = p;
		uint32_t erased = 0;

		if (!(mask & (1u << p))) {
			p++;
			continue;
		}
		while (q < end && (mask & (1u << q)))
			q++;
		if (c->pend && page_of(c->pend_addr) >= p && page_of(c->pend_addr) < q)
			c->pend = false;
		rc = h7f_erase_range(&c->fl_app, BOOT_FLASH_BASE + p * H7_SECTOR_SIZE,
				     (q - p) * H7_SECTOR_SIZE, &erased);
		c->erased_mask |= erased;
		if (rc) {
			c->last_err = rc;
			c->last_err_addr = c->fl_app.last_addr;
			return rc;
		}
		p = q;
	}
	return 0;
}

/* Program one whole word at a 32-byte aligned application address. */
static int program_word(struct boot_ctx *c, uint32_t addr, const uint8_t *data)
{
	unsigned page = page_of(addr);
	int rc;

	if (c->auto_erase && !(c->erased_mask & (1u << page))) {
		rc = boot_update_erase_page(c, page);
		if (rc)
			return rc;
	}
	rc = h7f_program_word(&c->fl_app, addr, data);
	if (rc) {
		c->last_err = rc;
		c->last_err_addr = addr;
	}
	return rc;
}

int boot_update_flush(struct boot_ctx *c)
{
	int rc;

	if (!c->pend)
		return 0;
	/* The unwritten bytes stay 0xFF: exactly what erased flash holds. */
	c->pend = false;
	rc = program_word(c, c->pend_addr, c->pend_buf);
	return rc;
}

int boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n)
{
	const uint8_t *src = p;
	int rc;

	if (n == 0)
		return 0;
	if (addr < BOOT_APP_START || addr >= BOOT_APP_END || n > BOOT_APP_END - addr)
		return BOOT_E_RANGE;
	rc = boot_update_begin(c, UR_LEN_UNKNOWN);
	if (rc)
		return rc;
	if (c->pend && (addr & ~31u) != c->pend_addr) {
		rc = boot_update_flush(c);
		if (rc)
			return rc;
	}
	while (n) {
		uint32_t word = addr & ~31u, off = addr & 31u;
		size_t k = 32u - off;

		if (k > n)
			k = n;
		if (off == 0 && k == 32u && !c->pend) {
			rc = program_word(c, word, src);
			if (rc)
				return rc;
		} else {
			if (!c->pend) {
				/* Refuse now, not at the deferred program: a
				 * word that is not erased can never take these
				 * bytes (facts 8.5). */
				if (!c->auto_erase || (c->erased_mask & (1u << page_of(word)))) {
					rc = h7f_blank_check(&c->fl_app, word, 32u, NULL);
					if (rc) {
						c->last_err = rc;
						c->last_err_addr = word;
						return rc;
					}
				}
				c->pend = true;
				c->pend_addr = word;
				c->pend_mask = 0;
				memset(c->pend_buf, 0xFF, sizeof(c->pend_buf));
			}
			for (size_t i = 0; i < k; i++) {
				uint32_t bit = 1u << (off + i);

				/* Never two values for one byte of a flash word. */
				if (c->pend_mask & bit) {
					c->last_err = H7F_E_NOT_VIRGIN;
					c->last_err_addr = word + off + (uint32_t)i;
					return H7F_E_NOT_VIRGIN;
				}
				c->pend_mask |= bit;
				c->pend_buf[off + i] = src[i];
			}
			if (c->pend_mask == 0xFFFFFFFFu) {
				rc = boot_update_flush(c);
				if (rc)
					return rc;
			}
		}
		src += k;
		addr += (uint32_t)k;
		n -= k;
		if (addr > c->upd_end)
			c->upd_end = addr;
	}
	return 0;
}

int boot_update_commit(struct boot_ctx *c, uint32_t len, const uint32_t *expect_crc)
{
	struct ur_record r;
	uint32_t crc;
	int rc;

	rc = boot_update_flush(c);
	if (rc)
		return rc;
	if (!c->upd_open)
		return BOOT_E_NO_IMAGE;
	if (len == 0 || len > BOOT_APP_SIZE)
		return BOOT_E_TOO_BIG;
	rc = h7f_crc32(&c->fl_app, BOOT_APP_START, len, &crc);
	if (rc) {
		c->last_err = rc;
		return rc;
	}
	if (expect_crc && crc != *expect_crc) {
		c->last_err = BOOT_E_VERIFY;
		return BOOT_E_VERIFY;
	}
	memset(&r, 0, sizeof(r));
	r.state = UR_STATE_COMPLETE;
	r.sequence = c->upd_seq;
	r.start = BOOT_APP_START;
	r.length = len;
	r.image_crc = crc;
	rc = log_append(c, &r);
	if (rc)
		rc = log_append(c, &r);
	if (rc)
		return rc;
	c->upd_open = false;
	return 0;
}
