/* h7iap images: format detection, HEX/ELF/bin parsing, region, padding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "an3155.h"
#include "fixtures.h"
#include "iap.h"
#include "iap_image.h"
#include "iap_ops.h"

static void parse_ok(const void *buf, size_t len, struct iap_image *img)
{
	int rc = iap_image_parse(buf, len, AN3155_H7_APP_START, img);
	if (rc)
		fail_msg("parse failed: %s", iap_error());
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(iap_detect_format((const uint8_t *)"\x7f" "ELF\x01", 5), IAP_FMT_ELF);
	const char *h = ":020000040804EE\n:00000001FF\n";
	assert_int_equal(iap_detect_format((const uint8_t *)h, strlen(h)), IAP_FMT_HEX);
	/* A binary that starts with ':' but is no valid record stays binary. */
	const char *b = ":not a hex file";
	assert_int_equal(iap_detect_format((const uint8_t *)b, strlen(b)), IAP_FMT_BIN);
	uint8_t v[8] = { 0x00, 0x00, 0x02, 0x20, 0x99, 0x02, 0x04, 0x08 };
	assert_int_equal(iap_detect_format(v, 8), IAP_FMT_BIN);
}

static void test_bin(void **state)
{
	(void)state;
	uint8_t d[1000];
	fx_fill(d, sizeof d, 1);
	struct iap_image img;
	parse_ok(d, sizeof d, &img);
	assert_int_equal(img.fmt, IAP_FMT_BIN);
	assert_int_equal(img.n, 1);
	assert_int_equal(img.segs[0].addr, 0x08040000u);
	assert_int_equal(img.segs[0].len, 1000);
	assert_memory_equal(img.segs[0].data, d, 1000);
	iap_image_free(&img);
	assert_int_equal(iap_image_parse(d, 0, 0x08040000u, &img), -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "no data"));
}

static void test_hex_and_elf_equal_bin(void **state)
{
	(void)state;
	/* Two segments with a gap, one crossing a 64 KB boundary in HEX. */
	static uint8_t a[70000], b[333];
	fx_fill(a, sizeof a, 2);
	fx_fill(b, sizeof b, 3);
	struct fx_seg segs[2] = { { 0x08040000u, a, sizeof a }, { 0x08100010u, b, sizeof b } };
	char *hex = fx_hex(segs, 2);
	size_t elflen;
	uint8_t *elf = fx_elf(segs, 2, 0, &elflen);
	struct iap_image h, e;
	parse_ok(hex, strlen(hex), &h);
	parse_ok(elf, elflen, &e);
	assert_int_equal(h.fmt, IAP_FMT_HEX);
	assert_int_equal(e.fmt, IAP_FMT_ELF);
	for (int k = 0; k < 2; k++) {
		struct iap_image *img = k ? &e : &h;
		assert_int_equal(img->n, 2);
		assert_int_equal(img->segs[0].addr, 0x08040000u);
		assert_int_equal(img->segs[0].len, sizeof a);
		assert_memory_equal(img->segs[0].data, a, sizeof a);
		assert_int_equal(img->segs[1].addr, 0x08100010u);
		assert_memory_equal(img->segs[1].data, b, sizeof b);
		assert_int_equal(iap_image_bytes(img), sizeof a + sizeof b);
	}
	free(hex);
	free(elf);
	iap_image_free(&h);
	iap_image_free(&e);
}

static void test_elf_uses_paddr(void **state)
{
	(void)state;
	uint8_t d[64];
	fx_fill(d, sizeof d, 4);
	struct fx_seg s = { 0x08040000u, d, sizeof d };
	size_t len;
	/* .data style: linked at a RAM address, loaded from flash. */
	uint8_t *elf = fx_elf(&s, 1, 0x1C000000u, &len);
	struct iap_image img;
	parse_ok(elf, len, &img);
	assert_int_equal(img.n, 1);
	assert_int_equal(img.segs[0].addr, 0x08040000u);
	iap_image_free(&img);
	/* Truncated file: the segment runs past the end. */
	assert_int_equal(iap_image_parse(elf, len - 10, 0, &img), -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "past the end"));
	/* 64-bit ELF is refused with a reason. */
	elf[4] = 2;
	assert_int_equal(iap_image_parse(elf, len, 0, &img), -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "32-bit"));
	free(elf);
}

static void test_hex_errors(void **state)
{
	(void)state;
	struct iap_image img;
	const char *bad_sum = ":020000040804EE\n:0400000001020304F0\n:00000001FF\n";
	assert_int_equal(iap_image_parse((const uint8_t *)bad_sum, strlen(bad_sum), 0, &img),
			 -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "checksum error on line 2"));
	const char *no_eof = ":020000040804EE\n:0400000001020304F2\n";
	assert_int_equal(iap_image_parse((const uint8_t *)no_eof, strlen(no_eof), 0, &img),
			 -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "end-of-file"));
	const char *bad_digit = ":020000040804EE\n:04000000010203G4F2\n:00000001FF\n";
	assert_int_equal(iap_image_parse((const uint8_t *)bad_digit, strlen(bad_digit), 0, &img),
			 -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "line 2"));
	const char *ok = ":020000040804EE\r\n:0400000001020304F2\r\n:00000001FF\r\n";
	assert_int_equal(iap_image_parse((const uint8_t *)ok, strlen(ok), 0, &img), 0);
	assert_int_equal(img.segs[0].addr, 0x08040000u);
	assert_int_equal(img.segs[0].len, 4);
	iap_image_free(&img);
	/* Overlapping records are an error, not a silent overwrite. */
	const char *ovl = ":020000040804EE\n:0400000001020304F2\n:020002000506F1\n:00000001FF\n";
	assert_int_equal(iap_image_parse((const uint8_t *)ovl, strlen(ovl), 0, &img),
			 -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "overlapping data at 0x08040002"));
}

static void test_region(void **state)
{
	(void)state;
	static uint8_t big[0x1C0001];
	struct iap_image img;
	parse_ok(big, sizeof big, &img); /* one byte more than the area */
	assert_int_equal(iap_image_check_region(&img, AN3155_H7_APP_START, AN3155_H7_APP_END),
			 -IAP_EXIT_TOO_LARGE);
	assert_non_null(strstr(iap_error(), "too large"));
	assert_non_null(strstr(iap_error(), "0x08200000"));
	iap_image_free(&img);
	parse_ok(big, sizeof big - 1, &img); /* exactly the area */
	assert_int_equal(iap_image_check_region(&img, AN3155_H7_APP_START, AN3155_H7_APP_END), 0);
	iap_image_free(&img);
	assert_int_equal(iap_image_parse(big, 16, 0x08000000u, &img), 0);
	assert_int_equal(iap_image_check_region(&img, AN3155_H7_APP_START, AN3155_H7_APP_END),
			 -IAP_EXIT_ADDRESS);
	assert_string_equal(iap_error(),
			    "data at 0x08000000 is outside the application area 0x08040000-0x081fffff");
	iap_image_free(&img);
	assert_int_equal(iap_image_parse(big, 16, 0x20000000u, &img), 0);
	assert_int_equal(iap_image_check_region(&img, AN3155_H7_APP_START, AN3155_H7_APP_END),
			 -IAP_EXIT_ADDRESS);
	iap_image_free(&img);
}

static void test_pad(void **state)
{
	(void)state;
	uint8_t a[40], b[8], c[3];
	memset(a, 0x11, sizeof a);
	memset(b, 0x22, sizeof b);
	memset(c, 0x33, sizeof c);
	/* a: 0x08040004..0x0804002b; b shares the word at 0x08040040 region? no:
	 * b at 0x0804002c touches a's last word; c alone far away. */
	struct fx_seg segs[3] = {
		{ 0x08040004u, a, sizeof a },
		{ 0x08040030u, b, sizeof b },
		{ 0x08100000u - 1, c, sizeof c },
	};
	char *hex = fx_hex(segs, 3);
	struct iap_image img, pad;
	parse_ok(hex, strlen(hex), &img);
	free(hex);
	assert_int_equal(img.n, 3);
	assert_int_equal(iap_image_pad(&img, 32, &pad), 0);
	/* a and b share the word 0x08040020: one block 0x08040000..0x0804003f. */
	assert_int_equal(pad.n, 2);
	assert_int_equal(pad.segs[0].addr, 0x08040000u);
	assert_int_equal(pad.segs[0].len, 64);
	assert_int_equal(pad.segs[0].data[0], 0xFF);
	assert_int_equal(pad.segs[0].data[4], 0x11);
	assert_int_equal(pad.segs[0].data[0x2b], 0x11);
	assert_int_equal(pad.segs[0].data[0x2c], 0xFF);
	assert_int_equal(pad.segs[0].data[0x30], 0x22);
	assert_int_equal(pad.segs[0].data[0x38], 0xFF);
	/* c crosses from bank 1 into bank 2: two words, pages 7 and 8. */
	assert_int_equal(pad.segs[1].addr, 0x080FFFE0u);
	assert_int_equal(pad.segs[1].len, 64);
	for (size_t i = 0; i < pad.n; i++) {
		assert_int_equal(pad.segs[i].addr % 32, 0);
		assert_int_equal(pad.segs[i].len % 32, 0);
	}
	assert_int_equal(iap_image_pages(&pad), (1u << 2) | (1u << 7) | (1u << 8));
	iap_image_free(&img);
	iap_image_free(&pad);
}

static void test_sectors(void **state)
{
	(void)state;
	uint32_t m;
	assert_int_equal(iap_parse_sectors("app", &m), 0);
	assert_int_equal(m, 0xFFFCu);
	assert_int_equal(iap_parse_sectors("2,3,8-10", &m), 0);
	assert_int_equal(m, (1u << 2) | (1u << 3) | (1u << 8) | (1u << 9) | (1u << 10));
	assert_int_equal(iap_parse_sectors("1", &m), -IAP_EXIT_ADDRESS);
	assert_non_null(strstr(iap_error(), "bootloader"));
	assert_int_equal(iap_parse_sectors("0-3", &m), -IAP_EXIT_ADDRESS);
	assert_int_equal(iap_parse_sectors("16", &m), -IAP_EXIT_USAGE);
	assert_int_equal(iap_parse_sectors("4-2", &m), -IAP_EXIT_USAGE);
	assert_int_equal(iap_parse_sectors("x", &m), -IAP_EXIT_USAGE);
	assert_int_equal(iap_parse_sectors("2,,", &m), -IAP_EXIT_USAGE);
}

static void test_numbers(void **state)
{
	(void)state;
	uint32_t v;
	assert_int_equal(iap_parse_u32("0x08040000", &v), 0);
	assert_int_equal(v, 0x08040000u);
	assert_int_equal(iap_parse_u32("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(iap_parse_u32("2M", &v), 0);
	assert_int_equal(v, 2u << 20);
	assert_int_equal(iap_parse_u32("-1", &v), -1);
	assert_int_equal(iap_parse_u32("0x100000000", &v), -1);
	assert_int_equal(iap_parse_u32("12q", &v), -1);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[256];
	struct iap_image img;
	snprintf(path, sizeof path, "%s/nope.bin", fx_tmpdir());
	assert_int_equal(iap_image_load(path, 0x08040000u, &img), -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "cannot open"));
	snprintf(path, sizeof path, "%s/bad.hex", fx_tmpdir());
	const char *bad = ":020000040804EE\n:0400000001020304F0\n:00000001FF\n";
	fx_write(path, bad, strlen(bad));
	assert_int_equal(iap_image_load(path, 0x08040000u, &img), -IAP_EXIT_FILE);
	assert_non_null(strstr(iap_error(), "bad.hex: Intel HEX: checksum error on line 2"));
	fx_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_bin),
		cmocka_unit_test(test_hex_and_elf_equal_bin),
		cmocka_unit_test(test_elf_uses_paddr),
		cmocka_unit_test(test_hex_errors),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_pad),
		cmocka_unit_test(test_sectors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
