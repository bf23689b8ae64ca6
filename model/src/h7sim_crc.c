/*
 * h7sim CRC unit (RM0399 "CRC computation" of the embedded flash, registers
 * FLASH_CRCCR1/2, FLASH_CRCSADD1/2R, FLASH_CRCEADD1/2R, FLASH_CRCDATAR;
 * ST AN5507 "How to use CRC to check the integrity of the internal flash
 * memory on STM32H7 MCUs", section 4; convention and evidence in
 * docs/FLASH_MODEL.md "CRC unit").
 *
 * AN5507 convention (its SW_crc32_Calcul): CLEAN_CRC clears the register to
 * 0; then for every 32-bit word of the selection, taken little-endian from
 * the array, crc = CRC-32 step (polynomial 0x04C11DB7, most-significant bit
 * first, no reflection) of crc ^ word, then crc ^= 0x55555555. No final
 * XOR. The register runs on across bursts, sectors and START_CRCs without
 * CLEAN_CRC: CRC_BURST only decides which flash words are read (whole
 * bursts). 128 zero bytes give 0x11E66C62, the value measured on an
 * STM32H753 (same flash IP), which is also plain CRC-32/MPEG-2 arithmetic
 * with an initial value 0xB6C0AE5A over that one 4-word burst.
 */
#include "h7sim_internal.h"

static const uint32_t crc_table[256] = {
    0x00000000u, 0x04c11db7u, 0x09823b6eu, 0x0d4326d9u, 0x130476dcu, 0x17c56b6bu, 0x1a864db2u,
    0x1e475005u, 0x2608edb8u, 0x22c9f00fu, 0x2f8ad6d6u, 0x2b4bcb61u, 0x350c9b64u, 0x31cd86d3u,
    0x3c8ea00au, 0x384fbdbdu, 0x4c11db70u, 0x48d0c6c7u, 0x4593e01eu, 0x4152fda9u, 0x5f15adacu,
    0x5bd4b01bu, 0x569796c2u, 0x52568b75u, 0x6a1936c8u, 0x6ed82b7fu, 0x639b0da6u, 0x675a1011u,
    0x791d4014u, 0x7ddc5da3u, 0x709f7b7au, 0x745e66cdu, 0x9823b6e0u, 0x9ce2ab57u, 0x91a18d8eu,
    0x95609039u, 0x8b27c03cu, 0x8fe6dd8bu, 0x82a5fb52u, 0x8664e6e5u, 0xbe2b5b58u, 0xbaea46efu,
    0xb7a96036u, 0xb3687d81u, 0xad2f2d84u, 0xa9ee3033u, 0xa4ad16eau, 0xa06c0b5du, 0xd4326d90u,
    0xd0f37027u, 0xddb056feu, 0xd9714b49u, 0xc7361b4cu, 0xc3f706fbu, 0xceb42022u, 0xca753d95u,
    0xf23a8028u, 0xf6fb9d9fu, 0xfbb8bb46u, 0xff79a6f1u, 0xe13ef6f4u, 0xe5ffeb43u, 0xe8bccd9au,
    0xec7dd02du, 0x34867077u, 0x30476dc0u, 0x3d044b19u, 0x39c556aeu, 0x278206abu, 0x23431b1cu,
    0x2e003dc5u, 0x2ac12072u, 0x128e9dcfu, 0x164f8078u, 0x1b0ca6a1u, 0x1fcdbb16u, 0x018aeb13u,
    0x054bf6a4u, 0x0808d07du, 0x0cc9cdcau, 0x7897ab07u, 0x7c56b6b0u, 0x71159069u, 0x75d48ddeu,
    0x6b93dddbu, 0x6f52c06cu, 0x6211e6b5u, 0x66d0fb02u, 0x5e9f46bfu, 0x5a5e5b08u, 0x571d7dd1u,
    0x53dc6066u, 0x4d9b3063u, 0x495a2dd4u, 0x44190b0du, 0x40d816bau, 0xaca5c697u, 0xa864db20u,
    0xa527fdf9u, 0xa1e6e04eu, 0xbfa1b04bu, 0xbb60adfcu, 0xb6238b25u, 0xb2e29692u, 0x8aad2b2fu,
    0x8e6c3698u, 0x832f1041u, 0x87ee0df6u, 0x99a95df3u, 0x9d684044u, 0x902b669du, 0x94ea7b2au,
    0xe0b41de7u, 0xe4750050u, 0xe9362689u, 0xedf73b3eu, 0xf3b06b3bu, 0xf771768cu, 0xfa325055u,
    0xfef34de2u, 0xc6bcf05fu, 0xc27dede8u, 0xcf3ecb31u, 0xcbffd686u, 0xd5b88683u, 0xd1799b34u,
    0xdc3abdedu, 0xd8fba05au, 0x690ce0eeu, 0x6dcdfd59u, 0x608edb80u, 0x644fc637u, 0x7a089632u,
    0x7ec98b85u, 0x738aad5cu, 0x774bb0ebu, 0x4f040d56u, 0x4bc510e1u, 0x46863638u, 0x42472b8fu,
    0x5c007b8au, 0x58c1663du, 0x558240e4u, 0x51435d53u, 0x251d3b9eu, 0x21dc2629u, 0x2c9f00f0u,
    0x285e1d47u, 0x36194d42u, 0x32d850f5u, 0x3f9b762cu, 0x3b5a6b9bu, 0x0315d626u, 0x07d4cb91u,
    0x0a97ed48u, 0x0e56f0ffu, 0x1011a0fau, 0x14d0bd4du, 0x19939b94u, 0x1d528623u, 0xf12f560eu,
    0xf5ee4bb9u, 0xf8ad6d60u, 0xfc6c70d7u, 0xe22b20d2u, 0xe6ea3d65u, 0xeba91bbcu, 0xef68060bu,
    0xd727bbb6u, 0xd3e6a601u, 0xdea580d8u, 0xda649d6fu, 0xc423cd6au, 0xc0e2d0ddu, 0xcda1f604u,
    0xc960ebb3u, 0xbd3e8d7eu, 0xb9ff90c9u, 0xb4bcb610u, 0xb07daba7u, 0xae3afba2u, 0xaafbe615u,
    0xa7b8c0ccu, 0xa379dd7bu, 0x9b3660c6u, 0x9ff77d71u, 0x92b45ba8u, 0x9675461fu, 0x8832161au,
    0x8cf30badu, 0x81b02d74u, 0x857130c3u, 0x5d8a9099u, 0x594b8d2eu, 0x5408abf7u, 0x50c9b640u,
    0x4e8ee645u, 0x4a4ffbf2u, 0x470cdd2bu, 0x43cdc09cu, 0x7b827d21u, 0x7f436096u, 0x7200464fu,
    0x76c15bf8u, 0x68860bfdu, 0x6c47164au, 0x61043093u, 0x65c52d24u, 0x119b4be9u, 0x155a565eu,
    0x18197087u, 0x1cd86d30u, 0x029f3d35u, 0x065e2082u, 0x0b1d065bu, 0x0fdc1becu, 0x3793a651u,
    0x3352bbe6u, 0x3e119d3fu, 0x3ad08088u, 0x2497d08du, 0x2056cd3au, 0x2d15ebe3u, 0x29d4f654u,
    0xc5a92679u, 0xc1683bceu, 0xcc2b1d17u, 0xc8ea00a0u, 0xd6ad50a5u, 0xd26c4d12u, 0xdf2f6bcbu,
    0xdbee767cu, 0xe3a1cbc1u, 0xe760d676u, 0xea23f0afu, 0xeee2ed18u, 0xf0a5bd1du, 0xf464a0aau,
    0xf9278673u, 0xfde69bc4u, 0x89b8fd09u, 0x8d79e0beu, 0x803ac667u, 0x84fbdbd0u, 0x9abc8bd5u,
    0x9e7d9662u, 0x933eb0bbu, 0x97ffad0cu, 0xafb010b1u, 0xab710d06u, 0xa6322bdfu, 0xa2f33668u,
    0xbcb4666du, 0xb8757bdau, 0xb5365d03u, 0xb1f740b4u,
};

/* The plain CRC-32 step: register crc, polynomial 0x04C11DB7, the 32-bit
 * little-endian words of p fed most-significant bit first, no reflection,
 * no final XOR. Also the image file check (h7sim_fault.c, crc = 0xFFFFFFFF). */
uint32_t h7sim_i_crc32_words(uint32_t crc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 4u <= len; i += 4u) {
        /* The word's most significant byte (address +3) goes first. */
        for (int k = 3; k >= 0; k--)
            crc = (crc << 8) ^ crc_table[((crc >> 24) ^ p[i + (size_t)k]) & 0xFFu];
    }
    return crc;
}

/* AN5507 SW_crc32_Calcul: XORed into the register after every word. */
#define H7SIM_CRC_WORD_XOR 0x55555555u

/* AN5507 convention over n flash words at p, from register value crc. */
static uint32_t crc_flash_words(uint32_t crc, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n * H7_FLASH_WORD; i += 4u)
        crc = h7sim_i_crc32_words(crc, p + i, 4u) ^ H7SIM_CRC_WORD_XOR;
    return crc;
}

static uint32_t burst_words(uint32_t crccr)
{
    return 4u << (2u * ((crccr & FLASH_CRCCR_CRC_BURST_Msk) >> FLASH_CRCCR_CRC_BURST_Pos));
}

/* START_CRC: capture the selection, schedule the end. By address, the unit
 * starts with the burst holding CRCSADD and ends with the burst holding
 * CRCEADD, both aligned down to the burst size (RM0399 FLASH_CRCEADD: "the
 * address of the flash word starting the last burst"; AN5507 section 3,
 * case 2: from the last burst boundary at or before the start address to
 * the end of the burst holding the end address). Duration: AN5507 Table 1,
 * 8 clocks per flash word and 1 per burst (docs/FLASH_MODEL.md "Time"). */
void h7sim_i_crc_start(struct h7sim *sim, unsigned pb)
{
    struct h7sim_bank *b = &sim->bank[pb];
    struct h7sim_crc *c = &b->crc;
    uint64_t words = 0;
    c->burst_words = burst_words(b->crccr);
    if (b->crccr & FLASH_CRCCR_ALL_BANK) {
        c->by_sector = true;
        c->sect_mask = 0xFFu;
    } else if (b->crccr & FLASH_CRCCR_CRC_BY_SECT) {
        c->by_sector = true;
        c->sect_mask = c->added;
    } else {
        uint32_t bw = c->burst_words;
        uint32_t first = ((b->crcsadd & (H7_BANK_SIZE - 1u)) / H7_FLASH_WORD) / bw * bw;
        uint32_t last = ((b->crceadd & (H7_BANK_SIZE - 1u)) / H7_FLASH_WORD) / bw * bw;
        c->by_sector = false;
        if (last >= first) {
            c->first_word = first;
            c->last_word = last + bw - 1u;
            words = c->last_word - c->first_word + 1u;
        } else {
            /* Last burst before the first one: nothing is read. */
            c->first_word = 1;
            c->last_word = 0;
        }
    }
    if (c->by_sector)
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++)
            if (c->sect_mask & (1u << s))
                words += H7_WORDS_PER_SECTOR;
    struct h7sim_durations d;
    h7sim_durations(sim, 0, &d);
    uint64_t dur = words * d.crc_per_word + words / c->burst_words * d.crc_per_burst;
    c->busy = true;
    c->end = sim->now + (dur ? dur : 1u);
    h7sim_i_event(sim, H7SIM_EV_OP_START, H7SIM_OP_CRC, pb, 0, (uint32_t)(words * H7_FLASH_WORD));
    h7sim_i_schedule(sim);
}

/* Flash words [w0, w0 + n) of physical bank pb into the register. Protected
 * words (PCROP, secure-only) set CRCRDERR and are read as zeros; double-ECC
 * words set DBECCERR and give their stored bits. */
static void crc_read(struct h7sim *sim, unsigned pb, uint32_t w0, uint32_t n, bool *rderr,
                     bool *ecc)
{
    static const uint8_t zero[H7_FLASH_WORD];
    uint32_t crc = sim->bank[pb].crc.acc;
    for (uint32_t w = w0; w < w0 + n && w < H7_WORDS_PER_BANK; w++) {
        uint32_t off = w * H7_FLASH_WORD;
        const uint8_t *p = &sim->data[pb][off];
        if (h7sim_i_pcrop(sim, pb, off, off + H7_FLASH_WORD - 1u) ||
            h7sim_i_secure(sim, pb, off, off + H7_FLASH_WORD - 1u)) {
            *rderr = true;
            p = zero;
        } else if (sim->state[pb][w] == H7SIM_WORD_ECC_DOUBLE) {
            *ecc = true;
        }
        crc = crc_flash_words(crc, p, 1u);
    }
    sim->bank[pb].crc.acc = crc;
}

/* The computation is due: read the selection now (sectors in ascending
 * order), set CRCDATA, CRCEND and (valid with CRCEND) CRCRDERR. */
void h7sim_i_crc_complete(struct h7sim *sim, unsigned pb)
{
    struct h7sim_bank *b = &sim->bank[pb];
    struct h7sim_crc *c = &b->crc;
    bool rderr = false, ecc = false;
    if (c->by_sector) {
        for (unsigned s = 0; s < H7_SECTORS_PER_BANK; s++)
            if (c->sect_mask & (1u << s))
                crc_read(sim, pb, s * H7_WORDS_PER_SECTOR, H7_WORDS_PER_SECTOR, &rderr, &ecc);
    } else if (c->first_word <= c->last_word) {
        crc_read(sim, pb, c->first_word, c->last_word - c->first_word + 1u, &rderr, &ecc);
    }
    c->busy = false;
    b->crcdata = c->acc;
    sim->crcdata_last = c->acc;
    b->sr |= FLASH_SR_CRCEND;
    if (rderr)
        b->sr |= FLASH_SR_CRCRDERR;
    if (ecc)
        b->sr |= FLASH_SR_DBECCERR;
    sim->stats.crc_runs++;
    h7sim_i_event(sim, H7SIM_EV_OP_DONE, H7SIM_OP_CRC, pb, 0, 0);
}
