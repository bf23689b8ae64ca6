/*
 * h7iap host tool: shared definitions (exit codes, error reporting).
 *
 * Every fallible function returns 0 on success or -IAP_EXIT_*; the text
 * of the failure is kept by iap_fail() and printed once by main(). The exit
 * code of the tool is the negated return value, so a test can check both.
 */
#ifndef TOOLS_IAP_H
#define TOOLS_IAP_H

#include <stddef.h>
#include <stdint.h>

enum iap_exit {
	IAP_EXIT_OK        = 0,
	IAP_EXIT_FAIL      = 1,  /* I/O or internal failure not listed below */
	IAP_EXIT_USAGE     = 2,  /* bad command line */
	IAP_EXIT_PORT      = 3,  /* serial port missing, busy or not usable */
	IAP_EXIT_NO_ANSWER = 4,  /* the board did not answer (BOOT0, reset, baud) */
	IAP_EXIT_NACK      = 5,  /* the bootloader refused a command */
	IAP_EXIT_FILE      = 6,  /* input file unreadable or malformed */
	IAP_EXIT_TOO_LARGE = 7,  /* image does not fit in the application area */
	IAP_EXIT_ADDRESS   = 8,  /* address outside the application area */
	IAP_EXIT_VERIFY    = 9,  /* read back differs from the image */
	IAP_EXIT_PROTOCOL  = 10, /* garbled or unexpected reply */
	IAP_EXIT_VBOARD    = 11, /* the virtual board could not be started or died */
};

/* Record the failure text (printf format) and return -code. */
int iap_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text of the last iap_fail() ("" if none); iap_clear_error() empties it. */
const char *iap_error(void);
void iap_clear_error(void);
/* One-line description of an exit code, for --help and the man page. */
const char *iap_exit_str(int code);

/* Verbosity: -1 quiet, 0 normal, 1 verbose (-v), 2 trace (-vv). */
extern int iap_verbosity;
/* Informational message on stderr (suppressed by -q); adds the newline. */
void iap_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Message only with -v (level 1) or -vv (level 2). */
void iap_debug(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse a number (decimal, 0x hex, optional k/K or m/M suffix for sizes). */
int iap_parse_u32(const char *s, uint32_t *out);

#endif
