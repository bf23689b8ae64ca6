/*
 * The hardware seam of h7flash. The driver never dereferences a hardware
 * address itself: it calls these accessors. Each build provides them in a
 * header named "h7f_port.h" found on the include path:
 *
 *   target (Cortex-M7):  h7flash/port/cm7/h7f_port.h   volatile, DSB/ISB, SCB
 *   host (tests):        h7flash/port/sim/h7f_port.h calls the h7sim bus
 *
 * The port must define (as functions or static inline functions):
 *
 *   uint32_t h7f_io_read32(uint32_t addr);            register read
 *   void     h7f_io_write32(uint32_t addr, uint32_t v); register write
 *   void     h7f_io_flash_write32(uint32_t addr, uint32_t v);  store to the array
 *   int      h7f_io_flash_read32(uint32_t addr, uint32_t *v);
 *            read from the array; 0, or -1 when the bus answered with an
 *            error (double-ECC word) -- reported, never a crash
 *   void     h7f_io_dsb(void);  void h7f_io_isb(void);
 *   uint32_t h7f_io_now_us(void);   free-running microseconds, wraps
 *   void     h7f_io_dcache_invalidate(uint32_t addr, uint32_t len);
 *            addr and len multiples of 32 (one M7 cache line = one flash word)
 *   void     h7f_io_poll(void);
 *            called in every busy-wait loop (target: watchdog refresh hook;
 *            host: lets model time pass)
 *
 * and the placement attribute
 *
 *   H7F_RAMFUNC   functions that must keep running while their own bank is
 *                 busy (target: section ".ramfunc", linked into ITCM)
 */
#ifndef H7FLASH_IO_H
#define H7FLASH_IO_H

#include "h7f_port.h"

#endif
