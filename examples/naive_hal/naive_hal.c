/*
 * The seed, reproduced.
 *
 * The seed's bootloader wrote an uploaded image with a HAL-style sequence:
 * unlock once, for every 32 bytes "wait until QW is clear, fail if any
 * error flag is set, set PG, store the 32-bit words, wait until QW is
 * clear, clear PG", and erased sectors the same way. Two symptoms were
 * reported: the last bytes of the image stayed 0xFF, and after the board
 * had been stopped at a breakpoint every write failed until a reset.
 *
 * This program runs that sequence against the strict model (A: no
 * debugger; B, C: a breakpoint between two packets), then the same
 * scenario through h7flash (D). Exit status 0 when the seed's
 * symptoms are reproduced and h7flash writes every byte. See
 * docs/DRIVER.md, "The seed, reproduced".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7flash/h7flash.h"
#include "h7f_port.h"
#include "h7sim.h"
#include "stm32h7/flash.h"

#define IMAGE_ADDR 0x08040000u
#define IMAGE_LEN  5000u /* 156 flash words + 8 bytes */
#define PACKET     1024u /* YMODEM-1K packets */

enum { HAL_OK = 0, HAL_ERROR = 1, HAL_TIMEOUT = 3 };

static struct h7sim *sim;

/* ---- a HAL-style driver, the way the seed did it ------------------------- */

static uint32_t rd(uint32_t a)
{
    uint64_t v = 0;
    h7sim_read(sim, a, 4, &v, NULL);
    h7sim_advance(sim, 20);
    return (uint32_t)v;
}

static void wr(uint32_t a, uint32_t v)
{
    h7sim_write(sim, a, 4, v, NULL);
    h7sim_advance(sim, 20);
}

static unsigned bank_of(uint32_t addr)
{
    return addr >= H7_BANK2_BASE ? 2u : 1u;
}

/* Polls QW only (neither WBNE nor BSY), and reports any error flag found,
 * but never clears it. */
static int naive_wait(unsigned bank)
{
    uint64_t t0 = h7sim_now(sim);
    while (rd(H7_FLASH_REG(bank, FLASH_SR)) & FLASH_SR_QW) {
        if (h7sim_now(sim) - t0 > 10000000000ull)
            return HAL_TIMEOUT;
        uint64_t next = h7sim_next_event(sim);
        h7sim_advance(sim,
                      next > h7sim_now(sim) && next != UINT64_MAX ? next - h7sim_now(sim) : 1000u);
    }
    return (rd(H7_FLASH_REG(bank, FLASH_SR)) & FLASH_SR_ALL_ERRORS) ? HAL_ERROR : HAL_OK;
}

static void naive_unlock_once(void)
{
    for (unsigned bank = 1; bank <= 2; bank++) {
        wr(H7_FLASH_REG(bank, FLASH_KEYR), FLASH_KEY1);
        wr(H7_FLASH_REG(bank, FLASH_KEYR), FLASH_KEY2);
    }
}

static int naive_erase_sector(uint32_t addr)
{
    unsigned bank = bank_of(addr);
    uint32_t cr = H7_FLASH_REG(bank, FLASH_CR);
    if (naive_wait(bank) != HAL_OK)
        return HAL_ERROR;
    uint32_t snb = ((addr - H7_FLASH_BASE) % H7_BANK_SIZE) / H7_SECTOR_SIZE;
    wr(cr, (rd(cr) & ~(FLASH_CR_SNB_Msk | FLASH_CR_PSIZE_Msk)) | FLASH_CR_SER | FLASH_CR_PSIZE_X64 |
               (snb << FLASH_CR_SNB_Pos) | FLASH_CR_START);
    int st = naive_wait(bank);
    wr(cr, rd(cr) & ~(FLASH_CR_SER | FLASH_CR_SNB_Msk));
    return st;
}

/* Programs n (1..32) bytes at a 32-byte aligned address as 32-bit stores:
 * for the image's last, partial flash word only ceil(n/4) words are
 * stored, the buffer stays partly filled (WBNE=1, QW=0), naive_wait
 * returns at once and clearing PG throws the bytes away (docs/H7_FLASH.md
 * 3.2, 3.3). */
static int naive_program(uint32_t addr, const uint8_t *src, uint32_t n)
{
    unsigned bank = bank_of(addr);
    uint32_t cr = H7_FLASH_REG(bank, FLASH_CR);
    if (naive_wait(bank) != HAL_OK)
        return HAL_ERROR;         /* a stale flag: this word is skipped */
    wr(cr, rd(cr) | FLASH_CR_PG); /* ignored if a debugger re-locked CR */
    for (uint32_t i = 0; i < n; i += 4u) {
        uint32_t v = 0xFFFFFFFFu;
        memcpy(&v, src + i, n - i < 4u ? n - i : 4u);
        h7sim_write(sim, addr + i, 4, v, NULL);
    }
    int st = naive_wait(bank);
    wr(cr, rd(cr) & ~FLASH_CR_PG);
    return st;
}

/* What the debugger does while the board is stopped at a breakpoint. */
enum breakpoint {
    BP_NONE = 0,
    BP_RELOCK = 1, /* the IDE re-locks the flash (CR = LOCK, as OpenOCD) */
    BP_RDSERR = 2, /* its memory view reads a reserved area: RDSERR */
};

static void breakpoint_hit(unsigned bp)
{
    /* docs/H7_FLASH.md 8.2.1 and 8.2.2. */
    if (bp & BP_RELOCK)
        h7sim_dbg_relock(sim, 1);
    if (bp & BP_RDSERR)
        h7sim_dbg_set_flags(sim, 1, FLASH_SR_RDSERR);
}

/* The seed's update loop: erase, then program packet by packet; the board
 * stops at a breakpoint before packet 3. */
static unsigned naive_update(const uint8_t *img, unsigned bp)
{
    unsigned failed = 0;
    naive_unlock_once();
    if (naive_erase_sector(IMAGE_ADDR) != HAL_OK)
        failed++;
    for (uint32_t p = 0; p < IMAGE_LEN; p += PACKET) {
        if (p == 2u * PACKET)
            breakpoint_hit(bp);
        uint32_t len = IMAGE_LEN - p < PACKET ? IMAGE_LEN - p : PACKET;
        for (uint32_t o = 0; o < len; o += 32u) {
            uint32_t n = len - o < 32u ? len - o : 32u;
            if (naive_program(IMAGE_ADDR + p + o, img + p + o, n) != HAL_OK)
                failed++;
        }
    }
    return failed;
}

/* ---- the same scenario through h7flash ----------------------------------- */

static int h7flash_update(const uint8_t *img, unsigned bp)
{
    struct h7f f;
    struct h7f_writer w;
    h7f_init(&f);
    h7f_port_attach(sim);
    int err = h7f_writer_open(&w, &f, IMAGE_ADDR, IMAGE_LEN, H7F_WR_VERIFY_CRC);
    for (uint32_t p = 0; p < IMAGE_LEN && !err; p += PACKET) {
        if (p == 2u * PACKET)
            breakpoint_hit(bp);
        uint32_t len = IMAGE_LEN - p < PACKET ? IMAGE_LEN - p : PACKET;
        err = h7f_writer_write(&w, img + p, len);
    }
    if (!err)
        err = h7f_writer_finish(&w);
    return err;
}

/* ---- report ---------------------------------------------------------------- */

/* Bytes of the image that read back wrong; first bad offset in *first. */
static uint32_t compare(const uint8_t *img, uint32_t *first)
{
    static uint8_t got[IMAGE_LEN];
    uint32_t bad = 0;
    h7sim_peek(sim, IMAGE_ADDR, got, IMAGE_LEN);
    *first = IMAGE_LEN;
    for (uint32_t i = 0; i < IMAGE_LEN; i++) {
        if (got[i] != img[i]) {
            if (!bad)
                *first = i;
            bad++;
        }
    }
    return bad;
}

static void new_model(void)
{
    if (sim)
        h7sim_free(sim);
    sim = h7sim_new(NULL);
    if (sim == NULL) {
        fprintf(stderr, "naive_hal: out of memory\n");
        exit(2);
    }
}

static void show_violations(void)
{
    size_t n = h7sim_violation_count(sim);
    printf("   model violation log: %zu entries\n", n);
    for (size_t i = 0; i < n && i < 4; i++) {
        const struct h7sim_violation *v = h7sim_violation_get(sim, i);
        printf("     [H7_FLASH.md %s] %s at 0x%08x: %s\n", v->section, v->rule, (unsigned)v->addr,
               v->detail);
    }
    if (n > 4)
        printf("     ...\n");
}

int main(void)
{
    static uint8_t img[IMAGE_LEN];
    uint32_t seed = 0x5eed;
    for (uint32_t i = 0; i < IMAGE_LEN; i++) {
        seed = seed * 1103515245u + 12345u;
        img[i] = (uint8_t)(seed >> 16);
    }
    uint32_t first;
    int ok = 1;

    printf("Image: %u bytes at 0x%08x in %u-byte packets (last flash word: %u bytes)\n\n",
           IMAGE_LEN, IMAGE_ADDR, PACKET, IMAGE_LEN % 32u);

    new_model();
    unsigned failed = naive_update(img, BP_NONE);
    uint32_t bad = compare(img, &first);
    printf("A. naive HAL-style writer, no debugger: %u calls failed, %u bytes wrong", failed,
           (unsigned)bad);
    if (bad)
        printf(" from offset %u (0x%08x)", (unsigned)first, (unsigned)(IMAGE_ADDR + first));
    printf("\n");
    uint8_t tail[IMAGE_LEN % 32u];
    h7sim_peek(sim, IMAGE_ADDR + IMAGE_LEN - sizeof tail, tail, sizeof tail);
    bool tail_erased = true;
    for (size_t i = 0; i < sizeof tail; i++)
        tail_erased = tail_erased && tail[i] == 0xFF;
    printf("   the last %u bytes read 0xFF: %s\n", (unsigned)sizeof tail,
           tail_erased ? "yes, lost" : "no");
    show_violations();
    ok &= failed == 0 && bad > 0 && first >= IMAGE_LEN - sizeof tail && tail_erased;

    static const struct {
        unsigned bp;
        const char *what;
    } cases[] = {
        { BP_RELOCK, "breakpoint, debugger re-locks the flash" },
        { BP_RDSERR, "breakpoint, debugger's memory view raises RDSERR" },
    };
    for (unsigned c = 0; c < 2; c++) {
        new_model();
        failed = naive_update(img, cases[c].bp);
        bad = compare(img, &first);
        printf("%c. naive HAL-style writer, %s before packet 3:\n"
               "   %u calls failed, %u bytes wrong from offset %u\n",
               'B' + c, cases[c].what, failed, (unsigned)bad, (unsigned)first);
        show_violations();
        ok &= failed > 0 && bad > 0 && first == 2u * PACKET;
    }

    new_model();
    int err = h7flash_update(img, BP_RELOCK | BP_RDSERR);
    bad = compare(img, &first);
    printf("D. h7flash writer, both at the same breakpoint: %s, %u bytes wrong\n",
           h7f_strerror(err), (unsigned)bad);
    show_violations();
    ok &= err == H7F_OK && bad == 0 && h7sim_violation_count(sim) == 0;

    h7sim_free(sim);
    printf("\n%s\n", ok ? "seed reproduced; h7flash writes every byte" : "UNEXPECTED: see above");
    return ok ? 0 : 1;
}
