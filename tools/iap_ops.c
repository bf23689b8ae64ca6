/* h7iap: erase, write, verify and read with progress. */
#include "iap_ops.h"
#include "iap.h"
#include "iap_progress.h"
#include "an3155.h"
#include "crc32.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int popcount32(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

enum iap_op_err iap_parse_sectors(const char *s, uint32_t *mask)
{
    uint32_t m = 0;
    if (!strcmp(s, "app") || !strcmp(s, "all")) {
        *mask = BOOT_MASK_APP;
        return 0;
    }
    const char *p = s;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return iap_fail(IAP_OP_ERR_SECTORS,
                            "bad sector list '%s': use 'app' or numbers and ranges like 2,3,8-15",
                            s);
        unsigned long a = strtoul(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return iap_fail(IAP_OP_ERR_SECTORS, "bad sector range in '%s'", s);
            b = strtoul(p, &end, 10);
            p = end;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return iap_fail(IAP_OP_ERR_SECTORS,
                            "bad sector list '%s': use 'app' or numbers and ranges like 2,3,8-15",
                            s);
        if (a > b || b >= BOOT_SECTORS)
            return iap_fail(
                IAP_OP_ERR_SECTORS,
                "sector %lu does not exist: sectors are 0..15 (128 KB each, bank 2 starts at 8)",
                b >= BOOT_SECTORS ? b : a);
        if (a < BOOT_APP_FIRST_SECTOR)
            return iap_fail(IAP_OP_ERR_BOOT_SECTOR,
                            "sector %lu (0x%08x) holds the bootloader, outside the application "
                            "area 0x%08x-0x%08x",
                            a, an3155_h7_page_addr((unsigned)a), BOOT_APP_START, BOOT_APP_END - 1);
        for (unsigned long i = a; i <= b; i++)
            m |= 1u << i;
    }
    if (!m)
        return iap_fail(IAP_OP_ERR_SECTORS, "empty sector list");
    *mask = m;
    return 0;
}

int iap_do_erase(struct iap_client *c, uint32_t mask)
{
    int n = popcount32(mask), done = 0;
    char what[96];
    snprintf(what, sizeof what, "%d sector(s) of 128 KB", n);
    iap_progress_begin("erase", (uint64_t)n * H7_SECTOR_SIZE, what);
    /*
	 * Bank 1 and bank 2 erase in parallel (RM0399 4.3.11), so all sectors go
	 * out in one Extended Erase command, as stm32flash sends them: the
	 * h7iap bootloader erases the bank 1 and bank 2 parts at the same time
	 * (a whole bank with one bank erase), 6 s instead of 14 s for a full
	 * image. The progress moves once, when the command is acknowledged.
	 */
    uint16_t pages[BOOT_SECTORS];
    unsigned np = 0;
    for (unsigned p = 0; p < BOOT_SECTORS; p++) {
        if (!(mask & (1u << p)))
            continue;
        iap_debug(1, "erasing sector %u at 0x%08x", p, an3155_h7_page_addr(p));
        pages[np++] = (uint16_t)p;
    }
    if (np) {
        int rc = iap_erase_pages(c, pages, np);
        if (rc) {
            iap_progress_interrupt();
            return rc;
        }
        done = n;
        iap_progress_update((uint64_t)done * H7_SECTOR_SIZE);
    }
    iap_progress_end();
    return 0;
}

int iap_do_write(struct iap_client *c, const struct iap_image *padded)
{
    uint64_t total = iap_image_bytes(padded), done = 0;
    char what[96];
    snprintf(what, sizeof what, "%llu bytes from 0x%08x", (unsigned long long)total,
             iap_image_lo(padded));
    iap_progress_begin("write", total, what);
    for (size_t i = 0; i < padded->n; i++) {
        const struct iap_seg *s = &padded->segs[i];
        for (uint32_t off = 0; off < s->len;) {
            uint32_t n = s->len - off;
            if (n > AN3155_MAX_DATA)
                n = AN3155_MAX_DATA;
            int rc = iap_write_mem(c, s->addr + off, s->data + off, n);
            if (rc) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", iap_error());
                iap_progress_interrupt();
                /* Never rewrite: the words may already be programmed. */
                char sofar[96];
                if (done)
                    snprintf(sofar, sizeof sofar, "the %llu bytes before 0x%08x were written",
                             (unsigned long long)done, s->addr + off);
                else
                    snprintf(sofar, sizeof sofar, "nothing was written");
                return iap_fail(
                    rc,
                    "%s; %s; nothing is sent again (a flash word is programmed once per erase): "
                    "run 'h7iap flash' again to erase and write the image from the start",
                    msg, sofar);
            }
            off += n;
            done += n;
            iap_progress_update(done);
        }
    }
    iap_progress_end();
    return 0;
}

static int compare_block(struct iap_client *c, const struct iap_seg *s, uint64_t *done,
                         uint64_t base_done)
{
    uint8_t buf[AN3155_MAX_DATA];
    for (uint32_t off = 0; off < s->len;) {
        uint32_t n = s->len - off;
        if (n > AN3155_MAX_DATA)
            n = AN3155_MAX_DATA;
        int rc = iap_read_mem(c, s->addr + off, buf, n);
        if (rc)
            return rc;
        for (uint32_t k = 0; k < n; k++) {
            if (buf[k] != s->data[off + k]) {
                uint32_t diff = 0;
                for (uint32_t j = k; j < n; j++)
                    diff += buf[j] != s->data[off + j];
                iap_progress_interrupt();
                return iap_fail(IAP_OP_ERR_VERIFY,
                                "verify failed: first difference at 0x%08x: flash has 0x%02x, the "
                                "image has 0x%02x (%u of the %u bytes read there differ)",
                                s->addr + off + k, buf[k], s->data[off + k], diff, n - k);
            }
        }
        off += n;
        if (done) {
            *done = base_done + off;
            iap_progress_update(*done);
        }
    }
    return 0;
}

int iap_do_verify(struct iap_client *c, const struct iap_image *padded, bool use_checksum)
{
    uint64_t total = iap_image_bytes(padded), done = 0;
    char what[128];
    snprintf(what, sizeof what, "%llu bytes from 0x%08x by %s", (unsigned long long)total,
             iap_image_lo(padded), use_checksum ? "Get Checksum" : "Read Memory");
    iap_progress_begin("verify", total, what);
    for (size_t i = 0; i < padded->n; i++) {
        const struct iap_seg *s = &padded->segs[i];
        int rc;
        if (use_checksum && s->len % 4 == 0) {
            uint32_t crc;
            rc = iap_checksum(c, s->addr, s->len, &crc);
            if (rc) {
                iap_progress_interrupt();
                return rc;
            }
            uint32_t want = crc32_stm32(CRC32_STM32_INIT, s->data, s->len);
            if (crc == want) {
                done += s->len;
                iap_progress_update(done);
                continue;
            }
            iap_debug(1, "CRC of 0x%08x+%u is 0x%08x, expected 0x%08x: reading back", s->addr,
                      s->len, crc, want);
            rc = compare_block(c, s, NULL, 0);
            if (!rc)
                rc = iap_fail(IAP_OP_ERR_VERIFY,
                              "verify failed: CRC of 0x%08x-0x%08x is 0x%08x, expected 0x%08x, yet "
                              "the bytes read back match (unstable flash?)",
                              s->addr, s->addr + s->len - 1, crc, want);
        } else {
            rc = compare_block(c, s, &done, done);
        }
        if (rc) {
            iap_progress_interrupt();
            return rc;
        }
        done = 0;
        for (size_t k = 0; k <= i; k++)
            done += padded->segs[k].len;
    }
    iap_progress_end();
    return 0;
}

int iap_do_read(struct iap_client *c, uint32_t addr, uint32_t len, uint8_t *out)
{
    char what[96];
    snprintf(what, sizeof what, "%u bytes from 0x%08x", len, addr);
    iap_progress_begin("read", len, what);
    for (uint32_t off = 0; off < len;) {
        uint32_t n = len - off;
        if (n > AN3155_MAX_DATA)
            n = AN3155_MAX_DATA;
        int rc = iap_read_mem(c, addr + off, out + off, n);
        if (rc) {
            iap_progress_interrupt();
            return rc;
        }
        off += n;
        iap_progress_update(off);
    }
    iap_progress_end();
    return 0;
}

/* A log slot over the line: a NACK is an unreadable (torn) slot. */
static int read_slot(void *ctx, uint32_t slot, uint8_t out[UR_SIZE])
{
    int rc = iap_read_mem(ctx, BOOT_LOG_BASE + slot * UR_SIZE, out, UR_SIZE);

    return rc == IAP_CLIENT_ERR_NACK ? UR_E_UNREADABLE : rc;
}

int iap_read_log(struct iap_client *c, struct ur_newest *log)
{
    return ur_find_newest(read_slot, c, BOOT_LOG_SLOTS, log);
}

const char *iap_op_strerror(enum iap_op_err err)
{
    switch (err) {
    case IAP_OP_OK: return "success";
    case IAP_OP_ERR_VERIFY: return "verify mismatch";
    case IAP_OP_ERR_SECTORS: return "bad sector list";
    case IAP_OP_ERR_BOOT_SECTOR: return "sector of the bootloader";
    case IAP_OP_ERR_BASE:
    case IAP_OP_ERR_END: break;
    }
    return "unknown operation error";
}
