/*
 * AN3155 server: the ST USART bootloader protocol, enough for stm32flash
 * and STM32CubeProgrammer's UART mode. Differences from ST's ROM and
 * OpenBootloader (docs/PRIOR_ART.md 2.1, 2.2): every failure is a NACK
 * (never an ACK for a write or erase that did not happen), writes of any
 * length are buffered into whole flash words, a flash word is never
 * programmed twice, and sectors 0-1 are never written or erased.
 *
 * Image commit: the first erase or write of the application area appends a
 * STARTED record; Go (to the application, to 0x08000000 = reset, or to
 * RAM) first commits the transfer: the COMPLETE record for [0x08040000,
 * highest byte written], when the CRC-32 read back from flash equals the
 * CRC of the bytes written (gaps as 0xFF). A transfer with a failed write
 * or erase commits nothing. Write Memory and Go into RAM are refused
 * (AN3155_REASON_RAM_OFF) unless the firmware is built with H7BOOT_HOST_RAM.
 */
#include <string.h>

#include "an3155.h"
#include "crc32.h"
#include "fastp.h"
#include "boot/boot.h"

#define AN_BYTE_MS   1000u /* between bytes of one command */
#define AN_MAX_PAGES 16u

/* The Get list: the last entry is the layout's own (the fast protocol in
 * the default layout, Confirm in the A/B one: boot_ctx.ab_layout). */
static const uint8_t an_cmds[] = {
    AN3155_CMD_GET,       AN3155_CMD_GET_VERSION,  AN3155_CMD_GET_ID,
    AN3155_CMD_READ,      AN3155_CMD_GO,           AN3155_CMD_WRITE,
    AN3155_CMD_EXT_ERASE, AN3155_CMD_GET_CHECKSUM, AN3155_CMD_H7_GET_REASON,
    FP_AN3155_CMD,
};
static const uint8_t an_cmds_ab[] = {
    AN3155_CMD_GET,        AN3155_CMD_GET_VERSION,  AN3155_CMD_GET_ID,
    AN3155_CMD_READ,       AN3155_CMD_GO,           AN3155_CMD_WRITE,
    AN3155_CMD_EXT_ERASE,  AN3155_CMD_GET_CHECKSUM, AN3155_CMD_H7_GET_REASON,
    AN3155_CMD_H7_CONFIRM,
};

static uint8_t an_buf[AN3155_MAX_DATA + 8u];

static void tx(struct boot_ctx *c, const void *p, size_t n)
{
    c->ser->write(c->ser->ctx, p, n);
}

static void ack(struct boot_ctx *c)
{
    uint8_t b = AN3155_ACK;

    tx(c, &b, 1);
}

static void nack(struct boot_ctx *c, uint8_t reason, uint32_t addr)
{
    uint8_t b = AN3155_NACK;

    c->an.reason = reason;
    c->an.reason_addr = addr;
    tx(c, &b, 1);
}

/* n bytes with the per-byte timeout: 0, -1 timeout, -2 line error. */
static int rd(struct boot_ctx *c, uint8_t *p, size_t n)
{
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        int b = c->ser->getc(c->ser->ctx, AN_BYTE_MS);

        if (b == BOOT_SER_TIMEOUT)
            return -1;
        if (b & c->an.errmask)
            bad = 1;
        p[i] = (uint8_t)b;
    }
    return bad ? -2 : 0;
}

static uint8_t rd_reason(int r)
{
    return r == -1 ? AN3155_REASON_TIMEOUT : AN3155_REASON_CHECKSUM;
}

/* Address frame; NACKs and returns -1 on failure. */
/* The start of every command with an address (Read, Write, Get Checksum,
 * Go): ACK the command, then the address frame. On -1 the NACK is sent. */
static int rd_addr(struct boot_ctx *c, uint32_t *addr)
{
    ack(c);
    int r = rd(c, an_buf, AN3155_ADDR_FRAME_LEN);

    if (r) {
        nack(c, rd_reason(r), 0);
        return -1;
    }
    if (an3155_addr_decode(an_buf, addr) != AN3155_OK) {
        nack(c, AN3155_REASON_CHECKSUM, 0);
        return -1;
    }
    return 0;
}

static bool flash_range(uint32_t a, uint32_t n)
{
    return a >= H7_FLASH_BASE && a - H7_FLASH_BASE < H7_FLASH_SIZE &&
           n <= H7_FLASH_SIZE - (a - H7_FLASH_BASE);
}

/* What Read Memory and Get Checksum may read: flash, or the host's RAM. */
static bool readable(uint32_t a, uint32_t n)
{
    return flash_range(a, n) || boot_ram_range_ok(a, n);
}

static bool app_range(uint32_t a, uint32_t n)
{
    return a >= BOOT_APP_START && a < BOOT_APP_END && n <= BOOT_APP_END - a;
}

static uint8_t flash_reason(int rc)
{
    switch (rc) {
    case H7F_E_NOT_VIRGIN: return AN3155_REASON_NOT_ERASED;
    case H7F_E_PROTECTED: return AN3155_REASON_PROTECTED;
    case BOOT_E_RANGE: return AN3155_REASON_ADDRESS;
    case H7F_E_SEQUENCE: return AN3155_REASON_SEQUENCE;
    case BOOT_E_VERIFY: return AN3155_REASON_VERIFY;
    case BOOT_E_NO_IMAGE: return AN3155_REASON_NO_IMAGE;
    case BOOT_E_TRANSFER: return AN3155_REASON_TRANSFER;
    default: return AN3155_REASON_FLASH;
    }
}

/* Read n bytes of flash or RAM (range checked by the caller). */
static int mem_read(struct boot_ctx *c, uint32_t a, uint8_t *out, size_t n)
{
    if (flash_range(a, (uint32_t)n))
        return h7f_read(&c->fl_app, a, out, n, NULL);
    boot_port_ram_read(a, out, n);
    return 0;
}

/* The address of Read Memory and Get Checksum: rd_addr(), a first byte
 * that may be read, then the ACK. On -1 the NACK is sent. */
static int rd_read_addr(struct boot_ctx *c, uint32_t *addr)
{
    if (rd_addr(c, addr))
        return -1;
    if (!readable(*addr, 1)) {
        nack(c, AN3155_REASON_ADDRESS, *addr);
        return -1;
    }
    ack(c);
    return 0;
}

static void cmd_get(struct boot_ctx *c)
{
    int n = c->ab_layout ? an3155_get_encode(AN3155_VERSION, an_cmds_ab, sizeof(an_cmds_ab), an_buf)
                         : an3155_get_encode(AN3155_VERSION, an_cmds, sizeof(an_cmds), an_buf);

    ack(c);
    tx(c, an_buf, (size_t)n);
    ack(c);
}

static void cmd_read(struct boot_ctx *c)
{
    uint32_t addr;
    size_t n;
    int r, rc;

    if (rd_read_addr(c, &addr))
        return;
    r = rd(c, an_buf, 2);
    if (r) {
        nack(c, rd_reason(r), addr);
        return;
    }
    if (an3155_readlen_decode(an_buf, &n) != AN3155_OK) {
        nack(c, AN3155_REASON_CHECKSUM, addr);
        return;
    }
    if (!readable(addr, (uint32_t)n)) {
        nack(c, AN3155_REASON_LENGTH, addr);
        return;
    }
    /* Reads see every byte written so far. */
    rc = boot_update_flush_overlap(c, addr, (uint32_t)n);
    if (rc == 0)
        rc = mem_read(c, addr, an_buf, n);
    if (rc) {
        nack(c, flash_reason(rc), c->diag.last_err_addr);
        return;
    }
    ack(c);
    tx(c, an_buf, n);
}

static void cmd_write(struct boot_ctx *c)
{
    uint32_t addr;
    size_t n;
    int r, rc;

    if (rd_addr(c, &addr))
        return;
    if (!app_range(addr, 1) && !boot_ram_range_ok(addr, 1)) {
        nack(c, flash_range(addr, 1) ? AN3155_REASON_PROTECTED : AN3155_REASON_ADDRESS, addr);
        return;
    }
    if (!app_range(addr, 1) && !c->host_ram) {
        nack(c, AN3155_REASON_RAM_OFF, addr);
        return;
    }
    ack(c);
    r = rd(c, an_buf, 1);
    if (r == 0) {
        n = (size_t)an_buf[0] + 1u;
        r = rd(c, an_buf + 1, n + 1u);
    }
    if (r) {
        nack(c, rd_reason(r), addr);
        return;
    }
    n = (size_t)an_buf[0] + 1u;
    if (an3155_data_check(an_buf[0], an_buf + 1, an_buf[1 + n]) != AN3155_OK) {
        nack(c, AN3155_REASON_CHECKSUM, addr);
        return;
    }
    if (app_range(addr, (uint32_t)n)) {
        rc = boot_update_write(c, addr, an_buf + 1, n);
        if (rc) {
            nack(c, flash_reason(rc), c->diag.last_err_addr);
            return;
        }
    } else if (c->host_ram && boot_ram_range_ok(addr, (uint32_t)n)) {
        boot_port_ram_write(addr, an_buf + 1, n);
    } else {
        nack(c, AN3155_REASON_LENGTH, addr);
        return;
    }
    ack(c);
}

static void cmd_ext_erase(struct boot_ctx *c)
{
    uint16_t pages[AN_MAX_PAGES], special = 0, word;
    size_t count = 0, len;
    int rest, r, rc;
    uint32_t mask = 0;

    ack(c);
    r = rd(c, an_buf, 2);
    if (r) {
        nack(c, rd_reason(r), 0);
        return;
    }
    word = (uint16_t)(an_buf[0] << 8 | an_buf[1]);
    rest = an3155_ext_erase_rest_len(word);
    if (rest < 0) {
        nack(c, AN3155_REASON_PAGE, word);
        return;
    }
    if ((size_t)rest > sizeof(an_buf) - 2u) {
        /* More pages than the chip has: consume them, refuse. */
        while (rest-- > 0)
            if (rd(c, an_buf + 2, 1) == -1)
                break;
        nack(c, AN3155_REASON_PAGE, 0);
        return;
    }
    r = rd(c, an_buf + 2, (size_t)rest);
    if (r) {
        nack(c, rd_reason(r), 0);
        return;
    }
    len = 2u + (size_t)rest;
    rc = an3155_ext_erase_decode(an_buf, len, pages, AN_MAX_PAGES, &count, &special);
    if (rc == AN3155_ERR_XOR) {
        nack(c, AN3155_REASON_CHECKSUM, 0);
        return;
    }
    if (rc) {
        nack(c, AN3155_REASON_PAGE, 0);
        return;
    }
    /* Bank and mass codes erase the application area only. */
    if (special == AN3155_ERASE_MASS)
        mask = BOOT_MASK_APP;
    else if (special == AN3155_ERASE_BANK1)
        mask = BOOT_MASK_APP & BOOT_MASK_BANK1;
    else if (special == AN3155_ERASE_BANK2)
        mask = BOOT_MASK_APP & ~BOOT_MASK_BANK1;
    for (size_t i = 0; i < count; i++) {
        if (pages[i] < BOOT_APP_FIRST_SECTOR) {
            nack(c, AN3155_REASON_PROTECTED, an3155_h7_page_addr(pages[i]));
            return;
        }
        if (pages[i] >= BOOT_SECTORS) {
            nack(c, AN3155_REASON_PAGE, pages[i]);
            return;
        }
        mask |= 1u << pages[i];
    }
    rc = boot_update_erase_pages(c, mask);
    if (rc) {
        nack(c, flash_reason(rc), c->diag.last_err_addr);
        return;
    }
    ack(c);
}

static void cmd_checksum(struct boot_ctx *c)
{
    uint32_t addr, len, crc = CRC32_STM32_INIT;
    uint8_t out[5];
    int r, rc;

    if (rd_read_addr(c, &addr))
        return;
    r = rd(c, an_buf, AN3155_ADDR_FRAME_LEN);
    if (r) {
        nack(c, rd_reason(r), addr);
        return;
    }
    if (an3155_addr_decode(an_buf, &len) != AN3155_OK) {
        nack(c, AN3155_REASON_CHECKSUM, addr);
        return;
    }
    if (len == 0 || (len & 3u)) {
        nack(c, AN3155_REASON_ALIGN, addr);
        return;
    }
    if (!readable(addr, len)) {
        nack(c, AN3155_REASON_LENGTH, addr);
        return;
    }
    ack(c);
    rc = boot_update_flush_overlap(c, addr, len);
    for (uint32_t off = 0; rc == 0 && off < len; off += AN3155_MAX_DATA) {
        uint32_t k = len - off < AN3155_MAX_DATA ? len - off : AN3155_MAX_DATA;

        rc = mem_read(c, addr + off, an_buf, k);
        if (rc == 0)
            crc = crc32_stm32(crc, an_buf, k);
        boot_port_idle();
    }
    if (rc) {
        nack(c, flash_reason(rc), c->diag.last_err_addr);
        return;
    }
    an3155_addr_encode(crc, out);
    ack(c);
    tx(c, out, sizeof(out));
}

/* A/B layout only: the running image on trial confirmed by the host. */
static void cmd_confirm(struct boot_ctx *c)
{
    int rc;

    ack(c);
    rc = boot_update_confirm(c);
    if (rc)
        nack(c, flash_reason(rc), BOOT_APP_START);
    else
        ack(c);
}

static void cmd_reason(struct boot_ctx *c)
{
    uint8_t out[6];

    ack(c);
    out[0] = c->an.reason;
    an3155_addr_encode(c->an.reason_addr, out + 1);
    /* xor over reason and the four address bytes */
    out[5] = (uint8_t)(out[0] ^ out[5]);
    tx(c, out, sizeof(out));
    ack(c);
    c->an.reason = AN3155_REASON_NONE;
    c->an.reason_addr = 0;
}

bool boot_go(struct boot_ctx *c, uint32_t addr, struct boot_result *res, uint8_t *reason)
{
    struct boot_app_info info;

    memset(res, 0, sizeof(*res));
    if (addr == AN3155_H7_RESET_ADDR) {
        res->act = BOOT_ACT_RESET;
        return true;
    }
    if (addr == BOOT_APP_START) {
        boot_app_check(c, &info);
        if (info.status != 0) {
            *reason = AN3155_REASON_NO_IMAGE;
            return false;
        }
        res->act = BOOT_ACT_JUMP_APP;
        res->addr = addr;
        res->release_cm4 = info.cm4_valid;
        return true;
    }
    if (boot_ram_range_ok(addr, 8) && !c->host_ram) {
        *reason = AN3155_REASON_RAM_OFF;
        return false;
    }
    if (boot_ram_range_ok(addr, 8)) {
        uint8_t v[8];
        uint32_t pc;

        boot_port_ram_read(addr, v, sizeof(v));
        pc = (uint32_t)v[4] | (uint32_t)v[5] << 8 | (uint32_t)v[6] << 16 | (uint32_t)v[7] << 24;
        if ((pc & 1u) && boot_ram_range_ok(pc & ~1u, 2)) {
            res->act = BOOT_ACT_JUMP_RAM;
            res->addr = addr;
            return true;
        }
    }
    *reason = AN3155_REASON_ADDRESS;
    return false;
}

/* Go: returns true with *res filled when the server must stop. */
static bool cmd_go(struct boot_ctx *c, struct boot_result *res)
{
    uint32_t addr;
    uint8_t reason;
    int rc;

    if (rd_addr(c, &addr))
        return false;
    /* Commit the transfer if one is open; a transfer that failed has
	 * already been dropped and commits nothing. */
    rc = c->upd.stream ? boot_update_commit(c) : 0;
    if (rc) {
        nack(c, flash_reason(rc), c->diag.last_err_addr);
        return false;
    }
    if (!boot_go(c, addr, res, &reason)) {
        nack(c, reason, addr);
        return false;
    }
    ack(c);
    return true;
}

/* The session's frame format (the fast protocol runs in 8N1 and returns
 * here). */
static void an_format(struct boot_ctx *c, enum boot_ser_format f)
{
    if (f == BOOT_SER_8E1) {
        c->ser->set_format(c->ser->ctx, BOOT_SER_8E1);
        c->an.errmask = BOOT_SER_ERRMASK;
    } else {
        c->ser->set_format(c->ser->ctx, BOOT_SER_8N2);
        c->an.errmask = BOOT_SER_PE | BOOT_SER_ORE;
    }
}

struct boot_result boot_an3155(struct boot_ctx *c, int sync)
{
    struct boot_result res;
    enum boot_ser_format session;
    uint8_t cmd2[2];
    int b;

    /* The host erases; an open transfer carries on across sessions (h7iap
	 * and stm32flash write in one session and may Go in the next). */
    /*
	 * Frame format. A sync byte seen with a parity/framing error means the
	 * host uses the other format than the one we waited in: switch. A clean
	 * sync byte says nothing on a real wire (0x7F's parity bit is 1 and
	 * falls on the stop bit), so in 8N1 the session accepts both: it sends
	 * 2 stop bits (the 8E1 host's parity slot, and the 8N1 host's idle
	 * line) and ignores framing errors, which are what an 8E1 host's
	 * parity bit 0 looks like; complements and checksums still protect
	 * every frame. ACK (0x79) and NACK (0x1F) have odd weight: they read
	 * the same in every one of these formats.
	 */
    {
        enum boot_ser_format f = c->idle_format;

        if (sync & (BOOT_SER_PE | BOOT_SER_FE))
            f = f == BOOT_SER_8E1 ? BOOT_SER_8N1 : BOOT_SER_8E1;
        an_format(c, f);
        session = f;
    }
    ack(c);
    for (;;) {
        /* A partial flash word waits in the transfer's writer until
		 * a write completes it or a Read, Get Checksum or Go needs it:
		 * a slow host may continue it at any time. */
        b = c->ser->getc(c->ser->ctx, 1000u);
        boot_port_idle();
        if (b == BOOT_SER_TIMEOUT)
            continue;
        if ((b & 0xFF) == AN3155_SYNC) {
            /* A new client: stm32flash always starts with 0x7F. */
            ack(c);
            continue;
        }
        cmd2[0] = (uint8_t)b;
        if (rd(c, cmd2 + 1, 1) == -1) {
            nack(c, AN3155_REASON_TIMEOUT, 0);
            continue;
        }
        if ((b & c->an.errmask) || an3155_cmd_decode(cmd2, cmd2) != AN3155_OK) {
            nack(c, AN3155_REASON_BAD_CMD, 0);
            continue;
        }
        switch (cmd2[0]) {
        case AN3155_CMD_GET: cmd_get(c); break;
        case AN3155_CMD_GET_VERSION:
            ack(c);
            an_buf[0] = AN3155_VERSION;
            an_buf[1] = 0;
            an_buf[2] = 0;
            tx(c, an_buf, 3);
            ack(c);
            break;
        case AN3155_CMD_GET_ID:
            ack(c);
            an3155_gid_encode(AN3155_PID_H74X, an_buf);
            tx(c, an_buf, 3);
            ack(c);
            break;
        case AN3155_CMD_READ: cmd_read(c); break;
        case AN3155_CMD_WRITE: cmd_write(c); break;
        case AN3155_CMD_EXT_ERASE: cmd_ext_erase(c); break;
        case AN3155_CMD_GET_CHECKSUM: cmd_checksum(c); break;
        case AN3155_CMD_H7_GET_REASON: cmd_reason(c); break;
        case AN3155_CMD_H7_CONFIRM:
            if (c->ab_layout)
                cmd_confirm(c);
            else
                nack(c, AN3155_REASON_BAD_CMD, cmd2[0]);
            break;
        case FP_AN3155_CMD:
            if (c->ab_layout) {
                nack(c, AN3155_REASON_BAD_CMD, cmd2[0]);
                break;
            }
            ack(c);
            c->ser->drain(c->ser->ctx);
            if (boot_fastp(c, &res)) {
                c->ser->drain(c->ser->ctx);
                return res;
            }
            an_format(c, session);
            break;
        case AN3155_CMD_GO:
            if (cmd_go(c, &res)) {
                c->ser->drain(c->ser->ctx);
                return res;
            }
            break;
        default: nack(c, AN3155_REASON_BAD_CMD, cmd2[0]); break;
        }
    }
}
