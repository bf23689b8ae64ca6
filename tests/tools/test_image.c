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
#include "h7_layout.h"
#include "fixtures.h"
#include "iap.h"
#include "iap_image.h"
#include "iap_ops.h"

static void parse_ok(const void *buf, size_t len, struct iap_image *img)
{
    int rc = iap_image_parse(buf, len, BOOT_APP_START, img);
    if (rc)
        fail_msg("parse failed: %s", iap_error());
}

static void test_detect(void **state)
{
    (void)state;
    assert_int_equal(iap_detect_format((const uint8_t *)"\x7f"
                                                        "ELF\x01",
                                       5),
                     IAP_FMT_ELF);
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
    assert_int_equal(iap_image_parse(d, 0, 0x08040000u, &img), IAP_IMAGE_ERR_EMPTY);
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
    assert_int_equal(iap_image_parse(elf, len - 10, 0, &img), IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "past the end"));
    /* 64-bit ELF is refused with a reason. */
    elf[4] = 2;
    assert_int_equal(iap_image_parse(elf, len, 0, &img), IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "32-bit"));
    free(elf);
}

static void test_hex_errors(void **state)
{
    (void)state;
    struct iap_image img;
    const char *bad_sum = ":020000040804EE\n:0400000001020304F0\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)bad_sum, strlen(bad_sum), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "checksum error on line 2"));
    const char *no_eof = ":020000040804EE\n:0400000001020304F2\n";
    assert_int_equal(iap_image_parse((const uint8_t *)no_eof, strlen(no_eof), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "end-of-file"));
    const char *bad_digit = ":020000040804EE\n:04000000010203G4F2\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)bad_digit, strlen(bad_digit), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "line 2"));
    const char *ok = ":020000040804EE\r\n:0400000001020304F2\r\n:00000001FF\r\n";
    assert_int_equal(iap_image_parse((const uint8_t *)ok, strlen(ok), 0, &img), 0);
    assert_int_equal(img.segs[0].addr, 0x08040000u);
    assert_int_equal(img.segs[0].len, 4);
    iap_image_free(&img);
    /* Overlapping records are an error, not a silent overwrite. */
    const char *ovl = ":020000040804EE\n:0400000001020304F2\n:020002000506F1\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)ovl, strlen(ovl), 0, &img),
                     IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "overlapping data at 0x08040002"));
}

/* The HEX of the double-free report: records at 0x08040010, 0x08040000,
 * 0x08040100 and 0x08040105, 16 bytes each; the last two overlap. */
static const char hex_ovl_unordered[] = ":020000040804EE\n"
                                        ":10001000101112131415161718191A1B1C1D1E1F68\n"
                                        ":10000000000102030405060708090A0B0C0D0E0F78\n"
                                        ":10010000000102030405060708090A0B0C0D0E0F77\n"
                                        ":1001050005060708090A0B0C0D0E0F101112131422\n"
                                        ":00000001FF\n";

static void test_hex_unordered_overlap(void **state)
{
    (void)state;
    struct iap_image img;
    /* Used to merge 0x08040000 with 0x08040010, leave 0x08040100 in two
	 * slots and free it twice on the overlap error (ASan: double free). */
    assert_int_equal(
        iap_image_parse((const uint8_t *)hex_ovl_unordered, strlen(hex_ovl_unordered), 0, &img),
        IAP_IMAGE_ERR_OVERLAP);
    assert_string_equal(iap_error(),
                        "overlapping data at 0x08040105: 0x08040105-0x0804010f is given twice "
                        "(by the data at 0x08040100-0x0804010f and at 0x08040105-0x08040114)");
    assert_null(img.segs);
    assert_int_equal(img.n, 0);
    /* The same through the file loader names the file too. */
    char path[256];
    snprintf(path, sizeof path, "%s/ovl.hex", fx_tmpdir());
    fx_write(path, hex_ovl_unordered, strlen(hex_ovl_unordered));
    assert_int_equal(iap_image_load(path, 0, &img), IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "ovl.hex: overlapping data at 0x08040105"));
    fx_cleanup();
}

static void test_hex_unordered(void **state)
{
    (void)state;
    /* Out of order, touching and not: 0x10, 0x00, 0x100, 0x30, 0x20. */
    static const uint16_t at[] = { 0x10, 0x00, 0x100, 0x30, 0x20 };
    char hex[2048], *p = hex;
    p += sprintf(p, ":020000040804EE\n");
    for (size_t r = 0; r < sizeof at / sizeof at[0]; r++) {
        uint8_t sum = (uint8_t)(16 + (at[r] >> 8) + (at[r] & 0xFF));
        p += sprintf(p, ":10%04X00", at[r]);
        for (int i = 0; i < 16; i++) {
            uint8_t v = (uint8_t)(at[r] + i);
            p += sprintf(p, "%02X", v);
            sum = (uint8_t)(sum + v);
        }
        p += sprintf(p, "%02X\n", (uint8_t)(0x100 - sum));
    }
    p += sprintf(p, ":00000001FF\n");
    struct iap_image img;
    parse_ok(hex, strlen(hex), &img);
    assert_int_equal(img.n, 2);
    assert_int_equal(img.segs[0].addr, 0x08040000u);
    assert_int_equal(img.segs[0].len, 0x40);
    for (int i = 0; i < 0x40; i++)
        assert_int_equal(img.segs[0].data[i], i);
    assert_int_equal(img.segs[1].addr, 0x08040100u);
    assert_int_equal(img.segs[1].len, 16);
    assert_int_equal(img.segs[1].data[15], 0x0F);
    iap_image_free(&img);
}

static void test_overlap_cases(void **state)
{
    (void)state;
    struct iap_image img;
    /* A record repeated; one inside another; overlap after a merge. */
    const char *dup = ":020000040804EE\n:0400000001020304F2\n:0400000001020304F2\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)dup, strlen(dup), 0, &img),
                     IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "overlapping data at 0x08040000: 0x08040000-0x08040003"));
    const char *inside = ":020000040804EE\n:0400000001020304F2\n:0100010005F9\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)inside, strlen(inside), 0, &img),
                     IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "0x08040001-0x08040001 is given twice"));
    const char *merged = ":020000040804EE\n:0400040001020304EE\n:0400000001020304F2\n"
                         ":0400200001020304D2\n:0200060005FFF4\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)merged, strlen(merged), 0, &img),
                     IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "overlapping data at 0x08040006"));
    /* ELF segments whose load addresses overlap. */
    uint8_t a[64], b[64];
    fx_fill(a, sizeof a, 5);
    fx_fill(b, sizeof b, 6);
    struct fx_seg segs[2] = { { 0x08040000u, a, 64 }, { 0x08040020u, b, 64 } };
    size_t len;
    uint8_t *elf = fx_elf(segs, 2, 0, &len);
    assert_int_equal(iap_image_parse(elf, len, 0, &img), IAP_IMAGE_ERR_OVERLAP);
    assert_non_null(strstr(iap_error(), "overlapping data at 0x08040020"));
    free(elf);
}

/* ---- crafted ELF headers ---------------------------------------------- */

struct ph {
    uint32_t type, off, vaddr, paddr, filesz, memsz;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* ELF32 LE header, program headers at 52, file of total bytes (>= the
 * headers), every other byte 0xA5. */
static uint8_t *craft_elf(const struct ph *ph, size_t n, size_t total)
{
    uint8_t *b = malloc(total);
    memset(b, 0xA5, total);
    memset(b, 0, 52 + 32 * n);
    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 1;
    b[5] = 1;
    b[6] = 1;
    put16(b + 16, 2);
    put16(b + 18, 40);
    put32(b + 20, 1);
    put32(b + 24, 0x08040001u);
    put32(b + 28, 52);
    put16(b + 40, 52);
    put16(b + 42, 32);
    put16(b + 44, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = b + 52 + 32 * i;
        put32(p, ph[i].type);
        put32(p + 4, ph[i].off);
        put32(p + 8, ph[i].vaddr);
        put32(p + 12, ph[i].paddr);
        put32(p + 16, ph[i].filesz);
        put32(p + 20, ph[i].memsz);
        put32(p + 24, 5);
        put32(p + 28, 4);
    }
    return b;
}

static void elf_refused(const uint8_t *elf, size_t len, const char *why)
{
    struct iap_image img;
    int rc = iap_image_parse(elf, len, 0, &img);
    if (rc != IAP_IMAGE_ERR_FORMAT)
        fail_msg("expected a bad file (%s), got %d: %s", why, rc, iap_error());
    if (!strstr(iap_error(), why))
        fail_msg("message lacks \"%s\": %s", why, iap_error());
    assert_null(img.segs);
}

static void test_elf_crafted(void **state)
{
    (void)state;
    const uint32_t A = 0x08040000u;
    /* Sanity: the crafted layout loads when nothing is wrong with it. */
    struct ph ok[2] = { { 1, 0x100, A, A, 0x40, 0x40 },
                        { 1, 0x140, A + 0x40, A + 0x40, 0x40, 0x80 } };
    uint8_t *e = craft_elf(ok, 2, 0x200);
    struct iap_image img;
    parse_ok(e, 0x200, &img);
    assert_int_equal(img.n, 1);
    assert_int_equal(img.segs[0].len, 0x80);
    iap_image_free(&img);
    free(e);

    /* 3 GB of file bytes in a 148-byte file. */
    struct ph big = { 1, 0x54, A, A, 0xC0000000u, 0xC0000000u };
    e = craft_elf(&big, 1, 148);
    elf_refused(e, 148, "runs past the end of the file");
    free(e);
    /* 3 GB of memory for 64 bytes of file. */
    struct ph mem = { 1, 0x54, 0x24000000u, A, 64, 0xC0000000u };
    e = craft_elf(&mem, 1, 148);
    elf_refused(e, 148, "more than a Cortex-M memory region");
    free(e);
    /* More file bytes than memory bytes. */
    struct ph fm = { 1, 0x54, A, A, 64, 32 };
    e = craft_elf(&fm, 1, 148);
    elf_refused(e, 148, "more file bytes (64) than memory bytes (32)");
    free(e);
    /* Offset + size wraps in 32 bits. */
    struct ph wrap = { 1, 0xFFFFFFF0u, A, A, 0x20, 0x20 };
    e = craft_elf(&wrap, 1, 148);
    elf_refused(e, 148, "runs past the end of the file");
    free(e);
    /* A load address range that wraps past 4 GB. */
    struct ph top = { 1, 0x54, 0xFFFFFFF0u, 0xFFFFFFF0u, 0x20, 0x20 };
    e = craft_elf(&top, 1, 148);
    elf_refused(e, 148, "runs past the 32-bit address space");
    free(e);
    /* A note pointing outside the file is corrupt too. */
    struct ph note[2] = { { 1, 0x100, A, A, 0x40, 0x40 }, { 4, 0x7FFFFFF0u, 0, 0, 0x20, 0 } };
    e = craft_elf(note, 2, 0x200);
    elf_refused(e, 0x200, "segment 1 at 0x00000000 runs past the end of the file");
    free(e);

    /* Many PT_LOADs over the same file bytes at consecutive addresses:
	 * 1500 x 48 KB = 72 MB of image from a 48 KB file (3 GB from 310 KB
	 * before it was refused). */
    enum { NPH = 1500, FLEN = 48 * 1024 };
    struct ph *many = calloc(NPH, sizeof *many);
    for (uint32_t i = 0; i < NPH; i++)
        many[i] = (struct ph){ 1, 0, A + i * FLEN, A + i * FLEN, FLEN, FLEN };
    e = craft_elf(many, NPH, FLEN);
    elf_refused(e, FLEN, "ELF: segments 0 and 1 share file bytes from offset 0x0");
    free(e);
    /* Two segments that share only their last and first byte. */
    struct ph sh[2] = { { 1, 0x100, A, A, 0x41, 0x41 },
                        { 1, 0x140, A + 0x100, A + 0x100, 0x40, 0x40 } };
    e = craft_elf(sh, 2, 0x200);
    elf_refused(e, 0x200, "segments 0 and 1 share file bytes from offset 0x140");
    free(e);
    free(many);

    /* Header fields. */
    e = craft_elf(ok, 2, 0x200);
    put32(e + 28, 0xFFFFFFF0u); /* e_phoff */
    elf_refused(e, 0x200, "program headers outside the file");
    put32(e + 28, 52);
    put16(e + 44, 0xFFFF); /* e_phnum: PN_XNUM */
    elf_refused(e, 0x200, "more than 65534 program headers");
    put16(e + 44, 200); /* 200 x 32 bytes > 0x200 */
    elf_refused(e, 0x200, "program headers outside the file");
    put16(e + 44, 2);
    put16(e + 42, 16); /* e_phentsize */
    elf_refused(e, 0x200, "program headers outside the file");
    put16(e + 42, 32);
    put32(e + 32, 0x1F0); /* e_shoff */
    put16(e + 46, 40);
    put16(e + 48, 3); /* 3 x 40 bytes from 0x1f0: past the end */
    elf_refused(e, 0x200, "section headers outside the file");
    put16(e + 48, 0); /* no count, yet an offset: one header must fit */
    elf_refused(e, 0x200, "section headers outside the file");
    put32(e + 32, 0);
    put16(e + 40, 0x1000); /* e_ehsize */
    elf_refused(e, 0x200, "bad header size");
    put16(e + 40, 52);
    e[6] = 2;
    elf_refused(e, 0x200, "unknown ELF version");
    e[6] = 1;
    parse_ok(e, 0x200, &img);
    iap_image_free(&img);
    free(e);
}

static void test_hex_crafted(void **state)
{
    (void)state;
    struct iap_image img;
    /* Extended linear address 0xffff, data at 0xfffffff8 + 16 bytes. */
    const char *top = ":02000004FFFFFC\n:10FFF80000000000000000000000000000000000F9\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)top, strlen(top), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "runs past the 32-bit address space"));
    const char *eof_data = ":020000040804EE\n:0400000001020304F2\n:01000001AA54\n";
    assert_int_equal(iap_image_parse((const uint8_t *)eof_data, strlen(eof_data), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "end-of-file record with 1 data bytes on line 3"));
    const char *start = ":020000040804EE\n:0400000001020304F2\n:03000005080401EB\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)start, strlen(start), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "bad start address record on line 3"));
    const char *seg = ":0300000208040FE0\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)seg, strlen(seg), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "bad segment address record on line 1"));
    /* The count says 4 bytes, the record holds 3. */
    const char *count = ":020000040804EE\n:04000000010203F5\n:00000001FF\n";
    assert_int_equal(iap_image_parse((const uint8_t *)count, strlen(count), 0, &img),
                     IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "line 2"));
    /* A raw binary placed so that it would wrap. */
    uint8_t d[64] = { 0 };
    assert_int_equal(iap_image_parse(d, sizeof d, 0xFFFFFFE0u, &img), IAP_IMAGE_ERR_FORMAT);
    assert_non_null(strstr(iap_error(), "runs past the 32-bit address space"));
}

static void test_region(void **state)
{
    (void)state;
    static uint8_t big[0x1C0001];
    struct iap_image img;
    parse_ok(big, sizeof big, &img); /* one byte more than the area */
    assert_int_equal(iap_image_check_region(&img, BOOT_APP_START, BOOT_APP_END),
                     IAP_IMAGE_ERR_TOO_LARGE);
    assert_non_null(strstr(iap_error(), "too large"));
    assert_non_null(strstr(iap_error(), "0x08200000"));
    iap_image_free(&img);
    parse_ok(big, sizeof big - 1, &img); /* exactly the area */
    assert_int_equal(iap_image_check_region(&img, BOOT_APP_START, BOOT_APP_END), 0);
    iap_image_free(&img);
    assert_int_equal(iap_image_parse(big, 16, 0x08000000u, &img), 0);
    assert_int_equal(iap_image_check_region(&img, BOOT_APP_START, BOOT_APP_END),
                     IAP_IMAGE_ERR_ADDRESS);
    assert_string_equal(iap_error(),
                        "data at 0x08000000 is outside the application area 0x08040000-0x081fffff");
    iap_image_free(&img);
    assert_int_equal(iap_image_parse(big, 16, 0x20000000u, &img), 0);
    assert_int_equal(iap_image_check_region(&img, BOOT_APP_START, BOOT_APP_END),
                     IAP_IMAGE_ERR_ADDRESS);
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
    /* Erased: every sector from the first (2) to the last (8), the gap's
	 * sectors 3-6 included. */
    assert_int_equal(iap_image_pages(&pad), 0x1FCu);
    iap_image_free(&img);
    iap_image_free(&pad);
}

static void test_pages_first_to_last(void **state)
{
    (void)state;
    uint8_t d[64];
    memset(d, 0x5A, sizeof d);
    struct iap_image img;
    /* One segment in one sector. */
    parse_ok(d, 64, &img);
    assert_int_equal(iap_image_pages(&img), 1u << 2);
    iap_image_free(&img);
    /* The first and the last sector of the area: all of 2..15. */
    struct fx_seg ends[2] = { { 0x08040000u, d, 64 }, { 0x081FFFC0u, d, 64 } };
    char *hex = fx_hex(ends, 2);
    parse_ok(hex, strlen(hex), &img);
    free(hex);
    assert_int_equal(iap_image_pages(&img), 0xFFFCu);
    iap_image_free(&img);
    /* Two segments in one sector, then one in bank 2: 4..9. */
    struct fx_seg three[3] = { { 0x08080000u, d, 16 },
                               { 0x08090000u, d, 16 },
                               { 0x08120000u, d, 64 } };
    hex = fx_hex(three, 3);
    parse_ok(hex, strlen(hex), &img);
    free(hex);
    assert_int_equal(iap_image_pages(&img), 0x3F0u);
    iap_image_free(&img);
    /* A segment that spans sectors 3-5 by itself. */
    static uint8_t big[0x40010];
    assert_int_equal(iap_image_parse(big, sizeof big, 0x08060000u - 8, &img), 0);
    assert_int_equal(iap_image_pages(&img), (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5));
    iap_image_free(&img);
    /* Nothing in the flash: nothing to erase. */
    assert_int_equal(iap_image_parse(d, 64, 0x24000000u, &img), 0);
    assert_int_equal(iap_image_pages(&img), 0);
    iap_image_free(&img);
}

static void test_sectors(void **state)
{
    (void)state;
    uint32_t m;
    assert_int_equal(iap_parse_sectors("app", &m), 0);
    assert_int_equal(m, 0xFFFCu);
    assert_int_equal(iap_parse_sectors("2,3,8-10", &m), 0);
    assert_int_equal(m, (1u << 2) | (1u << 3) | (1u << 8) | (1u << 9) | (1u << 10));
    assert_int_equal(iap_parse_sectors("1", &m), IAP_OP_ERR_BOOT_SECTOR);
    assert_non_null(strstr(iap_error(), "bootloader"));
    assert_int_equal(iap_parse_sectors("0-3", &m), IAP_OP_ERR_BOOT_SECTOR);
    assert_int_equal(iap_parse_sectors("16", &m), IAP_OP_ERR_SECTORS);
    assert_int_equal(iap_parse_sectors("4-2", &m), IAP_OP_ERR_SECTORS);
    assert_int_equal(iap_parse_sectors("x", &m), IAP_OP_ERR_SECTORS);
    assert_int_equal(iap_parse_sectors("2,,", &m), IAP_OP_ERR_SECTORS);
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
    assert_int_equal(iap_image_load(path, 0x08040000u, &img), IAP_IMAGE_ERR_OPEN);
    assert_non_null(strstr(iap_error(), "cannot open"));
    snprintf(path, sizeof path, "%s/bad.hex", fx_tmpdir());
    const char *bad = ":020000040804EE\n:0400000001020304F0\n:00000001FF\n";
    fx_write(path, bad, strlen(bad));
    assert_int_equal(iap_image_load(path, 0x08040000u, &img), IAP_IMAGE_ERR_FORMAT);
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
        cmocka_unit_test(test_hex_unordered_overlap),
        cmocka_unit_test(test_hex_unordered),
        cmocka_unit_test(test_overlap_cases),
        cmocka_unit_test(test_elf_crafted),
        cmocka_unit_test(test_hex_crafted),
        cmocka_unit_test(test_region),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_pages_first_to_last),
        cmocka_unit_test(test_sectors),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
