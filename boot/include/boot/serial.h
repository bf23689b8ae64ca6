/*
 * The serial port as the bootloader logic sees it. The firmware implements
 * it on USART3 (RX interrupt into a RAM ring buffer); host tests implement
 * it with scripted peers.
 */
#ifndef BOOT_SERIAL_H
#define BOOT_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* USART3's kernel clock, PCLK1 after clock_init() (boot/target/clock.c):
 * the rates the line can take (the fast protocol's BAUD, HELLO_R). */
#define BOOT_PCLK1_HZ 100000000u

/* getc() result: a byte 0..255 with flags in bits 8.., or a timeout. */
#define BOOT_SER_TIMEOUT (-1)
#define BOOT_SER_PE      0x100 /* parity error on this byte */
#define BOOT_SER_FE      0x200 /* framing error on this byte */
#define BOOT_SER_ORE     0x400 /* bytes were lost before this one */
#define BOOT_SER_ERRMASK (BOOT_SER_PE | BOOT_SER_FE | BOOT_SER_ORE)

enum boot_ser_format {
    BOOT_SER_8N1 = 0,
    BOOT_SER_8E1 = 1,
    /* 8 data bits, 2 stop bits: an 8N1 host reads it, and so does an
	 * 8E1 host that does not check parity (Linux raw mode: INPCK off). */
    BOOT_SER_8N2 = 2,
};

struct boot_serial {
    /* Next received byte (| flags), waiting at most timeout_ms. */
    int (*getc)(void *ctx, uint32_t timeout_ms);
    /* Queue bytes for sending; returns when they are queued. */
    void (*write)(void *ctx, const void *p, size_t n);
    /* Wait until every queued byte has left the wire. */
    void (*drain)(void *ctx);
    /* Frame format from now on (drains first). */
    void (*set_format)(void *ctx, enum boot_ser_format f);
    /* Number of receive overruns since start (ORE). */
    uint32_t (*overruns)(void *ctx);
    void *ctx;
    /* Milliseconds of a free-running clock (the fast protocol's timers);
     * NULL: time is counted from getc()'s timeouts only. */
    uint32_t (*now_ms)(void *ctx);
    /* The rate the UART runs at (want 0), would run at for want (apply
     * false), or runs at from now on (apply: drains first, then sets it);
     * NULL: the rate cannot change (the fast protocol's BAUD is refused). */
    uint32_t (*baud)(void *ctx, uint32_t want, bool apply);
};

#endif /* BOOT_SERIAL_H */
