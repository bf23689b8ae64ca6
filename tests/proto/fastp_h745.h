/*
 * The geometry the h7iap bootloader announces in HELLO_R for the
 * STM32H745 (docs/PROTOCOL.md "h7iap fast protocol", "Frames"), for
 * tests/proto/test_fastp.c and tests/fuzz/fuzz_fastp.c.
 */
#ifndef TESTS_FASTP_H745_H
#define TESTS_FASTP_H745_H

#include "fastp.h"
#include "h7_layout.h"

static const struct fp_geom FP_H745 = {
    .area_base = BOOT_APP_START,
    .area_size = BOOT_APP_SIZE,
    .bank_split = H7_BANK2_BASE - BOOT_APP_START,
    .sector_size = H7_SECTOR_SIZE,
    .raw_max = FP_RAW_MAX,
    .slots = 52,
};

#endif /* TESTS_FASTP_H745_H */
