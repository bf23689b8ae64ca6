/*
 * A fake AN3155 target for the h7iap tests: serves the protocol on an fd
 * (one end of a socketpair, or a pty master) from its own thread, over a
 * 2 MB flash array with H7 rules: writes of whole 32-byte flash words in
 * the application area, each word programmed at most once per erase.
 * Faults are switched on per test (silence, NACKs, a corrupted byte).
 */
#ifndef TESTS_CLI_FAKE_AN3155_H
#define TESTS_CLI_FAKE_AN3155_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_FLASH_SIZE (2u * 1024 * 1024)

struct fake_fastp;

struct fake_target {
    /* configuration (set before fake_start) */
    bool silent;            /* never answer anything */
    bool chatter;           /* silent, but print the banner for every byte received */
    bool start_synced;      /* already synced: 0x7F is taken as a command byte */
    int sync_delay_ms;      /* answer the first sync byte this late (slow boot) */
    bool offer_checksum;    /* advertise and serve Get Checksum 0xA1 */
    bool offer_reason;      /* advertise and serve the Get Reason extension */
    uint32_t nack_write_at; /* NACK the Write Memory at this address (0: none) */
    uint32_t corrupt_at;    /* store the byte written here inverted (0: none) */
    const char *banner;     /* printed at start and after a reset */
    const char *app_banner; /* printed after Go to the application */
    /* Frame formats: when host_even is set and differs from target_even,
	 * every byte but 0x7F arrives garbled (as 8E1 into an 8N1 USART). */
    const volatile int *host_even;
    bool target_even;
    /* Speak the fast protocol on 0xE1 (listed in Get): fake_fastp.h. */
    struct fake_fastp *fastp;
    bool in_app; /* the "application" runs: only 'b' is heard
				 * (back to the bootloader, like h7app) */

    /* state */
    uint8_t flash[FAKE_FLASH_SIZE];
    uint8_t programmed[FAKE_FLASH_SIZE / 32];
    int fd;
    pthread_t thread;
    volatile int stop;
    bool synced;
    bool sync_in_loop; /* 0x7F at the command position is answered ACK */
    uint8_t reason;
    uint32_t reason_addr;

    /* statistics */
    int writes, reads, erases, gos, resets, syncs;
    int double_programs; /* write attempts on a programmed word */
    uint32_t go_addr;
    uint32_t erased_mask; /* pages erased so far */
};

/* Initialise (flash erased) with defaults: everything off. */
void fake_init(struct fake_target *f);
/* Serve on fd (not taken: the caller closes it after fake_stop). */
int fake_start(struct fake_target *f, int fd);
void fake_stop(struct fake_target *f);

/* Serve f on one end of a new socketpair; *t: the other end as an h7iap
 * transport, *fd: f's end (closed by the caller after fake_stop). A
 * client on it with the tests' short timeouts. 0 or -1. */
struct iap_transport;
struct iap_client;
int fake_start_pair(struct fake_target *f, struct iap_transport **t, int *fd);
void fake_client_init(struct iap_client *c, struct iap_transport *t);
/* The end of fake_start_pair (t NULL: it never ran): stop f, close the
 * transport and f's end. Returns f->double_programs: the H7 rule, no flash
 * word was ever offered twice, when 0. */
int fake_stop_pair(struct fake_target *f, struct iap_transport *t, int fd);

/* The line, for the fast protocol's part (fake_fastp.c): read exactly n
 * bytes within ms (ms < 0: until stop), 0 or -1; write all n bytes. */
int fake_read(struct fake_target *f, uint8_t *b, size_t n, int ms);
void fake_write(struct fake_target *f, const uint8_t *b, size_t n);

#endif
