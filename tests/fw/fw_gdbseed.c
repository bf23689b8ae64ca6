/* The seed's scenario under a debugger (tests/vboard, the gdb tests): the
 * same 4 KB image written twice, by a HAL-style naive loop at 0x08040000
 * (unlock once; per 32 bytes: wait for QW = 0, fail on any error flag, set
 * PG, store, wait, clear PG; never clear a flag) and by the h7flash
 * writer at 0x08060000. gdb stops inside either loop (naive_store_word,
 * h7f_packet); a memory view of the flash while halted leaves RDSERR
 * (docs/H7_FLASH.md 8.2.1). Prints what each writer got and the value of
 * gdb_knob (set by the debugger) through report(); exits 0. */
#include <string.h>

#include "fw.h"
#include "h7flash/h7flash.h"

extern uint32_t h7f_port_cpu_mhz;

#define NAIVE_ADDR 0x08040000u
#define H7F_ADDR   0x08060000u
#define IMAGE_LEN  4096u
#define PACKET     1024u

volatile uint32_t gdb_knob = 0x1111u;

static uint8_t img[IMAGE_LEN];
static struct h7f f;

static int naive_wait(void)
{
    while (MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & FLASH_SR_QW) {
    }
    return (MMIO32(H7_FLASH_REG(1u, FLASH_SR)) & FLASH_SR_ALL_ERRORS) ? 1 : 0;
}

/* The eight stores of one flash word, PG set (a breakpoint here is inside
 * the write loop). */
__attribute__((noinline)) void naive_store_word(uint32_t addr, const uint8_t *src)
{
    for (unsigned i = 0; i < 32u; i += 4u) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        MMIO32(addr + i) = v;
    }
    __asm volatile("dsb" ::: "memory");
}

static int naive_program(uint32_t addr, const uint8_t *src)
{
    uint32_t cr = H7_FLASH_REG(1u, FLASH_CR);
    if (naive_wait())
        return 1; /* a stale flag: this word is skipped */
    MMIO32(cr) |= FLASH_CR_PG;
    naive_store_word(addr, src);
    int st = naive_wait();
    MMIO32(cr) &= ~FLASH_CR_PG;
    return st;
}

static unsigned wrong_bytes(uint32_t addr)
{
    unsigned bad = 0;
    for (uint32_t i = 0; i < IMAGE_LEN; i++)
        bad += *(volatile const uint8_t *)(addr + i) != img[i];
    return bad;
}

__attribute__((noinline)) void report(const char *what, uint32_t a, uint32_t b)
{
    fw_puts(what);
    fw_puts(" ");
    fw_putdec(a);
    fw_puts(" ");
    fw_putdec(b);
    fw_puts("\n");
}

static void naive_update(void)
{
    uint32_t cr = H7_FLASH_REG(1u, FLASH_CR);
    flash_unlock();
    unsigned failed = naive_wait();
    uint32_t snb = (NAIVE_ADDR - H7_FLASH_BASE) / H7_SECTOR_SIZE;
    MMIO32(cr) = (MMIO32(cr) & ~(FLASH_CR_SNB_Msk | FLASH_CR_PSIZE_Msk)) | FLASH_CR_SER |
                 FLASH_CR_PSIZE_X64 | (snb << FLASH_CR_SNB_Pos) | FLASH_CR_START;
    failed += naive_wait();
    MMIO32(cr) &= ~(FLASH_CR_SER | FLASH_CR_SNB_Msk);
    for (uint32_t o = 0; o < IMAGE_LEN; o += 32u)
        failed += naive_program(NAIVE_ADDR + o, img + o);
    report("naive: failed calls, wrong bytes:", failed, wrong_bytes(NAIVE_ADDR));
}

/* One packet to the h7flash writer (a breakpoint here is between two
 * packets of its write loop). */
__attribute__((noinline)) int h7f_packet(struct h7f_writer *w, const uint8_t *p, uint32_t n)
{
    return h7f_writer_write(w, p, n);
}

static void h7flash_update(void)
{
    struct h7f_writer w;
    h7f_init(&f);
    int err = h7f_writer_open(&w, &f, H7F_ADDR, IMAGE_LEN, H7F_WR_VERIFY_CRC);
    for (uint32_t p = 0; p < IMAGE_LEN && !err; p += PACKET)
        err = h7f_packet(&w, img + p, PACKET);
    if (!err)
        err = h7f_writer_finish(&w);
    report("h7flash: error, wrong bytes:", (uint32_t)err, wrong_bytes(H7F_ADDR));
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    h7f_port_cpu_mhz = 480;
    uint32_t seed = 0x5eed;
    for (uint32_t i = 0; i < IMAGE_LEN; i++) {
        seed = seed * 1103515245u + 12345u;
        img[i] = (uint8_t)(seed >> 16);
    }
    naive_update();
    h7flash_update();
    report("knob:", gdb_knob, 0);
    return 0;
}
