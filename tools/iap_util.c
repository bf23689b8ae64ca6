/* h7iap: error text, messages and number parsing. */
#include "iap.h"
#include "iap_progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int iap_verbosity;
static char errbuf[512];

int iap_fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return err;
}

const char *iap_error(void)
{
    return errbuf;
}

void iap_clear_error(void)
{
    errbuf[0] = '\0';
}

const char *iap_strerror(int err)
{
    if (err == 0)
        return "success";
    switch (IAP_ERR_LAYER(err)) {
    case IAP_PORT_ERR_BASE: return iap_port_strerror((enum iap_port_err)err);
    case IAP_IMAGE_ERR_BASE: return iap_image_strerror((enum iap_image_err)err);
    case IAP_CLIENT_ERR_BASE: return iap_client_strerror((enum iap_client_err)err);
    case IAP_OP_ERR_BASE: return iap_op_strerror((enum iap_op_err)err);
    case IAP_FASTP_ERR_BASE: return iap_fastp_strerror((enum iap_fastp_err)err);
    default: return "unknown error";
    }
}

int iap_err_valid(int err)
{
    return err == 0 || (err > IAP_PORT_ERR_BASE && err < IAP_PORT_ERR_END) ||
           (err > IAP_IMAGE_ERR_BASE && err < IAP_IMAGE_ERR_END) ||
           (err > IAP_CLIENT_ERR_BASE && err < IAP_CLIENT_ERR_END) ||
           (err > IAP_OP_ERR_BASE && err < IAP_OP_ERR_END) ||
           (err > IAP_FASTP_ERR_BASE && err < IAP_FASTP_ERR_END);
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
