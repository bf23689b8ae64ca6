/* Fake AN3155 target for the h7iap tests (see fake_an3155.h). */
#define _DEFAULT_SOURCE
#include "fake_an3155.h"
#include "an3155.h"
#include "h7_layout.h"
#include "crc32.h"
#include "fake_fastp.h"
#include "fastp.h"
#include "iap_client.h"
#include "iap_transport.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void fake_init(struct fake_target *f)
{
    memset(f, 0, sizeof *f);
    memset(f->flash, 0xFF, sizeof f->flash);
    f->fd = -1;
}

static void nap(void)
{
    struct timespec ts = { 0, 5 * 1000000L };
    nanosleep(&ts, NULL);
}

/* Read exactly n bytes within ms (ms < 0: until stop). 0 ok, -1 not. */
static int rd(struct fake_target *f, uint8_t *b, size_t n, int ms)
{
    size_t got = 0;
    int waited = 0;
    while (got < n) {
        if (f->stop)
            return -1;
        struct pollfd p = { .fd = f->fd, .events = POLLIN };
        int pr = poll(&p, 1, 20);
        if (pr <= 0 || !(p.revents & POLLIN)) {
            if (pr > 0)
                nap(); /* POLLHUP: pty slave closed; wait for the next open */
            waited += 20;
            if (ms >= 0 && waited >= ms)
                return -1;
            continue;
        }
        ssize_t r = read(f->fd, b + got, n - got);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EIO) {
                nap();
                waited += 5;
                continue;
            }
            return -1;
        }
        if (r == 0) {
            nap();
            continue;
        }
        got += (size_t)r;
    }
    return 0;
}

static void wr(struct fake_target *f, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t w = write(f->fd, b, n);
        if (w <= 0) {
            if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
                nap();
                continue;
            }
            return;
        }
        b += w;
        n -= (size_t)w;
    }
}

static void ack(struct fake_target *f)
{
    uint8_t a = AN3155_ACK;
    wr(f, &a, 1);
}

static void nack(struct fake_target *f, uint8_t reason, uint32_t addr)
{
    uint8_t n = AN3155_NACK;
    f->reason = reason;
    f->reason_addr = addr;
    wr(f, &n, 1);
}

static void say(struct fake_target *f, const char *s)
{
    if (s)
        wr(f, (const uint8_t *)s, strlen(s));
}

static int rd_addr(struct fake_target *f, uint32_t *a)
{
    uint8_t b[5];
    if (rd(f, b, 5, 1000))
        return -1;
    if (an3155_addr_decode(b, a)) {
        nack(f, AN3155_REASON_CHECKSUM, 0xFFFFFFFFu);
        return -1;
    }
    return 0;
}

static bool in_flash(uint32_t a, uint32_t n)
{
    return a >= H7_FLASH_BASE && (uint64_t)a + n <= (uint64_t)H7_FLASH_BASE + FAKE_FLASH_SIZE;
}

static bool in_app(uint32_t a, uint32_t n)
{
    return a >= BOOT_APP_START && (uint64_t)a + n <= BOOT_APP_END;
}

static void do_get(struct fake_target *f)
{
    uint8_t cmds[16], out[32];
    size_t n = 0;
    cmds[n++] = AN3155_CMD_GET;
    cmds[n++] = AN3155_CMD_GET_VERSION;
    cmds[n++] = AN3155_CMD_GET_ID;
    cmds[n++] = AN3155_CMD_READ;
    cmds[n++] = AN3155_CMD_GO;
    cmds[n++] = AN3155_CMD_WRITE;
    cmds[n++] = AN3155_CMD_EXT_ERASE;
    if (f->offer_checksum)
        cmds[n++] = AN3155_CMD_GET_CHECKSUM;
    if (f->offer_reason)
        cmds[n++] = AN3155_CMD_H7_GET_REASON;
    if (f->fastp)
        cmds[n++] = FP_AN3155_CMD;
    int len = an3155_get_encode(AN3155_VERSION, cmds, n, out);
    ack(f);
    wr(f, out, (size_t)len);
    ack(f);
}

static void do_read(struct fake_target *f)
{
    uint32_t a;
    uint8_t b[2];
    size_t n;
    ack(f);
    if (rd_addr(f, &a))
        return;
    if (!in_flash(a, 1)) {
        nack(f, AN3155_REASON_ADDRESS, a);
        return;
    }
    ack(f);
    if (rd(f, b, 2, 1000))
        return;
    if (an3155_readlen_decode(b, &n) || !in_flash(a, (uint32_t)n)) {
        nack(f, AN3155_REASON_LENGTH, a);
        return;
    }
    ack(f);
    f->reads++;
    wr(f, f->flash + (a - H7_FLASH_BASE), n);
}

static void do_write(struct fake_target *f)
{
    uint32_t a;
    uint8_t nm1, data[256], x;
    ack(f);
    if (rd_addr(f, &a))
        return;
    if (!in_app(a, 1)) {
        nack(f, AN3155_REASON_ADDRESS, a);
        return;
    }
    ack(f);
    if (rd(f, &nm1, 1, 1000) || rd(f, data, (size_t)nm1 + 1, 1000) || rd(f, &x, 1, 1000))
        return;
    size_t n = (size_t)nm1 + 1;
    if (an3155_data_check(nm1, data, x)) {
        nack(f, AN3155_REASON_CHECKSUM, a);
        return;
    }
    if (a % 32 || n % 32) {
        nack(f, AN3155_REASON_ALIGN, a);
        return;
    }
    if (!in_app(a, (uint32_t)n)) {
        nack(f, AN3155_REASON_LENGTH, a);
        return;
    }
    if (f->nack_write_at && a == f->nack_write_at) {
        nack(f, AN3155_REASON_FLASH, a);
        return;
    }
    uint32_t off = a - H7_FLASH_BASE;
    for (size_t w = 0; w < n / 32; w++) {
        if (f->programmed[off / 32 + w]) {
            f->double_programs++;
            nack(f, AN3155_REASON_NOT_ERASED, a + (uint32_t)w * 32);
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t v = data[i];
        if (f->corrupt_at && a + i == f->corrupt_at)
            v = (uint8_t)~v;
        f->flash[off + i] &= v;
    }
    for (size_t w = 0; w < n / 32; w++)
        f->programmed[off / 32 + w] = 1;
    f->writes++;
    ack(f);
}

static void do_ext_erase(struct fake_target *f)
{
    uint8_t fr[2 + 2 * 16 + 1];
    uint16_t pages[16], special;
    size_t count;
    ack(f);
    if (rd(f, fr, 2, 1000))
        return;
    int rest = an3155_ext_erase_rest_len((uint16_t)(fr[0] << 8 | fr[1]));
    if (rest < 0 || (size_t)rest + 2 > sizeof fr) {
        nack(f, AN3155_REASON_LENGTH, 0xFFFFFFFFu);
        return;
    }
    if (rd(f, fr + 2, (size_t)rest, 1000))
        return;
    if (an3155_ext_erase_decode(fr, 2 + (size_t)rest, pages, 16, &count, &special)) {
        nack(f, AN3155_REASON_CHECKSUM, 0xFFFFFFFFu);
        return;
    }
    if (special) {
        nack(f, AN3155_REASON_PAGE, 0xFFFFFFFFu);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (pages[i] < BOOT_APP_FIRST_SECTOR || pages[i] >= BOOT_SECTORS) {
            nack(f, AN3155_REASON_PAGE, an3155_h7_page_addr(pages[i]));
            return;
        }
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t off = pages[i] * H7_SECTOR_SIZE;
        memset(f->flash + off, 0xFF, H7_SECTOR_SIZE);
        memset(f->programmed + off / 32, 0, H7_SECTOR_SIZE / 32);
        f->erased_mask |= 1u << pages[i];
    }
    f->erases++;
    ack(f);
}

static void do_go(struct fake_target *f)
{
    uint32_t a;
    ack(f);
    if (rd_addr(f, &a))
        return;
    if (a != AN3155_H7_RESET_ADDR && !in_app(a, 4)) {
        nack(f, AN3155_REASON_ADDRESS, a);
        return;
    }
    f->go_addr = a;
    f->synced = false;
    if (a == AN3155_H7_RESET_ADDR) {
        f->resets++;
    } else {
        f->gos++;
        f->in_app = true;
    }
    ack(f);
    say(f, a == AN3155_H7_RESET_ADDR ? f->banner : f->app_banner);
}

static void do_checksum(struct fake_target *f)
{
    uint32_t a, len;
    uint8_t out[5];
    ack(f);
    if (rd_addr(f, &a))
        return;
    ack(f);
    if (rd_addr(f, &len))
        return;
    if (len % 4 || !in_flash(a, len)) {
        nack(f, AN3155_REASON_LENGTH, a);
        return;
    }
    ack(f);
    uint32_t crc = crc32_stm32(CRC32_STM32_INIT, f->flash + (a - H7_FLASH_BASE), len);
    ack(f);
    an3155_addr_encode(crc, out);
    wr(f, out, 5);
}

static void do_reason(struct fake_target *f)
{
    uint8_t b[8];
    b[0] = AN3155_ACK;
    b[1] = f->reason;
    b[2] = (uint8_t)(f->reason_addr >> 24);
    b[3] = (uint8_t)(f->reason_addr >> 16);
    b[4] = (uint8_t)(f->reason_addr >> 8);
    b[5] = (uint8_t)f->reason_addr;
    b[6] = an3155_xor(0, b + 1, 5);
    b[7] = AN3155_ACK;
    f->reason = AN3155_REASON_NONE;
    f->reason_addr = 0xFFFFFFFFu;
    wr(f, b, 8);
}

static void *serve(void *arg)
{
    struct fake_target *f = arg;
    say(f, f->banner);
    f->synced = f->start_synced;
    while (!f->stop) {
        uint8_t c[2];
        if (rd(f, c, 1, -1))
            break;
        if (f->in_app) {
            if (c[0] == 'b') {
                f->in_app = false;
                f->synced = false;
                say(f, "h7app: returning to the bootloader\r\n");
                say(f, f->banner);
            }
            continue;
        }
        if (f->silent) {
            if (f->chatter)
                say(f, f->banner);
            continue;
        }
        if (!f->synced) {
            if (c[0] == AN3155_SYNC) {
                if (f->sync_delay_ms) {
                    struct timespec ts = { f->sync_delay_ms / 1000,
                                           (f->sync_delay_ms % 1000) * 1000000L };
                    nanosleep(&ts, NULL);
                    f->sync_delay_ms = 0;
                }
                f->synced = true;
                f->syncs++;
                ack(f);
            }
            continue;
        }
        if (c[0] == AN3155_SYNC && f->sync_in_loop) {
            f->syncs++;
            ack(f);
            continue;
        }
        if (rd(f, c + 1, 1, 1000))
            continue;
        if (f->host_even && (*f->host_even != 0) != f->target_even) {
            nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu);
            continue;
        }
        uint8_t cmd;
        if (an3155_cmd_decode(c, &cmd)) {
            nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu);
            continue;
        }
        switch (cmd) {
        case AN3155_CMD_GET: do_get(f); break;
        case AN3155_CMD_GET_VERSION: {
            uint8_t b[5] = { AN3155_ACK, AN3155_VERSION, 0, 0, AN3155_ACK };
            wr(f, b, 5);
            break;
        }
        case AN3155_CMD_GET_ID: {
            uint8_t b[5] = { AN3155_ACK, 0, 0, 0, AN3155_ACK };
            an3155_gid_encode(AN3155_PID_H74X, b + 1);
            wr(f, b, 5);
            break;
        }
        case AN3155_CMD_READ: do_read(f); break;
        case AN3155_CMD_WRITE: do_write(f); break;
        case AN3155_CMD_EXT_ERASE: do_ext_erase(f); break;
        case AN3155_CMD_GO: do_go(f); break;
        case AN3155_CMD_GET_CHECKSUM:
            if (f->offer_checksum)
                do_checksum(f);
            else
                nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu);
            break;
        case AN3155_CMD_H7_GET_REASON:
            if (f->offer_reason)
                do_reason(f);
            else
                nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu);
            break;
        case FP_AN3155_CMD:
            if (f->fastp) {
                ack(f);
                fake_fastp_session(f);
                f->sync_in_loop = true; /* as the h7iap bootloader after a session */
            } else {
                nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu);
            }
            break;
        default: nack(f, AN3155_REASON_BAD_CMD, 0xFFFFFFFFu); break;
        }
    }
    return NULL;
}

int fake_start(struct fake_target *f, int fd)
{
    f->fd = fd;
    f->stop = 0;
    return pthread_create(&f->thread, NULL, serve, f);
}

int fake_start_pair(struct fake_target *f, struct iap_transport **t, int *fd)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return -1;
    *fd = sv[1];
    if (fake_start(f, sv[1]))
        return -1;
    return iap_fd_transport(sv[0], "fake", t) ? -1 : 0;
}

int fake_stop_pair(struct fake_target *f, struct iap_transport *t, int fd)
{
    if (t) {
        fake_stop(f);
        t->ops->close(t);
        close(fd);
    }
    return f->double_programs;
}

void fake_client_init(struct iap_client *c, struct iap_transport *t)
{
    iap_client_init(c, t);
    c->sync_timeout_ms = 100;
    c->sync_attempts = 4;
    c->ack_timeout_ms = 500;
}

int fake_read(struct fake_target *f, uint8_t *b, size_t n, int ms)
{
    return rd(f, b, n, ms);
}

void fake_write(struct fake_target *f, const uint8_t *b, size_t n)
{
    wr(f, b, n);
}

void fake_stop(struct fake_target *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
}
