/*
 * h7iap host tool: shared definitions of the library (errors, messages).
 *
 * Every fallible function returns 0 on success or an error code of its
 * layer, in the manner of stm32flash's port_err_t and stm32_err_t. Each
 * layer has its own enum and its own range of values, so a code that
 * travels up through the layers still says where it came from:
 *
 *   enum iap_port_err    0x1xx  transports (iap_serial.c, iap_vboard.c)
 *   enum iap_image_err   0x2xx  image files (iap_image.c)
 *   enum iap_client_err  0x3xx  the AN3155 client (iap_client.c)
 *   enum iap_op_err      0x4xx  commands made of client calls (iap_ops.c)
 *   enum iap_fastp_err   0x6xx  the fast protocol's client (iap_fastp.c)
 *
 * A client or operation that fails because the line failed returns the
 * transport's code unchanged. The text of the failure (addresses, paths,
 * the bootloader's reason) is kept by iap_fail() and read back with
 * iap_error(); iap_strerror() names a code of any layer. Exit codes are
 * not the library's business: only main() (tools/h7iap.c) maps these codes
 * to them.
 */
#ifndef TOOLS_IAP_H
#define TOOLS_IAP_H

#include <stddef.h>
#include <stdint.h>

#define IAP_ERR_LAYER(e) ((int)(e) & ~0xFF)

enum iap_port_err {
    IAP_PORT_OK = 0,
    IAP_PORT_ERR_BASE = 0x100,
    IAP_PORT_ERR_NODEV = IAP_PORT_ERR_BASE + 1, /* device missing */
    IAP_PORT_ERR_BUSY,                          /* another program has it open */
    IAP_PORT_ERR_ACCESS,                        /* no permission */
    IAP_PORT_ERR_NOT_TTY,                       /* not a serial device */
    IAP_PORT_ERR_BAUD,                          /* baud rate not supported */
    IAP_PORT_ERR_SETUP,                         /* refuses the line settings (baud, 8E1/8N1) */
    IAP_PORT_ERR_OPEN,                          /* open failed otherwise */
    IAP_PORT_ERR_IO,                            /* read, write or poll failed */
    IAP_PORT_ERR_CLOSED,                        /* the other side of the line went away */
    IAP_PORT_ERR_TIMEDOUT,                      /* a write did not drain (flow control) */
    IAP_PORT_ERR_NOMEM,
    IAP_PORT_ERR_VBOARD_MISSING, /* h7vboard or the bootloader ELF not found */
    IAP_PORT_ERR_VBOARD_START,   /* the virtual board did not come up */
    IAP_PORT_ERR_VBOARD_DIED,    /* the virtual board stopped in a session */
    IAP_PORT_ERR_END
};

enum iap_image_err {
    IAP_IMAGE_OK = 0,
    IAP_IMAGE_ERR_BASE = 0x200,
    IAP_IMAGE_ERR_OPEN = IAP_IMAGE_ERR_BASE + 1, /* cannot open the file */
    IAP_IMAGE_ERR_READ,                          /* cannot read it */
    IAP_IMAGE_ERR_FORMAT,                        /* malformed ELF or HEX, or a crafted header */
    IAP_IMAGE_ERR_EMPTY,                         /* no data to program */
    IAP_IMAGE_ERR_OVERLAP,                       /* the same address given twice */
    IAP_IMAGE_ERR_HUGE,                          /* the file is larger than any firmware image */
    IAP_IMAGE_ERR_TOO_LARGE,                     /* runs past the end of the area */
    IAP_IMAGE_ERR_ADDRESS,                       /* starts outside the area */
    IAP_IMAGE_ERR_NOMEM,
    IAP_IMAGE_ERR_END
};

enum iap_client_err {
    IAP_CLIENT_OK = 0,
    IAP_CLIENT_ERR_BASE = 0x300,
    IAP_CLIENT_ERR_NO_ANSWER = IAP_CLIENT_ERR_BASE + 1, /* silence */
    IAP_CLIENT_ERR_NACK,                                /* the bootloader refused a command */
    IAP_CLIENT_ERR_NO_CMD,                              /* the command is not in the Get list */
    IAP_CLIENT_ERR_PROTOCOL,                            /* garbled, short or unexpected reply */
    IAP_CLIENT_ERR_ARG, /* a length or count the protocol cannot carry */
    IAP_CLIENT_ERR_END
};

enum iap_op_err {
    IAP_OP_OK = 0,
    IAP_OP_ERR_BASE = 0x400,
    IAP_OP_ERR_VERIFY = IAP_OP_ERR_BASE + 1, /* flash differs from the image */
    IAP_OP_ERR_SECTORS,                      /* bad sector list */
    IAP_OP_ERR_BOOT_SECTOR,                  /* a sector of the bootloader */
    IAP_OP_ERR_END
};

enum iap_fastp_err {
    IAP_FASTP_OK = 0,
    IAP_FASTP_ERR_BASE = 0x600,
    IAP_FASTP_ERR_LINK = IAP_FASTP_ERR_BASE + 1, /* no valid reply after every repeat */
    IAP_FASTP_ERR_REFUSED,                       /* the device answered ERROR (not a flash error) */
    IAP_FASTP_ERR_FLASH,                         /* the device reported a flash error */
    IAP_FASTP_ERR_VERIFY,                        /* END: the flash CRC differs from the image's */
    IAP_FASTP_ERR_PROTOCOL,                      /* a reply the protocol does not allow here */
    IAP_FASTP_ERR_UNSUPPORTED,                   /* the device does not speak this version */
    IAP_FASTP_ERR_IMAGE,                         /* the image does not fit the device's area */
    IAP_FASTP_ERR_NOMEM,                         /* out of memory, or zlib failed */
    IAP_FASTP_ERR_END
};

/* Record the failure text (printf format) and return err. */
int iap_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text of the last iap_fail() ("" if none); iap_clear_error() empties it. */
const char *iap_error(void);
void iap_clear_error(void);

/*
 * Name of an error code: iap_strerror() hands it to the layer it belongs
 * to; each layer's function names its own codes ("unknown ..." for others).
 */
const char *iap_strerror(int err);
const char *iap_port_strerror(enum iap_port_err err);
const char *iap_image_strerror(enum iap_image_err err);
const char *iap_client_strerror(enum iap_client_err err);
const char *iap_op_strerror(enum iap_op_err err);
const char *iap_fastp_strerror(enum iap_fastp_err err);
/* 1 if err is 0 or a code of one of the enums above. */
int iap_err_valid(int err);

/* Verbosity: -1 quiet, 0 normal, 1 verbose (-v), 2 trace (-vv). */
extern int iap_verbosity;
/* Informational message on stderr (suppressed by -q); adds the newline. */
void iap_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Message only with -v (level 1) or -vv (level 2). */
void iap_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a number (decimal, 0x hex, optional k/K or m/M suffix for sizes). */
int iap_parse_u32(const char *s, uint32_t *out);

#endif
