/*
 * vboard: ARM semihosting (BKPT 0xAB) as the test firmwares use it: console
 * output, exit with a status, and harmless answers to what the C library
 * asks at start-up.
 */
#define _GNU_SOURCE
#include "vb_internal.h"

#include <string.h>

void vb_semihost(struct vb *b)
{
    uint32_t op = vb_rreg(b, UC_ARM_REG_R0), arg = vb_rreg(b, UC_ARM_REG_R1);
    uint32_t ret = 0;
    FILE *out = b->cfg.semihost_out ? b->cfg.semihost_out : stdout;
    switch (op) {
    case 0x01: ret = 1; break; /* SYS_OPEN ":tt" */
    case 0x02: ret = 0; break; /* SYS_CLOSE */
    case 0x03: {               /* SYS_WRITEC */
        uint8_t c = 0;
        uc_mem_read(b->uc, arg, &c, 1);
        fputc(c, out);
        fflush(out);
        break;
    }
    case 0x04: { /* SYS_WRITE0 */
        char buf[256];
        for (uint32_t a = arg;; a += sizeof buf) {
            if (uc_mem_read(b->uc, a, buf, sizeof buf) != UC_ERR_OK) {
                /* Near the end of a region: byte by byte. */
                for (;; a++) {
                    uint8_t c;
                    if (uc_mem_read(b->uc, a, &c, 1) != UC_ERR_OK || c == 0)
                        break;
                    fputc(c, out);
                }
                break;
            }
            size_t n = strnlen(buf, sizeof buf);
            fwrite(buf, 1, n, out);
            if (n < sizeof buf)
                break;
        }
        fflush(out);
        break;
    }
    case 0x05: { /* SYS_WRITE {fd, buf, len} */
        uint32_t blk[3] = { 0, 0, 0 };
        uc_mem_read(b->uc, arg, blk, sizeof blk);
        FILE *o = blk[0] == 2 ? stderr : out;
        for (uint32_t i = 0; i < blk[2]; i++) {
            uint8_t c;
            if (uc_mem_read(b->uc, blk[1] + i, &c, 1) != UC_ERR_OK)
                break;
            fputc(c, o);
        }
        fflush(o);
        ret = 0;
        break;
    }
    case 0x06: { /* SYS_READ: nothing to read */
        uint32_t blk[3] = { 0, 0, 0 };
        uc_mem_read(b->uc, arg, blk, sizeof blk);
        ret = blk[2];
        break;
    }
    case 0x09: ret = 1; break;                                 /* SYS_ISTTY */
    case 0x0C: ret = 0; break;                                 /* SYS_FLEN */
    case 0x10: ret = (uint32_t)(vb_now(b) / 10000000u); break; /* SYS_CLOCK, cs */
    case 0x11: ret = 0; break;                                 /* SYS_TIME */
    case 0x13: ret = 0; break;                                 /* SYS_ERRNO */
    case 0x15: {                                               /* SYS_GET_CMDLINE */
        uint32_t blk[2] = { 0, 0 };
        uc_mem_read(b->uc, arg, blk, sizeof blk);
        uint8_t z = 0;
        if (blk[1])
            uc_mem_write(b->uc, blk[0], &z, 1);
        blk[1] = 0;
        uc_mem_write(b->uc, arg + 4, &blk[1], 4);
        break;
    }
    case 0x16: { /* SYS_HEAPINFO: let the C library decide */
        uint32_t blk[4] = { 0, 0, 0, 0 }, p = 0;
        uc_mem_read(b->uc, arg, &p, 4);
        uc_mem_write(b->uc, p, blk, sizeof blk);
        break;
    }
    case 0x18: /* SYS_EXIT, reason in r1 */
        if (arg == 0x20026u) {
            vb_stop_run(b, VB_STOP_OK);
        } else {
            b->stop_r0 = arg;
            vb_stop_run(b, VB_STOP_FW_FAIL);
        }
        return;
    case 0x20: { /* SYS_EXIT_EXTENDED {reason, code} */
        uint32_t blk[2] = { 0, 0 };
        uc_mem_read(b->uc, arg, blk, sizeof blk);
        b->stop_r0 = blk[1];
        if (blk[0] == 0x20026u && blk[1] == 0)
            vb_stop_run(b, VB_STOP_OK);
        else
            vb_stop_run(b, VB_STOP_FW_FAIL);
        return;
    }
    default:
        vb_trace(b, "semihosting call 0x%x not supported", op);
        ret = (uint32_t)-1;
        break;
    }
    vb_wreg(b, UC_ARM_REG_R0, ret);
    vb_wreg(b, UC_ARM_REG_PC, (vb_rreg(b, UC_ARM_REG_PC) + 2) | 1);
}
