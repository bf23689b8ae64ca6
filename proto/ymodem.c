#include "ymodem.h"

#include <string.h>

uint16_t ym_crc16(uint16_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;

    while (n--) {
        crc ^= (uint16_t)(*p++) << 8;
        for (int i = 0; i < 8; i++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

const char *ym_strerror(int err)
{
    switch (err) {
    case YM_OK: return "ok";
    case YM_E_SEQ: return "YMODEM sequence complement mismatch";
    case YM_E_CRC: return "YMODEM CRC-16 mismatch";
    case YM_E_START: return "not a YMODEM block start";
    case YM_E_HEADER: return "bad YMODEM header block";
    case YM_E_ARG: return "invalid argument";
    default: return "unknown YMODEM error";
    }
}

size_t ym_block_len(uint8_t start)
{
    if (start == YM_SOH)
        return YM_BLOCK_128;
    if (start == YM_STX)
        return YM_BLOCK_1K;
    return 0;
}

int ym_block_encode(uint8_t seq, const void *data, size_t n, size_t len, uint8_t pad, uint8_t *out)
{
    uint16_t crc;

    if ((len != YM_BLOCK_128 && len != YM_BLOCK_1K) || n > len || (n && !data))
        return YM_E_ARG;
    out[0] = len == YM_BLOCK_1K ? YM_STX : YM_SOH;
    out[1] = seq;
    out[2] = (uint8_t)~seq;
    if (n)
        memmove(out + 3, data, n); /* data may already be in place */
    memset(out + 3 + n, pad, len - n);
    crc = ym_crc16(0, out + 3, len);
    out[3 + len] = (uint8_t)(crc >> 8);
    out[4 + len] = (uint8_t)crc;
    return (int)(len + YM_OVERHEAD);
}

int ym_block_check(const uint8_t *frame)
{
    size_t len = ym_block_len(frame[0]);
    uint16_t crc;

    if (!len)
        return YM_E_START;
    if ((uint8_t)(frame[1] ^ frame[2]) != 0xFFu)
        return YM_E_SEQ;
    crc = ym_crc16(0, frame + 3, len);
    if (frame[3 + len] != (uint8_t)(crc >> 8) || frame[4 + len] != (uint8_t)crc)
        return YM_E_CRC;
    return YM_OK;
}

int ym_header_parse(const uint8_t *data, size_t len, struct ym_header *h)
{
    size_t i, nl;
    uint64_t size = 0;

    memset(h, 0, sizeof(*h));
    if (len == 0)
        return YM_E_HEADER;
    if (data[0] == 0) {
        h->end_of_batch = true;
        return YM_OK;
    }
    for (nl = 0; nl < len && data[nl]; nl++)
        ;
    if (nl == len)
        return YM_E_HEADER;
    memcpy(h->name, data, nl < YM_NAME_MAX - 1 ? nl : YM_NAME_MAX - 1);
    i = nl + 1;
    if (i >= len || data[i] < '0' || data[i] > '9')
        return YM_OK; /* no size: allowed by the spec */
    for (; i < len && data[i] >= '0' && data[i] <= '9'; i++) {
        size = size * 10u + (uint64_t)(data[i] - '0');
        if (size > 0xFFFFFFFFu)
            return YM_E_HEADER;
    }
    if (i < len && data[i] != ' ' && data[i] != 0)
        return YM_E_HEADER;
    h->has_size = true;
    h->size = (uint32_t)size;
    return YM_OK;
}

int ym_header_encode(const char *name, uint32_t size, uint8_t *data, size_t len)
{
    char num[11];
    size_t nl, dl = 0;

    memset(data, 0, len);
    if (!name || !name[0])
        return YM_OK;
    nl = strlen(name);
    do {
        num[sizeof(num) - 1 - dl++] = (char)('0' + size % 10u);
        size /= 10u;
    } while (size);
    if (nl + 1 + dl + 1 > len)
        return YM_E_ARG;
    memcpy(data, name, nl);
    memcpy(data + nl + 1, num + sizeof(num) - dl, dl);
    return YM_OK;
}
