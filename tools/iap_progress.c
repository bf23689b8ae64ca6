/* h7iap: progress bar and plain progress lines on stderr. */
#define _DEFAULT_SOURCE
#include "iap_progress.h"
#include "iap.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int tty_mode = -1;
static int active;
static int drawn;
static char phase[16];
static char note[64];
static uint64_t total, done_bytes;
static double t0, last_draw;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void iap_progress_set_tty(int tty)
{
    tty_mode = tty;
}

static int is_tty(void)
{
    if (tty_mode < 0)
        tty_mode = isatty(2);
    return tty_mode;
}

static void human(char *buf, size_t n, double v)
{
    if (v >= 1024 * 1024)
        snprintf(buf, n, "%.1f MB", v / (1024 * 1024));
    else if (v >= 1024)
        snprintf(buf, n, "%.1f KB", v / 1024);
    else
        snprintf(buf, n, "%.0f B", v);
}

static void draw(int final)
{
    double t = now_s();
    if (!final && t - last_draw < 0.1)
        return;
    last_draw = t;
    double el = t - t0;
    double pct = total ? (double)done_bytes * 100.0 / (double)total : 100.0;
    int width = 24, fill = (int)(pct * width / 100.0);
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char d[24], tot[24], rate[24], eta[24] = "";
    human(d, sizeof d, (double)done_bytes);
    human(tot, sizeof tot, (double)total);
    double r = el > 0.001 ? (double)done_bytes / el : 0;
    human(rate, sizeof rate, r);
    if (final)
        snprintf(eta, sizeof eta, "%.1fs", el);
    else if (r > 0 && done_bytes < total && el > 0.3) {
        unsigned s = (unsigned)((double)(total - done_bytes) / r + 0.5);
        if (s >= 60)
            snprintf(eta, sizeof eta, "ETA %um%02us", s / 60, s % 60);
        else
            snprintf(eta, sizeof eta, "ETA %us", s);
    } else
        snprintf(eta, sizeof eta, "ETA --");
    fprintf(stderr, "\r%-7s[%s] %3.0f%%  %s/%s  %s/s  %s%s%s\033[K", phase, bar, pct, d, tot, rate,
            eta, note[0] ? "  " : "", note);
    drawn = 1;
    if (final) {
        fputc('\n', stderr);
        drawn = 0;
    }
    fflush(stderr);
}

void iap_progress_begin(const char *ph, uint64_t tot, const char *what)
{
    snprintf(phase, sizeof phase, "%s", ph);
    total = tot;
    done_bytes = 0;
    note[0] = '\0';
    t0 = now_s();
    last_draw = 0;
    active = 1;
    if (iap_verbosity < 0)
        return;
    if (is_tty())
        draw(0);
    else
        fprintf(stderr, "%s: %s\n", phase, what);
}

void iap_progress_update(uint64_t d)
{
    done_bytes = d;
    if (!active || iap_verbosity < 0)
        return;
    if (is_tty())
        draw(0);
}

void iap_progress_end(void)
{
    if (!active)
        return;
    active = 0;
    if (iap_verbosity < 0)
        return;
    if (is_tty()) {
        draw(1);
        return;
    }
    double el = now_s() - t0;
    char d[24], rate[24];
    human(d, sizeof d, (double)done_bytes);
    human(rate, sizeof rate, el > 0.001 ? (double)done_bytes / el : 0);
    fprintf(stderr, "%s: done, %s in %.1f s (%s/s)\n", phase, d, el, rate);
}

void iap_progress_note(const char *n)
{
    if (!n)
        n = "";
    if (!strcmp(n, note))
        return;
    snprintf(note, sizeof note, "%s", n);
    if (!active || iap_verbosity < 0)
        return;
    if (is_tty()) {
        last_draw = 0; /* show the change at once */
        draw(0);
    } else if (note[0] && iap_verbosity >= 1) {
        fprintf(stderr, "%s: %s\n", phase, note);
    }
}

void iap_progress_interrupt(void)
{
    if (drawn) {
        fputs("\r\033[K", stderr);
        drawn = 0;
    }
}
