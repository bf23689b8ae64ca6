/* h7iap: AN3155 client. */
#include "iap_client.h"
#include "iap.h"
#include "an3155.h"

#include <stdio.h>
#include <string.h>

#define NO_ANSWER_HINT                                                                            \
    "check that the board runs the bootloader (press RESET while h7iap syncs, or use "            \
    "--enter-bootloader if h7app is running; for the ST ROM bootloader BOOT0 high, then reset), " \
    "that nothing else uses the port, and the baud rate (--baud)"

void iap_client_init(struct iap_client *c, struct iap_transport *t)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->ack_timeout_ms = 3000;
    c->erase_timeout_ms = 10000;
    c->sync_timeout_ms = 400;
    c->sync_attempts = 6;
}

static enum iap_port_err xwrite(struct iap_client *c, const uint8_t *b, size_t n)
{
    if (iap_verbosity >= 2) {
        char line[64 * 3 + 8];
        size_t off = 0;
        for (size_t i = 0; i < n && i < 64; i++)
            off += (size_t)snprintf(line + off, sizeof line - off, " %02x", b[i]);
        iap_debug(2, "-> %s%s", line, n > 64 ? " ..." : "");
    }
    return c->t->ops->write(c->t, b, n);
}

/* Up to n bytes within ms (the transport's read, traced with -vv). */
static enum iap_port_err rd(struct iap_client *c, uint8_t *b, size_t n, int ms, size_t *got)
{
    enum iap_port_err rc = c->t->ops->read(c->t, b, n, ms, got);
    if (rc)
        return rc;
    if (*got > n) /* a transport that says more than it could give */
        *got = n;
    if (iap_verbosity >= 2 && *got > 0) {
        char line[64 * 3 + 8];
        size_t off = 0;
        for (size_t i = 0; i < *got && i < 64; i++)
            off += (size_t)snprintf(line + off, sizeof line - off, " %02x", b[i]);
        iap_debug(2, "<- %s%s", line, *got > 64 ? " ..." : "");
    }
    return IAP_PORT_OK;
}

/* Read exactly n bytes or fail with "no answer"/"short reply". */
static int xread(struct iap_client *c, uint8_t *b, size_t n, int ms, const char *what)
{
    size_t r;
    int rc = rd(c, b, n, ms, &r);
    if (rc)
        return rc;
    if (r < n) {
        if (r == 0)
            return iap_fail(IAP_CLIENT_ERR_NO_ANSWER,
                            "no answer from the bootloader to %s after %d ms; " NO_ANSWER_HINT,
                            what, ms);
        return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "short reply to %s: %zu of %zu bytes", what, r, n);
    }
    return 0;
}

/* Ask the h7iap bootloader why it NACKed, if it can tell. */
static void nack_reason(struct iap_client *c, char *out, size_t n, uint32_t *raddr)
{
    snprintf(out, n, "the bootloader gave no reason");
    *raddr = 0xFFFFFFFFu;
    if (!iap_has_cmd(c, AN3155_CMD_H7_GET_REASON))
        return;
    uint8_t f[2], b[8];
    an3155_cmd_encode(AN3155_CMD_H7_GET_REASON, f);
    if (xwrite(c, f, 2) || xread(c, b, 8, c->ack_timeout_ms, "Get Reason"))
        return;
    if (b[0] != AN3155_ACK || b[7] != AN3155_ACK || an3155_xor(0, b + 1, 5) != b[6])
        return;
    uint32_t a = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
    snprintf(out, n, "%s", an3155_reason_str(b[1]));
    if (a != 0)
        *raddr = a;
}

/*
 * Wait for ACK after a step of command cmd at addr (addr 0xFFFFFFFF: no
 * address). On NACK: IAP_CLIENT_ERR_NACK naming the command, the step and
 * the reason.
 */
static int expect_ack(struct iap_client *c, uint8_t cmd, const char *step, uint32_t addr, int ms)
{
    uint8_t b;
    char what[96];
    snprintf(what, sizeof what, "%s (%s)", an3155_cmd_name(cmd), step);
    int rc = xread(c, &b, 1, ms, what);
    if (rc)
        return rc;
    if (b == AN3155_ACK)
        return 0;
    if (b == AN3155_NACK) {
        char why[128], at[32] = "";
        uint32_t ra;
        nack_reason(c, why, sizeof why, &ra);
        if (ra != 0xFFFFFFFFu)
            addr = ra;
        if (addr != 0xFFFFFFFFu)
            snprintf(at, sizeof at, " at 0x%08x", addr);
        return iap_fail(IAP_CLIENT_ERR_NACK, "%s%s refused (NACK after the %s): %s",
                        an3155_cmd_name(cmd), at, step, why);
    }
    return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "unexpected byte 0x%02x instead of ACK/NACK after %s",
                    b, what);
}

static int send_cmd(struct iap_client *c, uint8_t cmd, uint32_t addr)
{
    uint8_t f[2];
    if (c->n_cmds && !iap_has_cmd(c, cmd))
        return iap_fail(IAP_CLIENT_ERR_NO_CMD,
                        "the bootloader does not offer %s (0x%02x) in its Get list",
                        an3155_cmd_name(cmd), cmd);
    an3155_cmd_encode(cmd, f);
    int rc = xwrite(c, f, 2);
    return rc ? rc : expect_ack(c, cmd, "command", addr, c->ack_timeout_ms);
}

int iap_cmd_plain(struct iap_client *c, uint8_t cmd)
{
    return send_cmd(c, cmd, 0xFFFFFFFFu);
}

bool iap_has_cmd(const struct iap_client *c, uint8_t cmd)
{
    for (size_t i = 0; i < c->n_cmds; i++)
        if (c->cmds[i] == cmd)
            return true;
    return false;
}

int iap_sync(struct iap_client *c)
{
    /*
	 * 0x7F is the auto-baud byte of a fresh bootloader (answer: ACK). A
	 * bootloader that is already synced takes it as a command byte: it
	 * either NACKs at once or waits for the complement, which the next
	 * 0x7F supplies (0x7F 0x7F is not a valid pair: NACK). Both mean "in
	 * sync". Anything else (a banner, a menu) is skipped.
	 */
    int rc;
    if (c->enter_key) {
        /* The application resets into the bootloader; what it prints
		 * meanwhile is skipped until the line has been quiet 200 ms. */
        rc = xwrite(c, &c->enter_key, 1);
        if (rc)
            return rc;
        iap_debug(1, "sent '%c' to ask the application for the bootloader", c->enter_key);
        c->enter_key = 0; /* once */
        for (int i = 0; i < 20; i++) {
            uint8_t junk[64];
            size_t r;
            if ((rc = rd(c, junk, sizeof junk, 200, &r)))
                return rc;
            if (r == 0)
                break;
        }
    }
    c->t->ops->drain(c->t);
    uint8_t s = AN3155_SYNC;
    for (int i = 0; i < c->sync_attempts; i++) {
        rc = xwrite(c, &s, 1);
        if (rc)
            return rc;
        for (;;) {
            uint8_t b;
            size_t r;
            if ((rc = rd(c, &b, 1, c->sync_timeout_ms, &r)))
                return rc;
            if (r == 0)
                break;
            if (b == AN3155_ACK || b == AN3155_NACK) {
                /*
				 * A bootloader answers with one byte and then
				 * waits (late answers to earlier sync bytes
				 * may follow: more ACK/NACK bytes); a running
				 * application printing text ('y' is 0x79)
				 * sends other bytes too. Take everything
				 * until the line is quiet for 100 ms.
				 */
                int text = 0;
                for (int k = 0; k < 20; k++) {
                    uint8_t more[64];
                    if ((rc = rd(c, more, sizeof more, 100, &r)))
                        return rc;
                    if (r == 0)
                        break;
                    for (size_t j = 0; j < r; j++)
                        if (more[j] != AN3155_ACK && more[j] != AN3155_NACK)
                            text = 1;
                }
                if (text) {
                    iap_debug(2, "sync: 0x%02x amid other bytes: text, not a reply", b);
                    break;
                }
                iap_debug(1, "in sync (%s to 0x7F, attempt %d)", b == AN3155_ACK ? "ACK" : "NACK",
                          i + 1);
                c->synced = true;
                return 0;
            }
            iap_debug(2, "sync: skipping 0x%02x", b);
        }
    }
    return iap_fail(IAP_CLIENT_ERR_NO_ANSWER,
                    "no answer from the bootloader on %s (%d sync attempts); " NO_ANSWER_HINT,
                    c->t->name, c->sync_attempts);
}

int iap_cmd_get(struct iap_client *c)
{
    size_t saved = c->n_cmds;
    c->n_cmds = 0; /* Get is always allowed */
    int rc = send_cmd(c, AN3155_CMD_GET, 0xFFFFFFFFu);
    if (rc) {
        c->n_cmds = saved;
        return rc;
    }
    uint8_t b[2];
    if ((rc = xread(c, b, 2, c->ack_timeout_ms, "Get")))
        return rc;
    size_t n = b[0];
    uint8_t list[256 + 1];
    if ((rc = xread(c, list, n + 1, c->ack_timeout_ms, "Get")))
        return rc;
    if (list[n] != AN3155_ACK)
        return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "Get reply does not end with ACK (0x%02x)",
                        list[n]);
    c->version = b[1];
    c->n_cmds = n < sizeof c->cmds ? n : sizeof c->cmds;
    memcpy(c->cmds, list, c->n_cmds);
    return 0;
}

int iap_cmd_get_version(struct iap_client *c)
{
    int rc = send_cmd(c, AN3155_CMD_GET_VERSION, 0xFFFFFFFFu);
    if (rc)
        return rc;
    uint8_t b[4];
    if ((rc = xread(c, b, 4, c->ack_timeout_ms, "Get Version")))
        return rc;
    if (b[3] != AN3155_ACK)
        return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "Get Version reply does not end with ACK");
    memcpy(c->gv, b, 3);
    return 0;
}

int iap_cmd_get_id(struct iap_client *c)
{
    int rc = send_cmd(c, AN3155_CMD_GET_ID, 0xFFFFFFFFu);
    if (rc)
        return rc;
    uint8_t b[4];
    if ((rc = xread(c, b, 1, c->ack_timeout_ms, "Get ID")))
        return rc;
    size_t n = (size_t)b[0] + 1;
    uint8_t id[257];
    if ((rc = xread(c, id, n + 1, c->ack_timeout_ms, "Get ID")))
        return rc;
    if (id[n] != AN3155_ACK)
        return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "Get ID reply does not end with ACK");
    c->pid = (uint16_t)(n >= 2 ? (id[0] << 8 | id[1]) : id[0]);
    return 0;
}

/* Read and drop whatever arrives until the line is quiet for 300 ms. */
static void settle(struct iap_client *c)
{
    uint8_t junk[64];
    size_t r;
    for (int i = 0; i < 10 && !rd(c, junk, sizeof junk, 300, &r) && r > 0; i++)
        ;
}

static bool worth_retry(int rc)
{
    return rc == IAP_CLIENT_ERR_NACK || rc == IAP_CLIENT_ERR_PROTOCOL ||
           rc == IAP_CLIENT_ERR_NO_ANSWER;
}

/*
 * Sync, then Get. A Get that fails right after a good sync means the two
 * sides disagree about where a command starts (a late reply to an earlier
 * sync byte, a half command left in the target's parser): settle and
 * sync once more.
 */
static int sync_and_get(struct iap_client *c)
{
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt) {
            iap_debug(1, "Get failed after sync (%s): syncing again", iap_error());
            settle(c);
            iap_clear_error();
        }
        c->synced = false;
        c->n_cmds = 0;
        rc = iap_sync(c);
        if (rc)
            return rc;
        rc = iap_cmd_get(c);
        if (!worth_retry(rc))
            return rc;
    }
    return rc;
}

int iap_connect(struct iap_client *c)
{
    int rc = sync_and_get(c);
    /*
	 * A bootloader listening in 8N1 takes an 8E1 0x7F without error (the
	 * parity bit, 1, sits where it expects the stop bit) and ACKs, but
	 * then sees framing errors and NACKs. The same holds the other way
	 * round. So the frame format shows only at the first command: with
	 * --parity auto, try the other one once.
	 */
    if (worth_retry(rc) && c->synced && c->t->parity_fallback && c->t->ops->set_parity) {
        int even = c->t->parity != IAP_PARITY_EVEN;
        iap_debug(1, "no sense from the bootloader in 8%c1 (%s): trying 8%c1", even ? 'N' : 'E',
                  iap_error(), even ? 'E' : 'N');
        c->t->parity_fallback = 0;
        rc = c->t->ops->set_parity(c->t, even);
        if (!rc) {
            /* Let a half-read command time out on the target side. */
            settle(c);
            iap_clear_error();
            rc = sync_and_get(c);
        }
    }
    if (!rc)
        rc = iap_cmd_get_version(c);
    if (!rc)
        rc = iap_cmd_get_id(c);
    if (!rc)
        iap_debug(1, "bootloader v%u.%u, chip ID 0x%03x, %zu commands", c->version >> 4,
                  c->version & 15, c->pid, c->n_cmds);
    return rc;
}

static int send_addr(struct iap_client *c, uint8_t cmd, uint32_t addr)
{
    uint8_t f[AN3155_ADDR_FRAME_LEN];
    an3155_addr_encode(addr, f);
    int rc = xwrite(c, f, sizeof f);
    return rc ? rc : expect_ack(c, cmd, "address", addr, c->ack_timeout_ms);
}

int iap_read_mem(struct iap_client *c, uint32_t addr, uint8_t *buf, size_t n)
{
    uint8_t f[2];
    if (an3155_readlen_encode(n, f))
        return iap_fail(IAP_CLIENT_ERR_ARG, "read of %zu bytes: 1..256 per command", n);
    int rc = send_cmd(c, AN3155_CMD_READ, addr);
    if (!rc)
        rc = send_addr(c, AN3155_CMD_READ, addr);
    if (!rc)
        rc = xwrite(c, f, 2);
    if (!rc)
        rc = expect_ack(c, AN3155_CMD_READ, "length", addr, c->ack_timeout_ms);
    if (!rc)
        rc = xread(c, buf, n, c->ack_timeout_ms, "Read Memory (data)");
    return rc;
}

int iap_write_mem(struct iap_client *c, uint32_t addr, const uint8_t *buf, size_t n)
{
    uint8_t f[AN3155_DATA_FRAME_MAX];
    int len = an3155_data_encode(buf, n, f);
    if (len < 0)
        return iap_fail(IAP_CLIENT_ERR_ARG, "write of %zu bytes: 1..256 per command", n);
    int rc = send_cmd(c, AN3155_CMD_WRITE, addr);
    if (!rc)
        rc = send_addr(c, AN3155_CMD_WRITE, addr);
    if (!rc)
        rc = xwrite(c, f, (size_t)len);
    if (!rc)
        rc = expect_ack(c, AN3155_CMD_WRITE, "data", addr, c->ack_timeout_ms);
    return rc;
}

int iap_erase_pages(struct iap_client *c, const uint16_t *pages, size_t n)
{
    uint8_t f[2 + 2 * 256 + 1];
    int len, rc;
    uint8_t cmd = AN3155_CMD_EXT_ERASE;
    if (n < 1 || n > 256)
        return iap_fail(IAP_CLIENT_ERR_ARG, "erase of %zu pages: 1..256 per command", n);
    uint32_t addr = an3155_h7_page_addr(pages[0]);
    if (c->n_cmds && !iap_has_cmd(c, AN3155_CMD_EXT_ERASE) && iap_has_cmd(c, AN3155_CMD_ERASE)) {
        /* Legacy Erase: N-1, one byte per page, xor. */
        cmd = AN3155_CMD_ERASE;
        f[0] = (uint8_t)(n - 1);
        for (size_t i = 0; i < n; i++)
            f[1 + i] = (uint8_t)pages[i];
        f[1 + n] = an3155_xor(0, f, 1 + n);
        len = (int)(n + 2);
    } else {
        len = an3155_ext_erase_encode(pages, n, f);
    }
    rc = send_cmd(c, cmd, addr);
    if (!rc)
        rc = xwrite(c, f, (size_t)len);
    if (!rc)
        rc =
            expect_ack(c, cmd, "page list", addr, c->ack_timeout_ms + c->erase_timeout_ms * (int)n);
    return rc;
}

int iap_go(struct iap_client *c, uint32_t addr)
{
    int rc = send_cmd(c, AN3155_CMD_GO, addr);
    if (rc)
        return rc;
    /* The h7iap bootloader closes the update (CRC over the whole image,
	 * COMPLETE record) before it answers the address: allow for that. */
    uint8_t f[AN3155_ADDR_FRAME_LEN];
    an3155_addr_encode(addr, f);
    rc = xwrite(c, f, sizeof f);
    return rc ? rc : expect_ack(c, AN3155_CMD_GO, "address", addr, c->ack_timeout_ms * 10);
}

int iap_confirm(struct iap_client *c)
{
    int rc = send_cmd(c, AN3155_CMD_H7_CONFIRM, 0xFFFFFFFFu);
    /* One flash word programmed before the answer. */
    return rc ? rc
              : expect_ack(c, AN3155_CMD_H7_CONFIRM, "confirm", 0xFFFFFFFFu,
                           c->ack_timeout_ms * 10);
}

int iap_checksum(struct iap_client *c, uint32_t addr, uint32_t len, uint32_t *crc)
{
    uint8_t f[AN3155_ADDR_FRAME_LEN];
    int rc = send_cmd(c, AN3155_CMD_GET_CHECKSUM, addr);
    if (!rc)
        rc = send_addr(c, AN3155_CMD_GET_CHECKSUM, addr);
    if (rc)
        return rc;
    an3155_addr_encode(len, f);
    if ((rc = xwrite(c, f, sizeof f)))
        return rc;
    if ((rc = expect_ack(c, AN3155_CMD_GET_CHECKSUM, "length", addr, c->ack_timeout_ms)))
        return rc;
    /* Second ACK once the CRC is computed: allow for a slow target. */
    if ((rc = expect_ack(c, AN3155_CMD_GET_CHECKSUM, "computation", addr,
                         c->ack_timeout_ms + (int)(len / 64))))
        return rc;
    if ((rc = xread(c, f, sizeof f, c->ack_timeout_ms, "Get Checksum (result)")))
        return rc;
    if (an3155_addr_decode(f, crc))
        return iap_fail(IAP_CLIENT_ERR_PROTOCOL, "Get Checksum result has a bad checksum byte");
    return 0;
}

const char *iap_client_strerror(enum iap_client_err err)
{
    switch (err) {
    case IAP_CLIENT_OK: return "success";
    case IAP_CLIENT_ERR_NO_ANSWER: return "no answer from the bootloader";
    case IAP_CLIENT_ERR_NACK: return "the bootloader refused a command (NACK)";
    case IAP_CLIENT_ERR_NO_CMD: return "the bootloader does not offer the command";
    case IAP_CLIENT_ERR_PROTOCOL: return "protocol error (unexpected reply)";
    case IAP_CLIENT_ERR_ARG: return "request the protocol cannot carry";
    case IAP_CLIENT_ERR_BASE:
    case IAP_CLIENT_ERR_END: break;
    }
    return "unknown client error";
}
