/* Reactive YMODEM peers for the fake serial line (tests/boot/bootfx.h). */
#ifndef PEERS_H
#define PEERS_H

#include "bootfx.h"

struct ysend {
    const uint8_t *data;
    uint32_t len;      /* bytes sent */
    uint32_t announce; /* size in the header */
    bool no_size;
    bool use128;        /* only 128-byte blocks */
    int corrupt_block;  /* corrupt this block (1..) once */
    int drop_ack_block; /* act as if this block's ACK was lost, once */
    int stop_after;     /* go silent after sending this block */
    int can_after;      /* CAN CAN after this block's ACK */
    int noise_before;   /* line noise before this block */
    /* results */
    int st;
    bool done, cancelled;
    uint32_t off;
    uint8_t seq;
    int blocks, resends;
    bool dropped, corrupted;
    uint8_t frame[1029];
    size_t flen;
};
void ysend_peer(struct fser *s);

struct yrecv {
    int st;
    bool done, cancelled;
    char name[64];
    uint32_t size;
    uint8_t *data;
    uint32_t got;
    int naks_left; /* NAK the first data blocks this many times */
    uint8_t pending[1029];
    size_t plen;
};
void yrecv_peer(struct fser *s);

#endif
