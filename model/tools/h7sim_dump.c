/*
 * h7sim-dump: print a persisted h7sim image (h7sim_save): per-sector word
 * states, erase counts and the option bytes.
 */
#include "h7sim.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: h7sim-dump [OPTIONS] FILE\n"
                 "\n"
                 "Print the contents of an h7sim image saved by h7sim_save() (the\n"
                 "STM32H745 flash model): for each physical bank and 128 KB sector,\n"
                 "the number of virgin, programmed, single-ECC and double-ECC flash\n"
                 "words and the erase count; then the option bytes.\n"
                 "\n"
                 "Options:\n"
                 "  -w, --words   also list every ECC-bad flash word (address, state)\n"
                 "  -h, --help    show this help and exit\n"
                 "\n"
                 "Addresses are physical: bank 1 at 0x08000000, bank 2 at 0x08100000\n"
                 "(as mapped without SWAP_BANK).\n"
                 "\n"
                 "Exit status: 0 on success, 1 if the image cannot be read, 2 on usage\n"
                 "errors.\n");
}

static const char *rdp_name(unsigned rdp)
{
    if (rdp == 0xAAu)
        return "level 0";
    if (rdp == 0xCCu)
        return "level 2";
    return "level 1";
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "words", no_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool words = false;
    int c;
    while ((c = getopt_long(argc, argv, "wh", opts, NULL)) != -1) {
        switch (c) {
        case 'w': words = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "h7sim-dump: expected exactly one FILE (try --help)\n");
        return 2;
    }
    const char *path = argv[optind];
    struct h7sim_config cfg;
    h7sim_config_default(&cfg);
    cfg.strict = false;
    struct h7sim *sim = h7sim_new(&cfg);
    if (!sim) {
        fprintf(stderr, "h7sim-dump: out of memory\n");
        return 1;
    }
    const char *why = NULL;
    if (h7sim_load_ex(sim, path, &why) != 0) {
        fprintf(stderr, "h7sim-dump: %s: %s\n", path, why ? why : "cannot load");
        h7sim_free(sim);
        return 1;
    }
    /* Loading applies the stored SWAP_BANK; print physical banks. */
    bool swapped = h7sim_swapped(sim);
    struct h7sim_stats st;
    h7sim_get_stats(sim, &st);
    printf("image %s%s\n", path, swapped ? " (SWAP_BANK=1 in force)" : "");
    printf("bank sector address     virgin programmed ecc1 ecc2 erases\n");
    for (unsigned pb = 0; pb < 2; pb++) {
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++) {
            uint32_t phys = H7_FLASH_BASE + pb * H7_BANK_SIZE + s * H7_SECTOR_SIZE;
            uint32_t logical = swapped ? phys ^ H7_BANK_SIZE : phys;
            unsigned n[4] = { 0, 0, 0, 0 };
            for (uint32_t w = 0; w < H7_WORDS_PER_SECTOR; w++)
                n[h7sim_word_state(sim, logical + w * H7_FLASH_WORD) & 3u]++;
            printf("%4u %6u 0x%08x %6u %10u %4u %4u %6llu\n", pb + 1, s, (unsigned)phys, n[0], n[1],
                   n[2], n[3], (unsigned long long)st.erase_count[pb][s]);
            if (words && (n[2] || n[3])) {
                for (uint32_t w = 0; w < H7_WORDS_PER_SECTOR; w++) {
                    enum h7sim_word_state ws = h7sim_word_state(sim, logical + w * H7_FLASH_WORD);
                    if (ws == H7SIM_WORD_ECC_SINGLE || ws == H7SIM_WORD_ECC_DOUBLE)
                        printf("    0x%08x %s\n", (unsigned)(phys + w * H7_FLASH_WORD),
                               ws == H7SIM_WORD_ECC_SINGLE ? "single-ECC" : "double-ECC");
                }
            }
        }
    }
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    unsigned rdp = (ob.optsr & FLASH_OPTSR_RDP_Msk) >> FLASH_OPTSR_RDP_Pos;
    printf("option bytes\n");
    printf("  OPTSR     0x%08x  RDP 0x%02x (%s), SWAP_BANK_OPT %u, BCM7 %u, BCM4 %u\n",
           (unsigned)ob.optsr, rdp, rdp_name(rdp), (ob.optsr & FLASH_OPTSR_SWAP_BANK_OPT) ? 1u : 0u,
           (ob.optsr & FLASH_OPTSR_BCM7) ? 1u : 0u, (ob.optsr & FLASH_OPTSR_BCM4) ? 1u : 0u);
    for (unsigned i = 0; i < 2; i++) {
        printf("  WPSN%u     0x%08x  protected sectors:", i + 1, (unsigned)ob.wpsn[i]);
        bool any = false;
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++)
            if (!(ob.wpsn[i] & (1u << s))) {
                printf(" %u", s);
                any = true;
            }
        printf("%s\n", any ? "" : " none");
        printf("  PRAR%u     0x%08x\n", i + 1, (unsigned)ob.prar[i]);
        printf("  SCAR%u     0x%08x\n", i + 1, (unsigned)ob.scar[i]);
    }
    printf("  BOOT7     0x%08x  ADD0 0x%04x0000 ADD1 0x%04x0000\n", (unsigned)ob.boot7,
           (unsigned)(ob.boot7 & 0xFFFFu), (unsigned)(ob.boot7 >> 16));
    printf("  BOOT4     0x%08x  ADD0 0x%04x0000 ADD1 0x%04x0000\n", (unsigned)ob.boot4,
           (unsigned)(ob.boot4 & 0xFFFFu), (unsigned)(ob.boot4 >> 16));
    h7sim_free(sim);
    return 0;
}
