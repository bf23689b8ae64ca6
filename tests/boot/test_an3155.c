/* AN3155 server state machine with a scripted host, on the h7sim model. */
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "bootfx.h"
#include "crc32.h"

static struct bfx X;
static struct boot_result R;
static bool went;

static int setup(void **state)
{
    (void)state;
    bfx_open(&X);
    X.ser.idle_limit = 3;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bfx_close(&X);
    return 0;
}

static void cmd(uint8_t c)
{
    uint8_t f[2];
    an3155_cmd_encode(c, f);
    fser_push(&X.ser, f, 2);
}

static void addr(uint32_t a)
{
    uint8_t f[5];
    an3155_addr_encode(a, f);
    fser_push(&X.ser, f, 5);
}

static void data(const uint8_t *p, size_t n)
{
    uint8_t f[260];
    int l = an3155_data_encode(p, n, f);
    assert_true(l > 0);
    fser_push(&X.ser, f, (size_t)l);
}

/* Run the server on everything queued; it returns on Go or when the host
 * has been quiet for a while. The first output byte is the sync ACK. */
static void run(void)
{
    went = false;
    X.ser.idle = 0;
    if (setjmp(X.ser.escape) == 0) {
        R = boot_an3155(&X.c, AN3155_SYNC);
        went = true;
    }
    assert_int_equal(fser_next(&X.ser), AN3155_ACK);
}

#define expect(b) assert_int_equal(fser_next(&X.ser), (b))

static void expect_end(void)
{
    assert_int_equal(fser_unseen(&X.ser), 0);
}

/* The answers to Get Version (protocol version, two option bytes 0) and
 * Get ID (PID 0x450), each framed by its ACKs. */
static void expect_get_version(void)
{
    expect(AN3155_ACK);
    expect(AN3155_VERSION);
    expect(0);
    expect(0);
    expect(AN3155_ACK);
}

static void expect_get_id(void)
{
    expect(AN3155_ACK);
    expect(1);
    expect(0x04);
    expect(0x50);
    expect(AN3155_ACK);
}

/* Host side of Write Memory, all acknowledged. */
static void write_ok(uint32_t a, const uint8_t *p, size_t n)
{
    cmd(AN3155_CMD_WRITE);
    addr(a);
    data(p, n);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect_end();
}

static void erase_pages(const uint16_t *pages, size_t n, int result)
{
    uint8_t f[64];
    int l = an3155_ext_erase_encode(pages, n, f);
    cmd(AN3155_CMD_EXT_ERASE);
    fser_push(&X.ser, f, (size_t)l);
    run();
    expect(AN3155_ACK);
    expect(result);
    expect_end();
}

static void erase_special(uint16_t code, int result)
{
    uint8_t f[3];
    an3155_ext_erase_special_encode(code, f);
    cmd(AN3155_CMD_EXT_ERASE);
    fser_push(&X.ser, f, 3);
    run();
    expect(AN3155_ACK);
    expect(result);
    expect_end();
}

static void read_mem(uint32_t a, size_t n, uint8_t *out, int result)
{
    uint8_t f[2];
    an3155_readlen_encode(n, f);
    cmd(AN3155_CMD_READ);
    addr(a);
    fser_push(&X.ser, f, 2);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(result);
    if (result == AN3155_ACK)
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)fser_next(&X.ser);
    expect_end();
}

static uint8_t reason(void)
{
    cmd(AN3155_CMD_H7_GET_REASON);
    run();
    expect(AN3155_ACK);
    uint8_t r = (uint8_t)fser_next(&X.ser);
    for (int i = 0; i < 5; i++)
        fser_next(&X.ser);
    expect(AN3155_ACK);
    expect_end();
    return r;
}

static void test_get_gv_gid(void **state)
{
    (void)state;
    cmd(AN3155_CMD_GET);
    cmd(AN3155_CMD_GET_VERSION);
    cmd(AN3155_CMD_GET_ID);
    run();
    expect(AN3155_ACK);
    int n = fser_next(&X.ser);
    assert_true(n >= 7);
    expect(AN3155_VERSION);
    bool has_write = false, has_ee = false, has_fast = false;
    for (int i = 0; i < n; i++) {
        int c = fser_next(&X.ser);
        has_write |= c == AN3155_CMD_WRITE;
        has_ee |= c == AN3155_CMD_EXT_ERASE;
        has_fast |= c == FP_AN3155_CMD;
    }
    assert_true(has_write && has_ee && has_fast);
    expect(AN3155_ACK);
    expect_get_version();
    expect_get_id();
    expect_end();
    assert_false(went);
}

static void test_odd_lengths_padded(void **state)
{
    uint8_t img[1000], back[256], word[32];
    static const uint16_t p2[] = { 2 }, p3[] = { 3 }, p8[] = { 8 };
    (void)state;

    bfx_image(img, sizeof(img), 21);
    erase_pages(p2, 1, AN3155_ACK);
    /* stm32flash: 256, 256, 256, 232 */
    for (uint32_t off = 0; off < 1000; off += 256)
        write_ok(BOOT_APP_START + off, img + off, off + 256 <= 1000 ? 256 : 1000 - off);
    /* the 232-byte tail waits in the writer (a slow host may continue
	 * it) until a Read, Get Checksum or Go needs it: padded with 0xFF */
    assert_int_equal(h7sim_word_state(X.sim, BOOT_APP_START + 992), H7SIM_WORD_VIRGIN);
    assert_int_equal(boot_update_flush(&X.c), 0);
    h7sim_peek(X.sim, BOOT_APP_START + 992, word, 32);
    assert_memory_equal(word, img + 992, 8);
    for (int i = 8; i < 32; i++)
        assert_int_equal(word[i], 0xFF);
    for (uint32_t off = 0; off < 1000; off += 256) {
        size_t n = off + 256 <= 1000 ? 256 : 1000 - off;
        read_mem(BOOT_APP_START + off, n, back, AN3155_ACK);
        assert_memory_equal(back, img + off, n);
    }

    /* 1 byte and 33 bytes */
    erase_pages(p3, 1, AN3155_ACK);
    write_ok(0x08060000u, img, 1);
    write_ok(0x08060100u, img, 33);
    h7sim_peek(X.sim, 0x08060000u, word, 32);
    assert_int_equal(word[0], img[0]);
    assert_int_equal(word[1], 0xFF);
    assert_int_equal(boot_update_flush(&X.c), 0);
    h7sim_peek(X.sim, 0x08060120u, word, 32);
    assert_int_equal(word[0], img[32]);
    assert_int_equal(word[1], 0xFF);

    /* two writes sharing one flash word (a host with 100-byte chunks):
	 * buffered, then one program of the whole word */
    erase_pages(p8, 1, AN3155_ACK);
    cmd(AN3155_CMD_WRITE);
    addr(0x08100000u);
    data(img, 100);
    cmd(AN3155_CMD_WRITE);
    addr(0x08100000u + 100);
    data(img + 100, 100);
    run();
    for (int i = 0; i < 6; i++)
        expect(AN3155_ACK);
    expect_end();
    read_mem(0x08100000u, 200, back, AN3155_ACK);
    assert_memory_equal(back, img, 200);
}

static void test_write_refusals(void **state)
{
    uint8_t img[64];
    static const uint16_t p2[] = { 2 };
    (void)state;

    bfx_image(img, sizeof(img), 22);
    /* the bootloader's own sectors: refused at the address */
    cmd(AN3155_CMD_WRITE);
    addr(0x08000000u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_PROTECTED);
    cmd(AN3155_CMD_WRITE);
    addr(0x0803FFE0u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    /* system memory */
    cmd(AN3155_CMD_WRITE);
    addr(0x1FF00000u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_ADDRESS);

    /* crossing the end of the flash */
    cmd(AN3155_CMD_WRITE);
    addr(0x081FFFF0u);
    data(img, 32);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_LENGTH);

    /* bad address checksum, bad data checksum */
    cmd(AN3155_CMD_WRITE);
    uint8_t f[5];
    an3155_addr_encode(BOOT_APP_START, f);
    f[4] ^= 1;
    fser_push(&X.ser, f, 5);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_CHECKSUM);

    erase_pages(p2, 1, AN3155_ACK);
    uint8_t d[40];
    int l = an3155_data_encode(img, 32, d);
    d[l - 1] ^= 0x55;
    cmd(AN3155_CMD_WRITE);
    addr(BOOT_APP_START);
    fser_push(&X.ser, d, (size_t)l);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    /* nothing was written */
    assert_int_equal(h7sim_word_state(X.sim, BOOT_APP_START), H7SIM_WORD_VIRGIN);

    /* writing a word twice: the second write is refused, the word keeps
	 * its first value (never programmed twice) */
    write_ok(BOOT_APP_START, img, 32);
    cmd(AN3155_CMD_WRITE);
    addr(BOOT_APP_START);
    data(img + 32, 32);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_SEQUENCE);
    uint8_t w[32];
    h7sim_peek(X.sim, BOOT_APP_START, w, 32);
    assert_memory_equal(w, img, 32);

    /* the failed transfer refuses every later write until an erase */
    cmd(AN3155_CMD_WRITE);
    addr(BOOT_APP_START + 64);
    data(img, 32);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_TRANSFER);
    erase_pages(p2, 1, AN3155_ACK);

    /* not erased (page 4 never erased, but holds data from an earlier
	 * writer: backdoor) */
    assert_int_equal(h7sim_backdoor_program(X.sim, 0x08080000u, img, 32), 0);
    cmd(AN3155_CMD_WRITE);
    addr(0x08080000u);
    data(img, 4);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK); /* checked before buffering */
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_NOT_ERASED);
}

/* Issue 14, defect 1: 1 byte at 0x08040001, then 31 bytes at 0x08040002:
 * every byte lands at its own address, 0x08040000 stays 0xFF. */
static void test_write_continues_in_next_word(void **state)
{
    static const uint16_t p2[] = { 2 };
    uint8_t a = 0x11, b[31], word[64];
    (void)state;

    for (unsigned i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(0x40 + i);
    erase_pages(p2, 1, AN3155_ACK);
    write_ok(BOOT_APP_START + 1, &a, 1);
    write_ok(BOOT_APP_START + 2, b, sizeof(b));
    assert_int_equal(boot_update_flush(&X.c), 0);
    h7sim_peek(X.sim, BOOT_APP_START, word, sizeof(word));
    assert_int_equal(word[0], 0xFF);
    assert_int_equal(word[1], a);
    assert_memory_equal(word + 2, b, sizeof(b));
    for (unsigned i = 33; i < 64; i++)
        assert_int_equal(word[i], 0xFF);
}

/* Issue 14, defect 2: 32 bytes of 0xFF at 0x08040000, then another write
 * of the same word: refused, and the word is never programmed twice (the
 * fixture's close checks the model's violation log). */
static void test_ff_word_then_rewrite(void **state)
{
    static const uint16_t p2[] = { 2 };
    uint8_t ff[32], d[32];
    (void)state;

    memset(ff, 0xFF, sizeof(ff));
    memset(d, 0x5A, sizeof(d));
    erase_pages(p2, 1, AN3155_ACK);
    write_ok(BOOT_APP_START, ff, sizeof(ff));
    /* not programmed: it already reads 0xFF */
    assert_int_equal(h7sim_word_state(X.sim, BOOT_APP_START), H7SIM_WORD_VIRGIN);
    cmd(AN3155_CMD_WRITE);
    addr(BOOT_APP_START);
    data(d, sizeof(d));
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_SEQUENCE);
    assert_int_equal(h7sim_word_state(X.sim, BOOT_APP_START), H7SIM_WORD_VIRGIN);
    /* the failed transfer commits nothing at Go */
    cmd(AN3155_CMD_GO);
    addr(BOOT_APP_START);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_STARTED);
}

static void test_erase_refusals(void **state)
{
    static const uint16_t p0[] = { 0 }, p1[] = { 2, 1 }, p16[] = { 16 };
    uint8_t log[32];
    (void)state;

    /* a record in the log must survive every erase */
    bfx_put_record(&X, 0, UR_STATE_COMPLETE, 1, 100, 0);
    bfx_reboot(&X);
    h7sim_peek(X.sim, BOOT_LOG_BASE, log, 32);
    erase_pages(p0, 1, AN3155_NACK);
    assert_int_equal(reason(), AN3155_REASON_PROTECTED);
    erase_pages(p1, 2, AN3155_NACK);
    erase_pages(p16, 1, AN3155_NACK);
    assert_int_equal(reason(), AN3155_REASON_PAGE);
    /* refused lists erase nothing, not even the allowed page 2 */
    struct h7sim_stats st;
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.sector_erases[0] + st.sector_erases[1], 0);
    /* reserved special code */
    uint8_t f[2] = { 0xFF, 0xF0 };
    cmd(AN3155_CMD_EXT_ERASE);
    fser_push(&X.ser, f, 2);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();

    /* mass and bank codes: application area only */
    /* the whole of bank 2: one bank erase */
    erase_special(AN3155_ERASE_BANK2, AN3155_ACK);
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.bank_erases[1], 1);
    for (unsigned s = 0; s < 8; s++)
        assert_int_equal(st.erase_count[1][s], 1);
    assert_int_equal(st.sector_erases[0], 0);
    assert_int_equal(st.bank_erases[0], 0);
    /* bank 1 sectors 2-7 and bank 2 at the same time */
    uint64_t t0 = h7sim_now(X.sim);
    erase_special(AN3155_ERASE_MASS, AN3155_ACK);
    uint64_t took = h7sim_now(X.sim) - t0;
    struct h7sim_durations d;
    h7sim_durations(X.sim, 3, &d);
    assert_true(took < 6 * d.sector_erase + d.bank_erase);
    assert_true(took >= 6 * d.sector_erase);
    h7sim_get_stats(X.sim, &st);
    assert_int_equal(st.sector_erases[0], 6);
    assert_int_equal(st.bank_erases[1], 2);
    assert_int_equal(st.erase_count[0][0], 0);
    assert_int_equal(st.erase_count[0][1], 0);
    uint8_t now[32];
    h7sim_peek(X.sim, BOOT_LOG_BASE, now, 32);
    assert_memory_equal(now, log, 32);
    /* the log got a STARTED record after the old one */
    bfx_reboot(&X);
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_STARTED);
    assert_int_equal(X.c.upd.log.newest.sequence, 2);
}

static void test_go(void **state)
{
    uint8_t img[3000];
    static const uint16_t p2[] = { 2 };
    (void)state;

    /* no image */
    cmd(AN3155_CMD_GO);
    addr(BOOT_APP_START);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_NO_IMAGE);

    bfx_image(img, sizeof(img), 23);
    erase_pages(p2, 1, AN3155_ACK);
    for (uint32_t off = 0; off < sizeof(img); off += 256)
        write_ok(BOOT_APP_START + off, img + off,
                 off + 256 <= sizeof(img) ? 256 : sizeof(img) - off);
    /* Go outside the image entry */
    cmd(AN3155_CMD_GO);
    addr(0x08050000u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    /* the Go above committed the image */
    assert_int_equal(X.c.upd.log.newest.state, UR_STATE_COMPLETE);
    assert_int_equal(X.c.upd.log.newest.length, sizeof(img));
    assert_int_equal(X.c.upd.log.newest.image_crc, crc32_h7flash_image(img, sizeof(img)));

    cmd(AN3155_CMD_GO);
    addr(BOOT_APP_START);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    assert_true(went);
    assert_int_equal(R.act, BOOT_ACT_JUMP_APP);
    assert_int_equal(R.addr, BOOT_APP_START);

    /* RAM: stm32flash -R puts SP, PC and code at 0x20004100. Refused by
	 * default: code from the host could rewrite the bootloader. */
    uint8_t reset_code[16] = { 0x00, 0x20, 0x00, 0x20, 0x09, 0x41, 0x00, 0x20,
                               0x01, 0x49, 0x02, 0x4A, 0x0A, 0x60, 0xfe, 0xe7 };
    cmd(AN3155_CMD_WRITE);
    addr(0x20004100u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_RAM_OFF);
    for (unsigned i = 0; i < sizeof(reset_code); i++)
        assert_int_equal(bfx_dtcm[0x4100 + i], 0);
    cmd(AN3155_CMD_GO);
    addr(0x20004100u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    assert_int_equal(reason(), AN3155_REASON_RAM_OFF);
    /* With the development build option (H7BOOT_HOST_RAM). */
    X.c.host_ram = true;
    write_ok(0x20004100u, reset_code, sizeof(reset_code));
    assert_memory_equal(bfx_dtcm + 0x4100, reset_code, sizeof(reset_code));
    cmd(AN3155_CMD_GO);
    addr(0x20004100u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    assert_int_equal(R.act, BOOT_ACT_JUMP_RAM);
    assert_int_equal(R.addr, 0x20004100u);

    /* the bootloader's own RAM is not available */
    cmd(AN3155_CMD_GO);
    addr(0x20000000u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);

    /* reset convention */
    cmd(AN3155_CMD_GO);
    addr(0x08000000u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    assert_int_equal(R.act, BOOT_ACT_RESET);
}

static void test_checksum_and_read(void **state)
{
    uint8_t img[512], out[5], back[16];
    static const uint16_t p9[] = { 9 };
    (void)state;

    bfx_image(img, sizeof(img), 24);
    erase_pages(p9, 1, AN3155_ACK);
    write_ok(0x08120000u, img, 256);
    write_ok(0x08120100u, img + 256, 256);
    cmd(AN3155_CMD_GET_CHECKSUM);
    addr(0x08120000u);
    addr(sizeof(img));
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    for (int i = 0; i < 5; i++)
        out[i] = (uint8_t)fser_next(&X.ser);
    uint32_t crc;
    assert_int_equal(an3155_addr_decode(out, &crc), 0);
    assert_int_equal(crc, crc32_stm32(CRC32_STM32_INIT, img, sizeof(img)));

    /* length not a multiple of 4 */
    cmd(AN3155_CMD_GET_CHECKSUM);
    addr(0x08120000u);
    addr(6);
    run();
    expect(AN3155_ACK);
    expect(AN3155_ACK);
    expect(AN3155_NACK);

    /* reads: system memory refused, RAM and bootloader flash allowed */
    cmd(AN3155_CMD_READ);
    addr(0x1FF09800u);
    run();
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
    read_mem(0x08000000u, 16, back, AN3155_ACK);
    assert_memory_equal(back, X.boot_code, 16);
    memcpy(bfx_axi + 0x100, "hello", 5);
    read_mem(0x24000100u, 5, back, AN3155_ACK);
    assert_memory_equal(back, "hello", 5);
    /* crossing the end of the flash */
    read_mem(0x081FFFF0u, 32, back, AN3155_NACK);
}

static void test_bad_commands_and_noise(void **state)
{
    (void)state;
    static const uint8_t junk[] = { 0x00, 0x00, 0x43, 0xBC, 0x12, 0x34 };
    fser_push(&X.ser, junk, sizeof(junk));
    run();
    expect(AN3155_NACK); /* 00 00: bad complement */
    expect(AN3155_NACK); /* 43 BC: legacy erase, not offered */
    expect(AN3155_NACK); /* 12 34 */
    expect_end();
    /* line errors on a command byte: an overrun is fatal; a framing error
	 * is what an 8E1 host's parity bit 0 looks like in 8N1, ignored */
    fser_push_flags(&X.ser, 0x01, BOOT_SER_ORE);
    fser_push(&X.ser, "\xFE", 1);
    fser_push_flags(&X.ser, 0x01, BOOT_SER_FE);
    fser_push(&X.ser, "\xFE", 1);
    /* a host that got lost and syncs again */
    fser_push(&X.ser, "\x7F", 1);
    cmd(AN3155_CMD_GET_ID);
    run();
    expect(AN3155_NACK);
    expect_get_version();
    expect(AN3155_ACK); /* the sync */
    expect_get_id();
    expect_end();
    /* clean sync in 8N1: 2 stop bits out, framing errors ignored */
    assert_int_equal(X.ser.fmt, BOOT_SER_8N2);
    /* sync with a parity error: the host uses 8E1, every error counts */
    fser_push_flags(&X.ser, 0x01, BOOT_SER_FE);
    fser_push(&X.ser, "\xFE", 1);
    X.ser.idle = 0;
    if (setjmp(X.ser.escape) == 0)
        boot_an3155(&X.c, AN3155_SYNC | BOOT_SER_PE);
    assert_int_equal(X.ser.fmt, BOOT_SER_8E1);
    expect(AN3155_ACK);
    expect(AN3155_NACK);
    expect_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_gv_gid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_lengths_padded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_continues_in_next_word, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ff_word_then_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_commands_and_noise, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
