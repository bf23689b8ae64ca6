/*
 * vboard: a GDB remote serial protocol server (h7vboard --gdb PORT), so that
 * gdb-multiarch attaches to the board as to a probe: halt, continue, step,
 * hardware breakpoints, registers, memory, and `load` into the flash.
 *
 * - One client on 127.0.0.1:PORT; the board waits for it halted at reset.
 * - Packets with checksums; acknowledgements until QStartNoAckMode.
 * - Registers: the org.gnu.gdb.arm.m-profile feature (r0-r12, sp, lr, pc,
 *   xpsr) and msp, psp (org.gnu.gdb.arm.m-system), in that order.
 * - Breakpoints: Z0 and Z1 both take one of the 8 instruction comparators
 *   of the Cortex-M7 FPB (no BKPT is written into memory, flash or not).
 * - A memory read of the flash array is a debug access through the model:
 *   it stalls on a busy bank, sets the ECC flags of the words it reads (a
 *   double-ECC word answers with an error), and it sets RDSERR in the
 *   register set of the bank it reads: the memory views of docs/H7_FLASH.md
 *   8.2.1 (the condition on silicon is not known: the board takes the
 *   worst case, every view of the flash).
 * - Writes to the flash go through gdb's flash commands (the memory map
 *   marks the banks as flash with 128 KB blocks): vFlashErase erases
 *   sectors, vFlashWrite collects the data, vFlashDone programs it in
 *   256-bit words through the FLASH registers as a debugger's flash loader
 *   does (docs/H7_FLASH.md 8.2.2: CR is left as found, locked if it was).
 *   An M or X packet into the flash array is refused.
 * - Time while halted: the CPU and its clock stop; array operations that
 *   were started run to completion at the halt (virtual time jumps to
 *   their end), so that the debugger sees settled flash and registers.
 *   The debugger's own erases and programs take their virtual time too.
 *   Peripherals catch up at the resume (SysTick, the watchdog, USART3).
 */
#define _GNU_SOURCE
#include "vb_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GDB_PKT_MAX 16384 /* PacketSize in qSupported (hex 4000) */
#define GDB_NUM_BP  8     /* FPB instruction comparators of the Cortex-M7 */
#define GDB_NUM_REG 19

struct vb_gdb {
    int listen_fd, fd;
    int port;
    bool noack;
    uint32_t bp[GDB_NUM_BP];
    bool bp_used[GDB_NUM_BP];
    bool skip_set; /* resume from a breakpoint: pass it once */
    uint32_t skip;
    uint8_t *stage, *stage_dirty; /* vFlashWrite data, per flash word */
    bool staged;
    char pkt[GDB_PKT_MAX + 8];
    size_t pkt_len;
    char out[2 * GDB_PKT_MAX + 8];
};

static const int gdb_regs[GDB_NUM_REG] = {
    UC_ARM_REG_R0,  UC_ARM_REG_R1,   UC_ARM_REG_R2,  UC_ARM_REG_R3,  UC_ARM_REG_R4,
    UC_ARM_REG_R5,  UC_ARM_REG_R6,   UC_ARM_REG_R7,  UC_ARM_REG_R8,  UC_ARM_REG_R9,
    UC_ARM_REG_R10, UC_ARM_REG_R11,  UC_ARM_REG_R12, UC_ARM_REG_SP,  UC_ARM_REG_LR,
    UC_ARM_REG_PC,  UC_ARM_REG_XPSR, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
};

static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>arm</architecture>\n"
    "<feature name=\"org.gnu.gdb.arm.m-profile\">\n"
    "<reg name=\"r0\" bitsize=\"32\"/><reg name=\"r1\" bitsize=\"32\"/>"
    "<reg name=\"r2\" bitsize=\"32\"/><reg name=\"r3\" bitsize=\"32\"/>"
    "<reg name=\"r4\" bitsize=\"32\"/><reg name=\"r5\" bitsize=\"32\"/>"
    "<reg name=\"r6\" bitsize=\"32\"/><reg name=\"r7\" bitsize=\"32\"/>"
    "<reg name=\"r8\" bitsize=\"32\"/><reg name=\"r9\" bitsize=\"32\"/>"
    "<reg name=\"r10\" bitsize=\"32\"/><reg name=\"r11\" bitsize=\"32\"/>"
    "<reg name=\"r12\" bitsize=\"32\"/>\n"
    "<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"lr\" bitsize=\"32\"/>\n"
    "<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "<reg name=\"xpsr\" bitsize=\"32\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.arm.m-system\">\n"
    "<reg name=\"msp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"psp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "</feature>\n"
    "</target>\n";

/* The memory map gdb uses to choose its flash commands. */
static char memory_map[1024];

static void build_memory_map(void)
{
    static const struct {
        uint32_t base, size;
    } ram[] = {
        { H7_ITCM_BASE, H7_ITCM_SIZE },       { H7_DTCM_BASE, H7_DTCM_SIZE },
        { H7_AXISRAM_BASE, H7_AXISRAM_SIZE }, { H7_SRAM1_BASE, VB_SRAM123_SIZE },
        { H7_SRAM4_BASE, H7_SRAM4_SIZE },     { H7_BKPSRAM_BASE, H7_BKPSRAM_SIZE },
        { H7_FLASH_R_BASE, H7_FLASH_R_SIZE }, /* the FLASH registers (32-bit words) */
    };
    int n = snprintf(memory_map, sizeof memory_map,
                     "<?xml version=\"1.0\"?>\n"
                     "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\""
                     " \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
                     "<memory-map>\n");
    for (unsigned i = 0; i < sizeof ram / sizeof ram[0]; i++)
        n += snprintf(memory_map + n, sizeof memory_map - (size_t)n,
                      "<memory type=\"ram\" start=\"0x%08x\" length=\"0x%x\"/>\n", ram[i].base,
                      ram[i].size);
    for (uint32_t w = 0; w < 2; w++)
        n += snprintf(memory_map + n, sizeof memory_map - (size_t)n,
                      "<memory type=\"flash\" start=\"0x%08x\" length=\"0x%x\">"
                      "<property name=\"blocksize\">0x%x</property></memory>\n",
                      H7_FLASH_BASE + w * H7_BANK_SIZE, H7_BANK_SIZE, H7_SECTOR_SIZE);
    snprintf(memory_map + n, sizeof memory_map - (size_t)n, "</memory-map>\n");
}

/* ---- connection ---------------------------------------------------------- */

int vb_gdb_open(struct vb *b, int port)
{
    struct vb_gdb *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->fd = -1;
    g->port = port;
    g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (g->listen_fd < 0 || bind(g->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(g->listen_fd, 1) != 0) {
        fprintf(stderr, "h7vboard: --gdb %d: %s\n", port, strerror(errno));
        if (g->listen_fd >= 0)
            close(g->listen_fd);
        free(g);
        return -1;
    }
    build_memory_map();
    b->gdb = g;
    fprintf(stderr, "h7vboard: gdb server on 127.0.0.1:%d, halted at reset\n", port);
    return 0;
}

static void bp_clear_all(struct vb *b);

static void drop_client(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    bp_clear_all(b);
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->noack = false;
}

void vb_gdb_close(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    if (!g)
        return;
    if (g->fd >= 0)
        close(g->fd);
    close(g->listen_fd);
    free(g->stage);
    free(g->stage_dirty);
    free(g);
    b->gdb = NULL;
}

static int get_byte(struct vb_gdb *g)
{
    uint8_t c;
    for (;;) {
        ssize_t n = read(g->fd, &c, 1);
        if (n == 1)
            return c;
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

static bool send_all(struct vb_gdb *g, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(g->fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
    const char *d = isxdigit(c) ? strchr(hexd, tolower(c)) : NULL;
    return d ? (int)(d - hexd) : -1;
}

static bool put_packet(struct vb_gdb *g, const char *data, size_t n)
{
    static char frame[2 * GDB_PKT_MAX + 16];
    uint8_t sum = 0;
    frame[0] = '$';
    memcpy(frame + 1, data, n);
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    frame[n + 1] = '#';
    frame[n + 2] = hexd[sum >> 4];
    frame[n + 3] = hexd[sum & 15];
    for (int tries = 0; tries < 5; tries++) {
        if (!send_all(g, frame, n + 4))
            return false;
        if (g->noack)
            return true;
        int c;
        do
            c = get_byte(g);
        while (c >= 0 && c != '+' && c != '-');
        if (c == '+')
            return true;
        if (c < 0)
            return false;
    }
    return false;
}

static bool put_str(struct vb_gdb *g, const char *s)
{
    return put_packet(g, s, strlen(s));
}

/* The next packet into g->pkt (binary data kept escaped); false when the
 * client went away. A lone 0x03 while halted is ignored. */
static bool get_packet(struct vb_gdb *g)
{
    for (;;) {
        int c;
        do
            c = get_byte(g);
        while (c >= 0 && c != '$');
        if (c < 0)
            return false;
        size_t n = 0;
        uint8_t sum = 0;
        bool overflow = false;
        while ((c = get_byte(g)) >= 0 && c != '#') {
            sum = (uint8_t)(sum + (uint8_t)c);
            if (n < GDB_PKT_MAX)
                g->pkt[n++] = (char)c;
            else
                overflow = true;
        }
        int h = get_byte(g), l = get_byte(g);
        if (c < 0 || h < 0 || l < 0)
            return false;
        bool ok = !overflow && hexval(h) >= 0 && hexval(l) >= 0 &&
                  (uint8_t)(hexval(h) << 4 | hexval(l)) == sum;
        if (!g->noack && !send_all(g, ok ? "+" : "-", 1))
            return false;
        if (ok) {
            g->pkt[n] = 0;
            g->pkt_len = n;
            return true;
        }
    }
}

/* ---- parsing helpers ----------------------------------------------------- */

static uint32_t parse_hex(const char **p)
{
    uint32_t v = 0;
    int d;
    while ((d = hexval(**p)) >= 0) {
        v = v << 4 | (uint32_t)d;
        (*p)++;
    }
    return v;
}

static void put_hex32_le(char *o, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        o[2 * i] = hexd[(v >> (8 * i + 4)) & 15];
        o[2 * i + 1] = hexd[(v >> (8 * i)) & 15];
    }
}

static uint32_t get_hex32_le(const char *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1])) << (8 * i);
    return v;
}

/* Undo the 0x7d escapes of binary data in place; returns its length. */
static size_t unescape(char *d, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 0x7d && i + 1 < n)
            d[o++] = (char)(d[++i] ^ 0x20);
        else
            d[o++] = d[i];
    }
    return o;
}

/* ---- registers ----------------------------------------------------------- */

static uint32_t reg_get(struct vb *b, unsigned n)
{
    uint32_t v = vb_rreg(b, gdb_regs[n]);
    return n == 15 ? v & ~1u : v;
}

static void reg_set(struct vb *b, unsigned n, uint32_t v)
{
    vb_wreg(b, gdb_regs[n], n == 15 ? v | 1u : v);
}

/* ---- memory -------------------------------------------------------------- */

static bool in_range(uint32_t a, uint32_t n, uint32_t base, uint32_t size)
{
    return a >= base && n <= size && a - base <= size - n;
}

static bool ram_range(uint32_t a, uint32_t n)
{
    return in_range(a, n, H7_ITCM_BASE, H7_ITCM_SIZE) ||
           in_range(a, n, H7_DTCM_BASE, H7_DTCM_SIZE) ||
           in_range(a, n, H7_AXISRAM_BASE, H7_AXISRAM_SIZE) ||
           in_range(a, n, H7_SRAM1_BASE, VB_SRAM123_SIZE) ||
           in_range(a, n, H7_SRAM4_BASE, H7_SRAM4_SIZE) ||
           in_range(a, n, H7_BKPSRAM_BASE, H7_BKPSRAM_SIZE);
}

static unsigned reg_set_of(uint32_t a)
{
    return a < H7_BANK2_BASE ? 1u : 2u;
}

/* A debugger's read of the flash array (see the top of this file). */
static bool flash_debug_read(struct vb *b, uint32_t a, uint8_t *out, uint32_t n)
{
    bool ok = true, seen[3] = { false, false, false };
    vb_model_sync(b);
    for (uint32_t i = 0; i < n;) {
        uint32_t x = a + i;
        unsigned k = 8u - (x & 7u);
        if (k > n - i)
            k = n - i;
        uint64_t v = 0, stall = 0;
        unsigned size = 1;
        while (size * 2 <= k && (x & (size * 2 - 1)) == 0)
            size *= 2;
        if (h7sim_read_ex(b->sim, H7SIM_MASTER_DMA, x, size, &v, &stall) != H7SIM_OK ||
            h7sim_word_state(b->sim, x) == H7SIM_WORD_ECC_DOUBLE)
            ok = false;
        memcpy(out + i, &v, size);
        seen[reg_set_of(x)] = true;
        i += size;
    }
    for (unsigned s = 1; s <= 2; s++)
        if (seen[s])
            h7sim_dbg_set_flags(b->sim, s, FLASH_SR_RDSERR);
    vb_model_after(b);
    vb_trace(b, "debugger read of the flash 0x%08x +%u", a, n);
    return ok;
}

static bool mem_read(struct vb *b, uint32_t a, uint8_t *out, uint32_t n)
{
    if (ram_range(a, n))
        return uc_mem_read(b->uc, a, out, n) == UC_ERR_OK;
    if (in_range(a, n, H7_FLASH_BASE, H7_FLASH_SIZE))
        return flash_debug_read(b, a, out, n);
    if (in_range(a, n, H7_FLASH_R_BASE, H7_FLASH_R_SIZE) && (a & 3) == 0 && (n & 3) == 0) {
        vb_model_sync(b);
        for (uint32_t i = 0; i < n; i += 4) {
            uint64_t v = 0;
            h7sim_read(b->sim, a + i, 4, &v, NULL);
            uint32_t w = (uint32_t)v;
            memcpy(out + i, &w, 4);
        }
        vb_model_after(b);
        return true;
    }
    return false; /* peripherals and holes: not read behind the CPU's back */
}

static bool mem_write(struct vb *b, uint32_t a, const uint8_t *in, uint32_t n)
{
    if (ram_range(a, n))
        return uc_mem_write(b->uc, a, in, n) == UC_ERR_OK;
    if (in_range(a, n, H7_FLASH_R_BASE, H7_FLASH_R_SIZE) && (a & 3) == 0 && (n & 3) == 0) {
        vb_model_sync(b);
        for (uint32_t i = 0; i < n; i += 4) {
            uint32_t w;
            memcpy(&w, in + i, 4);
            h7sim_write(b->sim, a + i, 4, w, NULL);
        }
        vb_model_after(b);
        return true;
    }
    return false; /* the flash array through vFlash only */
}

/* ---- the flash loader ---------------------------------------------------- */

static uint32_t fl_rd(struct vb *b, unsigned set, uint32_t off)
{
    uint64_t v = 0;
    vb_model_sync(b);
    h7sim_read(b->sim, H7_FLASH_REG(set, off), 4, &v, NULL);
    vb_model_after(b);
    return (uint32_t)v;
}

static void fl_wr(struct vb *b, uint32_t addr, uint32_t v)
{
    vb_model_sync(b);
    h7sim_write(b->sim, addr, 4, v, NULL);
    vb_model_after(b);
}

/* Wait for the bank to be idle, in virtual time; SR, or 0xFFFFFFFF when it
 * cannot become idle (a partial write buffer nobody completes). */
static uint32_t fl_wait(struct vb *b, unsigned set)
{
    for (;;) {
        uint32_t sr = fl_rd(b, set, FLASH_SR);
        if (!(sr & (FLASH_SR_BSY | FLASH_SR_QW | FLASH_SR_WBNE)))
            return sr;
        uint64_t t = h7sim_next_event(b->sim);
        if (t == VB_NEVER)
            return 0xFFFFFFFFu;
        vb_time_jump(b, t);
    }
}

/* The errors of the debugger's own operation (read-side flags are not). */
#define FL_OP_ERRORS \
    (FLASH_SR_WRPERR | FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR | FLASH_SR_OPERR)

/* Unlock the set, wait until idle, clear the flags; *was_locked for
 * fl_end. False if the bank stays busy. */
static bool fl_begin(struct vb *b, unsigned set, bool *was_locked)
{
    *was_locked = fl_rd(b, set, FLASH_CR) & FLASH_CR_LOCK;
    if (*was_locked) {
        fl_wr(b, H7_FLASH_REG(set, FLASH_KEYR), FLASH_KEY1);
        fl_wr(b, H7_FLASH_REG(set, FLASH_KEYR), FLASH_KEY2);
    }
    if (fl_wait(b, set) == 0xFFFFFFFFu)
        return false;
    fl_wr(b, H7_FLASH_REG(set, FLASH_CCR), FLASH_CCR_CLR_ALL);
    return true;
}

static void fl_end(struct vb *b, unsigned set, bool was_locked)
{
    uint32_t cr = fl_rd(b, set, FLASH_CR);
    fl_wr(b, H7_FLASH_REG(set, FLASH_CR), cr & ~(FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_SNB_Msk));
    if (was_locked)
        fl_wr(b, H7_FLASH_REG(set, FLASH_CR),
              (cr & ~(FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_SNB_Msk)) | FLASH_CR_LOCK);
}

static bool flash_erase(struct vb *b, uint32_t a, uint32_t n)
{
    if (!in_range(a, n, H7_FLASH_BASE, H7_FLASH_SIZE) || (a % H7_SECTOR_SIZE) ||
        (n % H7_SECTOR_SIZE))
        return false;
    for (uint32_t s = a; s < a + n; s += H7_SECTOR_SIZE) {
        unsigned set = reg_set_of(s);
        uint32_t snb = (s - H7_FLASH_BASE) % H7_BANK_SIZE / H7_SECTOR_SIZE;
        bool locked;
        if (!fl_begin(b, set, &locked))
            return false;
        uint32_t cr = fl_rd(b, set, FLASH_CR);
        cr &= ~(FLASH_CR_PG | FLASH_CR_BER | FLASH_CR_SNB_Msk | FLASH_CR_PSIZE_Msk);
        fl_wr(b, H7_FLASH_REG(set, FLASH_CR),
              cr | FLASH_CR_SER | FLASH_CR_PSIZE_X64 | (snb << FLASH_CR_SNB_Pos) | FLASH_CR_START);
        uint32_t sr = fl_wait(b, set);
        fl_end(b, set, locked);
        vb_trace(b, "debugger erased sector 0x%08x sr=0x%08x", s, sr);
        if (sr & FL_OP_ERRORS)
            return false;
    }
    return true;
}

static bool flash_stage(struct vb *b, uint32_t a, const uint8_t *d, uint32_t n)
{
    struct vb_gdb *g = b->gdb;
    if (!in_range(a, n, H7_FLASH_BASE, H7_FLASH_SIZE))
        return false;
    if (!g->stage) {
        g->stage = malloc(H7_FLASH_SIZE);
        g->stage_dirty = calloc(H7_FLASH_SIZE / H7_FLASH_WORD, 1);
        if (!g->stage || !g->stage_dirty)
            return false;
    }
    if (!g->staged)
        memset(g->stage, 0xFF, H7_FLASH_SIZE);
    g->staged = true;
    memcpy(g->stage + (a - H7_FLASH_BASE), d, n);
    for (uint32_t i = 0; i < n; i++)
        g->stage_dirty[(a - H7_FLASH_BASE + i) / H7_FLASH_WORD] = 1;
    return true;
}

/* Program the staged words, 256 bits each with PG set (eight 32-bit
 * stores), as a flash loader does. Words of all 0xFF are not programmed. */
static bool flash_done(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    bool ok = true;
    if (!g->staged)
        return true;
    g->staged = false;
    for (unsigned set = 1; set <= 2 && ok; set++) {
        uint32_t w0 = (set - 1) * H7_WORDS_PER_BANK, w1 = w0 + H7_WORDS_PER_BANK;
        bool any = false;
        for (uint32_t w = w0; w < w1 && !any; w++)
            any = g->stage_dirty[w];
        if (!any)
            continue;
        bool locked;
        if (!fl_begin(b, set, &locked))
            return false;
        uint32_t cr = fl_rd(b, set, FLASH_CR) &
                      ~(FLASH_CR_SER | FLASH_CR_BER | FLASH_CR_SNB_Msk | FLASH_CR_PSIZE_Msk);
        fl_wr(b, H7_FLASH_REG(set, FLASH_CR), cr | FLASH_CR_PG | FLASH_CR_PSIZE_X64);
        unsigned words = 0;
        for (uint32_t w = w0; w < w1 && ok; w++) {
            if (!g->stage_dirty[w])
                continue;
            g->stage_dirty[w] = 0;
            const uint8_t *d = g->stage + w * H7_FLASH_WORD;
            bool blank = true;
            for (unsigned k = 0; k < H7_FLASH_WORD; k++)
                blank &= d[k] == 0xFF;
            uint32_t a = H7_FLASH_BASE + w * H7_FLASH_WORD;
            if (blank)
                continue;
            if (h7sim_word_state(b->sim, a) != H7SIM_WORD_VIRGIN) {
                fprintf(stderr, "h7vboard: gdb: flash word 0x%08x is not erased\n", a);
                ok = false;
                break;
            }
            for (unsigned k = 0; k < H7_FLASH_WORD; k += 4) {
                uint32_t v;
                memcpy(&v, d + k, 4);
                fl_wr(b, a + k, v);
            }
            uint32_t sr = fl_wait(b, set);
            if (sr & FL_OP_ERRORS) {
                fprintf(stderr, "h7vboard: gdb: program 0x%08x failed, SR 0x%08x\n", a, sr);
                ok = false;
            }
            words++;
        }
        fl_end(b, set, locked);
        vb_trace(b, "debugger programmed %u flash words in bank %u", words, set);
    }
    if (!ok)
        memset(g->stage_dirty, 0, H7_FLASH_SIZE / H7_FLASH_WORD);
    return ok;
}

/* ---- breakpoints --------------------------------------------------------- */

/* A translation block about to run (hook_block). A breakpoint at its start
 * halts before it; one inside it stops the run so that the run loop
 * restarts with Unicorn's end address on the breakpoint (code hooks are
 * not used: with one installed, Unicorn 2.0.1 runs this board's flash
 * drivers wrongly). True when the block must not run now. */
bool vb_gdb_block(struct vb *b, uint32_t addr, uint32_t size)
{
    struct vb_gdb *g = b->gdb;
    uint32_t inside = 0;
    for (int i = 0; i < GDB_NUM_BP; i++) {
        if (!g->bp_used[i])
            continue;
        uint32_t a = g->bp[i];
        if (a == addr) {
            if (g->skip_set && g->skip == a) {
                g->skip_set = false;
                continue;
            }
            g->skip_set = false;
            b->halt_req = true;
            b->halt_sig = 5;
            b->stopping = true;
            uc_emu_stop(b->uc);
            return true;
        }
        if (a > addr && a - addr < size && (!inside || a < inside))
            inside = a;
    }
    g->skip_set = false;
    if (inside && b->until != inside) {
        b->until = inside;
        b->resume = true;
        b->stopping = true;
        uc_emu_stop(b->uc);
        return true;
    }
    return false;
}

static bool bp_add(struct vb *b, uint32_t a)
{
    struct vb_gdb *g = b->gdb;
    int free_slot = -1;
    for (int i = 0; i < GDB_NUM_BP; i++) {
        if (g->bp_used[i] && g->bp[i] == a)
            return true;
        if (!g->bp_used[i] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return false;
    g->bp[free_slot] = a;
    g->bp_used[free_slot] = true;
    b->n_bp++;
    return true;
}

static bool bp_del(struct vb *b, uint32_t a)
{
    struct vb_gdb *g = b->gdb;
    for (int i = 0; i < GDB_NUM_BP; i++) {
        if (g->bp_used[i] && g->bp[i] == a) {
            g->bp_used[i] = false;
            b->n_bp--;
            return true;
        }
    }
    return false;
}

static void bp_clear_all(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    for (int i = 0; i < GDB_NUM_BP; i++)
        if (g->bp_used[i])
            bp_del(b, g->bp[i]);
    g->skip_set = false;
}

static bool bp_at(struct vb *b, uint32_t a)
{
    for (int i = 0; i < GDB_NUM_BP; i++)
        if (b->gdb->bp_used[i] && b->gdb->bp[i] == a)
            return true;
    return false;
}

/* ---- qXfer --------------------------------------------------------------- */

static void xfer(struct vb_gdb *g, const char *doc, const char *args)
{
    const char *p = args;
    uint32_t off = parse_hex(&p);
    if (*p == ',')
        p++;
    uint32_t len = parse_hex(&p);
    size_t total = strlen(doc);
    if (len > GDB_PKT_MAX - 2)
        len = GDB_PKT_MAX - 2;
    if (off >= total) {
        put_str(g, "l");
        return;
    }
    size_t n = total - off < len ? total - off : len;
    g->out[0] = off + n < total ? 'm' : 'l';
    memcpy(g->out + 1, doc + off, n);
    put_packet(g, g->out, n + 1);
}

/* ---- the halted loop ----------------------------------------------------- */

/* Array operations already started complete at the halt. */
static void settle_flash(struct vb *b)
{
    vb_model_sync(b);
    vb_model_after(b);
    uint64_t t;
    while (!b->stopping && (t = h7sim_next_event(b->sim)) != VB_NEVER) {
        vb_time_jump(b, t);
        vb_model_sync(b);
        vb_model_after(b);
    }
    b->check_irq = true;
}

static void stop_reply(struct vb *b)
{
    char s[8];
    snprintf(s, sizeof s, "S%02x", b->halt_sig ? b->halt_sig : 5);
    put_str(b->gdb, s);
}

static void monitor(struct vb *b, const char *hex)
{
    struct vb_gdb *g = b->gdb;
    char cmd[128];
    size_t n = 0;
    while (hex[0] && hex[1] && n + 1 < sizeof cmd) {
        cmd[n++] = (char)(hexval(hex[0]) << 4 | hexval(hex[1]));
        hex += 2;
    }
    cmd[n] = 0;
    if (strcmp(cmd, "reset") == 0 || strcmp(cmd, "reset halt") == 0) {
        settle_flash(b);
        vb_system_reset(b, false);
        put_str(g, "OK");
        return;
    }
    /* Unknown command: say so on the console ("O" + hex text). */
    static const char msg[] = "h7vboard: monitor commands: reset\n";
    char o[2 * sizeof msg + 2];
    o[0] = 'O';
    for (size_t i = 0; i + 1 < sizeof msg; i++) {
        o[1 + 2 * i] = hexd[(uint8_t)msg[i] >> 4];
        o[2 + 2 * i] = hexd[(uint8_t)msg[i] & 15];
    }
    put_packet(g, o, 2 * (sizeof msg - 1) + 1);
    put_str(g, "OK");
}

/* One packet; false when the halt ends (resume, step, detach, kill). */
static bool serve(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    char *p = g->pkt;
    static uint8_t buf[GDB_PKT_MAX];
    switch (p[0]) {
    case '?': stop_reply(b); return true;
    case 'g': {
        for (unsigned i = 0; i < GDB_NUM_REG; i++)
            put_hex32_le(g->out + 8 * i, reg_get(b, i));
        put_packet(g, g->out, 8 * GDB_NUM_REG);
        return true;
    }
    case 'G': {
        if (g->pkt_len < 1 + 8 * GDB_NUM_REG) {
            put_str(g, "E01");
            return true;
        }
        for (unsigned i = 0; i < GDB_NUM_REG; i++)
            reg_set(b, i, get_hex32_le(p + 1 + 8 * i));
        put_str(g, "OK");
        return true;
    }
    case 'p': {
        const char *q = p + 1;
        uint32_t n = parse_hex(&q);
        if (n >= GDB_NUM_REG) {
            put_str(g, "E01");
            return true;
        }
        put_hex32_le(g->out, reg_get(b, n));
        put_packet(g, g->out, 8);
        return true;
    }
    case 'P': {
        const char *q = p + 1;
        uint32_t n = parse_hex(&q);
        if (n >= GDB_NUM_REG || *q != '=' || strlen(q + 1) < 8) {
            put_str(g, "E01");
            return true;
        }
        reg_set(b, n, get_hex32_le(q + 1));
        put_str(g, "OK");
        return true;
    }
    case 'm': {
        const char *q = p + 1;
        uint32_t a = parse_hex(&q), n = (*q == ',') ? (q++, parse_hex(&q)) : 0;
        if (n > GDB_PKT_MAX / 2)
            n = GDB_PKT_MAX / 2;
        if (n == 0 || !mem_read(b, a, buf, n)) {
            put_str(g, "E01");
            return true;
        }
        for (uint32_t i = 0; i < n; i++) {
            g->out[2 * i] = hexd[buf[i] >> 4];
            g->out[2 * i + 1] = hexd[buf[i] & 15];
        }
        put_packet(g, g->out, 2 * n);
        return true;
    }
    case 'M':
    case 'X': {
        const char *q = p + 1;
        uint32_t a = parse_hex(&q), n = (*q == ',') ? (q++, parse_hex(&q)) : 0;
        char *d = strchr(p, ':');
        if (!d || n > GDB_PKT_MAX) {
            put_str(g, "E01");
            return true;
        }
        d++;
        size_t have = g->pkt_len - (size_t)(d - p);
        if (p[0] == 'M') {
            if (have < 2 * (size_t)n) {
                put_str(g, "E01");
                return true;
            }
            for (uint32_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(hexval(d[2 * i]) << 4 | hexval(d[2 * i + 1]));
        } else {
            if (unescape(d, have) < n) {
                put_str(g, "E01");
                return true;
            }
            memcpy(buf, d, n);
        }
        put_str(g, n == 0 || mem_write(b, a, buf, n) ? "OK" : "E01");
        return true;
    }
    case 'c':
    case 's': {
        if (p[1]) {
            const char *q = p + 1;
            reg_set(b, 15, parse_hex(&q));
        }
        uint32_t pc = reg_get(b, 15);
        g->skip_set = bp_at(b, pc);
        g->skip = pc;
        b->step = p[0] == 's';
        b->halt_req = false;
        b->halt_sig = 0;
        return false;
    }
    case 'Z':
    case 'z': {
        if ((p[1] != '0' && p[1] != '1') || p[2] != ',') {
            put_str(g, "");
            return true;
        }
        const char *q = p + 3;
        uint32_t a = parse_hex(&q) & ~1u;
        bool ok = p[0] == 'Z' ? bp_add(b, a) : (bp_del(b, a), true);
        put_str(g, ok ? "OK" : "E0e");
        return true;
    }
    case 'k':
        vb_stop_run(b, VB_STOP_SIGNAL);
        drop_client(b);
        b->halt_req = false;
        return false;
    case 'D':
        put_str(g, "OK");
        drop_client(b);
        b->halt_req = false;
        b->halt_sig = 0;
        return false;
    case 'H': put_str(g, "OK"); return true;
    case 'T': put_str(g, "OK"); return true;
    case 'q':
        if (strncmp(p, "qSupported", 10) == 0) {
            snprintf(g->out, sizeof g->out,
                     "PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;"
                     "qXfer:memory-map:read+;hwbreak+",
                     GDB_PKT_MAX);
            put_str(g, g->out);
        } else if (strncmp(p, "qXfer:features:read:target.xml:", 31) == 0) {
            xfer(g, target_xml, p + 31);
        } else if (strncmp(p, "qXfer:memory-map:read::", 23) == 0) {
            xfer(g, memory_map, p + 23);
        } else if (strcmp(p, "qAttached") == 0) {
            put_str(g, "1");
        } else if (strcmp(p, "qC") == 0) {
            put_str(g, "QC1");
        } else if (strcmp(p, "qfThreadInfo") == 0) {
            put_str(g, "m1");
        } else if (strcmp(p, "qsThreadInfo") == 0) {
            put_str(g, "l");
        } else if (strncmp(p, "qRcmd,", 6) == 0) {
            monitor(b, p + 6);
        } else if (strncmp(p, "qSymbol", 7) == 0) {
            put_str(g, "OK");
        } else {
            put_str(g, "");
        }
        return true;
    case 'Q':
        if (strcmp(p, "QStartNoAckMode") == 0) {
            put_str(g, "OK");
            g->noack = true;
        } else {
            put_str(g, "");
        }
        return true;
    case 'v':
        if (strncmp(p, "vFlashErase:", 12) == 0) {
            const char *q = p + 12;
            uint32_t a = parse_hex(&q), n = (*q == ',') ? (q++, parse_hex(&q)) : 0;
            put_str(g, flash_erase(b, a, n) ? "OK" : "E01");
        } else if (strncmp(p, "vFlashWrite:", 12) == 0) {
            const char *q = p + 12;
            uint32_t a = parse_hex(&q);
            if (*q != ':') {
                put_str(g, "E01");
                return true;
            }
            char *d = (char *)q + 1;
            size_t n = unescape(d, g->pkt_len - (size_t)(d - p));
            put_str(g, flash_stage(b, a, (const uint8_t *)d, (uint32_t)n) ? "OK" : "E01");
        } else if (strcmp(p, "vFlashDone") == 0) {
            put_str(g, flash_done(b) ? "OK" : "E01");
        } else if (strncmp(p, "vKill", 5) == 0) {
            put_str(g, "OK");
            vb_stop_run(b, VB_STOP_SIGNAL);
            drop_client(b);
            b->halt_req = false;
            return false;
        } else {
            put_str(g, "");
        }
        return true;
    default: put_str(g, ""); return true;
    }
}

void vb_gdb_halted(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    if (!g) {
        b->halt_req = false;
        return;
    }
    if (g->fd < 0) {
        int fd;
        do
            fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR && !b->sig_stop);
        if (fd < 0) {
            b->halt_req = false;
            vb_stop_run(b, VB_STOP_SIGNAL);
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        g->fd = fd;
        vb_trace(b, "debugger attached");
    } else {
        settle_flash(b);
        stop_reply(b);
    }
    vb_trace(b, "halted at 0x%08x", reg_get(b, 15));
    for (;;) {
        if (!get_packet(g)) {
            /* The client went away: run on, as after a detach. */
            drop_client(b);
            b->halt_req = false;
            return;
        }
        if (!serve(b))
            return;
    }
}

void vb_gdb_poll(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    if (!g || g->fd < 0 || b->halt_req)
        return;
    uint8_t c;
    ssize_t n = recv(g->fd, &c, 1, MSG_DONTWAIT);
    if (n == 0) {
        drop_client(b);
        return;
    }
    if (n == 1 && c == 0x03) {
        b->halt_req = true;
        b->halt_sig = 2; /* SIGINT */
        b->stopping = true;
        uc_emu_stop(b->uc);
    }
}

bool vb_gdb_attached(const struct vb *b)
{
    return b->gdb && b->gdb->fd >= 0;
}

bool vb_gdb_bkpt(struct vb *b)
{
    if (!vb_gdb_attached(b))
        return false;
    b->halt_req = true;
    b->halt_sig = 5;
    b->stopping = true;
    uc_emu_stop(b->uc);
    return true;
}

void vb_gdb_exit(struct vb *b)
{
    struct vb_gdb *g = b->gdb;
    if (!g || g->fd < 0)
        return;
    char s[8];
    snprintf(s, sizeof s, "W%02x", vb_exit_code(b->stop) & 0xFF);
    put_str(g, s);
    drop_client(b);
}
