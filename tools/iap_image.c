/* h7iap: loading raw binary, Intel HEX and ELF32 images. */
#define _POSIX_C_SOURCE 200809L
#include "iap_image.h"
#include "iap.h"
#include "an3155.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *iap_format_name(enum iap_format f)
{
    switch (f) {
    case IAP_FMT_HEX: return "Intel HEX";
    case IAP_FMT_ELF: return "ELF";
    default: return "binary";
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode n hex byte pairs at s. -1 on a non-hex digit. */
static int hexbytes(const uint8_t *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

/* A HEX record at p (len bytes left): ':' count addr type data sum. */
static int hex_record_ok(const uint8_t *p, size_t len)
{
    uint8_t hdr[4];
    if (len < 11 || p[0] != ':' || hexbytes(p + 1, 4, hdr))
        return 0;
    size_t need = 1 + 2 * (5 + (size_t)hdr[0]);
    uint8_t rec[260];
    if (len < need || hexbytes(p + 1, 5 + hdr[0], rec))
        return 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < 5 + (size_t)hdr[0]; i++)
        sum = (uint8_t)(sum + rec[i]);
    return sum == 0;
}

enum iap_format iap_detect_format(const uint8_t *buf, size_t len)
{
    if (len >= 4 && memcmp(buf,
                           "\x7f"
                           "ELF",
                           4) == 0)
        return IAP_FMT_ELF;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && hex_record_ok(buf + i, len - i))
        return IAP_FMT_HEX;
    /* A first line of ':' and an odd number (>= 11) of hex digits is HEX
	 * with an error in it: parse it as HEX so the error is reported. */
    if (i < len && buf[i] == ':') {
        size_t k = i + 1;
        while (k < len && hexval(buf[k]) >= 0)
            k++;
        size_t digits = k - i - 1;
        if (digits >= 10 && digits % 2 == 0 && (k == len || buf[k] == '\n' || buf[k] == '\r'))
            return IAP_FMT_HEX;
    }
    return IAP_FMT_BIN;
}

/* ---- segment list ------------------------------------------------------ */

/*
 * The list a parser fills. Every slot of img->segs owns its data buffer
 * and no buffer is owned twice: a segment that moves to another slot
 * leaves an empty slot behind (data NULL), so iap_image_free() is right
 * at any point, error paths included. Only the last segment grows (HEX
 * records in address order); its buffer doubles. total counts the payload
 * and never exceeds limit, the size of the input: no format holds more
 * data bytes than the file has, so a file that claims more is malformed
 * and is refused before the memory is taken.
 */
struct builder {
    struct iap_image *img;
    size_t cap;      /* slots in img->segs */
    size_t last_cap; /* bytes allocated for the last segment's data */
    uint64_t total;  /* payload bytes so far */
    uint64_t limit;  /* payload bytes allowed */
};

static enum iap_image_err seg_add(struct builder *b, uint32_t addr, const uint8_t *data,
                                  uint32_t len)
{
    struct iap_image *img = b->img;
    if (len == 0)
        return 0;
    if ((uint64_t)addr + len > 0x100000000ull)
        return iap_fail(IAP_IMAGE_ERR_FORMAT,
                        "data at 0x%08x (%u bytes) runs past the 32-bit address space", addr, len);
    if (b->total + len > b->limit)
        return iap_fail(IAP_IMAGE_ERR_FORMAT,
                        "data at 0x%08x (%u bytes) makes more data than the file holds", addr, len);
    /* Extend the previous segment when this one continues it (HEX). */
    if (img->n) {
        struct iap_seg *last = &img->segs[img->n - 1];
        if ((uint64_t)last->addr + last->len == addr) {
            size_t need = (size_t)last->len + len;
            if (need > b->last_cap) {
                size_t nc = b->last_cap * 2 > need ? b->last_cap * 2 : need;
                if (nc > b->limit)
                    nc = need;
                uint8_t *d = realloc(last->data, nc);
                if (!d)
                    return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
                last->data = d;
                b->last_cap = nc;
            }
            memcpy(last->data + last->len, data, len);
            last->len += len;
            b->total += len;
            return 0;
        }
    }
    if (img->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 8;
        struct iap_seg *s = realloc(img->segs, nc * sizeof *s);
        if (!s)
            return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
        img->segs = s;
        b->cap = nc;
    }
    uint8_t *d = malloc(len);
    if (!d)
        return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
    memcpy(d, data, len);
    img->segs[img->n++] = (struct iap_seg){ addr, len, d };
    b->last_cap = len;
    b->total += len;
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    const struct iap_seg *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Sort, refuse overlaps, merge touching segments. Overlaps are looked for
 * before anything moves; a run of touching segments becomes one buffer,
 * the parts are freed and their slots emptied as they are taken.
 */
static enum iap_image_err normalize(struct iap_image *img)
{
    if (img->n == 0)
        return iap_fail(IAP_IMAGE_ERR_EMPTY, "the file holds no data to program");
    qsort(img->segs, img->n, sizeof img->segs[0], seg_cmp);
    /* Sorted by address: no overlap at all iff no neighbours overlap. */
    for (size_t i = 1; i < img->n; i++) {
        const struct iap_seg *a = &img->segs[i - 1], *b = &img->segs[i];
        uint64_t aend = (uint64_t)a->addr + a->len, bend = (uint64_t)b->addr + b->len;
        if (aend > b->addr)
            return iap_fail(IAP_IMAGE_ERR_OVERLAP,
                            "overlapping data at 0x%08x: 0x%08x-0x%08x is given twice (by the data "
                            "at 0x%08x-0x%08x and at 0x%08x-0x%08x)",
                            b->addr, b->addr, (uint32_t)((aend < bend ? aend : bend) - 1), a->addr,
                            (uint32_t)(aend - 1), b->addr, (uint32_t)(bend - 1));
    }
    size_t w = 0, n = img->n;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        uint64_t len = img->segs[i].len;
        while (j < n &&
               (uint64_t)img->segs[j - 1].addr + img->segs[j - 1].len == img->segs[j].addr) {
            len += img->segs[j].len;
            j++;
        }
        struct iap_seg out = img->segs[i];
        if (j - i > 1) {
            uint8_t *d = len <= 0xFFFFFFFFu ? malloc((size_t)len) : NULL;
            if (!d) {
                /* Keep one owner per buffer: close the gap of
				 * slots already taken, then let the caller free. */
                memmove(&img->segs[w], &img->segs[i], (n - i) * sizeof img->segs[0]);
                img->n = w + (n - i);
                return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
            }
            size_t off = 0;
            for (size_t k = i; k < j; k++) {
                memcpy(d + off, img->segs[k].data, img->segs[k].len);
                off += img->segs[k].len;
                free(img->segs[k].data);
                img->segs[k] = (struct iap_seg){ 0, 0, NULL };
            }
            out.len = (uint32_t)len;
            out.data = d;
        }
        img->segs[i] = (struct iap_seg){ 0, 0, NULL };
        img->segs[w++] = out;
        i = j;
    }
    img->n = w;
    return 0;
}

/* ---- Intel HEX --------------------------------------------------------- */

static enum iap_image_err parse_hex(const uint8_t *buf, size_t len, struct builder *b)
{
    uint32_t base = 0;
    unsigned line = 0;
    int eof = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        line++;
        size_t l = e - i;
        while (l && (buf[i + l - 1] == '\r' || buf[i + l - 1] == ' ' || buf[i + l - 1] == '\t'))
            l--;
        const uint8_t *p = buf + i;
        i = e + 1;
        if (l == 0)
            continue;
        if (eof)
            return iap_fail(IAP_IMAGE_ERR_FORMAT,
                            "Intel HEX: data after the end-of-file record (line %u)", line);
        if (p[0] != ':' || l < 11 || (l - 1) % 2)
            return iap_fail(IAP_IMAGE_ERR_FORMAT, "Intel HEX: malformed record on line %u", line);
        uint8_t rec[260];
        size_t n = (l - 1) / 2;
        if (n > sizeof rec || hexbytes(p + 1, n, rec))
            return iap_fail(IAP_IMAGE_ERR_FORMAT, "Intel HEX: bad hex digit on line %u", line);
        if (n != 5 + (size_t)rec[0])
            return iap_fail(IAP_IMAGE_ERR_FORMAT,
                            "Intel HEX: record length does not match its count on line %u", line);
        uint8_t sum = 0;
        for (size_t k = 0; k < n; k++)
            sum = (uint8_t)(sum + rec[k]);
        if (sum)
            return iap_fail(IAP_IMAGE_ERR_FORMAT, "Intel HEX: checksum error on line %u", line);
        uint8_t cnt = rec[0], type = rec[3];
        uint16_t off = (uint16_t)(rec[1] << 8 | rec[2]);
        const uint8_t *d = rec + 4;
        int rc;
        switch (type) {
        case 0x00:
            /* A record that wraps past 64 KB continues linearly;
			 * seg_add refuses one that wraps past 4 GB. */
            rc = seg_add(b, base + off, d, cnt);
            if (rc)
                return rc;
            break;
        case 0x01:
            if (cnt != 0)
                return iap_fail(IAP_IMAGE_ERR_FORMAT,
                                "Intel HEX: end-of-file record with %u data bytes on line %u", cnt,
                                line);
            eof = 1;
            break;
        case 0x02:
            if (cnt != 2)
                return iap_fail(IAP_IMAGE_ERR_FORMAT,
                                "Intel HEX: bad segment address record on line %u", line);
            base = (uint32_t)(d[0] << 8 | d[1]) << 4;
            break;
        case 0x04:
            if (cnt != 2)
                return iap_fail(IAP_IMAGE_ERR_FORMAT,
                                "Intel HEX: bad linear address record on line %u", line);
            base = (uint32_t)(d[0] << 8 | d[1]) << 16;
            break;
        case 0x03:
        case 0x05:
            if (cnt != 4)
                return iap_fail(IAP_IMAGE_ERR_FORMAT,
                                "Intel HEX: bad start address record on line %u", line);
            break; /* start address: not programmed */
        default:
            return iap_fail(IAP_IMAGE_ERR_FORMAT,
                            "Intel HEX: unknown record type 0x%02x on line %u", type, line);
        }
    }
    if (!eof)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "Intel HEX: no end-of-file record (truncated file?)");
    return 0;
}

/* ---- ELF32 ------------------------------------------------------------- */

#define ELF_EHDR_SIZE 52u
#define ELF_PHDR_SIZE 32u
#define ELF_SHDR_SIZE 40u
#define ELF_PT_NULL   0u
#define ELF_PT_LOAD   1u
#define ELF_PN_XNUM   0xFFFFu
/*
 * The largest segment that can exist on a Cortex-M: one region of the
 * ARMv7-M memory map (code, SRAM, peripheral, ...) is 512 MB. A size above
 * it is a corrupt or crafted header, refused as such.
 */
#define ELF_MAX_MEMSZ 0x20000000u

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t rd16(const uint8_t *p, int be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

/* A table of n entries of size es at off lies inside the file (no wrap). */
static int table_fits(uint64_t off, uint64_t es, uint64_t n, size_t len)
{
    return off <= len && es * n <= len - off;
}

struct elf_load {
    uint32_t off, filesz, paddr;
    unsigned index;
};

static int load_cmp(const void *a, const void *b)
{
    const struct elf_load *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Every header field that is an offset or a size is checked against the
 * file (64-bit sums, so nothing wraps) before it is used; the PT_LOAD
 * segments with file bytes must not share those bytes, so the image never
 * holds more than the file. Only then is anything copied.
 */
static enum iap_image_err parse_elf(const uint8_t *buf, size_t len, struct builder *b)
{
    if (len < ELF_EHDR_SIZE)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: file too short for a header");
    if (buf[4] != 1)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: only 32-bit ELF files are supported");
    if (buf[5] != 1 && buf[5] != 2)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: unknown byte order");
    if (buf[6] != 1)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: unknown ELF version %u", buf[6]);
    int be = buf[5] == 2;
    uint32_t phoff = rd32(buf + 28, be), shoff = rd32(buf + 32, be);
    uint16_t ehsize = rd16(buf + 40, be);
    uint16_t phentsize = rd16(buf + 42, be), phnum = rd16(buf + 44, be);
    uint16_t shentsize = rd16(buf + 46, be), shnum = rd16(buf + 48, be);
    if (ehsize < ELF_EHDR_SIZE || ehsize > len)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: bad header size %u", ehsize);
    if (phnum == 0)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: no program headers (not an executable?)");
    if (phnum == ELF_PN_XNUM)
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: more than 65534 program headers");
    if (phentsize < ELF_PHDR_SIZE || !table_fits(phoff, phentsize, phnum, len))
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: program headers outside the file");
    /* Not used, but a header that points outside the file is corrupt. */
    if (shnum && (shentsize < ELF_SHDR_SIZE || !table_fits(shoff, shentsize, shnum, len)))
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: section headers outside the file");
    if (!shnum && shoff && !table_fits(shoff, ELF_SHDR_SIZE, 1, len))
        return iap_fail(IAP_IMAGE_ERR_FORMAT, "ELF: section headers outside the file");

    struct elf_load *loads = malloc(phnum * sizeof *loads);
    if (!loads)
        return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
    size_t nl = 0;
    int rc = 0;
    for (unsigned i = 0; i < phnum && !rc; i++) {
        const uint8_t *ph = buf + phoff + (size_t)i * phentsize;
        uint32_t type = rd32(ph, be), off = rd32(ph + 4, be), vaddr = rd32(ph + 8, be);
        uint32_t paddr = rd32(ph + 12, be), filesz = rd32(ph + 16, be);
        uint32_t memsz = rd32(ph + 20, be);
        if (type == ELF_PT_NULL)
            continue;
        if ((uint64_t)off + filesz > len) {
            rc = iap_fail(IAP_IMAGE_ERR_FORMAT,
                          "ELF: segment %u at 0x%08x runs past the end of the file (offset 0x%x, "
                          "%u bytes, file %zu bytes)",
                          i, paddr, off, filesz, len);
            break;
        }
        if (type != ELF_PT_LOAD)
            continue;
        if (filesz > memsz)
            rc = iap_fail(
                IAP_IMAGE_ERR_FORMAT,
                "ELF: segment %u at 0x%08x has more file bytes (%u) than memory bytes (%u)", i,
                paddr, filesz, memsz);
        else if (memsz > ELF_MAX_MEMSZ)
            rc = iap_fail(IAP_IMAGE_ERR_FORMAT,
                          "ELF: segment %u at 0x%08x claims %u bytes of memory, more than a "
                          "Cortex-M memory region",
                          i, paddr, memsz);
        else if ((uint64_t)paddr + memsz > 0x100000000ull ||
                 (uint64_t)vaddr + memsz > 0x100000000ull)
            rc = iap_fail(IAP_IMAGE_ERR_FORMAT,
                          "ELF: segment %u at 0x%08x (%u bytes) runs past the 32-bit address space",
                          i, paddr, memsz);
        else if (filesz) /* PT_LOAD with bytes in the file */
            loads[nl++] = (struct elf_load){ off, filesz, paddr, i };
    }
    if (!rc && nl > 1) {
        struct elf_load *s = malloc(nl * sizeof *s);
        if (!s) {
            rc = iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
        } else {
            memcpy(s, loads, nl * sizeof *s);
            qsort(s, nl, sizeof *s, load_cmp);
            for (size_t k = 1; k < nl && !rc; k++)
                if ((uint64_t)s[k - 1].off + s[k - 1].filesz > s[k].off)
                    rc = iap_fail(IAP_IMAGE_ERR_FORMAT,
                                  "ELF: segments %u and %u share file bytes from offset 0x%x",
                                  s[k - 1].index, s[k].index, s[k].off);
            free(s);
        }
    }
    for (size_t k = 0; k < nl && !rc; k++)
        rc = seg_add(b, loads[k].paddr, buf + loads[k].off, loads[k].filesz);
    free(loads);
    return rc;
}

/* ---- public ------------------------------------------------------------ */

enum iap_image_err iap_image_parse(const uint8_t *buf, size_t len, uint32_t bin_addr,
                                   struct iap_image *img)
{
    int rc;
    memset(img, 0, sizeof *img);
    struct builder b = { .img = img, .limit = len };
    img->fmt = iap_detect_format(buf, len);
    switch (img->fmt) {
    case IAP_FMT_ELF: rc = parse_elf(buf, len, &b); break;
    case IAP_FMT_HEX: rc = parse_hex(buf, len, &b); break;
    default:
        if (len > 0xFFFFFFFFu)
            return iap_fail(IAP_IMAGE_ERR_HUGE, "file too large");
        rc = seg_add(&b, bin_addr, buf, (uint32_t)len);
        break;
    }
    if (!rc)
        rc = normalize(img);
    if (rc)
        iap_image_free(img);
    return rc;
}

/* Larger than this is no firmware image for a 2 MB flash (HEX and ELF
 * with debug information included). */
#define IAP_IMAGE_MAX_FILE (64u << 20)

enum iap_image_err iap_image_load(const char *path, uint32_t bin_addr, struct iap_image *img)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f)
        return iap_fail(IAP_IMAGE_ERR_OPEN, "cannot open %s: %s", path, strerror(errno));
    /* A regular file is read into a buffer of its size, taken once; a
	 * pipe grows its buffer up to the same limit. */
    struct stat st;
    size_t cap = 65536;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > IAP_IMAGE_MAX_FILE) {
            fclose(f);
            return iap_fail(IAP_IMAGE_ERR_HUGE, "%s: larger than 64 MB, not a firmware image",
                            path);
        }
        cap = (size_t)st.st_size + 1; /* +1: sees EOF without growing */
    }
    uint8_t *buf = malloc(cap);
    size_t len = 0;
    if (!buf) {
        fclose(f);
        return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
    }
    for (;;) {
        if (len == cap) {
            if (cap > IAP_IMAGE_MAX_FILE) {
                fclose(f);
                free(buf);
                return iap_fail(IAP_IMAGE_ERR_HUGE, "%s: larger than 64 MB, not a firmware image",
                                path);
            }
            size_t nc = cap * 2 > IAP_IMAGE_MAX_FILE + 1 ? IAP_IMAGE_MAX_FILE + 1 : cap * 2;
            uint8_t *b = realloc(buf, nc);
            if (!b) {
                fclose(f);
                free(buf);
                return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
            }
            buf = b;
            cap = nc;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return iap_fail(IAP_IMAGE_ERR_READ, "cannot read %s", path);
    }
    enum iap_image_err rc = iap_image_parse(buf, len, bin_addr, img);
    free(buf);
    if (rc == IAP_IMAGE_ERR_FORMAT || rc == IAP_IMAGE_ERR_EMPTY || rc == IAP_IMAGE_ERR_OVERLAP) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", iap_error());
        return iap_fail(rc, "%s: %s", path, tmp);
    }
    return rc;
}

void iap_image_free(struct iap_image *img)
{
    for (size_t i = 0; i < img->n; i++)
        free(img->segs[i].data);
    free(img->segs);
    img->segs = NULL;
    img->n = 0;
}

uint64_t iap_image_bytes(const struct iap_image *img)
{
    uint64_t t = 0;
    for (size_t i = 0; i < img->n; i++)
        t += img->segs[i].len;
    return t;
}

uint32_t iap_image_lo(const struct iap_image *img)
{
    return img->n ? img->segs[0].addr : 0;
}

uint64_t iap_image_hi(const struct iap_image *img)
{
    if (!img->n)
        return 0;
    const struct iap_seg *s = &img->segs[img->n - 1];
    return (uint64_t)s->addr + s->len;
}

enum iap_image_err iap_image_check_region(const struct iap_image *img, uint32_t lo, uint32_t hi)
{
    for (size_t i = 0; i < img->n; i++) {
        const struct iap_seg *s = &img->segs[i];
        uint64_t end = (uint64_t)s->addr + s->len;
        if (s->addr < lo || s->addr >= hi)
            return iap_fail(IAP_IMAGE_ERR_ADDRESS,
                            "data at 0x%08x is outside the application area 0x%08x-0x%08x", s->addr,
                            lo, hi - 1);
        if (end > hi)
            return iap_fail(IAP_IMAGE_ERR_TOO_LARGE,
                            "image too large: it ends at 0x%08x, past the end of the application "
                            "area 0x%08x (%llu bytes over; the area from 0x%08x holds %u bytes)",
                            (uint32_t)(end - 1), hi - 1, (unsigned long long)(end - hi), s->addr,
                            hi - s->addr);
    }
    return 0;
}

enum iap_image_err iap_image_pad(const struct iap_image *img, uint32_t word, struct iap_image *out)
{
    memset(out, 0, sizeof *out);
    out->fmt = img->fmt;
    if (!img->n)
        return 0;
    /* At most one block per segment. */
    out->segs = calloc(img->n, sizeof *out->segs);
    if (!out->segs)
        return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < img->n;) {
        uint64_t start = img->segs[i].addr & ~(uint64_t)(word - 1);
        uint64_t end = 0;
        size_t j = i;
        /* Take every following segment that shares or touches a word. */
        do {
            uint64_t e = (uint64_t)img->segs[j].addr + img->segs[j].len;
            e = (e + word - 1) & ~(uint64_t)(word - 1);
            if (e > end)
                end = e;
            j++;
        } while (j < img->n && (img->segs[j].addr & ~(uint64_t)(word - 1)) <= end);
        if (end > 0x100000000ull) {
            iap_image_free(out);
            return iap_fail(IAP_IMAGE_ERR_ADDRESS, "padding runs past 0xffffffff");
        }
        size_t len = (size_t)(end - start);
        uint8_t *d = malloc(len);
        if (!d) {
            iap_image_free(out);
            return iap_fail(IAP_IMAGE_ERR_NOMEM, "out of memory");
        }
        memset(d, 0xFF, len);
        for (size_t k = i; k < j; k++)
            memcpy(d + (img->segs[k].addr - start), img->segs[k].data, img->segs[k].len);
        out->segs[out->n++] = (struct iap_seg){ (uint32_t)start, (uint32_t)len, d };
        i = j;
    }
    return 0;
}

uint32_t iap_image_pages(const struct iap_image *img)
{
    int first = -1, last = -1;
    for (size_t i = 0; i < img->n; i++) {
        const struct iap_seg *s = &img->segs[i];
        if (!s->len)
            continue;
        int a = an3155_h7_page_of(s->addr);
        int b = an3155_h7_page_of(s->addr + s->len - 1);
        if (a < 0 || b < 0)
            continue;
        if (first < 0 || a < first)
            first = a;
        if (b > last)
            last = b;
    }
    uint32_t mask = 0;
    for (int p = first; first >= 0 && p <= last; p++)
        mask |= 1u << p;
    return mask;
}

const char *iap_image_strerror(enum iap_image_err err)
{
    switch (err) {
    case IAP_IMAGE_OK: return "success";
    case IAP_IMAGE_ERR_OPEN: return "cannot open the image file";
    case IAP_IMAGE_ERR_READ: return "cannot read the image file";
    case IAP_IMAGE_ERR_FORMAT: return "malformed image file";
    case IAP_IMAGE_ERR_EMPTY: return "the image file holds no data";
    case IAP_IMAGE_ERR_OVERLAP: return "overlapping data in the image file";
    case IAP_IMAGE_ERR_HUGE: return "file too large for a firmware image";
    case IAP_IMAGE_ERR_TOO_LARGE: return "image too large for the application area";
    case IAP_IMAGE_ERR_ADDRESS: return "image outside the application area";
    case IAP_IMAGE_ERR_NOMEM: return "out of memory";
    case IAP_IMAGE_ERR_BASE:
    case IAP_IMAGE_ERR_END: break;
    }
    return "unknown image error";
}
