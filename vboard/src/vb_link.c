/*
 * vboard: the host end of USART3: a pseudo-terminal, stdin/stdout, a TCP
 * client on 127.0.0.1 or file descriptors given by an embedding program.
 * Bytes from the host are queued here until vb_usart.c stamps them in
 * virtual time; the board's bytes are buffered and flushed.
 */
#define _GNU_SOURCE
#include "vb_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int vb_link_open(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    memset(l, 0, sizeof *l);
    l->kind = b->cfg.link;
    l->fd_in = l->fd_out = l->listen_fd = l->pty_slave = -1;
    l->host_bits = 8;
    switch (l->kind) {
    case VB_LINK_NONE: return 0;
    case VB_LINK_STDIO:
        l->fd_in = 0;
        l->fd_out = 1;
        set_nonblock(0);
        /* A script feeding stdin takes part in the exchange from the start. */
        if (!isatty(0))
            b->cfg.wait_host = true;
        return 0;
    case VB_LINK_FDS:
        l->fd_in = b->cfg.fd_in;
        l->fd_out = b->cfg.fd_out;
        if (l->fd_in >= 0)
            set_nonblock(l->fd_in);
        return 0;
    case VB_LINK_PTY: {
        int m = posix_openpt(O_RDWR | O_NOCTTY);
        if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
            fprintf(stderr, "h7vboard: cannot create a pty: %s\n", strerror(errno));
            return -1;
        }
        const char *name = ptsname(m);
        /* Keep the slave open in raw mode: output written before a client
         * connects is kept, and the line discipline does not mangle bytes. */
        int sl = open(name, O_RDWR | O_NOCTTY);
        if (sl < 0) {
            fprintf(stderr, "h7vboard: %s: %s\n", name, strerror(errno));
            close(m);
            return -1;
        }
        struct termios t;
        tcgetattr(sl, &t);
        cfmakeraw(&t);
        tcsetattr(sl, TCSANOW, &t);
        set_nonblock(m);
        l->fd_in = l->fd_out = m;
        l->pty_slave = sl;
        l->nonblock_out = true;
        fprintf(stderr, "h7vboard: USART3 on %s\n", name);
        if (b->cfg.pty_link) {
            unlink(b->cfg.pty_link);
            if (symlink(name, b->cfg.pty_link) != 0) {
                fprintf(stderr, "h7vboard: symlink %s: %s\n", b->cfg.pty_link, strerror(errno));
                return -1;
            }
        }
        if (b->cfg.pty_file) {
            FILE *f = fopen(b->cfg.pty_file, "w");
            if (!f) {
                fprintf(stderr, "h7vboard: %s: %s\n", b->cfg.pty_file, strerror(errno));
                return -1;
            }
            fprintf(f, "%s\n", name);
            fclose(f);
        }
        return 0;
    }
    case VB_LINK_TCP: {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)b->cfg.tcp_port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 1) != 0) {
            fprintf(stderr, "h7vboard: cannot listen on 127.0.0.1:%d: %s\n", b->cfg.tcp_port,
                    strerror(errno));
            if (s >= 0)
                close(s);
            return -1;
        }
        set_nonblock(s);
        l->listen_fd = s;
        l->nonblock_out = true;
        fprintf(stderr, "h7vboard: USART3 on tcp 127.0.0.1:%d\n", b->cfg.tcp_port);
        return 0;
    }
    }
    return 0;
}

void vb_link_close(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    vb_link_flush(b);
    if (l->kind == VB_LINK_PTY) {
        /* Give a client time to read what the board sent last: closing the
         * master makes the slave side fail with EIO at once. */
        int tries = l->seen_host ? 100 : 10; /* 1 s for a client that talked, else 0.1 s */
        for (int i = 0; i < tries && l->pty_slave >= 0 && b->uart_tx; i++) {
            /* The kernel moves bytes to the slave's queue asynchronously:
             * give it a moment before looking. */
            struct timespec ts = { 0, 10000000L };
            nanosleep(&ts, NULL);
            int pending = 0;
            if (ioctl(l->pty_slave, FIONREAD, &pending) != 0 || pending == 0)
                break;
        }
        if (l->fd_in >= 0)
            close(l->fd_in);
        if (l->pty_slave >= 0)
            close(l->pty_slave);
        if (b->cfg.pty_link)
            unlink(b->cfg.pty_link);
    } else if (l->kind == VB_LINK_TCP) {
        if (l->fd_in >= 0)
            close(l->fd_in);
        if (l->listen_fd >= 0)
            close(l->listen_fd);
    }
    l->fd_in = l->fd_out = l->listen_fd = l->pty_slave = -1;
    l->kind = VB_LINK_NONE;
}

void vb_link_flush(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    if (l->out_count == 0)
        return;
    if (l->fd_out < 0) {
        if (l->kind != VB_LINK_TCP) /* TCP: kept for the next client */
            l->out_count = 0;
        return;
    }
    unsigned done = 0;
    while (done < l->out_count) {
        ssize_t n = write(l->fd_out, l->out + done, l->out_count - done);
        if (n > 0) {
            done += (unsigned)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !l->nonblock_out) {
            struct pollfd p = { .fd = l->fd_out, .events = POLLOUT };
            poll(&p, 1, 100);
            continue;
        }
        l->dropped_out += l->out_count - done;
        break;
    }
    l->out_count = 0;
}

static void host_format(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    if (l->pty_slave < 0)
        return;
    struct termios t;
    if (tcgetattr(l->pty_slave, &t) != 0)
        return;
    l->host_parity = (t.c_cflag & PARENB) ? ((t.c_cflag & PARODD) ? 2 : 1) : 0;
    switch (t.c_cflag & CSIZE) {
    case CS5: l->host_bits = 5; break;
    case CS6: l->host_bits = 6; break;
    case CS7: l->host_bits = 7; break;
    default: l->host_bits = 8; break;
    }
}

void vb_link_poll(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    l->last_poll_wall = vb_wall();
    if (l->kind == VB_LINK_TCP && l->fd_in < 0) {
        int c = accept(l->listen_fd, NULL, NULL);
        if (c < 0)
            return;
        set_nonblock(c);
        l->fd_in = l->fd_out = c;
        vb_trace(b, "host connected (tcp)");
        vb_link_flush(b); /* what the board sent while nobody listened */
    }
    if (l->fd_in < 0 || l->in_eof)
        return;
    while (l->q_count < VB_HOSTQ_SIZE) {
        if (l->q_count == 0)
            l->q_head = 0;
        unsigned tail = (l->q_head + l->q_count) % VB_HOSTQ_SIZE;
        unsigned room = tail >= l->q_head ? VB_HOSTQ_SIZE - tail : l->q_head - tail;
        ssize_t n = read(l->fd_in, l->q + tail, room);
        if (n > 0) {
            if (l->q_count == 0)
                host_format(b);
            l->q_count += (unsigned)n;
            l->seen_host = true;
            l->last_host_byte_wall = l->last_poll_wall;
            continue;
        }
        if (n == 0) {
            if (l->kind == VB_LINK_TCP) {
                close(l->fd_in);
                l->fd_in = l->fd_out = -1;
                vb_trace(b, "host disconnected (tcp)");
            } else if (l->kind != VB_LINK_PTY) {
                l->in_eof = true;
                vb_trace(b, "host input closed");
            }
        }
        break;
    }
}

bool vb_link_wait(struct vb *b, int ms)
{
    struct vb_link_state *l = &b->link;
    vb_link_flush(b);
    int fd = l->fd_in;
    if (l->kind == VB_LINK_TCP && fd < 0)
        fd = l->listen_fd;
    if (fd < 0 || l->in_eof) {
        if (ms > 0) {
            struct timespec ts = { 0, (long)ms * 1000000L };
            nanosleep(&ts, NULL);
        }
        return false;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, ms);
    if (r > 0) {
        unsigned before = l->q_count;
        vb_link_poll(b);
        return l->q_count > before;
    }
    return false;
}
