/* h7iap: error text, messages and number parsing. */
#include "iap.h"
#include "iap_progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int iap_verbosity;
static char errbuf[512];

int iap_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	return -code;
}

const char *iap_error(void)
{
	return errbuf;
}

void iap_clear_error(void)
{
	errbuf[0] = '\0';
}

const char *iap_exit_str(int code)
{
	switch (code) {
	case IAP_EXIT_OK:        return "success";
	case IAP_EXIT_FAIL:      return "I/O or internal failure";
	case IAP_EXIT_USAGE:     return "bad command line";
	case IAP_EXIT_PORT:      return "serial port missing, busy or unusable";
	case IAP_EXIT_NO_ANSWER: return "no answer from the bootloader";
	case IAP_EXIT_NACK:      return "the bootloader refused a command (NACK)";
	case IAP_EXIT_FILE:      return "input file unreadable or malformed";
	case IAP_EXIT_TOO_LARGE: return "image too large for the application area";
	case IAP_EXIT_ADDRESS:   return "address outside the application area";
	case IAP_EXIT_VERIFY:    return "verify mismatch";
	case IAP_EXIT_PROTOCOL:  return "protocol error (unexpected reply)";
	case IAP_EXIT_VBOARD:    return "virtual board could not be started or stopped unexpectedly";
	default:                 return "unknown";
	}
}

static void vmsg(const char *fmt, va_list ap)
{
	iap_progress_interrupt();
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void iap_info(const char *fmt, ...)
{
	if (iap_verbosity < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void iap_debug(int level, const char *fmt, ...)
{
	if (iap_verbosity < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int iap_parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end || v > 0xFFFFFFFFull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
