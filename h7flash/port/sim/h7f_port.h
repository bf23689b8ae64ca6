/*
 * h7flash host port: every accessor calls the h7sim bus of the model the
 * tests set in h7f_port_sim, and advances the model clock by a fixed cost
 * per access (h7f_port_access_ns), so polling loops make progress and the
 * driver's timeouts are real. Instrumentation for the tests below.
 */
#ifndef H7F_PORT_H
#define H7F_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct h7sim;

/* Host build: no placement; the tests measure what the placement buys
 * (h7f_port_fetch_addr below). */
#define H7F_RAMFUNC

uint32_t h7f_io_read32(uint32_t addr);
void h7f_io_write32(uint32_t addr, uint32_t v);
void h7f_io_flash_write32(uint32_t addr, uint32_t v);
int h7f_io_flash_read32(uint32_t addr, uint32_t *v);
void h7f_io_dsb(void);
void h7f_io_isb(void);
uint32_t h7f_io_now_us(void);
void h7f_io_dcache_invalidate(uint32_t addr, uint32_t len);
void h7f_io_poll(void);

/* ---- test side ---------------------------------------------------------- */

/* The model every accessor talks to. */
extern struct h7sim *h7f_port_sim;
/* Model time charged per register or array access (default 20 ns). */
extern uint64_t h7f_port_access_ns;
/* Where the driver's code is fetched from: 0 = RAM (ITCM, never stalls);
 * a flash address = each access is preceded by an instruction fetch there,
 * which stalls while that bank is busy (docs/H7_FLASH.md 8.4). */
extern uint32_t h7f_port_fetch_addr;

/* Called after every register write and array store the driver makes
 * (NULL: none). Tests use it to inject a debugger's intervention in the
 * middle of an operation, e.g. right after the driver set PG. */
extern void (*h7f_port_after_write)(uint32_t addr, uint32_t v, bool array);

/* Applied to the value of every register read (NULL: none). Tests use it
 * to make hardware misbehave, e.g. a BSY that never clears. */
extern uint32_t (*h7f_port_read_filter)(uint32_t addr, uint32_t v);

struct h7f_port_stats {
    uint64_t reg_reads, reg_writes;
    uint64_t flash_reads, flash_writes;
    uint64_t polls;
    uint64_t barriers;
    uint64_t buserr_reads;    /* bus errors on array reads (double ECC) */
    uint64_t buserr_writes;   /* bus errors on writes (wrong key: imprecise fault) */
    uint64_t buserr_regs;     /* bus errors on register reads */
    uint64_t access_stall_ns; /* stalls reported by the model on data accesses */
    uint64_t fetch_stall_ns;  /* stalls of the simulated instruction fetches */
    uint64_t inval_calls;
    uint64_t inval_bytes;
    uint64_t inval_misaligned; /* calls with addr or len not multiples of 32 */
    uint64_t inval_outside;    /* calls touching addresses outside the flash */
};
extern struct h7f_port_stats h7f_port_stats;

/* Attach a model, clear the statistics and the invalidation log, fetch
 * from RAM, 20 ns per access, no hook, no filter. */
void h7f_port_attach(struct h7sim *sim);
/* Model time (ns) + 1 of the last D-cache invalidation covering the flash
 * word at addr; 0 if never invalidated since h7f_port_attach. */
uint64_t h7f_port_inval_time(uint32_t addr);
void h7f_port_inval_clear(void);

#endif
