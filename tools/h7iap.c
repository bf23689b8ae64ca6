/*
 * h7iap: flash an STM32H745 through its serial bootloader (AN3155), over a
 * serial port or the virtual board. One function per command; see
 * docs/h7iap.1 and `h7iap --help`.
 */
#define _DEFAULT_SOURCE
#include "iap.h"
#include "iap_client.h"
#include "iap_image.h"
#include "iap_ops.h"
#include "iap_progress.h"
#include "iap_transport.h"
#include "an3155.h"
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
};

struct command {
	const char *name;
	int (*run)(struct opts *o, int argc, char **argv);
	int min_args, max_args;
	const char *usage;
	const char *summary;
	const char *help;
};

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
	return iap_fail(IAP_EXIT_USAGE,
			"no port: give --port DEVICE (e.g. /dev/ttyACM0), set H7IAP_PORT, or use --vboard");
}

/* Open the line and get in sync; on failure returns -code and closes. */
static int connect_board(struct opts *o, struct iap_transport **tp, struct iap_client *c)
{
	struct iap_transport *t;
	int rc = open_line(o, &t);
	if (rc)
		return rc;
	iap_client_init(c, t);
	if (o->timeout_ms > 0)
		c->ack_timeout_ms = o->timeout_ms;
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

static void disconnect(struct iap_transport *t)
{
	if (t)
		t->ops->close(t);
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
		int r = t->ops->read(t, b, sizeof b, (int)(left < 100 ? left : 100));
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		fwrite(b, 1, (size_t)r, stdout);
		fflush(stdout);
		for (int i = 0; i < r; i++) {
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
		return iap_fail(IAP_EXIT_NO_ANSWER, "the board did not print \"%s\" within %d ms",
				o->expect, ms);
	return 0;
}

/* ---- commands ---------------------------------------------------------- */

static int load_checked(struct opts *o, const char *path, struct iap_image *img,
			struct iap_image *padded)
{
	int rc = iap_image_load(path, o->bin_addr, img);
	if (rc)
		return rc;
	rc = iap_image_check_region(img, AN3155_H7_APP_START, AN3155_H7_APP_END);
	if (!rc)
		rc = iap_image_pad(img, AN3155_H7_FLASH_WORD, padded);
	if (rc)
		iap_image_free(img);
	return rc;
}

/*
 * The bootloader's update record log (proto/update_record.h) in sector 1:
 * slots fill from 0 upwards, so the first empty slot is found by a binary
 * search of 32-byte reads, then the newest valid record below it.
 */
#define LOG_BASE  0x08020000u
#define LOG_SLOTS (AN3155_H7_PAGE_SIZE / UR_SIZE)

/* 1: slot empty, 0: not empty (a NACKed read counts as a torn slot), <0 error. */
static int slot_empty(struct iap_client *c, uint32_t slot, uint8_t buf[UR_SIZE])
{
	int rc = iap_read_mem(c, LOG_BASE + slot * UR_SIZE, buf, UR_SIZE);
	if (rc == -IAP_EXIT_NACK) {
		memset(buf, 0, UR_SIZE);
		return 0;
	}
	if (rc)
		return rc;
	return ur_is_empty(buf);
}

static void print_record(struct iap_client *c)
{
	uint8_t buf[UR_SIZE];
	uint32_t lo = 0, hi = LOG_SLOTS; /* first empty slot is in [lo, hi] */
	int rc = slot_empty(c, 0, buf);
	if (rc < 0)
		goto unreadable;
	if (rc == 1) {
		printf("record:      none (the update log is empty)\n");
		return;
	}
	lo = 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		rc = slot_empty(c, mid, buf);
		if (rc < 0)
			goto unreadable;
		if (rc)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (uint32_t s = lo; s-- > 0 && lo - s <= 64;) {
		struct ur_record r;
		rc = slot_empty(c, s, buf);
		if (rc < 0)
			goto unreadable;
		if (ur_decode(buf, &r) != UR_OK)
			continue;
		if (r.state == UR_STATE_COMPLETE)
			printf("record:      update #%u COMPLETE: 0x%08x, %u bytes, CRC-32 0x%08x (log slot %u of %u)\n",
			       r.sequence, r.start, r.length, r.image_crc, s, LOG_SLOTS);
		else
			printf("record:      update #%u STARTED and not finished (the bootloader will not start this image; flash it again, then go or reset) (log slot %u of %u)\n",
			       r.sequence, s, LOG_SLOTS);
		return;
	}
	printf("record:      no valid record in the %u used log slot(s)\n", lo);
	return;
unreadable:
	printf("record:      update log not readable (%s)\n", iap_error());
	iap_clear_error();
}

static int cmd_info(struct opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct iap_transport *t;
	struct iap_client c;
	int rc = connect_board(o, &t, &c);
	if (rc)
		return rc;
	printf("port:        %s\n", t->name);
	printf("bootloader:  AN3155 protocol %u.%u (Get Version: 0x%02x, options 0x%02x 0x%02x)\n",
	       c.version >> 4, c.version & 15, c.gv[0], c.gv[1], c.gv[2]);
	printf("commands:   ");
	for (size_t i = 0; i < c.n_cmds; i++)
		printf(" %s(0x%02x)%s", an3155_cmd_name(c.cmds[i]), c.cmds[i],
		       i + 1 < c.n_cmds ? "," : "");
	printf("\n");
	printf("chip ID:     0x%03x%s\n", c.pid,
	       c.pid == AN3155_PID_H74X ? " (STM32H74x/H75x, e.g. STM32H745)" : " (not an STM32H74x/H75x!)");
	printf("flash:       2 MB in 16 sectors of 128 KB: bank 1 = sectors 0-7 at 0x%08x, bank 2 = sectors 8-15 at 0x%08x\n",
	       AN3155_H7_FLASH_BASE, an3155_h7_page_addr(8));
	printf("bootloader:  sectors 0-1 (0x%08x-0x%08x)\n", AN3155_H7_FLASH_BASE,
	       AN3155_H7_APP_START - 1);
	printf("application: sectors 2-15 (0x%08x-0x%08x, %u KB)\n", AN3155_H7_APP_START,
	       AN3155_H7_APP_END - 1, (AN3155_H7_APP_END - AN3155_H7_APP_START) / 1024);
	uint8_t v[8];
	rc = iap_read_mem(&c, AN3155_H7_APP_START, v, sizeof v);
	if (rc) {
		printf("image:       vector table not readable (%s)\n", iap_error());
		iap_clear_error();
		rc = 0;
	} else {
		uint32_t sp = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
		uint32_t pc = (uint32_t)v[4] | (uint32_t)v[5] << 8 | (uint32_t)v[6] << 16 | (uint32_t)v[7] << 24;
		if (sp == 0xFFFFFFFFu && pc == 0xFFFFFFFFu)
			printf("image:       none (the application area starts erased)\n");
		else
			printf("image:       initial SP 0x%08x, reset handler 0x%08x%s\n", sp, pc,
			       (pc & 1) && pc >= AN3155_H7_APP_START && pc < AN3155_H7_APP_END
				       ? "" : " (does not look like a Thumb entry in the application area)");
	}
	if (!rc && iap_has_cmd(&c, AN3155_CMD_H7_GET_REASON))
		print_record(&c); /* only the h7iap bootloader keeps a log */
	disconnect(t);
	return rc;
}

static int cmd_flash(struct opts *o, int argc, char **argv)
{
	(void)argc;
	struct iap_image img, padded;
	int rc = load_checked(o, argv[0], &img, &padded);
	if (rc)
		return rc;
	uint32_t pages = iap_image_pages(&padded);
	iap_info("%s: %s, %llu bytes, 0x%08x-0x%08x", argv[0], iap_format_name(img.fmt),
		 (unsigned long long)iap_image_bytes(&img), iap_image_lo(&img),
		 (uint32_t)(iap_image_hi(&img) - 1));
	struct iap_transport *t = NULL;
	struct iap_client c;
	rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_do_erase(&c, pages);
	if (!rc)
		rc = iap_do_write(&c, &padded);
	if (!rc && !o->no_verify)
		rc = iap_do_verify(&c, &padded,
				   !o->no_checksum && iap_has_cmd(&c, AN3155_CMD_GET_CHECKSUM));
	if (!rc)
		iap_info("flashed %llu bytes to 0x%08x-0x%08x%s", (unsigned long long)iap_image_bytes(&img),
			 iap_image_lo(&img), (uint32_t)(iap_image_hi(&img) - 1),
			 o->no_verify ? " (not verified)" : ", verified");
	/*
	 * Finish like esptool: reset, so the board runs what was written. The
	 * h7iap bootloader closes the update (COMPLETE record) on any Go; an
	 * update left open counts as interrupted after a power cycle.
	 */
	if (!rc && o->go_after) {
		rc = iap_go(&c, iap_image_lo(&img));
		if (!rc) {
			iap_info("started the application at 0x%08x", iap_image_lo(&img));
			rc = listen_line(o, t);
		}
	} else if (!rc && !o->no_reset) {
		rc = iap_go(&c, AN3155_H7_RESET_ADDR);
		if (!rc) {
			iap_info("board reset: the bootloader checks the image and starts it");
			rc = listen_line(o, t);
		}
	} else if (!rc) {
		iap_info("the bootloader stays in charge; 'h7iap reset' or 'h7iap go' completes the update and starts it");
	}
	disconnect(t);
	iap_image_free(&img);
	iap_image_free(&padded);
	return rc;
}

static int cmd_verify(struct opts *o, int argc, char **argv)
{
	(void)argc;
	struct iap_image img, padded;
	int rc = load_checked(o, argv[0], &img, &padded);
	if (rc)
		return rc;
	struct iap_transport *t = NULL;
	struct iap_client c;
	rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_do_verify(&c, &padded,
				   !o->no_checksum && iap_has_cmd(&c, AN3155_CMD_GET_CHECKSUM));
	if (!rc)
		iap_info("verify OK: flash matches %s (%llu bytes at 0x%08x-0x%08x)", argv[0],
			 (unsigned long long)iap_image_bytes(&img), iap_image_lo(&img),
			 (uint32_t)(iap_image_hi(&img) - 1));
	disconnect(t);
	iap_image_free(&img);
	iap_image_free(&padded);
	return rc;
}

static int cmd_read(struct opts *o, int argc, char **argv)
{
	(void)argc;
	uint32_t addr, len;
	if (iap_parse_u32(argv[0], &addr))
		return iap_fail(IAP_EXIT_USAGE, "bad address '%s'", argv[0]);
	if (iap_parse_u32(argv[1], &len) || len == 0)
		return iap_fail(IAP_EXIT_USAGE, "bad length '%s'", argv[1]);
	if ((uint64_t)addr + len > 0x100000000ull || len > AN3155_H7_FLASH_SIZE)
		return iap_fail(IAP_EXIT_USAGE,
				"read of %u bytes at 0x%08x: at most %u bytes within the 32-bit space",
				len, addr, AN3155_H7_FLASH_SIZE);
	uint8_t *buf = malloc(len);
	if (!buf)
		return iap_fail(IAP_EXIT_FAIL, "out of memory");
	struct iap_transport *t = NULL;
	struct iap_client c;
	int rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_do_read(&c, addr, len, buf);
	disconnect(t);
	if (!rc) {
		FILE *f = strcmp(argv[2], "-") ? fopen(argv[2], "wb") : stdout;
		if (!f) {
			rc = iap_fail(IAP_EXIT_FILE, "cannot create %s: %s", argv[2], strerror(errno));
		} else {
			if (fwrite(buf, 1, len, f) != len || (f != stdout ? fclose(f) : fflush(f)))
				rc = iap_fail(IAP_EXIT_FILE, "cannot write %s: %s", argv[2], strerror(errno));
			else
				iap_info("read %u bytes from 0x%08x into %s", len, addr, argv[2]);
		}
	}
	free(buf);
	return rc;
}

static int cmd_erase(struct opts *o, int argc, char **argv)
{
	(void)argc;
	uint32_t mask;
	int rc = iap_parse_sectors(argv[0], &mask);
	if (rc)
		return rc;
	struct iap_transport *t = NULL;
	struct iap_client c;
	rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_do_erase(&c, mask);
	if (!rc)
		iap_info("erased sector(s) %s", argv[0]);
	disconnect(t);
	return rc;
}

static int cmd_go(struct opts *o, int argc, char **argv)
{
	uint32_t addr = AN3155_H7_APP_START;
	if (argc > 0 && iap_parse_u32(argv[0], &addr))
		return iap_fail(IAP_EXIT_USAGE, "bad address '%s'", argv[0]);
	if (addr < AN3155_H7_APP_START || addr >= AN3155_H7_APP_END)
		return iap_fail(IAP_EXIT_ADDRESS,
				"go address 0x%08x is outside the application area 0x%08x-0x%08x (use 'reset' to restart the bootloader)",
				addr, AN3155_H7_APP_START, AN3155_H7_APP_END - 1);
	struct iap_transport *t = NULL;
	struct iap_client c;
	int rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_go(&c, addr);
	if (!rc) {
		iap_info("started the application at 0x%08x", addr);
		rc = listen_line(o, t);
	}
	disconnect(t);
	return rc;
}

static int cmd_reset(struct opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct iap_transport *t = NULL;
	struct iap_client c;
	int rc = connect_board(o, &t, &c);
	if (!rc)
		rc = iap_go(&c, AN3155_H7_RESET_ADDR);
	if (!rc) {
		iap_info("board reset");
		rc = listen_line(o, t);
	}
	disconnect(t);
	return rc;
}

/* ---- help -------------------------------------------------------------- */

static const struct command commands[] = {
	{ "info", cmd_info, 0, 0, "info",
	  "chip ID, bootloader version and commands, layout, image",
	  "Connect, then print the chip ID, the bootloader's protocol version and\n"
	  "command list, the flash layout and the application's vector table.\n" },
	{ "flash", cmd_flash, 1, 1, "flash FILE",
	  "erase what FILE needs, write, verify, reset into it",
	  "Program FILE into the application area: erase only the 128 KB sectors it\n"
	  "touches, write it in 256-byte commands (tails padded with 0xFF to whole\n"
	  "32-byte flash words), then verify it (Get Checksum if the bootloader\n"
	  "offers it, Read Memory otherwise), then reset the board so that it runs\n"
	  "the new image (the h7iap bootloader records the update as complete first).\n"
	  "FILE is a raw binary (placed at --address), Intel HEX or ELF (PT_LOAD\n"
	  "segments at their physical addresses); the format is found from the content.\n"
	  "A write that fails is reported and never sent again: a flash word is\n"
	  "programmed once per erase, so run flash again to start over.\n"
	  "  -g, --go          jump to the application instead of resetting\n"
	  "      --no-reset    neither: leave the bootloader in charge\n"
	  "      --no-verify   skip the verify step\n"
	  "      --listen MS   afterwards, copy what the board prints to stdout for MS ms\n"
	  "      --expect TEXT afterwards, wait until the board prints TEXT (exit 4 if not)\n" },
	{ "verify", cmd_verify, 1, 1, "verify FILE",
	  "compare flash with FILE",
	  "Compare flash with FILE (same formats as flash). Exit status 9 and the\n"
	  "first differing address when they differ.\n" },
	{ "read", cmd_read, 3, 3, "read ADDR LEN OUT",
	  "save LEN bytes of memory at ADDR to the file OUT",
	  "Save LEN bytes of memory starting at ADDR to the file OUT ('-' for\n"
	  "stdout). Numbers take 0x for hex and K/M suffixes: read 0x08040000 64K app.bin\n" },
	{ "erase", cmd_erase, 1, 1, "erase SECTORS|app",
	  "erase 128 KB sectors (2..15) or the whole application area",
	  "Erase 128 KB sectors: a list of numbers and ranges (2,3,8-15; sectors\n"
	  "8-15 are bank 2) or 'app' for the whole application area (sectors\n"
	  "2-15). Sectors 0-1 hold the bootloader and are refused.\n" },
	{ "go", cmd_go, 0, 1, "go [ADDR]",
	  "start the application (default 0x08040000)",
	  "Start the application whose vector table is at ADDR (default 0x08040000).\n"
	  "  --listen MS, --expect TEXT as for flash --go\n" },
	{ "reset", cmd_reset, 0, 0, "reset",
	  "reset the board (the bootloader then starts the application)",
	  "Reset the board (AN3155 Go to 0x08000000, which the h7iap bootloader\n"
	  "turns into a system reset); the bootloader then starts a valid application.\n"
	  "  --listen MS, --expect TEXT as for go\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage_main(FILE *f)
{
	fprintf(f,
"NAME\n"
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
"    -t, --timeout MS      reply timeout per command (default 3000)\n"
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
"EXIT STATUS\n", AN3155_H7_APP_START, AN3155_H7_APP_END - 1);
	for (int i = 0; i <= IAP_EXIT_VBOARD; i++)
		fprintf(f, "    %2d  %s\n", i, iap_exit_str(i));
	fprintf(f,
"\n"
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
	fprintf(f, "usage: h7iap [OPTIONS] %s\n\n%s\nSee 'h7iap --help' for the options and exit codes.\n",
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
	OPT_VBOARD = 256, OPT_VBOARD_BIN, OPT_VBOARD_BOOT, OPT_VBOARD_FLASH,
	OPT_VBOARD_LOG, OPT_VBOARD_ARG, OPT_NO_VERIFY, OPT_NO_CHECKSUM,
	OPT_RETRIES, OPT_LISTEN, OPT_EXPECT, OPT_NO_RESET,
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
	return IAP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.baud = 115200,
		.parity = IAP_PARITY_AUTO,
		.bin_addr = AN3155_H7_APP_START,
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
		case OPT_VBOARD_BIN: o.vboard = true; o.vb.bin = optarg; break;
		case OPT_VBOARD_BOOT: o.vboard = true; o.vb.boot_elf = optarg; break;
		case OPT_VBOARD_FLASH: o.vboard = true; o.vb.flash_file = optarg; break;
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
		case 'q': iap_verbosity = -1; break;
		case 'v': if (iap_verbosity >= 0) iap_verbosity++; break;
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
		return IAP_EXIT_USAGE;
	}
	int nargs = argc - optind;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "h7iap: %s: expected %s\nusage: h7iap [OPTIONS] %s\n",
			cmd->name, nargs < cmd->min_args ? "more arguments" : "fewer arguments",
			cmd->usage);
		return IAP_EXIT_USAGE;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	int rc = cmd->run(&o, nargs, argv + optind);
	if (rc) {
		iap_progress_interrupt();
		fprintf(stderr, "h7iap: error: %s\n", iap_error());
		return -rc;
	}
	return 0;
}
