/*
 * Fuzz harness: h7iap's image loader (tools/iap_image.c) on any bytes, as
 * `h7iap flash FILE` takes them: iap_image_parse() (the in-memory entry of
 * iap_image_load), the application-area check, the padding to flash words
 * and the erase range. Invariants, checked after every input (abort() when
 * one breaks):
 *
 *  - the loader either fails cleanly with a code of its own enum
 *    (IAP_IMAGE_ERR_*) and an empty image, or returns segments that are
 *    sorted, non-empty, neither overlapping nor touching (merged), and hold
 *    no more bytes than the input;
 *  - the region check agrees with the segments: success exactly when every
 *    byte lies in the application area 0x08040000-0x081fffff (so at most
 *    1.75 MB), else IAP_IMAGE_ERR_ADDRESS or _TOO_LARGE;
 *  - the padded image covers each data byte with its value, adds only 0xFF,
 *    only inside 32-byte flash words that hold data, in aligned,
 *    non-overlapping blocks inside the area; the erase range is every
 *    sector from the first to the last;
 *  - memory: the loader never holds more than 4 x the input + 1.75 MB +
 *    64 KB at once, and gives everything back (counted through the
 *    sanitizer allocator hooks, so under ASan: the fuzz build and the
 *    replay in the ASan build; the plain replay build skips this one);
 *  - the same input parsed twice gives the same result, error text
 *    included.
 *
 * A raw binary goes to one of a few addresses picked by the input's last
 * byte (inside, at the end, outside, wrapping), so the binary path meets
 * the region and padding edges too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an3155.h"
#include "h7_layout.h"
#include "iap.h"
#include "iap_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define APP_LO   BOOT_APP_START
#define APP_HI   BOOT_APP_END
#define APP_SIZE (BOOT_APP_END - BOOT_APP_START)
#define WORD     H7_FLASH_WORD

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_image: invariant broken at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* ---- allocation accounting (sanitizer hooks, when there are any) ------- */

int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *))
    __attribute__((weak));
size_t __sanitizer_get_allocated_size(const volatile void *p) __attribute__((weak));

static int hooked, tracking;
static long long cur_bytes, peak_bytes;

static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    if (!tracking)
        return;
    cur_bytes += (long long)n;
    if (cur_bytes > peak_bytes)
        peak_bytes = cur_bytes;
}

static void on_free(const volatile void *p)
{
    if (tracking && p)
        cur_bytes -= (long long)__sanitizer_get_allocated_size(p);
}

__attribute__((constructor)) static void install_hooks(void)
{
    if (__sanitizer_install_malloc_and_free_hooks && __sanitizer_get_allocated_size)
        hooked = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) > 0;
}

/* ---- checks ------------------------------------------------------------ */

static void check_segments(const struct iap_image *img)
{
    for (size_t i = 0; i < img->n; i++) {
        const struct iap_seg *s = &img->segs[i];
        CHECK(s->len > 0 && s->data != NULL);
        CHECK((uint64_t)s->addr + s->len <= 0x100000000ull);
        if (i)
            CHECK((uint64_t)img->segs[i - 1].addr + img->segs[i - 1].len < s->addr);
    }
}

static int in_area(const struct iap_image *img)
{
    for (size_t i = 0; i < img->n; i++)
        if (img->segs[i].addr < APP_LO || (uint64_t)img->segs[i].addr + img->segs[i].len > APP_HI)
            return 0;
    return 1;
}

/* The byte of img at a, or -1 where img has none (segments are sorted). */
static int byte_at(const struct iap_image *img, uint32_t a, size_t *hint)
{
    while (*hint < img->n && (uint64_t)img->segs[*hint].addr + img->segs[*hint].len <= a)
        (*hint)++;
    if (*hint < img->n && img->segs[*hint].addr <= a)
        return img->segs[*hint].data[a - img->segs[*hint].addr];
    return -1;
}

static void check_padded(const struct iap_image *img, const struct iap_image *pad)
{
    uint64_t total = 0;
    size_t hint = 0;
    check_segments(pad);
    CHECK(pad->n >= 1 && pad->n <= img->n);
    for (size_t i = 0; i < pad->n; i++) {
        const struct iap_seg *s = &pad->segs[i];
        CHECK(s->addr % WORD == 0 && s->len % WORD == 0);
        CHECK(s->addr >= APP_LO && (uint64_t)s->addr + s->len <= APP_HI);
        total += s->len;
        for (uint32_t w = 0; w < s->len; w += WORD) {
            int words_data = 0;
            for (uint32_t k = 0; k < WORD; k++) {
                int b = byte_at(img, s->addr + w + k, &hint);
                if (b >= 0) {
                    CHECK(s->data[w + k] == (uint8_t)b);
                    words_data = 1;
                } else {
                    CHECK(s->data[w + k] == 0xFF);
                }
            }
            CHECK(words_data); /* no word of padding only */
        }
    }
    CHECK(total <= APP_SIZE);
    /* Every data byte is in some block (the blocks cover the data). */
    hint = 0;
    for (size_t i = 0; i < img->n; i++) {
        const struct iap_seg *s = &img->segs[i];
        for (uint32_t a = s->addr & ~(WORD - 1); a < s->addr + s->len; a += WORD) {
            while (hint < pad->n && (uint64_t)pad->segs[hint].addr + pad->segs[hint].len <= a)
                hint++;
            CHECK(hint < pad->n && pad->segs[hint].addr <= a);
        }
    }
    /* Erase range: every sector from the first to the last. */
    int first = an3155_h7_page_of(pad->segs[0].addr);
    const struct iap_seg *l = &pad->segs[pad->n - 1];
    int last = an3155_h7_page_of(l->addr + l->len - 1);
    CHECK(first >= (int)BOOT_APP_FIRST_SECTOR && last >= first);
    uint32_t want = 0;
    for (int p = first; p <= last; p++)
        want |= 1u << p;
    CHECK(iap_image_pages(pad) == want);
    CHECK(iap_image_pages(img) == want);
}

struct result {
    int rc, region_rc, pad_rc;
    char err[512];
    struct iap_image img, pad;
};

static void load(const uint8_t *data, size_t size, uint32_t bin_addr, struct result *r)
{
    memset(r, 0, sizeof *r);
    iap_clear_error();
    r->rc = iap_image_parse(data, size, bin_addr, &r->img);
    snprintf(r->err, sizeof r->err, "%s", iap_error());
    r->region_rc = r->pad_rc = -1;
    if (r->rc)
        return;
    r->region_rc = iap_image_check_region(&r->img, APP_LO, APP_HI);
    if (r->region_rc)
        return;
    r->pad_rc = iap_image_pad(&r->img, WORD, &r->pad);
}

static void check_result(const struct result *r, size_t size)
{
    CHECK(iap_err_valid(r->rc));
    if (r->rc) {
        CHECK(IAP_ERR_LAYER(r->rc) == IAP_IMAGE_ERR_BASE);
        CHECK(r->img.segs == NULL && r->img.n == 0);
        CHECK(r->err[0] != '\0');
        return;
    }
    CHECK(r->img.n >= 1);
    check_segments(&r->img);
    CHECK(iap_image_bytes(&r->img) <= size);
    CHECK(iap_image_lo(&r->img) == r->img.segs[0].addr);
    if (in_area(&r->img)) {
        CHECK(r->region_rc == 0);
        CHECK(iap_image_bytes(&r->img) <= APP_SIZE);
        CHECK(r->pad_rc == 0 || r->pad_rc == IAP_IMAGE_ERR_NOMEM);
        if (r->pad_rc == 0)
            check_padded(&r->img, &r->pad);
    } else {
        CHECK(r->region_rc == IAP_IMAGE_ERR_ADDRESS || r->region_rc == IAP_IMAGE_ERR_TOO_LARGE);
    }
}

static void same(const struct result *a, const struct result *b)
{
    CHECK(a->rc == b->rc && a->region_rc == b->region_rc && a->pad_rc == b->pad_rc);
    CHECK(strcmp(a->err, b->err) == 0);
    CHECK(a->img.n == b->img.n && a->img.fmt == b->img.fmt);
    for (size_t i = 0; i < a->img.n; i++) {
        CHECK(a->img.segs[i].addr == b->img.segs[i].addr);
        CHECK(a->img.segs[i].len == b->img.segs[i].len);
        CHECK(memcmp(a->img.segs[i].data, b->img.segs[i].data, a->img.segs[i].len) == 0);
    }
    CHECK(a->pad.n == b->pad.n);
    for (size_t i = 0; i < a->pad.n; i++) {
        CHECK(a->pad.segs[i].addr == b->pad.segs[i].addr);
        CHECK(a->pad.segs[i].len == b->pad.segs[i].len);
        CHECK(memcmp(a->pad.segs[i].data, b->pad.segs[i].data, a->pad.segs[i].len) == 0);
    }
}

static void release(struct result *r)
{
    iap_image_free(&r->img);
    iap_image_free(&r->pad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t bin_addrs[] = {
        BOOT_APP_START, BOOT_APP_START + 0x11, 0x081FFF00u, 0x080FFFF0u,
        0x08000000u,    0x24000000u,           0xFFFFFF00u,
    };
    uint32_t bin_addr = size ? bin_addrs[data[size - 1] % (sizeof bin_addrs / sizeof bin_addrs[0])]
                             : BOOT_APP_START;
    struct result a, b;
    static int trace = -1; /* FUZZ_IMAGE_TRACE set: each result on stderr */
    if (trace < 0)
        trace = getenv("FUZZ_IMAGE_TRACE") != NULL;

    cur_bytes = peak_bytes = 0;
    tracking = hooked;
    load(data, size, bin_addr, &a);
    tracking = 0;
    if (hooked)
        CHECK(peak_bytes <= 4 * (long long)size + APP_SIZE + 65536);
    if (trace)
        fprintf(stderr,
                "  %s: %s, %zu segment(s), region %d, pad %d, peak %lld bytes for %zu%s%s\n",
                iap_format_name(a.img.fmt), a.rc ? iap_strerror(a.rc) : "ok", a.img.n, a.region_rc,
                a.pad_rc, peak_bytes, size, a.rc ? ": " : "", a.err);
    check_result(&a, size);

    load(data, size, bin_addr, &b);
    same(&a, &b);

    tracking = hooked;
    release(&a);
    tracking = 0;
    release(&b);
    if (hooked)
        CHECK(cur_bytes == 0); /* everything the first parse took came back */
    return 0;
}
