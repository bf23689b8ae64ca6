/*
 * h7iap: byte transports behind one small interface. The AN3155 client
 * only sees this vtable, so the same client runs over a serial port, the
 * virtual board's pty, or a socketpair in the tests.
 */
#ifndef TOOLS_IAP_TRANSPORT_H
#define TOOLS_IAP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iap.h"

struct iap_transport;

/* Every operation returns 0 or an IAP_PORT_ERR_* code (with a message). */
struct iap_transport_ops {
    /* Write all n bytes. */
    enum iap_port_err (*write)(struct iap_transport *t, const uint8_t *buf, size_t n);
    /*
	 * Read up to n bytes, waiting at most timeout_ms in total; *got is the
	 * count read: fewer than n on timeout, 0 if nothing came (a timeout
	 * is no error).
	 */
    enum iap_port_err (*read)(struct iap_transport *t, uint8_t *buf, size_t n, int timeout_ms,
                              size_t *got);
    /* Discard input already received and not read. */
    void (*drain)(struct iap_transport *t);
    /* Release everything (stops the virtual board); t is freed. */
    void (*close)(struct iap_transport *t);
    /* Change the frame format (NULL: fixed). */
    enum iap_port_err (*set_parity)(struct iap_transport *t, int even);
    /* Change the line rate, after the bytes written so far have left
	 * (NULL: the rate follows the device, as on the virtual board's pty). */
    enum iap_port_err (*set_baud)(struct iap_transport *t, unsigned baud);
};

enum iap_parity { IAP_PARITY_AUTO, IAP_PARITY_EVEN, IAP_PARITY_NONE };

struct iap_transport {
    const struct iap_transport_ops *ops;
    const char *name; /* for messages: "/dev/ttyACM0", "virtual board" */
    /* Frame format in use (NONE where there is no parity, e.g. a pty),
	 * and whether the client may fall back from 8E1 to 8N1 (--parity
	 * auto on a device that kept even parity). */
    enum iap_parity parity;
    int parity_fallback;
    /* A write that cannot go on for this long fails (0: 2000 ms); longer
	 * for a board that drains the line slowly (an emulator: h7iap -t). */
    int write_timeout_ms;
};

struct iap_serial_opts {
    const char *path;
    unsigned baud;
    enum iap_parity parity; /* AUTO: 8E1, 8N1 if the device drops PARENB */
};

/*
 * Open a serial device: raw, 8 data bits, 1 stop bit, parity as asked,
 * exclusive (flock + TIOCEXCL). IAP_PORT_ERR_NODEV, _BUSY, _ACCESS,
 * _NOT_TTY, _SETUP (refuses the settings), _BAUD (unsupported rate).
 */
enum iap_port_err iap_serial_open(const struct iap_serial_opts *o, struct iap_transport **out);
/* Wrap an already open fd (socketpair, pipe): no termios. Takes the fd. */
enum iap_port_err iap_fd_transport(int fd, const char *name, struct iap_transport **out);

struct iap_vboard_opts {
    const char *bin;        /* h7vboard executable; NULL: next to h7iap */
    const char *boot_elf;   /* bootloader ELF; NULL: built-in default */
    const char *flash_file; /* persistent flash image; NULL: default */
    const char *log_file;   /* board stdout/stderr; NULL: /dev/null */
    unsigned baud;
    int start_timeout_ms;
};

/*
 * Start the virtual board (h7vboard --flash FILE --pty-link PATH ELF),
 * wait for its pty and open it. Closing the transport stops the board
 * (SIGTERM, then SIGKILL after 10 s: it saves its flash file on the way
 * out) and removes its temporary directory.
 * IAP_PORT_ERR_VBOARD_MISSING, _VBOARD_START; a board that dies during
 * the session turns the line's errors into IAP_PORT_ERR_VBOARD_DIED.
 */
enum iap_port_err iap_vboard_open(const struct iap_vboard_opts *o, struct iap_transport **out);
/* Defaults, resolved at run time (for --help and messages). */
const char *iap_vboard_default_bin(void);
const char *iap_vboard_default_boot(void);
const char *iap_vboard_default_flash(void);

/* Kill a started board from a signal handler (async-signal-safe). */
void iap_vboard_emergency_stop(void);

#endif
