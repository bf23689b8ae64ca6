/* h7iap: serial (termios) and plain fd transports. */
#define _DEFAULT_SOURCE
#include "iap_transport.h"
#include "iap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct fd_transport {
    struct iap_transport base;
    int fd;
    int is_tty;
    struct termios saved;
    speed_t speed;
    char name[256];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum iap_port_err fd_write(struct iap_transport *t, const uint8_t *buf, size_t n)
{
    struct fd_transport *f = (struct fd_transport *)t;
    while (n) {
        ssize_t w = write(f->fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = { .fd = f->fd, .events = POLLOUT };
                if (poll(&p, 1, t->write_timeout_ms > 0 ? t->write_timeout_ms : 2000) == 0)
                    return iap_fail(IAP_PORT_ERR_TIMEDOUT,
                                    "%s: write timed out (flow control stuck?)", f->name);
                continue;
            }
            return iap_fail(IAP_PORT_ERR_IO, "%s: write failed: %s", f->name, strerror(errno));
        }
        buf += w;
        n -= (size_t)w;
    }
    return IAP_PORT_OK;
}

static enum iap_port_err fd_read(struct iap_transport *t, uint8_t *buf, size_t n, int timeout_ms,
                                 size_t *gotp)
{
    struct fd_transport *f = (struct fd_transport *)t;
    long long deadline = now_ms() + timeout_ms;
    size_t got = 0;
    *gotp = 0;
    while (got < n) {
        long long left = deadline - now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = { .fd = f->fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return iap_fail(IAP_PORT_ERR_IO, "%s: poll failed: %s", f->name, strerror(errno));
        }
        if (pr == 0)
            break;
        ssize_t r = read(f->fd, buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == EIO) /* pty whose other side went away */
                return iap_fail(IAP_PORT_ERR_CLOSED, "%s: the other side of the line closed",
                                f->name);
            return iap_fail(IAP_PORT_ERR_IO, "%s: read failed: %s", f->name, strerror(errno));
        }
        if (r == 0) {
            if (p.revents & POLLHUP)
                return iap_fail(IAP_PORT_ERR_CLOSED, "%s: the other side of the line closed",
                                f->name);
            break;
        }
        got += (size_t)r;
        *gotp = got;
    }
    return IAP_PORT_OK;
}

static void fd_drain(struct iap_transport *t)
{
    struct fd_transport *f = (struct fd_transport *)t;
    uint8_t junk[256];
    if (f->is_tty)
        tcflush(f->fd, TCIFLUSH);
    for (;;) {
        struct pollfd p = { .fd = f->fd, .events = POLLIN };
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
            break;
        ssize_t r = read(f->fd, junk, sizeof junk);
        if (r <= 0)
            break;
        iap_debug(2, "drained %zd stray byte(s)", r);
    }
}

static void fd_close(struct iap_transport *t)
{
    struct fd_transport *f = (struct fd_transport *)t;
    if (f->is_tty) {
        tcdrain(f->fd);
        tcsetattr(f->fd, TCSANOW, &f->saved);
        /* TIOCEXCL outlives us while anyone else holds the tty open. */
        ioctl(f->fd, TIOCNXCL);
    }
    close(f->fd);
    free(f);
}

static int apply(int fd, speed_t sp, int even);

static enum iap_port_err fd_set_parity(struct iap_transport *t, int even)
{
    struct fd_transport *f = (struct fd_transport *)t;
    if (f->is_tty) {
        tcdrain(f->fd);
        if (apply(f->fd, f->speed, even) != 1)
            return iap_fail(IAP_PORT_ERR_SETUP, "%s: cannot switch to 8%c1", f->name,
                            even ? 'E' : 'N');
    }
    t->parity = even ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
    return IAP_PORT_OK;
}

static speed_t baud_const(unsigned b);

static enum iap_port_err fd_set_baud(struct iap_transport *t, unsigned baud)
{
    struct fd_transport *f = (struct fd_transport *)t;
    if (!f->is_tty)
        return IAP_PORT_OK;
    speed_t sp = baud_const(baud);
    if (!sp)
        return iap_fail(IAP_PORT_ERR_BAUD, "%s: baud rate %u is not supported", f->name, baud);
    tcdrain(f->fd);
    if (apply(f->fd, sp, t->parity == IAP_PARITY_EVEN) < 0)
        return iap_fail(IAP_PORT_ERR_SETUP, "%s: cannot set %u baud", f->name, baud);
    f->speed = sp;
    return IAP_PORT_OK;
}

static const struct iap_transport_ops fd_ops = {
    .write = fd_write,
    .read = fd_read,
    .drain = fd_drain,
    .close = fd_close,
    .set_parity = fd_set_parity,
    .set_baud = fd_set_baud,
};

static struct fd_transport *fd_new(int fd, const char *name)
{
    struct fd_transport *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = fd;
    f->base.ops = &fd_ops;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->base.name = f->name;
    f->base.parity = IAP_PARITY_NONE;
    return f;
}

enum iap_port_err iap_fd_transport(int fd, const char *name, struct iap_transport **out)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    struct fd_transport *f = fd_new(fd, name);
    if (!f) {
        close(fd);
        return iap_fail(IAP_PORT_ERR_NOMEM, "out of memory");
    }
    *out = &f->base;
    return IAP_PORT_OK;
}

static speed_t baud_const(unsigned b)
{
    switch (b) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
#ifdef B460800
    case 460800: return B460800;
#endif
#ifdef B500000
    case 500000: return B500000;
#endif
#ifdef B576000
    case 576000: return B576000;
#endif
#ifdef B921600
    case 921600: return B921600;
#endif
#ifdef B1000000
    case 1000000: return B1000000;
#endif
#ifdef B1500000
    case 1500000: return B1500000;
#endif
#ifdef B2000000
    case 2000000: return B2000000;
#endif
#ifdef B3000000
    case 3000000: return B3000000;
#endif
#ifdef B4000000
    case 4000000: return B4000000;
#endif
    default: return 0;
    }
}

/* Apply raw 8x1 settings with or without even parity; 1 if PARENB stuck. */
static int apply(int fd, speed_t sp, int even)
{
    struct termios tio;
    if (tcgetattr(fd, &tio))
        return -1;
    cfmakeraw(&tio);
    tio.c_cflag &= ~(tcflag_t)(CSIZE | CSTOPB | PARENB | PARODD | CRTSCTS);
    tio.c_cflag |= CS8 | CLOCAL | CREAD;
    if (even)
        tio.c_cflag |= PARENB;
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY | INPCK | ISTRIP);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, sp);
    cfsetospeed(&tio, sp);
    if (tcsetattr(fd, TCSANOW, &tio))
        return -1;
    /* tcsetattr succeeds if any change took; read back what stuck.
	 * Linux ptys silently drop PARENB (docs/PRIOR_ART.md 2.3). */
    struct termios chk;
    if (tcgetattr(fd, &chk))
        return -1;
    return even ? !!(chk.c_cflag & PARENB) : 1;
}

enum iap_port_err iap_serial_open(const struct iap_serial_opts *o, struct iap_transport **out)
{
    speed_t sp = baud_const(o->baud);
    if (!sp)
        return iap_fail(IAP_PORT_ERR_BAUD,
                        "baud rate %u is not supported (try 115200, 57600, 230400, 460800, 921600)",
                        o->baud);
    int fd = open(o->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            return iap_fail(
                IAP_PORT_ERR_NODEV,
                "port %s not found: is the board plugged in? (ls /dev/ttyACM* /dev/ttyUSB*)",
                o->path);
        if (e == EBUSY)
            return iap_fail(IAP_PORT_ERR_BUSY,
                            "port %s is busy: another program (a terminal, ModemManager, "
                            "stm32flash) has it open",
                            o->path);
        if (e == EACCES)
            return iap_fail(IAP_PORT_ERR_ACCESS,
                            "no permission to open %s: add yourself to the 'dialout' group",
                            o->path);
        return iap_fail(IAP_PORT_ERR_OPEN, "cannot open port %s: %s", o->path, strerror(e));
    }
    if (!isatty(fd)) {
        close(fd);
        return iap_fail(IAP_PORT_ERR_NOT_TTY, "%s is not a serial device", o->path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return iap_fail(
            IAP_PORT_ERR_BUSY,
            "port %s is busy: another program (a terminal, ModemManager, stm32flash) has it open",
            o->path);
    }
    if (ioctl(fd, TIOCEXCL) && errno != ENOTTY)
        iap_debug(1, "%s: TIOCEXCL failed: %s", o->path, strerror(errno));
    struct fd_transport *f = fd_new(fd, o->path);
    if (!f) {
        close(fd);
        return iap_fail(IAP_PORT_ERR_NOMEM, "out of memory");
    }
    if (tcgetattr(fd, &f->saved)) {
        free(f);
        close(fd);
        return iap_fail(IAP_PORT_ERR_SETUP, "%s: cannot read the line settings: %s", o->path,
                        strerror(errno));
    }
    f->is_tty = 1;
    int want_even = o->parity != IAP_PARITY_NONE;
    int r = apply(fd, sp, want_even);
    if (r < 0) {
        int e = errno;
        fd_close(&f->base);
        return iap_fail(IAP_PORT_ERR_SETUP, "%s: cannot set %u baud 8%c1: %s", o->path, o->baud,
                        want_even ? 'E' : 'N', strerror(e));
    }
    if (want_even && r == 0) {
        if (o->parity == IAP_PARITY_EVEN) {
            fd_close(&f->base);
            return iap_fail(IAP_PORT_ERR_SETUP,
                            "%s refuses even parity (a pty?); use --parity none or auto", o->path);
        }
        iap_debug(1, "%s drops even parity (a pty?): using 8N1", o->path);
        if (apply(fd, sp, 0) < 0) {
            int e = errno;
            fd_close(&f->base);
            return iap_fail(IAP_PORT_ERR_SETUP, "%s: cannot set 8N1: %s", o->path, strerror(e));
        }
        f->base.parity = IAP_PARITY_NONE;
    } else {
        f->base.parity = want_even ? IAP_PARITY_EVEN : IAP_PARITY_NONE;
        /* Auto on a real port: 8E1 first, 8N1 if the bootloader does not
		 * understand us (the h7iap bootloader idles in 8N1 by default). */
        f->base.parity_fallback = o->parity == IAP_PARITY_AUTO;
    }
    f->speed = sp;
    tcflush(fd, TCIOFLUSH);
    iap_debug(1, "opened %s at %u baud 8%c1", o->path, o->baud,
              f->base.parity == IAP_PARITY_EVEN ? 'E' : 'N');
    *out = &f->base;
    return IAP_PORT_OK;
}

const char *iap_port_strerror(enum iap_port_err err)
{
    switch (err) {
    case IAP_PORT_OK: return "success";
    case IAP_PORT_ERR_NODEV: return "serial port not found";
    case IAP_PORT_ERR_BUSY: return "serial port busy";
    case IAP_PORT_ERR_ACCESS: return "no permission to open the serial port";
    case IAP_PORT_ERR_NOT_TTY: return "not a serial device";
    case IAP_PORT_ERR_BAUD: return "baud rate not supported";
    case IAP_PORT_ERR_SETUP: return "serial port refuses the line settings";
    case IAP_PORT_ERR_OPEN: return "cannot open the serial port";
    case IAP_PORT_ERR_IO: return "serial port I/O error";
    case IAP_PORT_ERR_CLOSED: return "the other side of the line closed";
    case IAP_PORT_ERR_TIMEDOUT: return "serial write timed out";
    case IAP_PORT_ERR_NOMEM: return "out of memory";
    case IAP_PORT_ERR_VBOARD_MISSING: return "virtual board or bootloader ELF not found";
    case IAP_PORT_ERR_VBOARD_START: return "virtual board did not start";
    case IAP_PORT_ERR_VBOARD_DIED: return "virtual board stopped unexpectedly";
    case IAP_PORT_ERR_BASE:
    case IAP_PORT_ERR_END: break;
    }
    return "unknown port error";
}
