/*
 * h7flash host port on the h7sim model (see port/h7f_port.h).
 */
#include <string.h>

#include "h7f_port.h"
#include "h7sim.h"

struct h7sim *h7f_port_sim;
uint64_t h7f_port_access_ns = 20;
uint32_t h7f_port_fetch_addr;
struct h7f_port_stats h7f_port_stats;
void (*h7f_port_after_write)(uint32_t addr, uint32_t v, bool array);
uint32_t (*h7f_port_read_filter)(uint32_t addr, uint32_t v);

/* Last invalidation time (+1) per flash word of the 2 MB. */
static uint64_t inval_ns[H7_FLASH_SIZE / H7_FLASH_WORD];

void h7f_port_attach(struct h7sim *sim)
{
    h7f_port_sim = sim;
    h7f_port_access_ns = 20;
    h7f_port_fetch_addr = 0;
    h7f_port_after_write = NULL;
    h7f_port_read_filter = NULL;
    memset(&h7f_port_stats, 0, sizeof h7f_port_stats);
    h7f_port_inval_clear();
}

void h7f_port_inval_clear(void)
{
    memset(inval_ns, 0, sizeof inval_ns);
}

uint64_t h7f_port_inval_time(uint32_t addr)
{
    if (addr < H7_FLASH_BASE || addr > H7_FLASH_END)
        return 0;
    return inval_ns[(addr - H7_FLASH_BASE) / H7_FLASH_WORD];
}

/* The instruction fetches of the code doing the access, then its cost. */
static void before_access(void)
{
    if (h7f_port_fetch_addr)
        h7f_port_stats.fetch_stall_ns += h7sim_fetch_stall(h7f_port_sim, h7f_port_fetch_addr);
}

static void after_access(uint64_t stall)
{
    h7f_port_stats.access_stall_ns += stall;
    h7sim_advance(h7f_port_sim, h7f_port_access_ns);
}

uint32_t h7f_io_read32(uint32_t addr)
{
    uint64_t v = 0, stall = 0;
    before_access();
    h7f_port_stats.reg_reads++;
    if (h7sim_read(h7f_port_sim, addr, 4, &v, &stall) != H7SIM_OK)
        h7f_port_stats.buserr_regs++;
    after_access(stall);
    if (h7f_port_read_filter)
        return h7f_port_read_filter(addr, (uint32_t)v);
    return (uint32_t)v;
}

void h7f_io_write32(uint32_t addr, uint32_t v)
{
    uint64_t stall = 0;
    before_access();
    h7f_port_stats.reg_writes++;
    if (h7sim_write(h7f_port_sim, addr, 4, v, &stall) != H7SIM_OK)
        h7f_port_stats.buserr_writes++;
    after_access(stall);
    if (h7f_port_after_write)
        h7f_port_after_write(addr, v, false);
}

void h7f_io_flash_write32(uint32_t addr, uint32_t v)
{
    uint64_t stall = 0;
    before_access();
    h7f_port_stats.flash_writes++;
    if (h7sim_write(h7f_port_sim, addr, 4, v, &stall) != H7SIM_OK)
        h7f_port_stats.buserr_writes++;
    after_access(stall);
    if (h7f_port_after_write)
        h7f_port_after_write(addr, v, true);
}

int h7f_io_flash_read32(uint32_t addr, uint32_t *v)
{
    uint64_t val = 0, stall = 0;
    before_access();
    h7f_port_stats.flash_reads++;
    enum h7sim_resp r = h7sim_read(h7f_port_sim, addr, 4, &val, &stall);
    after_access(stall);
    *v = (uint32_t)val;
    if (r != H7SIM_OK) {
        h7f_port_stats.buserr_reads++;
        return -1;
    }
    return 0;
}

void h7f_io_dsb(void)
{
    h7f_port_stats.barriers++;
}

void h7f_io_isb(void)
{
    h7f_port_stats.barriers++;
}

uint32_t h7f_io_now_us(void)
{
    return (uint32_t)(h7sim_now(h7f_port_sim) / 1000u);
}

void h7f_io_dcache_invalidate(uint32_t addr, uint32_t len)
{
    h7f_port_stats.inval_calls++;
    h7f_port_stats.inval_bytes += len;
    if ((addr | len) & (H7_FLASH_WORD - 1u))
        h7f_port_stats.inval_misaligned++;
    uint64_t t = h7sim_now(h7f_port_sim) + 1u;
    for (uint64_t a = addr & ~(uint64_t)(H7_FLASH_WORD - 1u); a < (uint64_t)addr + len;
         a += H7_FLASH_WORD) {
        if (a < H7_FLASH_BASE || a > H7_FLASH_END) {
            h7f_port_stats.inval_outside++;
            continue;
        }
        inval_ns[(a - H7_FLASH_BASE) / H7_FLASH_WORD] = t;
    }
}

/* A busy-wait iteration: let model time run to the next completion, as a
 * CPU spinning on SR would. With nothing scheduled (a test's stuck BSY)
 * time moves in 10 us steps, so the driver's timeouts are reached. */
void h7f_io_poll(void)
{
    h7f_port_stats.polls++;
    before_access();
    uint64_t now = h7sim_now(h7f_port_sim);
    uint64_t next = h7sim_next_event(h7f_port_sim);
    uint64_t step = 10000u;
    if (next != UINT64_MAX && next > now)
        step = next - now;
    h7sim_advance(h7f_port_sim, step);
}
