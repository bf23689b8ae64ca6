/* Test fixtures for h7iap: HEX and ELF files built at test time. */
#ifndef TESTS_CLI_FIXTURES_H
#define TESTS_CLI_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

struct fx_seg {
    uint32_t addr;
    const uint8_t *data;
    uint32_t len;
};

/* Intel HEX text (malloc'ed, NUL-terminated) with type-04 records, 16 bytes per line. */
char *fx_hex(const struct fx_seg *segs, size_t n);
/* ELF32 little-endian ARM executable with one PT_LOAD per segment placed at
 * p_paddr = addr (p_vaddr = vaddr_bias + addr), plus one PT_LOAD with no file
 * bytes (.bss). *len receives the size. */
uint8_t *fx_elf(const struct fx_seg *segs, size_t n, uint32_t vaddr_bias, size_t *len);
/* Deterministic pseudo-random bytes. */
void fx_fill(uint8_t *p, size_t n, uint32_t seed);
/* Write a file; returns 0. Path in a fresh temp dir made by fx_tmpdir(). */
int fx_write(const char *path, const void *data, size_t len);
const char *fx_tmpdir(void);
/* Remove the temp dir and everything in it. */
void fx_cleanup(void);

#endif
