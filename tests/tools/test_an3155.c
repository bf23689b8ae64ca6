/* proto/an3155: frame helpers (tests/tools owns the AN3155 format tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "an3155.h"

static void test_xor_and_cmd(void **state)
{
    (void)state;
    uint8_t b[3] = { 0x08, 0x04, 0x00 };
    assert_int_equal(an3155_xor(0, b, 3), 0x0C);
    assert_int_equal(an3155_xor(0xFF, b, 0), 0xFF);
    uint8_t f[2], cmd;
    an3155_cmd_encode(AN3155_CMD_WRITE, f);
    assert_int_equal(f[0], 0x31);
    assert_int_equal(f[1], 0xCE);
    assert_int_equal(an3155_cmd_decode(f, &cmd), AN3155_OK);
    assert_int_equal(cmd, 0x31);
    f[1] = 0xCF;
    assert_int_equal(an3155_cmd_decode(f, &cmd), AN3155_ERR_COMPL);
    /* 0x7F 0x7F (a second sync byte to a synced target) is not a command. */
    uint8_t s[2] = { 0x7F, 0x7F };
    assert_int_equal(an3155_cmd_decode(s, &cmd), AN3155_ERR_COMPL);
}

static void test_codes(void **state)
{
    (void)state;
    assert_int_equal(AN3155_ACK, 0x79);
    assert_int_equal(AN3155_NACK, 0x1F);
    assert_int_equal(AN3155_SYNC, 0x7F);
    assert_int_equal(AN3155_CMD_GET, 0x00);
    assert_int_equal(AN3155_CMD_GET_VERSION, 0x01);
    assert_int_equal(AN3155_CMD_GET_ID, 0x02);
    assert_int_equal(AN3155_CMD_READ, 0x11);
    assert_int_equal(AN3155_CMD_GO, 0x21);
    assert_int_equal(AN3155_CMD_EXT_ERASE, 0x44);
    assert_int_equal(AN3155_CMD_GET_CHECKSUM, 0xA1);
    assert_int_equal(AN3155_PID_H74X, 0x450);
    assert_string_equal(an3155_cmd_name(0x44), "Extended Erase");
    assert_string_equal(an3155_cmd_name(0x99), "unknown");
    assert_string_equal(an3155_reason_str(0xEE), "unknown reason");
    assert_string_equal(an3155_strerror(AN3155_ERR_XOR), "checksum mismatch");
}

static void test_addr_frame(void **state)
{
    (void)state;
    uint8_t f[5];
    uint32_t a;
    an3155_addr_encode(0x08040000u, f);
    const uint8_t want[5] = { 0x08, 0x04, 0x00, 0x00, 0x0C };
    assert_memory_equal(f, want, 5);
    assert_int_equal(an3155_addr_decode(f, &a), AN3155_OK);
    assert_int_equal(a, 0x08040000u);
    f[4] ^= 1;
    assert_int_equal(an3155_addr_decode(f, &a), AN3155_ERR_XOR);
}

static void test_data_frame(void **state)
{
    (void)state;
    uint8_t d[256], f[AN3155_DATA_FRAME_MAX];
    for (int i = 0; i < 256; i++)
        d[i] = (uint8_t)i;
    assert_int_equal(an3155_data_encode(d, 256, f), 258);
    assert_int_equal(f[0], 0xFF);
    assert_memory_equal(f + 1, d, 256);
    assert_int_equal(f[257], an3155_xor(0xFF, d, 256));
    assert_int_equal(an3155_data_check(f[0], f + 1, f[257]), AN3155_OK);
    assert_int_equal(an3155_data_check(f[0], f + 1, (uint8_t)(f[257] ^ 0x80)), AN3155_ERR_XOR);
    assert_int_equal(an3155_data_encode(d, 1, f), 3);
    assert_int_equal(f[0], 0);
    assert_int_equal(f[2], 0 ^ d[0]);
    assert_int_equal(an3155_data_encode(d, 0, f), AN3155_ERR_LENGTH);
    assert_int_equal(an3155_data_encode(d, 257, f), AN3155_ERR_LENGTH);
}

static void test_readlen(void **state)
{
    (void)state;
    uint8_t f[2];
    size_t n;
    assert_int_equal(an3155_readlen_encode(256, f), AN3155_OK);
    assert_int_equal(f[0], 0xFF);
    assert_int_equal(f[1], 0x00);
    assert_int_equal(an3155_readlen_decode(f, &n), AN3155_OK);
    assert_int_equal(n, 256);
    assert_int_equal(an3155_readlen_encode(0, f), AN3155_ERR_LENGTH);
    f[1] = 1;
    assert_int_equal(an3155_readlen_decode(f, &n), AN3155_ERR_COMPL);
}

static void test_ext_erase(void **state)
{
    (void)state;
    uint16_t pages[3] = { 2, 3, 8 }, out[16], special;
    uint8_t f[2 + 2 * 16 + 1];
    size_t count;
    int len = an3155_ext_erase_encode(pages, 3, f);
    assert_int_equal(len, 9);
    const uint8_t want[9] = { 0x00, 0x02, 0x00,
                              0x02, 0x00, 0x03,
                              0x00, 0x08, 0x00 ^ 0x02 ^ 0x02 ^ 0x03 ^ 0x08 };
    assert_memory_equal(f, want, 9);
    assert_int_equal(an3155_ext_erase_rest_len(0x0002), 7);
    assert_int_equal(an3155_ext_erase_decode(f, 9, out, 16, &count, &special), AN3155_OK);
    assert_int_equal(count, 3);
    assert_int_equal(special, 0);
    assert_int_equal(out[2], 8);
    assert_int_equal(an3155_ext_erase_decode(f, 9, out, 2, &count, &special), AN3155_ERR_LENGTH);
    f[8] ^= 1;
    assert_int_equal(an3155_ext_erase_decode(f, 9, out, 16, &count, &special), AN3155_ERR_XOR);

    /* Special codes: mass, bank 1, bank 2 with their xor bytes. */
    assert_int_equal(an3155_ext_erase_special_encode(AN3155_ERASE_MASS, f), 3);
    assert_int_equal(f[2], 0x00);
    assert_int_equal(an3155_ext_erase_decode(f, 3, out, 16, &count, &special), AN3155_OK);
    assert_int_equal(special, 0xFFFF);
    assert_int_equal(count, 0);
    an3155_ext_erase_special_encode(AN3155_ERASE_BANK1, f);
    assert_int_equal(f[2], 0x01);
    an3155_ext_erase_special_encode(AN3155_ERASE_BANK2, f);
    assert_int_equal(f[2], 0x02);
    assert_int_equal(an3155_ext_erase_rest_len(0xFFFD), 1);
    assert_int_equal(an3155_ext_erase_special_encode(0xFFF5, f), AN3155_ERR_SPECIAL);
    assert_int_equal(an3155_ext_erase_rest_len(0xFFF5), AN3155_ERR_SPECIAL);
}

static void test_get_gid(void **state)
{
    (void)state;
    uint8_t cmds[3] = { 0x00, 0x01, 0x02 }, out[8];
    assert_int_equal(an3155_get_encode(0x31, cmds, 3, out), 5);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 0x31);
    uint8_t g[3];
    uint16_t pid;
    an3155_gid_encode(0x450, g);
    assert_int_equal(g[0], 1);
    assert_int_equal(g[1], 0x04);
    assert_int_equal(g[2], 0x50);
    assert_int_equal(an3155_gid_decode(g, &pid), AN3155_OK);
    assert_int_equal(pid, 0x450);
}

static void test_pages(void **state)
{
    (void)state;
    assert_int_equal(an3155_h7_page_of(0x08000000u), 0);
    assert_int_equal(an3155_h7_page_of(0x08040000u), 2);
    assert_int_equal(an3155_h7_page_of(0x0805FFFFu), 2);
    assert_int_equal(an3155_h7_page_of(0x08100000u), 8);
    assert_int_equal(an3155_h7_page_of(0x081FFFFFu), 15);
    assert_int_equal(an3155_h7_page_of(0x08200000u), -1);
    assert_int_equal(an3155_h7_page_of(0x07FFFFFFu), -1);
    assert_int_equal(an3155_h7_page_addr(8), 0x08100000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor_and_cmd), cmocka_unit_test(test_codes),
        cmocka_unit_test(test_addr_frame),  cmocka_unit_test(test_data_frame),
        cmocka_unit_test(test_readlen),     cmocka_unit_test(test_ext_erase),
        cmocka_unit_test(test_get_gid),     cmocka_unit_test(test_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
