/*
 * h7iap: the virtual board transport. Starts h7vboard with the bootloader
 * ELF and a persistent flash file, waits for its pty, then talks to it
 * through the serial transport. Closing stops the board.
 */
#define _GNU_SOURCE
#include "iap_transport.h"
#include "iap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef H7IAP_VBOARD_BIN
#define H7IAP_VBOARD_BIN ""
#endif
#ifndef H7IAP_BOOT_ELF
#define H7IAP_BOOT_ELF ""
#endif

struct vb_transport {
    struct iap_transport base;
    struct iap_transport *line; /* serial transport on the pty */
    pid_t pid;
    char dir[PATH_MAX];
    char link[PATH_MAX + 8];
};

static volatile pid_t running_pid;

/* Extra arguments for h7vboard (--vboard-arg), set by main. */
const char *iap_vboard_extra[16];
int iap_vboard_nextra;

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static const char *exe_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
        strcpy(dir, ".");
        return dir;
    }
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return dir;
}

const char *iap_vboard_default_bin(void)
{
    static char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/../vboard/h7vboard", exe_dir());
    if (exists(p) || !H7IAP_VBOARD_BIN[0])
        return p;
    return H7IAP_VBOARD_BIN;
}

const char *iap_vboard_default_boot(void)
{
    static char p[PATH_MAX + 32];
    if (H7IAP_BOOT_ELF[0] && exists(H7IAP_BOOT_ELF))
        return H7IAP_BOOT_ELF;
    /* build/host/tools/h7iap -> build/arm/boot/h7boot.elf */
    snprintf(p, sizeof p, "%s/../../arm/boot/h7boot.elf", exe_dir());
    if (exists(p) || !H7IAP_BOOT_ELF[0])
        return p;
    return H7IAP_BOOT_ELF;
}

const char *iap_vboard_default_flash(void)
{
    static char p[PATH_MAX];
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (cache && *cache)
        snprintf(p, sizeof p, "%s/h7iap/vboard-flash.bin", cache);
    else if (home && *home)
        snprintf(p, sizeof p, "%s/.cache/h7iap/vboard-flash.bin", home);
    else
        snprintf(p, sizeof p, "vboard-flash.bin");
    return p;
}

static void mkdir_parents(const char *file)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", file);
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        mkdir(tmp, 0755);
        *s = '/';
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stop_board(struct vb_transport *v)
{
    if (v->pid <= 0)
        return;
    kill(v->pid, SIGTERM);
    long long deadline = now_ms() + 10000; /* the board saves its flash on the way out */
    int st;
    for (;;) {
        pid_t r = waitpid(v->pid, &st, WNOHANG);
        if (r == v->pid || (r < 0 && errno != EINTR))
            break;
        if (now_ms() > deadline) {
            iap_debug(1, "virtual board did not stop on SIGTERM, killing it");
            kill(v->pid, SIGKILL);
            waitpid(v->pid, &st, 0);
            break;
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    iap_debug(1, "virtual board (pid %d) stopped", (int)v->pid);
    v->pid = 0;
    running_pid = 0;
}

/* A line error while the board is gone: say so instead of "port closed". */
static enum iap_port_err board_gone(struct vb_transport *v, enum iap_port_err rc)
{
    int st;
    if (rc == IAP_PORT_OK || v->pid <= 0)
        return rc;
    for (int i = 0; i < 50; i++) {
        pid_t r = waitpid(v->pid, &st, WNOHANG);
        if (r == v->pid) {
            v->pid = 0;
            running_pid = 0;
            if (WIFSIGNALED(st))
                return iap_fail(IAP_PORT_ERR_VBOARD_DIED,
                                "the virtual board died (signal %d) in the middle of the session "
                                "(--vboard-log FILE keeps its output)",
                                WTERMSIG(st));
            int code = WEXITSTATUS(st);
            /* h7vboard's exit codes (vboard/include/vboard.h). */
            const char *why = code == 2   ? " (firmware fault)"
                              : code == 3 ? " (time limit)"
                              : code == 4 ? " (watchdog reset)"
                              : code == 5 ? " (power cut)"
                                          : "";
            return iap_fail(IAP_PORT_ERR_VBOARD_DIED,
                            "the virtual board stopped with exit status %d%s in the middle of the "
                            "session (--vboard-log FILE keeps its output)",
                            code, why);
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return rc;
}

static enum iap_port_err vb_write(struct iap_transport *t, const uint8_t *b, size_t n)
{
    struct vb_transport *v = (struct vb_transport *)t;
    v->line->write_timeout_ms = t->write_timeout_ms;
    return board_gone(v, v->line->ops->write(v->line, b, n));
}

static enum iap_port_err vb_read(struct iap_transport *t, uint8_t *b, size_t n, int ms, size_t *got)
{
    struct vb_transport *v = (struct vb_transport *)t;
    return board_gone(v, v->line->ops->read(v->line, b, n, ms, got));
}

static void vb_drain(struct iap_transport *t)
{
    struct vb_transport *v = (struct vb_transport *)t;
    v->line->ops->drain(v->line);
}

static void vb_cleanup(struct vb_transport *v)
{
    if (v->line)
        v->line->ops->close(v->line);
    v->line = NULL;
    stop_board(v);
    if (v->link[0])
        unlink(v->link);
    if (v->dir[0])
        rmdir(v->dir);
    free(v);
}

static void vb_close(struct iap_transport *t)
{
    vb_cleanup((struct vb_transport *)t);
}

static const struct iap_transport_ops vb_ops = {
    .write = vb_write,
    .read = vb_read,
    .drain = vb_drain,
    .close = vb_close,
    .set_parity = NULL, /* a pty has no parity */
};

void iap_vboard_emergency_stop(void)
{
    pid_t p = running_pid;
    if (p > 0)
        kill(p, SIGTERM);
}

enum iap_port_err iap_vboard_open(const struct iap_vboard_opts *o, struct iap_transport **out)
{
    const char *bin = o->bin ? o->bin : iap_vboard_default_bin();
    const char *elf = o->boot_elf ? o->boot_elf : iap_vboard_default_boot();
    const char *flash = o->flash_file ? o->flash_file : iap_vboard_default_flash();
    if (access(bin, X_OK))
        return iap_fail(IAP_PORT_ERR_VBOARD_MISSING,
                        "virtual board %s not found or not executable (build it with 'make build', "
                        "or give --vboard-bin)",
                        bin);
    if (!exists(elf))
        return iap_fail(
            IAP_PORT_ERR_VBOARD_MISSING,
            "bootloader ELF %s not found (build it with 'make build', or give --vboard-boot)", elf);
    if (!o->flash_file)
        mkdir_parents(flash);

    struct vb_transport *v = calloc(1, sizeof *v);
    if (!v)
        return iap_fail(IAP_PORT_ERR_NOMEM, "out of memory");
    v->base.ops = &vb_ops;
    v->base.name = "virtual board";
    v->base.parity = IAP_PARITY_NONE;
    const char *tmp = getenv("TMPDIR");
    snprintf(v->dir, sizeof v->dir, "%s/h7iap-vb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(v->dir)) {
        v->dir[0] = '\0';
        vb_cleanup(v);
        return iap_fail(IAP_PORT_ERR_VBOARD_START, "cannot create a temporary directory: %s",
                        strerror(errno));
    }
    snprintf(v->link, sizeof v->link, "%s/pty", v->dir);

    const char *argv[40];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--flash";
    argv[n++] = flash;
    argv[n++] = "--pty-link";
    argv[n++] = v->link;
    /* The bootloader listens for a host for a short (virtual) window after
	 * reset; with --wait-host the board holds virtual time until we talk. */
    argv[n++] = "--wait-host";
    /* The board lets virtual time run when the host is slower than this
	 * (wall) to react; on a loaded machine 500 ms is too little and the
	 * bootloader's timeouts fire in the middle of a command. */
    argv[n++] = "--host-wait-ms";
    argv[n++] = "2000";
    for (int i = 0; i < iap_vboard_nextra && n < 37; i++)
        argv[n++] = iap_vboard_extra[i];
    argv[n++] = elf;
    argv[n] = NULL;
    if (iap_verbosity >= 1) {
        char line[1024];
        size_t off = 0;
        for (int i = 0; i < n && off < sizeof line; i++)
            off += (size_t)snprintf(line + off, sizeof line - off, "%s%s", i ? " " : "", argv[i]);
        iap_debug(1, "starting: %s", line);
    }

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        vb_cleanup(v);
        return iap_fail(IAP_PORT_ERR_VBOARD_START, "fork failed: %s", strerror(errno));
    }
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0) {
            dup2(in, 0);
            close(in);
        }
        if (iap_verbosity < 2) {
            const char *log = o->log_file ? o->log_file : "/dev/null";
            int lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (lf >= 0) {
                dup2(lf, 1);
                dup2(lf, 2);
                close(lf);
            }
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    v->pid = pid;
    running_pid = pid;

    long long deadline = now_ms() + (o->start_timeout_ms > 0 ? o->start_timeout_ms : 10000);
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            v->pid = 0;
            running_pid = 0;
            vb_cleanup(v);
            if (WIFEXITED(st))
                return iap_fail(
                    IAP_PORT_ERR_VBOARD_START,
                    "virtual board exited at start with status %d (run with -vv to see its output)",
                    WEXITSTATUS(st));
            return iap_fail(IAP_PORT_ERR_VBOARD_START, "virtual board died at start (signal %d)",
                            WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        }
        if (exists(v->link))
            break;
        if (now_ms() > deadline) {
            vb_cleanup(v);
            return iap_fail(IAP_PORT_ERR_VBOARD_START,
                            "virtual board did not create its pty %s in time", v->link);
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    struct iap_serial_opts so = {
        .path = v->link,
        .baud = o->baud ? o->baud : 115200,
        .parity = IAP_PARITY_AUTO,
    };
    enum iap_port_err rc = iap_serial_open(&so, &v->line);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", iap_error());
        vb_cleanup(v);
        return iap_fail(IAP_PORT_ERR_VBOARD_START, "virtual board pty: %s", msg);
    }
    iap_debug(1, "virtual board running (pid %d), flash file %s", (int)pid, flash);
    *out = &v->base;
    return IAP_PORT_OK;
}
