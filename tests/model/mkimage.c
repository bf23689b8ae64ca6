/*
 * Writes a known h7sim image for the h7sim-dump tests: bank 1 sector 0 has
 * 3 programmed words, one single-ECC and one double-ECC word; bank 2
 * sector 7 is write protected; sector 2 of bank 2 was erased twice.
 */
#include <stdio.h>
#include <string.h>

#include "h7sim.h"
#include "stm32h7/flash.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkimage FILE\n");
        return 2;
    }
    struct h7sim *sim = h7sim_new(NULL);
    if (!sim)
        return 1;
    uint8_t d[96];
    memset(d, 0x5A, sizeof d);
    if (h7sim_backdoor_program(sim, 0x08000000u, d, sizeof d) != 0)
        return 1;
    h7sim_flip_bits(sim, 0x08000100u, 1);
    h7sim_flip_bits(sim, 0x08000200u, 2);
    struct h7sim_option_bytes ob;
    h7sim_get_option_bytes(sim, &ob);
    ob.wpsn[1] = 0x7Fu;
    h7sim_set_option_bytes(sim, &ob);
    /* Two erases of bank 2 sector 2 through the bus. */
    for (int i = 0; i < 2; i++) {
        h7sim_write(sim, H7_FLASH_REG(2, FLASH_KEYR), 4, FLASH_KEY1, NULL);
        h7sim_write(sim, H7_FLASH_REG(2, FLASH_KEYR), 4, FLASH_KEY2, NULL);
        h7sim_write(sim, H7_FLASH_REG(2, FLASH_CR), 4,
                    FLASH_CR_PSIZE_X64 | FLASH_CR_SER | (2u << FLASH_CR_SNB_Pos) | FLASH_CR_START,
                    NULL);
        h7sim_advance(sim, 3000000000ull);
        h7sim_write(sim, H7_FLASH_REG(2, FLASH_CR), 4, FLASH_CR_LOCK, NULL);
    }
    int rc = h7sim_save(sim, argv[1]);
    if (h7sim_violation_count(sim)) {
        h7sim_violations_print(sim, stderr);
        rc = 1;
    }
    h7sim_free(sim);
    return rc == 0 ? 0 : 1;
}
