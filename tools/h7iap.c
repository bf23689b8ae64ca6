/*
 * h7iap: flash an STM32H745 through its serial bootloader (AN3155), over a
 * serial port or the virtual board. A command is a prepare step (its
 * arguments and files, no board needed) and a run step on the connected
 * bootloader; run_command() connects and disconnects for all of them.
 * main() alone turns the library's error codes into exit statuses. See
 * docs/h7iap.1 and `h7iap --help`.
 */
#define _DEFAULT_SOURCE
#include "iap.h"
#include "iap_client.h"
#include "iap_fastp.h"
#include "fastp.h"
#include "iap_image.h"
#include "iap_ops.h"
#include "iap_progress.h"
#include "iap_transport.h"
#include "ab_slot.h"
#include "an3155.h"
#include "h7_layout.h"
#include "update_record.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef H7IAP_VERSION
#define H7IAP_VERSION "0.1"
#endif

extern const char *iap_vboard_extra[16];
extern int iap_vboard_nextra;

struct opts {
    const char *port;
    unsigned baud;
    enum iap_parity parity;
    bool vboard;
    struct iap_vboard_opts vb;
    uint32_t bin_addr;
    bool go_after;
    bool no_reset;
    bool no_verify;
    bool no_checksum;
    int timeout_ms;
    int sync_attempts;
    bool enter;
    int listen_ms;
    const char *expect;
    enum { PROTO_AUTO, PROTO_AN3155, PROTO_FAST } protocol;
    unsigned baud_fast;
    bool baud_fast_set;
    bool no_smart, no_compress, no_resume;
};

/* ---- errors and exit codes --------------------------------------------- */

/*
 * The library returns its layers' error codes (iap.h); this file adds its
 * own for the command line and the output file, in the next range. Only
 * main() turns a code into an exit status (exit_code below), and the exit
 * statuses are the interface scripts rely on: docs/h7iap.1, --help.
 */
enum cli_err {
    CLI_OK = 0,
    CLI_ERR_BASE = 0x500,
    CLI_ERR_USAGE = CLI_ERR_BASE + 1, /* bad argument or missing --port */
    CLI_ERR_ADDRESS,                  /* go address outside the area */
    CLI_ERR_OUTPUT,                   /* cannot write the output file */
    CLI_ERR_NOMEM,
    CLI_ERR_EXPECT, /* the board did not print --expect TEXT */
    CLI_ERR_END
};

enum exit_status {
    EXIT_OK = 0,
    EXIT_FAIL = 1,      /* I/O or internal failure not listed below */
    EXIT_USAGE = 2,     /* bad command line */
    EXIT_PORT = 3,      /* serial port missing, busy or not usable */
    EXIT_NO_ANSWER = 4, /* the board did not answer (BOOT0, reset, baud) */
    EXIT_NACK = 5,      /* the bootloader refused a command */
    EXIT_FILE = 6,      /* input file unreadable or malformed */
    EXIT_TOO_LARGE = 7, /* image does not fit in the application area */
    EXIT_ADDRESS = 8,   /* address outside the application area */
    EXIT_VERIFY = 9,    /* read back differs from the image */
    EXIT_PROTOCOL = 10, /* garbled or unexpected reply */
    EXIT_VBOARD = 11,   /* the virtual board could not be started or died */
    EXIT_LAST = EXIT_VBOARD
};

static const char *exit_str(int code)
{
    switch (code) {
    case EXIT_OK: return "success";
    case EXIT_FAIL: return "I/O or internal failure";
    case EXIT_USAGE: return "bad command line";
    case EXIT_PORT: return "serial port missing, busy or unusable";
    case EXIT_NO_ANSWER: return "no answer from the bootloader";
    case EXIT_NACK: return "the bootloader refused a command (NACK)";
    case EXIT_FILE: return "input file unreadable or malformed";
    case EXIT_TOO_LARGE: return "image too large for the application area";
    case EXIT_ADDRESS: return "address outside the application area";
    case EXIT_VERIFY: return "verify mismatch";
    case EXIT_PROTOCOL: return "protocol error (unexpected reply)";
    case EXIT_VBOARD: return "virtual board could not be started or stopped unexpectedly";
    default: return "unknown";
    }
}

static const char *cli_strerror(int err)
{
    switch (err) {
    case CLI_ERR_USAGE: return "bad command line";
    case CLI_ERR_ADDRESS: return "address outside the application area";
    case CLI_ERR_OUTPUT: return "cannot write the output file";
    case CLI_ERR_NOMEM: return "out of memory";
    case CLI_ERR_EXPECT: return "the board did not print the expected text";
    default: return iap_strerror(err);
    }
}

/* One switch per layer, on its enum: a new code without a status is a
 * compiler warning (-Wswitch), not a silent exit 1. */
static int exit_code_port(enum iap_port_err e)
{
    switch (e) {
    case IAP_PORT_OK: return EXIT_OK;
    case IAP_PORT_ERR_BAUD: return EXIT_USAGE;
    case IAP_PORT_ERR_NODEV:
    case IAP_PORT_ERR_BUSY:
    case IAP_PORT_ERR_ACCESS:
    case IAP_PORT_ERR_NOT_TTY:
    case IAP_PORT_ERR_SETUP:
    case IAP_PORT_ERR_OPEN:
    case IAP_PORT_ERR_IO:
    case IAP_PORT_ERR_CLOSED:
    case IAP_PORT_ERR_TIMEDOUT: return EXIT_PORT;
    case IAP_PORT_ERR_VBOARD_MISSING:
    case IAP_PORT_ERR_VBOARD_START:
    case IAP_PORT_ERR_VBOARD_DIED: return EXIT_VBOARD;
    case IAP_PORT_ERR_NOMEM:
    case IAP_PORT_ERR_BASE:
    case IAP_PORT_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code_image(enum iap_image_err e)
{
    switch (e) {
    case IAP_IMAGE_OK: return EXIT_OK;
    case IAP_IMAGE_ERR_OPEN:
    case IAP_IMAGE_ERR_READ:
    case IAP_IMAGE_ERR_FORMAT:
    case IAP_IMAGE_ERR_EMPTY:
    case IAP_IMAGE_ERR_OVERLAP: return EXIT_FILE;
    case IAP_IMAGE_ERR_HUGE:
    case IAP_IMAGE_ERR_TOO_LARGE: return EXIT_TOO_LARGE;
    case IAP_IMAGE_ERR_ADDRESS: return EXIT_ADDRESS;
    case IAP_IMAGE_ERR_NOMEM:
    case IAP_IMAGE_ERR_BASE:
    case IAP_IMAGE_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code_client(enum iap_client_err e)
{
    switch (e) {
    case IAP_CLIENT_OK: return EXIT_OK;
    case IAP_CLIENT_ERR_NO_ANSWER: return EXIT_NO_ANSWER;
    case IAP_CLIENT_ERR_NACK:
    case IAP_CLIENT_ERR_NO_CMD: return EXIT_NACK;
    case IAP_CLIENT_ERR_PROTOCOL: return EXIT_PROTOCOL;
    case IAP_CLIENT_ERR_ARG:
    case IAP_CLIENT_ERR_BASE:
    case IAP_CLIENT_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code_op(enum iap_op_err e)
{
    switch (e) {
    case IAP_OP_OK: return EXIT_OK;
    case IAP_OP_ERR_VERIFY: return EXIT_VERIFY;
    case IAP_OP_ERR_SECTORS: return EXIT_USAGE;
    case IAP_OP_ERR_BOOT_SECTOR: return EXIT_ADDRESS;
    case IAP_OP_ERR_BASE:
    case IAP_OP_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code_fastp(enum iap_fastp_err e)
{
    switch (e) {
    case IAP_FASTP_OK: return EXIT_OK;
    case IAP_FASTP_ERR_LINK: return EXIT_NO_ANSWER;
    case IAP_FASTP_ERR_REFUSED:
    case IAP_FASTP_ERR_FLASH: return EXIT_NACK;
    case IAP_FASTP_ERR_VERIFY: return EXIT_VERIFY;
    case IAP_FASTP_ERR_PROTOCOL:
    case IAP_FASTP_ERR_UNSUPPORTED: return EXIT_PROTOCOL;
    case IAP_FASTP_ERR_IMAGE: return EXIT_ADDRESS;
    case IAP_FASTP_ERR_NOMEM:
    case IAP_FASTP_ERR_BASE:
    case IAP_FASTP_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code_cli(enum cli_err e)
{
    switch (e) {
    case CLI_OK: return EXIT_OK;
    case CLI_ERR_USAGE: return EXIT_USAGE;
    case CLI_ERR_ADDRESS: return EXIT_ADDRESS;
    case CLI_ERR_OUTPUT: return EXIT_FILE;
    case CLI_ERR_EXPECT: return EXIT_NO_ANSWER;
    case CLI_ERR_NOMEM:
    case CLI_ERR_BASE:
    case CLI_ERR_END: break;
    }
    return EXIT_FAIL;
}

static int exit_code(int err)
{
    if (err == 0)
        return EXIT_OK;
    switch (IAP_ERR_LAYER(err)) {
    case IAP_PORT_ERR_BASE: return exit_code_port((enum iap_port_err)err);
    case IAP_IMAGE_ERR_BASE: return exit_code_image((enum iap_image_err)err);
    case IAP_CLIENT_ERR_BASE: return exit_code_client((enum iap_client_err)err);
    case IAP_OP_ERR_BASE: return exit_code_op((enum iap_op_err)err);
    case IAP_FASTP_ERR_BASE: return exit_code_fastp((enum iap_fastp_err)err);
    case CLI_ERR_BASE: return exit_code_cli((enum cli_err)err);
    default: return EXIT_FAIL;
    }
}

/* ---- connection -------------------------------------------------------- */

/* The transport the options ask for: virtual board or serial port. */
static int open_line(struct opts *o, struct iap_transport **t)
{
    if (o->vboard) {
        o->vb.baud = o->baud;
        return iap_vboard_open(&o->vb, t);
    }
    if (o->port) {
        struct iap_serial_opts so = { o->port, o->baud, o->parity };
        return iap_serial_open(&so, t);
    }
    return iap_fail(
        CLI_ERR_USAGE,
        "no port: give --port DEVICE (e.g. /dev/ttyACM0), set H7IAP_PORT, or use --vboard");
}

/* Open the line and get in sync; on failure returns the error and closes. */
static int connect_board(struct opts *o, struct iap_transport **tp, struct iap_client *c)
{
    struct iap_transport *t;
    int rc = open_line(o, &t);
    if (rc)
        return rc;
    iap_client_init(c, t);
    if (o->timeout_ms > 0) {
        c->ack_timeout_ms = o->timeout_ms;
        t->write_timeout_ms = o->timeout_ms;
    }
    if (o->sync_attempts > 0)
        c->sync_attempts = o->sync_attempts;
    else if (o->vboard)
        c->sync_attempts = 25; /* the board boots in emulation first: allow 10 s */
    if (o->enter)
        c->enter_key = 'b';
    rc = iap_connect(c);
    if (rc) {
        t->ops->close(t);
        return rc;
    }
    *tp = t;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After go/reset: copy what the board prints to stdout (--listen, --expect). */
static int listen_line(struct opts *o, struct iap_transport *t)
{
    if (o->listen_ms <= 0 && !o->expect)
        return 0;
    int ms = o->listen_ms > 0 ? o->listen_ms : 5000;
    long long deadline = now_ms() + ms;
    char seen[4096];
    size_t n = 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        uint8_t b[256];
        size_t r;
        int rc = t->ops->read(t, b, sizeof b, (int)(left < 100 ? left : 100), &r);
        if (rc)
            return rc;
        if (r == 0)
            continue;
        fwrite(b, 1, r, stdout);
        fflush(stdout);
        for (size_t i = 0; i < r; i++) {
            if (n == sizeof seen - 1) {
                memmove(seen, seen + sizeof seen / 2, sizeof seen / 2);
                n -= sizeof seen / 2;
            }
            seen[n++] = b[i] ? (char)b[i] : ' ';
        }
        seen[n] = '\0';
        if (o->expect && strstr(seen, o->expect))
            return 0;
    }
    if (o->expect)
        return iap_fail(CLI_ERR_EXPECT, "the board did not print \"%s\" within %d ms", o->expect,
                        ms);
    return 0;
}

/* ---- commands ---------------------------------------------------------- */

/*
 * A command in two parts: prepare() checks the arguments and loads files
 * without the board (so a bad file never costs a connection), run() works
 * on the connected bootloader. run_command() does the rest once for all:
 * connect, run, disconnect, free what prepare() took.
 */
struct job {
    struct opts *o;
    int argc;
    char **argv;
    struct iap_image img, padded; /* flash, verify */
    uint8_t *buf;                 /* read */
    uint32_t addr, len, mask;     /* read, go; erase */
};

struct command {
    const char *name;
    int (*prepare)(struct job *j); /* NULL: nothing to check */
    int (*run)(struct job *j, struct iap_client *c);
    int min_args, max_args;
    const char *usage;
    const char *summary;
    const char *help;
};

static int run_command(const struct command *cmd, struct job *j)
{
    int rc = cmd->prepare ? cmd->prepare(j) : 0;
    if (!rc) {
        struct iap_transport *t;
        struct iap_client c;
        rc = connect_board(j->o, &t, &c);
        if (!rc) {
            rc = cmd->run(j, &c);
            t->ops->close(t);
        }
    }
    iap_image_free(&j->img);
    iap_image_free(&j->padded);
    free(j->buf);
    j->buf = NULL;
    return rc;
}

/* flash, verify: FILE loaded, inside the application area, padded. */
static int prepare_image(struct job *j)
{
    int rc = iap_image_load(j->argv[0], j->o->bin_addr, &j->img);
    if (!rc)
        rc = iap_image_check_region(&j->img, BOOT_APP_START, BOOT_APP_END);
    if (!rc)
        rc = iap_image_pad(&j->img, H7_FLASH_WORD, &j->padded);
    return rc;
}

static int prepare_flash(struct job *j)
{
    int rc = prepare_image(j);
    if (!rc)
        iap_info("%s: %s, %llu bytes, 0x%08x-0x%08x", j->argv[0], iap_format_name(j->img.fmt),
                 (unsigned long long)iap_image_bytes(&j->img), iap_image_lo(&j->img),
                 (uint32_t)(iap_image_hi(&j->img) - 1));
    return rc;
}

static void print_record(struct iap_client *c)
{
    struct ur_newest log;
    int rc = iap_read_log(c, &log);
    if (rc) {
        printf("record:      update log not readable (%s)\n", iap_error());
        iap_clear_error();
        return;
    }
    switch (log.state) {
    case UR_NEWEST_EMPTY: printf("record:      none (the update log is empty)\n"); break;
    case UR_NEWEST_RECORD:
        if (log.rec.state == UR_STATE_COMPLETE)
            printf("record:      update #%u COMPLETE: 0x%08x, %u bytes, CRC-32 0x%08x (log slot %u "
                   "of %u; record v%u: %s)\n",
                   log.rec.sequence, log.rec.start, log.rec.length, log.rec.image_crc, log.slot,
                   log.slots, log.rec.version,
                   log.rec.version == UR_VERSION_1 ? "zlib" : "flash CRC unit");
        else
            printf("record:      update #%u STARTED and not finished (the bootloader will not "
                   "start this image; flash it again, then go or reset) (log slot %u of %u)\n",
                   log.rec.sequence, log.slot, log.slots);
        break;
    case UR_NEWEST_NO_VALID:
        printf("record:      no valid record in the %u used log slot(s)\n", log.used);
        break;
    }
}

/* ---- A/B layout (h7boot_ab: Confirm in its Get list) ------------------- */

static bool ab_layout(const struct iap_client *c)
{
    return iap_has_cmd(c, AN3155_CMD_H7_CONFIRM);
}

struct trailer_buf {
    const uint8_t *p;
};

static int trailer_word(void *ctx, uint32_t slot, uint8_t out[UR_SIZE])
{
    const struct trailer_buf *b = ctx;
    memcpy(out, b->p + slot * AB_WORD_SIZE, AB_WORD_SIZE);
    return 0;
}

/* One slot's trailer, read over AN3155 and decoded (proto/ab_slot.h). */
static void print_slot(struct iap_client *c, const char *name, uint32_t base)
{
    uint8_t raw[AB_TRAILER_SIZE];
    struct trailer_buf b = { raw };
    struct ab_trailer t;
    int rc = iap_read_mem(c, base + BOOT_AB_TRAILER_OFF, raw, sizeof raw);
    if (rc) {
        printf("%-12s trailer at 0x%08x not readable (%s)\n", name, base + BOOT_AB_TRAILER_OFF,
               iap_error());
        iap_clear_error();
        return;
    }
    ab_trailer_scan(trailer_word, &b, &t);
    printf("%-12s 0x%08x: %s", name, base, ab_slot_state_name(t.state));
    if (t.state != AB_SLOT_EMPTY)
        printf(", image #%u, %u bytes, CRC-32 0x%08x, trials used %u of %u", t.image.sequence,
               t.image.length, t.image.crc, t.trials, AB_TRIALS);
    if (t.torn)
        printf(", torn words 0x%02x (a cut while they were written)", t.torn);
    printf("\n");
}

static void print_ab(struct iap_client *c)
{
    printf("layout:      A/B (h7boot_ab, docs/PROTOCOL.md \"A/B updates\")\n");
    printf("bootloader:  sector 0 of each bank (0x%08x, copy at 0x%08x)\n", H7_FLASH_BASE,
           H7_BANK2_BASE);
    printf("slots:       sectors 1-7 of each bank, %u KB each, image at most %u bytes; the\n"
           "             running slot is at 0x%08x, the update goes to 0x%08x\n",
           BOOT_AB_SLOT_SIZE / 1024, BOOT_AB_IMAGE_MAX, BOOT_AB_SLOT_START, BOOT_AB_OTHER_START);
    print_slot(c, "running:", BOOT_AB_SLOT_START);
    print_slot(c, "other:", BOOT_AB_OTHER_START);
}

static int run_info(struct job *j, struct iap_client *c)
{
    (void)j;
    printf("port:        %s\n", c->t->name);
    printf("bootloader:  AN3155 protocol %u.%u (Get Version: 0x%02x, options 0x%02x 0x%02x)\n",
           c->version >> 4, c->version & 15, c->gv[0], c->gv[1], c->gv[2]);
    printf("commands:   ");
    for (size_t i = 0; i < c->n_cmds; i++)
        printf(" %s(0x%02x)%s", an3155_cmd_name(c->cmds[i]), c->cmds[i],
               i + 1 < c->n_cmds ? "," : "");
    printf("\n");
    printf("chip ID:     0x%03x%s\n", c->pid,
           c->pid == AN3155_PID_H74X ? " (STM32H74x/H75x, e.g. STM32H745)"
                                     : " (not an STM32H74x/H75x!)");
    printf("flash:       2 MB in 16 sectors of 128 KB: bank 1 = sectors 0-7 at 0x%08x, bank 2 = "
           "sectors 8-15 at 0x%08x\n",
           H7_FLASH_BASE, an3155_h7_page_addr(8));
    if (ab_layout(c)) {
        print_ab(c);
        return 0;
    }
    printf("layout:      single slot (h7boot)\n");
    printf("bootloader:  sectors 0-1 (0x%08x-0x%08x)\n", H7_FLASH_BASE, BOOT_APP_START - 1);
    printf("application: sectors 2-15 (0x%08x-0x%08x, %u KB)\n", BOOT_APP_START, BOOT_APP_END - 1,
           (BOOT_APP_END - BOOT_APP_START) / 1024);
    uint8_t v[8];
    int rc = iap_read_mem(c, BOOT_APP_START, v, sizeof v);
    if (rc) {
        printf("image:       vector table not readable (%s)\n", iap_error());
        iap_clear_error();
        return 0;
    }
    uint32_t sp =
        (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
    uint32_t pc =
        (uint32_t)v[4] | (uint32_t)v[5] << 8 | (uint32_t)v[6] << 16 | (uint32_t)v[7] << 24;
    if (sp == 0xFFFFFFFFu && pc == 0xFFFFFFFFu)
        printf("image:       none (the application area starts erased)\n");
    else
        printf("image:       initial SP 0x%08x, reset handler 0x%08x%s\n", sp, pc,
               (pc & 1) && pc >= BOOT_APP_START && pc < BOOT_APP_END
                   ? ""
                   : " (does not look like a Thumb entry in the application area)");
    if (iap_has_cmd(c, AN3155_CMD_H7_GET_REASON))
        print_record(c); /* only the h7iap bootloader keeps a log */
    return 0;
}

static int run_confirm(struct job *j, struct iap_client *c)
{
    struct opts *o = j->o;
    if (!ab_layout(c))
        return iap_fail(IAP_CLIENT_ERR_NO_CMD,
                        "the bootloader does not offer Confirm (0x%02x): "
                        "only the A/B bootloader h7boot_ab has images on "
                        "trial",
                        AN3155_CMD_H7_CONFIRM);
    int rc = iap_confirm(c);
    if (rc)
        return rc;
    iap_info("the image in the running slot is confirmed");
    if (o->no_reset)
        return 0;
    rc = iap_go(c, AN3155_H7_RESET_ADDR);
    if (!rc) {
        iap_info("board reset: the bootloader starts the confirmed image");
        rc = listen_line(o, c->t);
    }
    return rc;
}

static int run_flash(struct job *j, struct iap_client *c)
{
    struct opts *o = j->o;
    const struct iap_image *img = &j->img;
    if (ab_layout(c))
        return iap_fail(IAP_CLIENT_ERR_NO_CMD,
                        "this is the A/B bootloader (h7boot_ab): it takes an update over YMODEM "
                        "only (menu 1, e.g. lrzsz 'sb'), into the slot that is not running");
    bool fast =
        o->protocol == PROTO_FAST || (o->protocol == PROTO_AUTO && iap_has_cmd(c, FP_AN3155_CMD));
    int rc;
    if (fast) {
        if (!iap_has_cmd(c, FP_AN3155_CMD))
            return iap_fail(IAP_FASTP_ERR_UNSUPPORTED,
                            "the bootloader does not list the fast protocol (0x%02x) in Get; use "
                            "--protocol an3155",
                            FP_AN3155_CMD);
        struct iap_fastp_opts fo;
        struct iap_fastp_stats st;
        iap_fastp_defaults(&fo, o->baud);
        if (o->baud_fast_set)
            fo.baud_fast = o->baud_fast;
        fo.smart = !o->no_smart;
        fo.compress = !o->no_compress;
        fo.resume = !o->no_resume;
        if (o->timeout_ms > fo.link_timeout_ms)
            fo.link_timeout_ms = o->timeout_ms; /* -t: a slow (emulated) board */
        rc = iap_fastp_flash(c, &j->padded, &fo, &st);
        if (rc)
            return rc;
        iap_info("flashed %llu bytes to 0x%08x-0x%08x with the fast protocol at %u baud: %u of %u "
                 "sectors written%s, %u frames (%u repeated), payload %.0f%% of the raw bytes; "
                 "verified by the flash CRC unit",
                 (unsigned long long)iap_image_bytes(img), iap_image_lo(img),
                 (uint32_t)(iap_image_hi(img) - 1), st.baud, st.sectors - st.skipped, st.sectors,
                 st.resumed ? " (resumed)" : "", st.frames, st.repeats,
                 st.raw_bytes ? 100.0 * (double)st.payload_bytes / (double)st.raw_bytes : 0.0);
    } else {
        rc = iap_do_erase(c, iap_image_pages(&j->padded));
        if (!rc)
            rc = iap_do_write(c, &j->padded);
        if (!rc && !o->no_verify)
            rc = iap_do_verify(c, &j->padded,
                               !o->no_checksum && iap_has_cmd(c, AN3155_CMD_GET_CHECKSUM));
        if (rc)
            return rc;
        iap_info("flashed %llu bytes to 0x%08x-0x%08x%s", (unsigned long long)iap_image_bytes(img),
                 iap_image_lo(img), (uint32_t)(iap_image_hi(img) - 1),
                 o->no_verify ? " (not verified)" : ", verified");
    }
    /*
	 * Finish like esptool: reset, so the board runs what was written. The
	 * h7iap bootloader closes the update (COMPLETE record) on any Go; an
	 * update left open counts as interrupted after a power cycle.
	 */
    if (o->go_after) {
        rc = iap_go(c, iap_image_lo(img));
        if (!rc) {
            iap_info("started the application at 0x%08x", iap_image_lo(img));
            rc = listen_line(o, c->t);
        }
    } else if (!o->no_reset) {
        rc = iap_go(c, AN3155_H7_RESET_ADDR);
        if (!rc) {
            iap_info("board reset: the bootloader checks the image and starts it");
            rc = listen_line(o, c->t);
        }
    } else {
        iap_info("the bootloader stays in charge; 'h7iap reset' or 'h7iap go' completes the update "
                 "and starts it");
    }
    return rc;
}

static int run_verify(struct job *j, struct iap_client *c)
{
    int rc =
        iap_do_verify(c, &j->padded, !j->o->no_checksum && iap_has_cmd(c, AN3155_CMD_GET_CHECKSUM));
    if (!rc)
        iap_info("verify OK: flash matches %s (%llu bytes at 0x%08x-0x%08x)", j->argv[0],
                 (unsigned long long)iap_image_bytes(&j->img), iap_image_lo(&j->img),
                 (uint32_t)(iap_image_hi(&j->img) - 1));
    return rc;
}

static int prepare_read(struct job *j)
{
    if (iap_parse_u32(j->argv[0], &j->addr))
        return iap_fail(CLI_ERR_USAGE, "bad address '%s'", j->argv[0]);
    if (iap_parse_u32(j->argv[1], &j->len) || j->len == 0)
        return iap_fail(CLI_ERR_USAGE, "bad length '%s'", j->argv[1]);
    if ((uint64_t)j->addr + j->len > 0x100000000ull || j->len > H7_FLASH_SIZE)
        return iap_fail(CLI_ERR_USAGE,
                        "read of %u bytes at 0x%08x: at most %u bytes within the 32-bit space",
                        j->len, j->addr, H7_FLASH_SIZE);
    j->buf = malloc(j->len);
    if (!j->buf)
        return iap_fail(CLI_ERR_NOMEM, "out of memory");
    return 0;
}

static int run_read(struct job *j, struct iap_client *c)
{
    const char *out = j->argv[2];
    int rc = iap_do_read(c, j->addr, j->len, j->buf);
    if (rc)
        return rc;
    FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    if (!f)
        return iap_fail(CLI_ERR_OUTPUT, "cannot create %s: %s", out, strerror(errno));
    if (fwrite(j->buf, 1, j->len, f) != j->len || (f != stdout ? fclose(f) : fflush(f)))
        return iap_fail(CLI_ERR_OUTPUT, "cannot write %s: %s", out, strerror(errno));
    iap_info("read %u bytes from 0x%08x into %s", j->len, j->addr, out);
    return 0;
}

static int prepare_erase(struct job *j)
{
    return iap_parse_sectors(j->argv[0], &j->mask);
}

static int run_erase(struct job *j, struct iap_client *c)
{
    int rc = iap_do_erase(c, j->mask);
    if (!rc)
        iap_info("erased sector(s) %s", j->argv[0]);
    return rc;
}

static int prepare_go(struct job *j)
{
    j->addr = BOOT_APP_START;
    if (j->argc > 0 && iap_parse_u32(j->argv[0], &j->addr))
        return iap_fail(CLI_ERR_USAGE, "bad address '%s'", j->argv[0]);
    if (j->addr < BOOT_APP_START || j->addr >= BOOT_APP_END)
        return iap_fail(CLI_ERR_ADDRESS,
                        "go address 0x%08x is outside the application area 0x%08x-0x%08x (use "
                        "'reset' to restart the bootloader)",
                        j->addr, BOOT_APP_START, BOOT_APP_END - 1);
    return 0;
}

static int run_go(struct job *j, struct iap_client *c)
{
    int rc = iap_go(c, j->addr);
    if (rc)
        return rc;
    iap_info("started the application at 0x%08x", j->addr);
    return listen_line(j->o, c->t);
}

static int run_reset(struct job *j, struct iap_client *c)
{
    int rc = iap_go(c, AN3155_H7_RESET_ADDR);
    if (rc)
        return rc;
    iap_info("board reset");
    return listen_line(j->o, c->t);
}

/* ---- help -------------------------------------------------------------- */

static const struct command commands[] = {
    { "info", NULL, run_info, 0, 0, "info",
      "chip ID, bootloader version and commands, layout, image",
      "Connect, then print the chip ID, the bootloader's protocol version and\n"
      "command list, the flash layout and the application's vector table and\n"
      "newest update record; for the A/B bootloader (h7boot_ab) its layout and\n"
      "both slots' trailers: state, image sequence, length, CRC, trials used.\n" },
    { "flash", prepare_flash, run_flash, 1, 1, "flash FILE",
      "erase FILE's sectors, write, verify, reset into it",
      "Program FILE into the application area: erase every 128 KB sector from\n"
      "its first to its last, gaps between its segments included (a committed\n"
      "image holds no byte but those sent and erased 0xFF), write it in 256-byte\n"
      "commands (tails padded with 0xFF to whole 32-byte flash words), then\n"
      "verify it (Get Checksum if the bootloader offers it, Read Memory\n"
      "otherwise), then reset the board so that it runs the new image (the\n"
      "h7iap bootloader records the update as complete first).\n"
      "FILE is a raw binary (placed at --address), Intel HEX or ELF (PT_LOAD\n"
      "segments at their physical addresses); the format is found from the content.\n"
      "A write that fails is reported and never sent again: a flash word is\n"
      "programmed once per erase, so run flash again to start over.\n"
      "When the bootloader lists 0xE1 in Get (the h7iap bootloader), flash uses\n"
      "the h7iap fast protocol instead (docs/PROTOCOL.md): switch to --baud-fast,\n"
      "ask the flash CRC of every sector and send only the sectors that differ\n"
      "(smart re-flash), frames of 8 KB each deflated on its own, a window of\n"
      "frames in flight while both banks erase and program, lost frames sent\n"
      "again; an interrupted transfer of the same image (cable, power cut) is\n"
      "resumed where the device's record log says; the end check is the flash\n"
      "CRC unit's CRC per bank against the image's (no read-back pass). A flash\n"
      "error is reported with the FLASH_SR bits by name.\n"
      "      --protocol P  auto (default: fast if offered), an3155, fast\n"
      "      --baud-fast N fast protocol rate (default 2000000; 0: stay at --baud;\n"
      "                    falls back to --baud when the new rate gets no answer)\n"
      "      --no-smart    write every sector of the image, matching or not\n"
      "      --no-compress send frames raw\n"
      "      --no-resume   start over even if the device offers to resume\n"
      "  -g, --go          jump to the application instead of resetting\n"
      "      --no-reset    neither: leave the bootloader in charge\n"
      "      --no-verify   skip the verify step\n"
      "      --listen MS   afterwards, copy what the board prints to stdout for MS ms\n"
      "      --expect TEXT afterwards, wait until the board prints TEXT (exit 4 if not)\n" },
    { "verify", prepare_image, run_verify, 1, 1, "verify FILE", "compare flash with FILE",
      "Compare flash with FILE (same formats as flash). Exit status 9 and the\n"
      "first differing address when they differ.\n" },
    { "read", prepare_read, run_read, 3, 3, "read ADDR LEN OUT",
      "save LEN bytes of memory at ADDR to the file OUT",
      "Save LEN bytes of memory starting at ADDR to the file OUT ('-' for\n"
      "stdout). Numbers take 0x for hex and K/M suffixes: read 0x08040000 64K app.bin\n" },
    { "erase", prepare_erase, run_erase, 1, 1, "erase SECTORS|app",
      "erase 128 KB sectors (2..15) or the whole application area",
      "Erase 128 KB sectors: a list of numbers and ranges (2,3,8-15; sectors\n"
      "8-15 are bank 2) or 'app' for the whole application area (sectors\n"
      "2-15). Sectors 0-1 hold the bootloader and are refused.\n" },
    { "go", prepare_go, run_go, 0, 1, "go [ADDR]", "start the application (default 0x08040000)",
      "Start the application whose vector table is at ADDR (default 0x08040000).\n"
      "  --listen MS, --expect TEXT as for flash --go\n" },
    { "confirm", NULL, run_confirm, 0, 0, "confirm",
      "A/B layout: confirm the image on trial, then reset",
      "A/B layout (h7boot_ab) only: the image in the running slot is on trial\n"
      "after an update; it must be confirmed (by itself, or by the host) or the\n"
      "bootloader rolls it back to the previous confirmed image after its trials\n"
      "or a watchdog reset. confirm programs its CONFIRM word, then resets the\n"
      "board so that the image starts confirmed. Use -e to reach the bootloader\n"
      "from the running image.\n"
      "      --no-reset    leave the bootloader in charge afterwards\n"
      "  --listen MS, --expect TEXT as for go\n" },
    { "reset", NULL, run_reset, 0, 0, "reset",
      "reset the board (the bootloader then starts the application)",
      "Reset the board (AN3155 Go to 0x08000000, which the h7iap bootloader\n"
      "turns into a system reset); the bootloader then starts a valid application.\n"
      "  --listen MS, --expect TEXT as for go\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage_main(FILE *f)
{
    fprintf(f, "NAME\n"
               "    h7iap - flash an STM32H745 through its serial bootloader (AN3155)\n"
               "\n"
               "SYNOPSIS\n"
               "    h7iap [OPTIONS] COMMAND [ARGS]\n"
               "    h7iap COMMAND --help\n"
               "\n"
               "DESCRIPTION\n"
               "    Talks AN3155 (the STM32 USART bootloader protocol) to the h7iap bootloader\n"
               "    or to the ST ROM bootloader, over a serial port or the virtual board.\n"
               "\n"
               "COMMANDS\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(f, "    %-20s %s\n", commands[i].usage, commands[i].summary);
    }
    fprintf(f,
            "\n"
            "CONNECTION\n"
            "    -p, --port DEV        serial device, e.g. /dev/ttyACM0 (default: $H7IAP_PORT)\n"
            "    -b, --baud N          baud rate (default 115200)\n"
            "    -m, --parity MODE     auto (default): 8E1 as AN3155 wants, 8N1 when the\n"
            "                          device drops parity (Linux ptys do) or the bootloader\n"
            "                          NACKs the first command in 8E1; even (8E1 only);\n"
            "                          none (8N1)\n"
            "        --vboard          start the virtual board (h7vboard) running the\n"
            "                          bootloader and talk to its pty; it is stopped on exit\n"
            "        --vboard-bin P    h7vboard executable (default: ../vboard/h7vboard next\n"
            "                          to this program)\n"
            "        --vboard-boot ELF bootloader ELF (default: the firmware build's\n"
            "                          boot/h7boot.elf)\n"
            "        --vboard-flash F  persistent flash contents (default:\n"
            "                          ~/.cache/h7iap/vboard-flash.bin)\n"
            "        --vboard-log F    save the board's own output to F\n"
            "        --vboard-arg ARG  pass ARG to h7vboard (repeatable)\n"
            "    -t, --timeout MS      reply timeout per command (default 3000); fast protocol:\n"
            "                          silence before the link counts as lost (3000)\n"
            "        --retries N       0x7F sync attempts, 400 ms apart (default 6;\n"
            "                          25 with --vboard)\n"
            "    -e, --enter-bootloader  send 'b' first: a running h7app resets into the\n"
            "                          bootloader (harmless to the h7iap bootloader; do not\n"
            "                          use with the ST ROM bootloader, it wants 0x7F first)\n"
            "\n"
            "IMAGE\n"
            "    -a, --address ADDR    where a raw binary goes (default 0x08040000)\n"
            "    -g, --go              flash: jump to the application instead of resetting\n"
            "        --no-reset        flash: do not reset afterwards (bootloader stays)\n"
            "        --no-verify       flash: skip the verify step\n"
            "        --no-checksum     verify by Read Memory even if Get Checksum is offered\n"
            "        --protocol P      flash: auto (default), an3155 or fast ('flash --help')\n"
            "        --baud-fast N     flash, fast protocol: rate after entry (2000000; 0: none)\n"
            "        --no-smart, --no-compress, --no-resume   fast protocol ('flash --help')\n"
            "        --listen MS       after go/reset/flash: copy the board's output to stdout\n"
            "        --expect TEXT     after go/reset/flash: wait for TEXT in the board's output\n"
            "\n"
            "OUTPUT\n"
            "    -q, --quiet           only errors\n"
            "    -v, --verbose         more detail; -vv traces every byte on the line\n"
            "    -h, --help            this text; COMMAND --help for one command\n"
            "    -V, --version         print the version\n"
            "    Progress goes to stderr: a bar per phase (erase, write, verify) with bytes,\n"
            "    rate and ETA on a terminal, one line per phase otherwise.\n"
            "\n"
            "APPLICATION AREA\n"
            "    0x%08x-0x%08x (sectors 2-15). Images must lie entirely inside it.\n"
            "\n"
            "EXIT STATUS\n",
            BOOT_APP_START, BOOT_APP_END - 1);
    for (int i = 0; i <= EXIT_LAST; i++)
        fprintf(f, "    %2d  %s\n", i, exit_str(i));
    fprintf(f, "\n"
               "EXAMPLES\n"
               "    h7iap --vboard flash build/arm/app/h7app.elf --expect h7app\n"
               "    h7iap -p /dev/ttyACM0 info\n"
               "    h7iap -p /dev/ttyACM0 flash app.hex\n"
               "    h7iap -p /dev/ttyACM0 -a 0x08100000 flash bank2.bin\n"
               "    h7iap -p /dev/ttyACM0 read 0x08040000 4K head.bin\n"
               "\n"
               "SEE ALSO\n"
               "    h7iap(1) in docs/h7iap.1, stm32flash(1), ST AN3155\n");
}

static void usage_cmd(FILE *f, const struct command *c)
{
    fprintf(f,
            "usage: h7iap [OPTIONS] %s\n\n%s\nSee 'h7iap --help' for the options and exit codes.\n",
            c->usage, c->help);
}

/* ---- main -------------------------------------------------------------- */

static void on_signal(int sig)
{
    iap_vboard_emergency_stop();
    signal(sig, SIG_DFL);
    raise(sig);
}

enum {
    OPT_VBOARD = 256,
    OPT_VBOARD_BIN,
    OPT_VBOARD_BOOT,
    OPT_VBOARD_FLASH,
    OPT_VBOARD_LOG,
    OPT_VBOARD_ARG,
    OPT_NO_VERIFY,
    OPT_NO_CHECKSUM,
    OPT_RETRIES,
    OPT_LISTEN,
    OPT_EXPECT,
    OPT_NO_RESET,
    OPT_PROTOCOL,
    OPT_BAUD_FAST,
    OPT_NO_SMART,
    OPT_NO_COMPRESS,
    OPT_NO_RESUME,
};

static const struct option long_opts[] = {
    { "port", required_argument, NULL, 'p' },
    { "baud", required_argument, NULL, 'b' },
    { "parity", required_argument, NULL, 'm' },
    { "vboard", no_argument, NULL, OPT_VBOARD },
    { "vboard-bin", required_argument, NULL, OPT_VBOARD_BIN },
    { "vboard-boot", required_argument, NULL, OPT_VBOARD_BOOT },
    { "vboard-flash", required_argument, NULL, OPT_VBOARD_FLASH },
    { "vboard-log", required_argument, NULL, OPT_VBOARD_LOG },
    { "vboard-arg", required_argument, NULL, OPT_VBOARD_ARG },
    { "timeout", required_argument, NULL, 't' },
    { "retries", required_argument, NULL, OPT_RETRIES },
    { "enter-bootloader", no_argument, NULL, 'e' },
    { "address", required_argument, NULL, 'a' },
    { "go", no_argument, NULL, 'g' },
    { "no-verify", no_argument, NULL, OPT_NO_VERIFY },
    { "no-reset", no_argument, NULL, OPT_NO_RESET },
    { "no-checksum", no_argument, NULL, OPT_NO_CHECKSUM },
    { "protocol", required_argument, NULL, OPT_PROTOCOL },
    { "baud-fast", required_argument, NULL, OPT_BAUD_FAST },
    { "no-smart", no_argument, NULL, OPT_NO_SMART },
    { "no-compress", no_argument, NULL, OPT_NO_COMPRESS },
    { "no-resume", no_argument, NULL, OPT_NO_RESUME },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "expect", required_argument, NULL, OPT_EXPECT },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "h7iap: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'h7iap --help'.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .baud = 115200,
        .parity = IAP_PARITY_AUTO,
        .bin_addr = BOOT_APP_START,
    };
    bool help = false;
    uint32_t v;
    int ch;

    o.port = getenv("H7IAP_PORT");
    if (o.port && !*o.port)
        o.port = NULL;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":p:b:m:t:a:egqvhV", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'p': o.port = optarg; break;
        case 'b':
            if (iap_parse_u32(optarg, &v) || !v)
                return bad_usage("bad baud rate '%s'", optarg);
            o.baud = v;
            break;
        case 'm':
            if (!strcmp(optarg, "auto"))
                o.parity = IAP_PARITY_AUTO;
            else if (!strcmp(optarg, "even") || !strcasecmp(optarg, "8e1"))
                o.parity = IAP_PARITY_EVEN;
            else if (!strcmp(optarg, "none") || !strcasecmp(optarg, "8n1"))
                o.parity = IAP_PARITY_NONE;
            else
                return bad_usage("bad parity '%s': auto, even (8e1) or none (8n1)", optarg);
            break;
        case OPT_VBOARD: o.vboard = true; break;
        case OPT_VBOARD_BIN:
            o.vboard = true;
            o.vb.bin = optarg;
            break;
        case OPT_VBOARD_BOOT:
            o.vboard = true;
            o.vb.boot_elf = optarg;
            break;
        case OPT_VBOARD_FLASH:
            o.vboard = true;
            o.vb.flash_file = optarg;
            break;
        case OPT_VBOARD_LOG: o.vb.log_file = optarg; break;
        case OPT_VBOARD_ARG:
            if (iap_vboard_nextra == 16)
                return bad_usage("too many --vboard-arg (max 16)%s", "");
            iap_vboard_extra[iap_vboard_nextra++] = optarg;
            break;
        case 't':
            if (iap_parse_u32(optarg, &v) || !v || v > 600000)
                return bad_usage("bad timeout '%s' (milliseconds)", optarg);
            o.timeout_ms = (int)v;
            break;
        case OPT_RETRIES:
            if (iap_parse_u32(optarg, &v) || !v || v > 1000)
                return bad_usage("bad retry count '%s'", optarg);
            o.sync_attempts = (int)v;
            break;
        case 'a':
            if (iap_parse_u32(optarg, &v))
                return bad_usage("bad address '%s'", optarg);
            o.bin_addr = v;
            break;
        case 'g': o.go_after = true; break;
        case 'e': o.enter = true; break;
        case OPT_NO_VERIFY: o.no_verify = true; break;
        case OPT_NO_RESET: o.no_reset = true; break;
        case OPT_NO_CHECKSUM: o.no_checksum = true; break;
        case OPT_LISTEN:
            if (iap_parse_u32(optarg, &v) || v > 600000)
                return bad_usage("bad listen time '%s' (milliseconds)", optarg);
            o.listen_ms = (int)v;
            break;
        case OPT_EXPECT: o.expect = optarg; break;
        case OPT_PROTOCOL:
            if (!strcmp(optarg, "auto"))
                o.protocol = PROTO_AUTO;
            else if (!strcmp(optarg, "an3155"))
                o.protocol = PROTO_AN3155;
            else if (!strcmp(optarg, "fast"))
                o.protocol = PROTO_FAST;
            else
                return bad_usage("bad protocol '%s': auto, an3155 or fast", optarg);
            break;
        case OPT_BAUD_FAST:
            if (iap_parse_u32(optarg, &v))
                return bad_usage("bad baud rate '%s'", optarg);
            o.baud_fast = v; /* 0: stay at --baud */
            o.baud_fast_set = true;
            break;
        case OPT_NO_SMART: o.no_smart = true; break;
        case OPT_NO_COMPRESS: o.no_compress = true; break;
        case OPT_NO_RESUME: o.no_resume = true; break;
        case 'q': iap_verbosity = -1; break;
        case 'v':
            if (iap_verbosity >= 0)
                iap_verbosity++;
            break;
        case 'h': help = true; break;
        case 'V': printf("h7iap %s\n", H7IAP_VERSION); return 0;
        case ':': return bad_usage("option %s needs an argument", argv[optind - 1]);
        default: return bad_usage("unknown option %s", argv[optind - 1]);
        }
    }

    const struct command *cmd = NULL;
    if (optind < argc) {
        const char *name = argv[optind];
        if (!strcmp(name, "help")) {
            help = true;
            name = optind + 1 < argc ? argv[optind + 1] : NULL;
            optind++;
        }
        for (size_t i = 0; name && i < NCOMMANDS; i++)
            if (!strcmp(commands[i].name, name))
                cmd = &commands[i];
        if (name && !cmd)
            return bad_usage("unknown command '%s'", name);
        optind++;
    }
    if (help) {
        if (cmd)
            usage_cmd(stdout, cmd);
        else
            usage_main(stdout);
        return 0;
    }
    if (!cmd) {
        fprintf(stderr, "h7iap: no command given\n");
        fprintf(stderr, "usage: h7iap [OPTIONS] COMMAND [ARGS]; commands:");
        for (size_t i = 0; i < NCOMMANDS; i++)
            fprintf(stderr, " %s", commands[i].name);
        fprintf(stderr, "\nTry 'h7iap --help'.\n");
        return EXIT_USAGE;
    }
    int nargs = argc - optind;
    if (nargs < cmd->min_args || nargs > cmd->max_args) {
        fprintf(stderr, "h7iap: %s: expected %s\nusage: h7iap [OPTIONS] %s\n", cmd->name,
                nargs < cmd->min_args ? "more arguments" : "fewer arguments", cmd->usage);
        return EXIT_USAGE;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);

    struct job job = { .o = &o, .argc = nargs, .argv = argv + optind };
    int rc = run_command(cmd, &job);
    if (rc) {
        iap_progress_interrupt();
        fprintf(stderr, "h7iap: error: %s\n", *iap_error() ? iap_error() : cli_strerror(rc));
        return exit_code(rc);
    }
    return EXIT_OK;
}
