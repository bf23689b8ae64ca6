/*
 * A/B updates with the hardware bank swap (docs/PROTOCOL.md "A/B
 * updates"): the boot decision of the A/B layout (proto/h7_layout.h "A/B
 * layout") and its update engine, host-testable like the rest of the
 * bootloader (tests/boot/test_ab.c, tests/powerloss/test_ab.c).
 *
 * Flash goes through h7flash with two driver instances:
 *   fl_other:   everything refused but the other bank's slot (sectors 1-7
 *               at 0x08120000): the image is written there;
 *   fl_trailer: everything refused but the last sector of each bank: the
 *               trailer words (program only), and the option change;
 *   fl_copy:    everything refused but sector 0 at 0x08100000: the other
 *               bank's bootloader copy, made equal to the running one
 *               before any swap (ab_boot_copy).
 */
#ifndef BOOT_AB_H
#define BOOT_AB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ab_slot.h"
#include "h7_layout.h"
#include "h7flash/h7flash.h"

/* ---- the decision (a pure function) ---------------------------------- */

/* One slot as the decision sees it. */
struct ab_view {
    enum ab_slot_state state;
    bool image_ok; /* IMAGE word valid, CRC unit equal, vectors plausible */
    uint32_t seq;
    unsigned trials; /* TRIAL words used */
};

enum ab_action {
    AB_ACT_BOOT = 1, /* start the running slot's confirmed image */
    AB_ACT_TRIAL,    /* program the next TRIAL word, start the image on trial */
    AB_ACT_REJECT,   /* program REJECT in the running slot, decide again */
    AB_ACT_SWAP,     /* toggle SWAP_BANK (option bytes), reset */
    AB_ACT_STAY,     /* nothing to start: stay in the bootloader */
};

/*
 * run: the slot at 0x08020000, other: the one at 0x08120000; wdg_reset:
 * the last reset came from the watchdog (RCC_RSR.IWDG1RSTF).
 *   run on trial:      trials used up, or a watchdog reset after a trial
 *                      boot began -> REJECT; else TRIAL;
 *   run confirmed:     other on trial, never tried and newer (an update
 *                      whose swap did not happen) -> SWAP; else BOOT;
 *   run not startable: other confirmed, or on trial with trials left
 *                      -> SWAP; else STAY.
 * A slot whose image does not check is not startable, whatever its trailer.
 */
enum ab_action ab_decide(const struct ab_view *run, const struct ab_view *other, bool wdg_reset);
const char *ab_action_name(enum ab_action a);

/* ---- on flash ---------------------------------------------------------- */

/* A slot read from flash. */
struct ab_slot {
    uint32_t base; /* BOOT_AB_SLOT_START or BOOT_AB_OTHER_START */
    struct ab_trailer t;
    int check; /* 0: image checks; else why not (BOOT_E_* / H7F_E_*) */
    uint32_t sp, entry;
    bool cm4_valid; /* the image covers a plausible CM4 vector table at
                       BOOT_AB_CM4_VECTORS */
};

struct ab_ctx {
    struct h7f fl_other;
    struct h7f fl_trailer;
    struct h7f fl_copy;
    /* Bytes of sector 0 that hold the bootloader (a multiple of 128):
     * ab_init sets the whole sector; the firmware may give its linked
     * size, so that the copies are compared and copied over that only. */
    uint32_t boot_len;
    /* The update in progress (ab_update_begin .. commit). */
    bool open;
    uint32_t len, seq;
    struct h7f_writer w;
};

void ab_init(struct ab_ctx *c);
/* Read the trailer of the slot at base and check its image (CRC unit over
 * the image, vectors for a start at BOOT_AB_SLOT_START). */
void ab_slot_load(struct ab_ctx *c, uint32_t base, struct ab_slot *s);
void ab_slot_view(const struct ab_slot *s, struct ab_view *v);

/* The update: the other slot only. begin erases the other slot's last
 * sector (its trailer: the slot is empty from then on), the writer erases
 * the image's sectors as it reaches them. commit: last word, CRC unit over
 * the image equal to the CRC of the bytes sent, IMAGE word (sequence one
 * above both slots'), then SWAP_BANK toggled; the caller resets. */
int ab_update_begin(struct ab_ctx *c, uint32_t len);
int ab_update_write(struct ab_ctx *c, const void *p, size_t n);
int ab_update_commit(struct ab_ctx *c);

/* Make the other bank's sector 0 equal to the running bootloader's over
 * boot_len bytes (the CRC unit over both; when they differ: erase, copy
 * every word that is not erased, compare again). 0 when they are equal. */
int ab_boot_copy(struct ab_ctx *c);
/* Program SWAP_BANK_OPT to the mapping not in force (nothing when the
 * option bytes already hold it); a reset makes it act. Never before the
 * other bank holds the same bootloader (ab_boot_copy first). */
int ab_swap(struct ab_ctx *c);

/* What the firmware does after ab_boot. */
struct ab_boot_result {
    enum ab_action act; /* BOOT or TRIAL: jump to entry; SWAP: reset; STAY */
    uint32_t entry, sp;
    unsigned steps;   /* decisions taken (a REJECT is followed by another) */
    bool release_cm4; /* BOOT of an image with a CM4 table: never on trial;
                         the CM4 boot address (BOOT4 ADD0) is then
                         BOOT_AB_CM4_VECTORS (set once, an option change) */
    int err;          /* a flash operation that failed (then act is STAY) */
};

/* Decide and do it: program TRIAL or REJECT words, toggle the swap. */
void ab_boot(struct ab_ctx *c, bool wdg_reset, struct ab_boot_result *r);

/* The running image confirms itself: a CONFIRM word in the running slot
 * (the first empty one of the two). 0 also when it is confirmed already;
 * BOOT_E_NO_IMAGE when the running slot is not on trial. */
int ab_confirm(struct ab_ctx *c);

/* h7boot_ab only (boot/ab/update_ab.c, the update engine behind the
 * protocols): the firmware's one A/B context, set up by boot_init. */
struct ab_ctx *boot_ab(void);

#endif /* BOOT_AB_H */
