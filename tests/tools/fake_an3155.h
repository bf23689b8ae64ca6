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
    bool in_app; /* the "application" runs: only 'b' is heard
				 * (back to the bootloader, like h7app) */

    /* state */
    uint8_t flash[FAKE_FLASH_SIZE];
    uint8_t programmed[FAKE_FLASH_SIZE / 32];
    int fd;
    pthread_t thread;
    volatile int stop;
    bool synced;
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

#endif
