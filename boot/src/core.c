/*
 * Boot decision helpers, the menu and the protocol dispatcher.
 */
#include <string.h>

#include "boot/boot.h"
#include "proto_err.h"

const char *boot_strerror(int err)
{
    const char *s;

    switch (err) {
    case BOOT_OK: return "ok";
    case BOOT_E_RANGE: return "address outside the application area";
    case BOOT_E_TOO_BIG: return "image larger than the application area (1835008 bytes)";
    case BOOT_E_NO_IMAGE: return "no complete update record";
    case BOOT_E_IMAGE_CRC: return "image CRC-32 does not match the update record";
    case BOOT_E_VECTORS: return "initial SP or reset vector not plausible";
    case BOOT_E_LOG: return "update record could not be written";
    case BOOT_E_CANCELLED: return "cancelled";
    case BOOT_E_PROTOCOL: return "protocol error";
    case BOOT_E_TIMEOUT: return "timeout";
    case BOOT_E_INCOMPLETE: return "transfer ended early";
    case BOOT_E_STARTED: return "last update was interrupted";
    case BOOT_E_NOSIZE: return "YMODEM header without file size";
    case BOOT_E_VERIFY: return "read-back CRC differs from the received data";
    case BOOT_E_TRANSFER: return "an earlier write of this transfer failed: erase and start again";
    default: break;
    }
    s = proto_strerror(err);
    return s ? s : h7f_strerror(err);
}

int boot_fail(struct boot_ctx *c, int err, uint32_t addr)
{
    c->diag.last_err = err;
    c->diag.last_err_addr = addr;
    return err;
}

void boot_init(struct boot_ctx *c, const struct boot_serial *ser)
{
    memset(c, 0, sizeof(*c));
    c->ser = ser;
    h7f_init(&c->fl_app);
    c->fl_app.protected_mask = BOOT_PROT_APP;
    boot_update_init(c);
}

static bool in_region(uint32_t a, uint32_t n, uint32_t base, uint32_t end)
{
    return a >= base && a < end && n <= end - a;
}

/* The host's RAM: DTCM above the bootloader's own 16 KB, and AXI SRAM. */
bool boot_ram_range_ok(uint32_t a, uint32_t n)
{
    return in_region(a, n, BOOT_RAM_END, H7_DTCM_BASE + H7_DTCM_SIZE) ||
           in_region(a, n, H7_AXISRAM_BASE, H7_AXISRAM_BASE + H7_AXISRAM_SIZE);
}

static bool sp_in(uint32_t sp, uint32_t base, uint32_t size)
{
    return sp > base && sp <= base + size;
}

bool boot_sp_ok(uint32_t sp)
{
    if (sp & 3u)
        return false;
    return sp_in(sp, H7_DTCM_BASE, H7_DTCM_SIZE) || sp_in(sp, H7_AXISRAM_BASE, H7_AXISRAM_SIZE) ||
           sp_in(sp, H7_SRAM1_BASE, H7_SRAM1_SIZE + H7_SRAM2_SIZE + H7_SRAM3_SIZE) ||
           sp_in(sp, H7_SRAM4_BASE, H7_SRAM4_SIZE);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void boot_app_check(struct boot_ctx *c, struct boot_app_info *info)
{
    const struct ur_record *r = &c->upd.log.newest;
    uint8_t vec[8];
    uint32_t crc = CRC32_H7FLASH_INIT, end;
    int rc;

    memset(info, 0, sizeof(*info));
    if (!c->upd.log.have_newest) {
        info->status = BOOT_E_NO_IMAGE;
        return;
    }
    info->have_rec = true;
    info->rec = *r;
    if (r->state != UR_STATE_COMPLETE) {
        info->status = BOOT_E_STARTED;
        return;
    }
    if (r->start != BOOT_APP_START || r->length > BOOT_APP_SIZE) {
        info->status = BOOT_E_NO_IMAGE;
        return;
    }
    /* Version 2: the flash CRC unit over the image's bursts; version 1
     * (written before): CRC-32 over a CPU read. When the unit's CRC does
     * not match, a CPU read tells an ECC error (the word named on the
     * status page; double ECC is a read error here, never a bus fault)
     * from other data. */
    if (r->version == UR_VERSION_1) {
        rc = h7f_crc32(&c->fl_app, BOOT_APP_START, r->length, &crc);
    } else {
        rc = r->length ? h7f_crc_unit_span(&c->fl_app, BOOT_APP_START,
                                           CRC32_H7FLASH_SPAN(r->length), &crc)
                       : 0;
        if (rc || crc != r->image_crc) {
            uint32_t cpu;
            int ecc = h7f_crc32(&c->fl_app, BOOT_APP_START, r->length, &cpu);

            if (ecc)
                rc = ecc;
        }
    }
    if (rc) {
        info->status = rc;
        info->bad_addr = c->fl_app.last_addr;
        (void)boot_fail(c, rc, info->bad_addr);
        return;
    }
    if (crc != r->image_crc) {
        info->status = BOOT_E_IMAGE_CRC;
        return;
    }
    if (r->length < sizeof(vec)) {
        /* too short to hold a vector table */
        info->status = BOOT_E_VECTORS;
        return;
    }
    rc = h7f_read(&c->fl_app, BOOT_APP_START, vec, sizeof(vec), &info->bad_addr);
    if (rc) {
        info->status = rc;
        return;
    }
    end = BOOT_APP_START + r->length;
    info->sp = le32(vec);
    info->entry = le32(vec + 4);
    if (!boot_sp_ok(info->sp) || !(info->entry & 1u) || (info->entry & ~1u) < BOOT_APP_START + 8u ||
        (info->entry & ~1u) >= end) {
        info->status = BOOT_E_VECTORS;
        return;
    }
    /* The CM4 boots from bank 2 sector 0: only a table inside the
	 * verified image counts. */
    if (end >= BOOT_CM4_VECTORS + 8u &&
        h7f_read(&c->fl_app, BOOT_CM4_VECTORS, vec, sizeof(vec), NULL) == 0) {
        uint32_t sp4 = le32(vec), pc4 = le32(vec + 4);

        info->cm4_valid = boot_sp_ok(sp4) && (pc4 & 1u) && (pc4 & ~1u) >= BOOT_CM4_VECTORS + 8u &&
                          (pc4 & ~1u) < end;
    }
    info->status = 0;
}

/* ---- console helpers ---- */

void boot_puts(struct boot_ctx *c, const char *s)
{
    c->ser->write(c->ser->ctx, s, strlen(s));
}

void boot_put_hex(struct boot_ctx *c, uint32_t v)
{
    char b[11];

    b[0] = '0';
    b[1] = 'x';
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
    b[10] = 0;
    boot_puts(c, b);
}

void boot_put_dec(struct boot_ctx *c, uint32_t v)
{
    char b[11];
    int i = 10;

    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    boot_puts(c, b + i);
}

static void put_err(struct boot_ctx *c, int err)
{
    boot_puts(c, boot_strerror(err));
    if (boot_err_is_flash(err)) {
        boot_puts(c, " at ");
        boot_put_hex(c, c->diag.last_err_addr);
    }
}

/* ---- menu ---- */

static void menu(struct boot_ctx *c)
{
    boot_puts(c, "\r\n"
                 "==== h7iap bootloader " BOOT_VERSION_STR " (STM32H745, USART3 8N1) ====\r\n"
                 "  1  Download image to the internal flash (YMODEM)\r\n"
                 "  2  Upload image from the internal flash (YMODEM)\r\n"
                 "  3  Execute the application\r\n"
                 "  4  Status\r\n"
                 "  (0x7F: ST USART bootloader protocol, AN3155)\r\n"
                 "> ");
}

static void status(struct boot_ctx *c)
{
    struct boot_app_info info;

    boot_app_check(c, &info);
    boot_puts(c, "\r\nh7iap " BOOT_VERSION_STR "\r\n  application area 0x08040000-0x081fffff\r\n");
    boot_puts(c, "  record log: ");
    boot_put_dec(c, c->upd.log.valid);
    boot_puts(c, " records, ");
    boot_put_dec(c, c->upd.log.torn);
    boot_puts(c, " torn, next slot ");
    boot_put_dec(c, c->upd.log.next_free);
    boot_puts(c, "/");
    boot_put_dec(c, c->upd.log.slots);
    boot_puts(c, "\r\n");
    if (info.have_rec) {
        boot_puts(c, "  newest record: #");
        boot_put_dec(c, info.rec.sequence);
        boot_puts(c, info.rec.state == UR_STATE_COMPLETE ? " COMPLETE" : " STARTED");
        boot_puts(c, " length ");
        boot_put_dec(c, info.rec.length);
        boot_puts(c, " crc32 ");
        boot_put_hex(c, info.rec.image_crc);
        boot_puts(c, "\r\n");
    }
    boot_puts(c, "  application: ");
    if (info.status == 0) {
        boot_puts(c, "valid, sp ");
        boot_put_hex(c, info.sp);
        boot_puts(c, " entry ");
        boot_put_hex(c, info.entry);
        boot_puts(c, info.cm4_valid ? ", CM4 image valid" : ", no CM4 image");
    } else {
        boot_puts(c, "not runnable: ");
        put_err(c, info.status);
    }
    boot_puts(c, "\r\n  CM4: ");
    boot_puts(c, c->cm4_state == 1   ? "held (BCM4 option cleared, not released)"
                 : c->cm4_state == 2 ? "BCM4 set: clearing needs a reset"
                                     : "held");
    if (c->stack_used) {
        boot_puts(c, "\r\n  stack used: ");
        boot_put_dec(c, c->stack_used());
        boot_puts(c, " bytes");
    }
    boot_puts(c, "\r\n  receive overruns: ");
    boot_put_dec(c, c->ser->overruns ? c->ser->overruns(c->ser->ctx) : 0u);
    if (c->diag.last_err) {
        boot_puts(c, "\r\n  last error: ");
        put_err(c, c->diag.last_err);
    }
    boot_puts(c, "\r\n");
}

/* After a transfer: let the client program exit before the result text
 * follows (a sender that reads its last ACK would swallow it), and drop
 * what it still sends. */
static void settle(struct boot_ctx *c)
{
    while (c->ser->getc(c->ser->ctx, 500) != BOOT_SER_TIMEOUT)
        boot_port_idle();
}

static int do_download(struct boot_ctx *c)
{
    uint32_t len = 0;
    int rc;

    boot_puts(c, "\r\nWaiting for the file to be sent (YMODEM, 'a' aborts) ...\r\n");
    c->ser->drain(c->ser->ctx);
    rc = boot_ymodem_receive(c, &len);
    settle(c);
    if (rc == 0) {
        boot_puts(c, "\r\nProgramming completed successfully: ");
        boot_put_dec(c, len);
        boot_puts(c, " bytes, crc32 ");
        boot_put_hex(c, c->upd.log.newest.image_crc);
        boot_puts(c, "\r\n");
    } else {
        boot_puts(c, "\r\nDownload failed: ");
        put_err(c, rc);
        boot_puts(c, "\r\n");
    }
    return rc;
}

static void do_upload(struct boot_ctx *c)
{
    int rc;

    boot_puts(c, "\r\nStart the YMODEM receiver now ...\r\n");
    c->ser->drain(c->ser->ctx);
    rc = boot_ymodem_send(c);
    settle(c);
    if (rc == 0)
        boot_puts(c, "\r\nUpload completed successfully\r\n");
    else {
        boot_puts(c, "\r\nUpload failed: ");
        put_err(c, rc);
        boot_puts(c, "\r\n");
    }
}

struct boot_result boot_session(struct boot_ctx *c, int first)
{
    struct boot_result res;
    struct boot_app_info info;
    int b = first;

    memset(&res, 0, sizeof(res));
    for (;;) {
        while (b == BOOT_SER_TIMEOUT) {
            boot_port_idle();
            b = c->ser->getc(c->ser->ctx, 1000);
        }
        if ((b & 0xFF) == 0x7F)
            return boot_an3155(c, b);
        /* The menu talks to terminals: 8N1. */
        if (c->idle_format != BOOT_SER_8N1) {
            c->ser->set_format(c->ser->ctx, BOOT_SER_8N1);
            c->idle_format = BOOT_SER_8N1;
        }
        switch (b & 0xFF) {
        case '1':
            if (do_download(c) == 0 && c->reset_after_download) {
                boot_puts(c, "Resetting into the new image\r\n");
                c->ser->drain(c->ser->ctx);
                res.act = BOOT_ACT_RESET;
                return res;
            }
            break;
        case '2': do_upload(c); break;
        case '3':
            boot_app_check(c, &info);
            if (info.status == 0) {
                boot_puts(c, "\r\nStarting the application at ");
                boot_put_hex(c, info.entry);
                boot_puts(c, "\r\n");
                c->ser->drain(c->ser->ctx);
                res.act = BOOT_ACT_JUMP_APP;
                res.addr = BOOT_APP_START;
                res.release_cm4 = info.cm4_valid;
                return res;
            }
            boot_puts(c, "\r\nNo runnable application: ");
            put_err(c, info.status);
            boot_puts(c, "\r\n");
            break;
        case '4': status(c); break;
        case '\r':
        case '\n':
        default: break;
        }
        menu(c);
        b = BOOT_SER_TIMEOUT;
    }
}
