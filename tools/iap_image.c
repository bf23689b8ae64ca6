/* h7iap: loading raw binary, Intel HEX and ELF32 images. */
#include "iap_image.h"
#include "iap.h"
#include "an3155.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *iap_format_name(enum iap_format f)
{
	switch (f) {
	case IAP_FMT_HEX: return "Intel HEX";
	case IAP_FMT_ELF: return "ELF";
	default:          return "binary";
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
	if (len >= 4 && memcmp(buf, "\x7f" "ELF", 4) == 0)
		return IAP_FMT_ELF;
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
			   buf[i] == '\n'))
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
		if (digits >= 10 && digits % 2 == 0 &&
		    (k == len || buf[k] == '\n' || buf[k] == '\r'))
			return IAP_FMT_HEX;
	}
	return IAP_FMT_BIN;
}

/* ---- segment list ------------------------------------------------------ */

static int seg_add(struct iap_image *img, size_t *cap, uint32_t addr,
		   const uint8_t *data, uint32_t len)
{
	if (len == 0)
		return 0;
	if ((uint64_t)addr + len > 0x100000000ull)
		return iap_fail(IAP_EXIT_FILE,
				"data at 0x%08x (%u bytes) runs past the 32-bit address space",
				addr, len);
	/* Extend the previous segment when this one continues it (HEX). */
	if (img->n) {
		struct iap_seg *last = &img->segs[img->n - 1];
		if ((uint64_t)last->addr + last->len == addr) {
			uint8_t *d = realloc(last->data, (size_t)last->len + len);
			if (!d)
				return iap_fail(IAP_EXIT_FAIL, "out of memory");
			memcpy(d + last->len, data, len);
			last->data = d;
			last->len += len;
			return 0;
		}
	}
	if (img->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct iap_seg *s = realloc(img->segs, nc * sizeof *s);
		if (!s)
			return iap_fail(IAP_EXIT_FAIL, "out of memory");
		img->segs = s;
		*cap = nc;
	}
	uint8_t *d = malloc(len);
	if (!d)
		return iap_fail(IAP_EXIT_FAIL, "out of memory");
	memcpy(d, data, len);
	img->segs[img->n++] = (struct iap_seg){ addr, len, d };
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct iap_seg *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sort, refuse overlaps, merge touching segments. */
static int normalize(struct iap_image *img)
{
	if (img->n == 0)
		return iap_fail(IAP_EXIT_FILE, "the file holds no data to program");
	qsort(img->segs, img->n, sizeof img->segs[0], seg_cmp);
	size_t w = 0;
	for (size_t r = 1; r < img->n; r++) {
		struct iap_seg *a = &img->segs[w], *b = &img->segs[r];
		uint64_t aend = (uint64_t)a->addr + a->len;
		if (aend > b->addr)
			return iap_fail(IAP_EXIT_FILE,
					"overlapping data at 0x%08x", b->addr);
		if (aend == b->addr) {
			uint8_t *d = realloc(a->data, (size_t)a->len + b->len);
			if (!d)
				return iap_fail(IAP_EXIT_FAIL, "out of memory");
			memcpy(d + a->len, b->data, b->len);
			a->data = d;
			a->len += b->len;
			free(b->data);
			b->data = NULL;
		} else {
			img->segs[++w] = *b;
		}
	}
	img->n = w + 1;
	return 0;
}

/* ---- Intel HEX --------------------------------------------------------- */

static int parse_hex(const uint8_t *buf, size_t len, struct iap_image *img,
		     size_t *cap)
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
		while (l && (buf[i + l - 1] == '\r' || buf[i + l - 1] == ' ' ||
			     buf[i + l - 1] == '\t'))
			l--;
		const uint8_t *p = buf + i;
		i = e + 1;
		if (l == 0)
			continue;
		if (eof)
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: data after the end-of-file record (line %u)", line);
		if (p[0] != ':' || l < 11 || (l - 1) % 2)
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: malformed record on line %u", line);
		uint8_t rec[260];
		size_t n = (l - 1) / 2;
		if (n > sizeof rec || hexbytes(p + 1, n, rec))
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: bad hex digit on line %u", line);
		if (n != 5 + (size_t)rec[0])
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: record length does not match its count on line %u",
					line);
		uint8_t sum = 0;
		for (size_t k = 0; k < n; k++)
			sum = (uint8_t)(sum + rec[k]);
		if (sum)
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: checksum error on line %u", line);
		uint8_t cnt = rec[0], type = rec[3];
		uint16_t off = (uint16_t)(rec[1] << 8 | rec[2]);
		const uint8_t *d = rec + 4;
		int rc;
		switch (type) {
		case 0x00:
			/* A record that wraps past 64 KB continues linearly. */
			rc = seg_add(img, cap, base + off, d, cnt);
			if (rc)
				return rc;
			break;
		case 0x01:
			eof = 1;
			break;
		case 0x02:
			if (cnt != 2)
				return iap_fail(IAP_EXIT_FILE,
						"Intel HEX: bad segment address record on line %u", line);
			base = (uint32_t)(d[0] << 8 | d[1]) << 4;
			break;
		case 0x04:
			if (cnt != 2)
				return iap_fail(IAP_EXIT_FILE,
						"Intel HEX: bad linear address record on line %u", line);
			base = (uint32_t)(d[0] << 8 | d[1]) << 16;
			break;
		case 0x03:
		case 0x05:
			break; /* start address: not programmed */
		default:
			return iap_fail(IAP_EXIT_FILE,
					"Intel HEX: unknown record type 0x%02x on line %u", type, line);
		}
	}
	if (!eof)
		return iap_fail(IAP_EXIT_FILE, "Intel HEX: no end-of-file record (truncated file?)");
	return 0;
}

/* ---- ELF32 ------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t rd16(const uint8_t *p, int be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static int parse_elf(const uint8_t *buf, size_t len, struct iap_image *img,
		     size_t *cap)
{
	if (len < 52)
		return iap_fail(IAP_EXIT_FILE, "ELF: file too short for a header");
	if (buf[4] != 1)
		return iap_fail(IAP_EXIT_FILE, "ELF: only 32-bit ELF files are supported");
	if (buf[5] != 1 && buf[5] != 2)
		return iap_fail(IAP_EXIT_FILE, "ELF: unknown byte order");
	int be = buf[5] == 2;
	uint32_t phoff = rd32(buf + 28, be);
	uint16_t phentsize = rd16(buf + 42, be), phnum = rd16(buf + 44, be);
	if (phnum == 0)
		return iap_fail(IAP_EXIT_FILE, "ELF: no program headers (not an executable?)");
	if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phentsize * phnum > len)
		return iap_fail(IAP_EXIT_FILE, "ELF: program headers outside the file");
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (size_t)i * phentsize;
		uint32_t type = rd32(ph, be), off = rd32(ph + 4, be);
		uint32_t paddr = rd32(ph + 12, be), filesz = rd32(ph + 16, be);
		if (type != 1 || filesz == 0) /* PT_LOAD with bytes in the file */
			continue;
		if ((uint64_t)off + filesz > len)
			return iap_fail(IAP_EXIT_FILE,
					"ELF: segment %u at 0x%08x runs past the end of the file",
					i, paddr);
		int rc = seg_add(img, cap, paddr, buf + off, filesz);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- public ------------------------------------------------------------ */

int iap_image_parse(const uint8_t *buf, size_t len, uint32_t bin_addr,
		    struct iap_image *img)
{
	size_t cap = 0;
	int rc;
	memset(img, 0, sizeof *img);
	img->fmt = iap_detect_format(buf, len);
	switch (img->fmt) {
	case IAP_FMT_ELF:
		rc = parse_elf(buf, len, img, &cap);
		break;
	case IAP_FMT_HEX:
		rc = parse_hex(buf, len, img, &cap);
		break;
	default:
		if (len > 0xFFFFFFFFu)
			return iap_fail(IAP_EXIT_TOO_LARGE, "file too large");
		rc = seg_add(img, &cap, bin_addr, buf, (uint32_t)len);
		break;
	}
	if (!rc)
		rc = normalize(img);
	if (rc)
		iap_image_free(img);
	return rc;
}

int iap_image_load(const char *path, uint32_t bin_addr, struct iap_image *img)
{
	memset(img, 0, sizeof *img);
	FILE *f = fopen(path, "rb");
	if (!f)
		return iap_fail(IAP_EXIT_FILE, "cannot open %s: %s", path, strerror(errno));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20)) {
				fclose(f);
				free(buf);
				return iap_fail(IAP_EXIT_TOO_LARGE,
						"%s: larger than 64 MB, not a firmware image", path);
			}
			uint8_t *b = realloc(buf, cap);
			if (!b) {
				fclose(f);
				free(buf);
				return iap_fail(IAP_EXIT_FAIL, "out of memory");
			}
			buf = b;
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
		return iap_fail(IAP_EXIT_FILE, "cannot read %s", path);
	}
	int rc = iap_image_parse(buf, len, bin_addr, img);
	free(buf);
	if (rc && -rc == IAP_EXIT_FILE) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%s", iap_error());
		return iap_fail(IAP_EXIT_FILE, "%s: %s", path, tmp);
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

int iap_image_check_region(const struct iap_image *img, uint32_t lo, uint32_t hi)
{
	for (size_t i = 0; i < img->n; i++) {
		const struct iap_seg *s = &img->segs[i];
		uint64_t end = (uint64_t)s->addr + s->len;
		if (s->addr < lo || s->addr >= hi)
			return iap_fail(IAP_EXIT_ADDRESS,
					"data at 0x%08x is outside the application area 0x%08x-0x%08x",
					s->addr, lo, hi - 1);
		if (end > hi)
			return iap_fail(IAP_EXIT_TOO_LARGE,
					"image too large: it ends at 0x%08x, past the end of the application area 0x%08x (%llu bytes over; the area from 0x%08x holds %u bytes)",
					(uint32_t)(end - 1), hi - 1,
					(unsigned long long)(end - hi), s->addr,
					hi - s->addr);
	}
	return 0;
}

int iap_image_pad(const struct iap_image *img, uint32_t word, struct iap_image *out)
{
	size_t cap = 0;
	memset(out, 0, sizeof *out);
	out->fmt = img->fmt;
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
			return iap_fail(IAP_EXIT_ADDRESS, "padding runs past 0xffffffff");
		}
		size_t len = (size_t)(end - start);
		uint8_t *d = malloc(len);
		if (!d) {
			iap_image_free(out);
			return iap_fail(IAP_EXIT_FAIL, "out of memory");
		}
		memset(d, 0xFF, len);
		for (size_t k = i; k < j; k++)
			memcpy(d + (img->segs[k].addr - start), img->segs[k].data,
			       img->segs[k].len);
		int rc = seg_add(out, &cap, (uint32_t)start, d, (uint32_t)len);
		free(d);
		if (rc) {
			iap_image_free(out);
			return rc;
		}
		i = j;
	}
	return 0;
}

uint32_t iap_image_pages(const struct iap_image *img)
{
	uint32_t mask = 0;
	for (size_t i = 0; i < img->n; i++) {
		const struct iap_seg *s = &img->segs[i];
		if (!s->len)
			continue;
		int a = an3155_h7_page_of(s->addr);
		int b = an3155_h7_page_of(s->addr + s->len - 1);
		if (a < 0 || b < 0)
			continue;
		for (int p = a; p <= b; p++)
			mask |= 1u << p;
	}
	return mask;
}
