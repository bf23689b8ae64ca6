/*
 * h7iap-fake-target: the tests' fake AN3155 target on a pty, as a program,
 * for trying h7iap (progress bar, errors) without a board:
 *   tests/tools/h7iap-fake-target [--silent] [--checksum] [--reason] [--fastp] &
 *   h7iap -p <printed path> flash app.bin
 * Prints the pty slave path on stdout, serves until SIGINT/SIGTERM.
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fake_an3155.h"
#include "fake_fastp.h"

static volatile sig_atomic_t quit;

static void on_sig(int s)
{
    (void)s;
    quit = 1;
}

int main(int argc, char **argv)
{
    static struct fake_target f;
    static struct fake_fastp fp;
    fake_init(&f);
    fake_fastp_init(&fp);
    f.banner = "h7boot (fake)\r\n";
    f.app_banner = "h7app (fake) running\r\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--silent"))
            f.silent = true;
        else if (!strcmp(argv[i], "--checksum"))
            f.offer_checksum = true;
        else if (!strcmp(argv[i], "--reason"))
            f.offer_reason = true;
        else if (!strcmp(argv[i], "--fastp"))
            f.fastp = &fp; /* the fast protocol on 0xE1 (fake_fastp.h) */
        else {
            fprintf(stderr, "usage: %s [--silent] [--checksum] [--reason] [--fastp]\n", argv[0]);
            return 2;
        }
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        perror("pty");
        return 1;
    }
    const char *slave = ptsname(m);
    int hold = open(slave, O_RDWR | O_NOCTTY);
    struct termios t;
    tcgetattr(hold, &t);
    cfmakeraw(&t);
    tcsetattr(hold, TCSANOW, &t);
    printf("%s\n", slave);
    fflush(stdout);
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    fake_start(&f, m);
    while (!quit)
        pause();
    fake_stop(&f);
    close(hold);
    close(m);
    return 0;
}
