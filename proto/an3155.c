/* AN3155 frame helpers. Freestanding: used by the bootloader and the host. */
#include "an3155.h"
#include "h7_layout.h"

uint8_t an3155_xor(uint8_t seed, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        seed ^= p[i];
    return seed;
}

void an3155_cmd_encode(uint8_t cmd, uint8_t out[2])
{
    out[0] = cmd;
    out[1] = (uint8_t)(cmd ^ 0xFFu);
}

int an3155_cmd_decode(const uint8_t in[2], uint8_t *cmd)
{
    if ((uint8_t)(in[0] ^ in[1]) != 0xFFu)
        return AN3155_ERR_COMPL;
    *cmd = in[0];
    return AN3155_OK;
}

static void put_be32(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *in)
{
    return ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) |
           (uint32_t)in[3];
}

void an3155_addr_encode(uint32_t addr, uint8_t out[AN3155_ADDR_FRAME_LEN])
{
    put_be32(out, addr);
    out[4] = an3155_xor(0, out, 4);
}

int an3155_addr_decode(const uint8_t in[AN3155_ADDR_FRAME_LEN], uint32_t *addr)
{
    if (an3155_xor(0, in, 4) != in[4])
        return AN3155_ERR_XOR;
    *addr = get_be32(in);
    return AN3155_OK;
}

int an3155_data_encode(const uint8_t *data, size_t n, uint8_t *out)
{
    if (n < 1 || n > AN3155_MAX_DATA)
        return AN3155_ERR_LENGTH;
    out[0] = (uint8_t)(n - 1);
    for (size_t i = 0; i < n; i++)
        out[1 + i] = data[i];
    out[1 + n] = an3155_xor(out[0], data, n);
    return (int)(n + 2);
}

int an3155_data_check(uint8_t nm1, const uint8_t *data, uint8_t x)
{
    if (an3155_xor(nm1, data, (size_t)nm1 + 1) != x)
        return AN3155_ERR_XOR;
    return AN3155_OK;
}

int an3155_readlen_encode(size_t n, uint8_t out[2])
{
    if (n < 1 || n > AN3155_MAX_DATA)
        return AN3155_ERR_LENGTH;
    out[0] = (uint8_t)(n - 1);
    out[1] = (uint8_t)(out[0] ^ 0xFFu);
    return AN3155_OK;
}

int an3155_readlen_decode(const uint8_t in[2], size_t *n)
{
    if ((uint8_t)(in[0] ^ in[1]) != 0xFFu)
        return AN3155_ERR_COMPL;
    *n = (size_t)in[0] + 1;
    return AN3155_OK;
}

int an3155_ext_erase_encode(const uint16_t *pages, size_t n, uint8_t *out)
{
    if (n < 1 || n > AN3155_ERASE_SPECIAL_MIN)
        return AN3155_ERR_LENGTH;
    size_t m1 = n - 1;
    out[0] = (uint8_t)(m1 >> 8);
    out[1] = (uint8_t)m1;
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = (uint8_t)(pages[i] >> 8);
        out[3 + 2 * i] = (uint8_t)pages[i];
    }
    size_t len = 2 + 2 * n;
    out[len] = an3155_xor(0, out, len);
    return (int)(len + 1);
}

static int is_special(uint16_t code)
{
    return code == AN3155_ERASE_MASS || code == AN3155_ERASE_BANK1 || code == AN3155_ERASE_BANK2;
}

int an3155_ext_erase_special_encode(uint16_t code, uint8_t out[3])
{
    if (!is_special(code))
        return AN3155_ERR_SPECIAL;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    out[2] = (uint8_t)(out[0] ^ out[1]);
    return 3;
}

int an3155_ext_erase_rest_len(uint16_t word)
{
    if (is_special(word))
        return 1;
    if (word >= AN3155_ERASE_SPECIAL_MIN)
        return AN3155_ERR_SPECIAL;
    return 2 * ((int)word + 1) + 1;
}

int an3155_ext_erase_decode(const uint8_t *frame, size_t len, uint16_t *pages, size_t max_pages,
                            size_t *count, uint16_t *special)
{
    if (len < 3)
        return AN3155_ERR_LENGTH;
    uint16_t word = (uint16_t)((frame[0] << 8) | frame[1]);
    int rest = an3155_ext_erase_rest_len(word);
    if (rest < 0)
        return rest;
    if (len != 2 + (size_t)rest)
        return AN3155_ERR_LENGTH;
    if (an3155_xor(0, frame, len - 1) != frame[len - 1])
        return AN3155_ERR_XOR;
    if (is_special(word)) {
        *special = word;
        *count = 0;
        return AN3155_OK;
    }
    size_t n = (size_t)word + 1;
    if (n > max_pages)
        return AN3155_ERR_LENGTH;
    for (size_t i = 0; i < n; i++)
        pages[i] = (uint16_t)((frame[2 + 2 * i] << 8) | frame[3 + 2 * i]);
    *special = 0;
    *count = n;
    return AN3155_OK;
}

int an3155_get_encode(uint8_t version, const uint8_t *cmds, size_t n_cmds, uint8_t *out)
{
    if (n_cmds > 255)
        return AN3155_ERR_LENGTH;
    out[0] = (uint8_t)n_cmds;
    out[1] = version;
    for (size_t i = 0; i < n_cmds; i++)
        out[2 + i] = cmds[i];
    return (int)(2 + n_cmds);
}

void an3155_gid_encode(uint16_t pid, uint8_t out[3])
{
    out[0] = 1;
    out[1] = (uint8_t)(pid >> 8);
    out[2] = (uint8_t)pid;
}

int an3155_gid_decode(const uint8_t in[3], uint16_t *pid)
{
    if (in[0] != 1)
        return AN3155_ERR_LENGTH;
    *pid = (uint16_t)((in[1] << 8) | in[2]);
    return AN3155_OK;
}

int an3155_h7_page_of(uint32_t addr)
{
    if (addr < H7_FLASH_BASE || addr - H7_FLASH_BASE >= H7_FLASH_SIZE)
        return -1;
    return (int)((addr - H7_FLASH_BASE) / H7_SECTOR_SIZE);
}

uint32_t an3155_h7_page_addr(unsigned p)
{
    return BOOT_SECTOR_ADDR((uint32_t)p);
}

const char *an3155_strerror(int err)
{
    switch (err) {
    case AN3155_OK: return "ok";
    case AN3155_ERR_XOR: return "checksum mismatch";
    case AN3155_ERR_COMPL: return "complement byte mismatch";
    case AN3155_ERR_LENGTH: return "length out of range";
    case AN3155_ERR_ARG: return "invalid argument";
    case AN3155_ERR_SPECIAL: return "reserved erase code";
    default: return "unknown error";
    }
}

const char *an3155_reason_str(uint8_t reason)
{
    switch (reason) {
    case AN3155_REASON_NONE: return "no reason reported";
    case AN3155_REASON_BAD_CMD: return "unknown command";
    case AN3155_REASON_CHECKSUM: return "frame checksum mismatch";
    case AN3155_REASON_ADDRESS: return "address outside the allowed area";
    case AN3155_REASON_LENGTH: return "length out of range";
    case AN3155_REASON_ALIGN: return "address or length not aligned";
    case AN3155_REASON_NOT_ERASED: return "flash not erased (a flash word is programmed once)";
    case AN3155_REASON_FLASH: return "flash controller error";
    case AN3155_REASON_PROTECTED: return "memory is protected";
    case AN3155_REASON_PAGE: return "page not erasable";
    case AN3155_REASON_NO_IMAGE: return "no valid application image";
    case AN3155_REASON_TIMEOUT: return "host timeout inside a command";
    case AN3155_REASON_RAM_OFF: return "Write Memory / Go into RAM disabled in this bootloader";
    case AN3155_REASON_SEQUENCE: return "write before the transfer's position (already written)";
    case AN3155_REASON_VERIFY: return "image read back from flash differs from the data sent";
    case AN3155_REASON_TRANSFER:
        return "an earlier write of this transfer failed: erase to start again";
    default: return "unknown reason";
    }
}

const char *an3155_cmd_name(uint8_t cmd)
{
    switch (cmd) {
    case AN3155_CMD_GET: return "Get";
    case AN3155_CMD_GET_VERSION: return "Get Version";
    case AN3155_CMD_GET_ID: return "Get ID";
    case AN3155_CMD_READ: return "Read Memory";
    case AN3155_CMD_GO: return "Go";
    case AN3155_CMD_WRITE: return "Write Memory";
    case AN3155_CMD_ERASE: return "Erase";
    case AN3155_CMD_EXT_ERASE: return "Extended Erase";
    case AN3155_CMD_SPECIAL: return "Special";
    case AN3155_CMD_EXT_SPECIAL: return "Extended Special";
    case AN3155_CMD_WRITE_PROTECT: return "Write Protect";
    case AN3155_CMD_WRITE_UNPROT: return "Write Unprotect";
    case AN3155_CMD_READOUT_PROT: return "Readout Protect";
    case AN3155_CMD_READOUT_UNPROT: return "Readout Unprotect";
    case AN3155_CMD_GET_CHECKSUM: return "Get Checksum";
    case AN3155_CMD_H7_GET_REASON: return "Get Reason";
    case AN3155_CMD_H7_CONFIRM: return "Confirm";
    default: return "unknown";
    }
}
