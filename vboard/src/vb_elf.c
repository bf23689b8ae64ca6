/*
 * vboard: loading a firmware ELF file: PT_LOAD segments at their physical
 * addresses, flash through the model's back door (like st-flash), RAM
 * directly.
 */
#include "vb_internal.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vb_load_elf(struct vb *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "h7vboard: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *img = sz > 0 ? malloc((size_t)sz) : NULL;
    if (!img || fread(img, 1, (size_t)sz, f) != (size_t)sz) {
        fprintf(stderr, "h7vboard: %s: cannot read\n", path);
        fclose(f);
        free(img);
        return -1;
    }
    fclose(f);
    int rc = -1;
    uint8_t *stage = NULL, *dirty = NULL;
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    if ((size_t)sz < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_ARM) {
        fprintf(stderr, "h7vboard: %s: not a 32-bit ARM ELF file\n", path);
        goto out;
    }
    if (eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > (uint64_t)sz) {
        fprintf(stderr, "h7vboard: %s: truncated program headers\n", path);
        goto out;
    }
    stage = malloc(H7_FLASH_SIZE);
    dirty = calloc(H7_FLASH_SIZE / H7_FLASH_WORD, 1);
    if (!stage || !dirty)
        goto out;
    memset(stage, 0xFF, H7_FLASH_SIZE);
    const Elf32_Phdr *ph = (const Elf32_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_filesz == 0)
            continue;
        uint32_t pa = ph[i].p_paddr, n = ph[i].p_filesz;
        if ((uint64_t)ph[i].p_offset + n > (uint64_t)sz) {
            fprintf(stderr, "h7vboard: %s: segment %u outside the file\n", path, i);
            goto out;
        }
        const uint8_t *src = img + ph[i].p_offset;
        if (pa >= H7_FLASH_BASE && (uint64_t)pa + n <= (uint64_t)H7_FLASH_BASE + H7_FLASH_SIZE) {
            memcpy(stage + (pa - H7_FLASH_BASE), src, n);
            for (uint32_t w = (pa - H7_FLASH_BASE) / H7_FLASH_WORD;
                 w <= (pa + n - 1 - H7_FLASH_BASE) / H7_FLASH_WORD; w++)
                dirty[w] = 1;
        } else if (uc_mem_write(b->uc, pa, src, n) != UC_ERR_OK) {
            fprintf(stderr, "h7vboard: %s: segment at 0x%08x (+%u) is not in RAM or flash\n", path,
                    pa, n);
            goto out;
        }
        vb_trace(b, "load 0x%08x +%u", pa, n);
    }
    /* Program the touched flash words; words already holding the same
     * bytes are skipped (a persistent --flash file keeps the image). */
    uint8_t cur[H7_FLASH_WORD];
    for (uint32_t w = 0; w < H7_FLASH_SIZE / H7_FLASH_WORD; w++) {
        if (!dirty[w])
            continue;
        uint32_t a = H7_FLASH_BASE + w * H7_FLASH_WORD;
        h7sim_peek(b->sim, a, cur, sizeof cur);
        if (memcmp(cur, stage + w * H7_FLASH_WORD, H7_FLASH_WORD) == 0 &&
            h7sim_word_state(b->sim, a) != H7SIM_WORD_VIRGIN)
            continue;
        uint32_t w1 = w;
        while (w1 + 1 < H7_FLASH_SIZE / H7_FLASH_WORD && dirty[w1 + 1])
            w1++;
        for (uint32_t x = w; x <= w1; x++) {
            uint32_t xa = H7_FLASH_BASE + x * H7_FLASH_WORD;
            h7sim_peek(b->sim, xa, cur, sizeof cur);
            bool same = memcmp(cur, stage + x * H7_FLASH_WORD, H7_FLASH_WORD) == 0;
            if (h7sim_word_state(b->sim, xa) == H7SIM_WORD_VIRGIN) {
                bool blank = true;
                for (unsigned k = 0; k < H7_FLASH_WORD; k++)
                    blank &= stage[x * H7_FLASH_WORD + k] == 0xFF;
                if (!blank && h7sim_backdoor_program(b->sim, xa, stage + x * H7_FLASH_WORD,
                                                     H7_FLASH_WORD) != 0) {
                    fprintf(stderr, "h7vboard: cannot program 0x%08x\n", xa);
                    goto out;
                }
            } else if (!same) {
                fprintf(stderr,
                        "h7vboard: %s: flash at 0x%08x already holds other data"
                        " (use --erase to start from an erased part)\n",
                        path, xa);
                goto out;
            }
        }
        w = w1;
    }
    vb_flash_publish(b, H7_FLASH_BASE, H7_FLASH_SIZE);
    rc = 0;
out:
    free(stage);
    free(dirty);
    free(img);
    return rc;
}
