/* The h7flash driver as real Thumb-2 code on the virtual board: the
 * low-level API, its refusals, ECC reporting, parallel erase of both banks,
 * the background erase job and the streaming writer, with the D-cache on
 * (the driver's DCIMVAC calls are counted by the board). Reports through
 * semihosting; returns the number of failed checks. */
#include <string.h>

#include "fw.h"
#include "h7flash/h7flash.h"

extern uint32_t h7f_port_cpu_mhz;

#define CHECK(cond) fw_check((cond), #cond)
#define EQ(a, b)                               \
    do {                                       \
        int got_ = (a), want_ = (b);           \
        if (got_ != want_) {                   \
            fw_puts("  got ");                 \
            fw_puthex((uint32_t)got_);         \
            fw_puts(" want ");                 \
            fw_puthex((uint32_t)want_);        \
            fw_puts("\n");                     \
        }                                      \
        fw_check(got_ == want_, #a " == " #b); \
    } while (0)

#define A_WORD 0x08040100u

static struct h7f f;

static void pattern(uint8_t *d, uint32_t n, uint32_t seed)
{
    for (uint32_t i = 0; i < n; i++)
        d[i] = (uint8_t)(seed * 37u + i * 11u + (i >> 5));
}

static uint32_t sw_crc(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void test_program_and_read(void)
{
    fw_puts("-- program_word, read\n");
    uint8_t d[32], r[32];
    pattern(d, 32, 1);
    EQ(h7f_program_word(&f, A_WORD, d), H7F_OK);
    CHECK(memcmp((const void *)A_WORD, d, 32) == 0);
    uint8_t o[13];
    uint32_t bad = 0;
    EQ(h7f_read(&f, A_WORD + 3u, o, sizeof o, &bad), H7F_OK);
    CHECK(memcmp(o, d + 3, sizeof o) == 0);
    EQ(h7f_program_word(&f, H7_BANK2_BASE, d), H7F_OK);
    memcpy(r, (const void *)H7_BANK2_BASE, 32);
    CHECK(memcmp(r, d, 32) == 0);
    CHECK((MMIO32(H7_FLASH_REG(1u, FLASH_CR)) & FLASH_CR_LOCK) != 0);
}

static void test_refusals(void)
{
    fw_puts("-- refusals\n");
    uint8_t d[32];
    pattern(d, 32, 2);
    EQ(h7f_program_word(&f, A_WORD + 4u, d), H7F_E_ALIGN);
    EQ(h7f_program_word(&f, 0x08200000u, d), H7F_E_RANGE);
    EQ(h7f_program_word(&f, 0x08000000u, d), H7F_E_PROTECTED);
    EQ(h7f_erase_sector(&f, 0x08020000u), H7F_E_PROTECTED);
    EQ(h7f_erase_bank(&f, 3), H7F_E_INVAL);
    EQ(h7f_program_word(&f, A_WORD, d), H7F_E_NOT_VIRGIN);
}

static void test_ecc(void)
{
    fw_puts("-- double-ECC word reported, no fault\n");
    uint8_t d[32], o[32];
    pattern(d, 32, 3);
    uint32_t a = A_WORD + 0x40u;
    EQ(h7f_program_word(&f, a, d), H7F_OK);
    /* Program it a second time behind the driver's back: double ECC. */
    (void)fw_flash_program_word(a, 0x12345678u, 0u);
    /* The driver's verify read left the line in the D-cache and these
     * stores hit it (write-through): the CPU would read them back from the
     * cache, not the double-ECC word. Invalidate, as code that writes
     * behind the driver must. */
    MMIO32(SCB_BASE + SCB_DCIMVAC) = a;
    __asm volatile("dsb 0xF\n isb 0xF" ::: "memory");
    uint32_t bad = 0;
    EQ(h7f_read(&f, a - 32u, o, 64, &bad), H7F_E_DBECCERR);
    EQ((int)bad, (int)a);
    EQ(h7f_blank_check(&f, a, 32, &bad), H7F_E_DBECCERR);
}

static void test_erase(void)
{
    fw_puts("-- erase sector, bank 2, range over both banks\n");
    uint32_t bad = 0;
    EQ(h7f_erase_sector(&f, A_WORD), H7F_OK);
    EQ(h7f_blank_check(&f, 0x08040000u, 0x20000u, &bad), H7F_OK);
    uint32_t t0 = MMIO32(DWT_BASE + DWT_CYCCNT);
    EQ(h7f_erase_bank(&f, 2), H7F_OK);
    uint32_t ms = (MMIO32(DWT_BASE + DWT_CYCCNT) - t0) / 480000u;
    fw_puts("  bank erase ms: ");
    fw_putdec(ms);
    fw_puts("\n");
    EQ(h7f_blank_check(&f, H7_BANK2_BASE, 32, &bad), H7F_OK);
    uint32_t erased = 0;
    t0 = MMIO32(DWT_BASE + DWT_CYCCNT);
    EQ(h7f_erase_range(&f, 0x080E0000u, 0x40000u, &erased), H7F_OK);
    ms = (MMIO32(DWT_BASE + DWT_CYCCNT) - t0) / 480000u;
    fw_puts("  two sectors, one per bank, ms: ");
    fw_putdec(ms);
    fw_puts("\n");
    EQ((int)erased, (int)((1u << 7) | (1u << 8)));
    CHECK(ms < 1500); /* in parallel: one sector erase time, not two */
}

static void test_erase_job(void)
{
    fw_puts("-- background erase job\n");
    struct h7f_erase_job j;
    EQ(h7f_erase_job_start(&f, &j, 0x08120000u, 0x40000u), H7F_OK);
    uint32_t spins = 0;
    int r;
    /* Counted up to a limit: a loop that counts every turn runs turn by
     * turn on the board (docs/VBOARD.md, "Clock and time"). */
    while ((r = h7f_erase_job_poll(&f, &j, false)) == 1)
        if (spins < 100000u)
            spins++;
    EQ(r, 0);
    fw_puts("  polls: ");
    fw_putdec(spins);
    fw_puts("\n");
    CHECK(spins > 10);
    EQ((int)j.erased, (int)((1u << 9) | (1u << 10)));
}

static uint8_t image[20000];

static void test_writer(void)
{
    fw_puts("-- streaming writer, odd chunks, CRC verify\n");
    pattern(image, sizeof image, 7);
    struct h7f_writer w;
    EQ(h7f_writer_open(&w, &f, 0x08060000u, sizeof image, H7F_WR_VERIFY_CRC), H7F_OK);
    uint32_t off = 0, chunk = 1;
    while (off < sizeof image) {
        uint32_t n = chunk < sizeof image - off ? chunk : sizeof image - off;
        EQ(h7f_writer_write(&w, image + off, n), H7F_OK);
        off += n;
        chunk = chunk * 3 + 1;
        if (chunk > 3000)
            chunk = 7;
    }
    EQ(h7f_writer_finish(&w), H7F_OK);
    const struct h7f_writer_report *rep = h7f_writer_report(&w);
    EQ((int)rep->bytes, (int)sizeof image);
    EQ((int)rep->crc, (int)sw_crc(image, sizeof image));
    CHECK(memcmp((const void *)0x08060000u, image, sizeof image) == 0);
    uint32_t crc = 0;
    EQ(h7f_crc32(&f, 0x08060000u, sizeof image, &crc), H7F_OK);
    EQ((int)crc, (int)sw_crc(image, sizeof image));
    CHECK(*(const uint32_t *)(0x08060000u + sizeof image) == 0xFFFFFFFFu);
}

static void test_options(void)
{
    fw_puts("-- option bytes\n");
    struct h7f_options o;
    EQ(h7f_opt_read(&f, &o), H7F_OK);
    CHECK(!o.swap_bank);
    EQ((int)(o.boot7 & 0xFFFFu), 0x0800);
}

int main(void)
{
    fw_clock_480mhz();
    fw_cycles_start();
    h7f_port_cpu_mhz = 480;
    fw_dcache_enable();
    h7f_init(&f);
    test_program_and_read();
    test_refusals();
    test_ecc();
    test_erase();
    test_erase_job();
    test_writer();
    test_options();
    fw_puts(fw_failures ? "h7flash on the board: FAILED\n" : "h7flash on the board: all passed\n");
    return (int)fw_failures;
}
