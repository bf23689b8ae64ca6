/*
 * The fast protocol's device side as a test double for the h7iap client
 * (tests/tools/test_fastp_client.c): a scripted peer on proto/fastp over
 * the fake target's flash array, not a product (the bootloader's session
 * is boot/'s). Every frame is checked with the codec as a device must
 * (fp_decode, fp_data_check_image, fp_data_unpack, fp_order_accept), each
 * flash word is programmed once (the fake target counts double programs),
 * and faults are switched on per test.
 */
#ifndef TESTS_CLI_FAKE_FASTP_H
#define TESTS_CLI_FAKE_FASTP_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_an3155.h"
#include "fastp.h"

#define FAKE_FP_DROPS 16

struct fake_fastp {
    /* configuration */
    uint16_t slots;               /* window (default 52) */
    bool deflate;                 /* offer FP_HF_DEFLATE (default on) */
    uint32_t baud_max;            /* HELLO_R's (default 6250000) */
    bool baud_dead;               /* after BAUD_R hear nothing: 2 s silence, back to AN3155 */
    bool baud_refuse;             /* answer BAUD with ERROR FP_E_BAUD */
    uint32_t drop[FAKE_FP_DROPS]; /* DATA seqs lost on their first send (seq + 1; 0: none) */
    uint32_t
        corrupt[FAKE_FP_DROPS]; /* DATA seqs whose first send arrives with a bad CRC (seq + 1) */
    uint32_t fail_seq;          /* seq + 1 of a frame whose programming fails (PGSERR) */
    bool verify_fail;           /* END: one flash byte differs (the CRC unit sees it) */
    uint32_t
        lose_after;     /* link lost after this many DATA frames (0: never): silence, kept in RAM */
    uint32_t cut_after; /* power cut after this many DATA frames: resume from the log */

    /* state */
    bool open;
    struct fp_image im;
    uint32_t done[FP_REGIONS];
    uint32_t cum, limit;
    struct fp_order order;
    bool complete;  /* the last END committed (a COMPLETE record) */
    bool log_state; /* the open transfer came from the "log" (after a cut) */
    uint32_t session_frames;

    /* statistics */
    uint32_t data_frames, repeats, bad_frames, hellos, bauds, queries, sectors_q, begins, resumes,
        ends, sessions;
    uint32_t resume_at[FP_REGIONS]; /* done[] of the last resumed BEGIN */
    uint32_t deflated;              /* DATA frames that came deflated */
    uint32_t max_offset_seen[FP_REGIONS];
};

void fake_fastp_init(struct fake_fastp *p);
/* Serve one session after 0xE1's ACK; returns at BYE, GO or 2 s of silence. */
void fake_fastp_session(struct fake_target *f);

#endif
