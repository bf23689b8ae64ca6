/*
 * h7flash low-level driver: unlock, program one flash word, erase, blank
 * check, checked reads, CRC, option bytes. Every hardware rule applied
 * here is listed with its reason in docs/DRIVER.md; the hardware facts
 * are cited as RM0399 sections or sections of docs/H7_FLASH.md.
 *
 * Functions marked H7F_RAMFUNC run while their own bank may be busy; on
 * the target they are linked into RAM so the CPU keeps running
 * (docs/H7_FLASH.md 5.1, 8.4).
 */
#include "h7f_internal.h"

/* CR bits the driver owns for one operation. */
#define CR_OP_MASK                                                                  \
    (FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_BER | FLASH_CR_PSIZE_Msk | FLASH_CR_FW | \
     FLASH_CR_START | FLASH_CR_SNB_Msk)

H7F_INLINE uint32_t rd(unsigned bank, uint32_t off)
{
    return h7f_io_read32(H7_FLASH_REG(bank, off));
}

H7F_INLINE void wr(unsigned bank, uint32_t off, uint32_t v)
{
    h7f_io_write32(H7_FLASH_REG(bank, off), v);
}

H7F_INLINE int note(struct h7f *f, int err, uint32_t sr, uint32_t addr)
{
    if (err) {
        f->last_sr = sr;
        f->last_addr = addr;
    }
    return err;
}

/* ---- errors ------------------------------------------------------------ */

const char *h7f_strerror(int err)
{
    switch (err) {
    case H7F_OK: return "ok";
    case H7F_E_INVAL: return "invalid argument";
    case H7F_E_ALIGN: return "address not 32-byte aligned";
    case H7F_E_RANGE: return "address outside 0x08000000..0x081fffff";
    case H7F_E_PROTECTED: return "sector protected for this caller";
    case H7F_E_NOT_VIRGIN: return "target flash word not erased";
    case H7F_E_TIMEOUT: return "flash operation timed out";
    case H7F_E_LOCKED: return "flash bank stays locked";
    case H7F_E_VERIFY: return "read-back differs from data written";
    case H7F_E_NOSPC: return "more data than the opened length";
    case H7F_E_SEQUENCE: return "address before the stream position (already written)";
    case H7F_E_WRPERR: return "write protection error (WRPERR)";
    case H7F_E_PGSERR: return "programming sequence error (PGSERR)";
    case H7F_E_STRBERR: return "strobe error (STRBERR)";
    case H7F_E_INCERR: return "inconsistency error (INCERR)";
    case H7F_E_OPERR: return "write/erase error (OPERR)";
    case H7F_E_RDPERR: return "read protection error (RDPERR)";
    case H7F_E_RDSERR: return "secure read error (RDSERR)";
    case H7F_E_SNECCERR: return "single ECC error corrected (SNECCERR)";
    case H7F_E_DBECCERR: return "double ECC error (DBECCERR)";
    case H7F_E_CRCRDERR: return "CRC read error (CRCRDERR)";
    case H7F_E_OPTCHANGEERR: return "option byte change error (OPTCHANGEERR)";
    default: return "unknown error";
    }
}

/* The one mapping from hardware flags to error codes. The order picks the
 * root cause when several flags are set: a pending INCERR turns the
 * following stores into PGSERR (RM0399 4.7.3), so INCERR is reported
 * first. */
H7F_RAMFUNC int h7f_flags_to_err(uint32_t sr, uint32_t optsr)
{
    if (sr & FLASH_SR_WRPERR)
        return H7F_E_WRPERR;
    if (sr & FLASH_SR_INCERR)
        return H7F_E_INCERR;
    if (sr & FLASH_SR_PGSERR)
        return H7F_E_PGSERR;
    if (sr & FLASH_SR_STRBERR)
        return H7F_E_STRBERR;
    if (sr & FLASH_SR_OPERR)
        return H7F_E_OPERR;
    if (sr & FLASH_SR_RDPERR)
        return H7F_E_RDPERR;
    if (sr & FLASH_SR_RDSERR)
        return H7F_E_RDSERR;
    if (sr & FLASH_SR_DBECCERR)
        return H7F_E_DBECCERR;
    if (sr & FLASH_SR_SNECCERR)
        return H7F_E_SNECCERR;
    if (sr & FLASH_SR_CRCRDERR)
        return H7F_E_CRCRDERR;
    if (optsr & FLASH_OPTSR_OPTCHANGEERR)
        return H7F_E_OPTCHANGEERR;
    return H7F_OK;
}

/* ---- argument checks ---------------------------------------------------- */

void h7f_init(struct h7f *f)
{
    f->protected_mask = 0x3u; /* bank 1 sectors 0-1: the bootloader */
    f->psize = FLASH_CR_PSIZE_X64;
    f->last_sr = 0;
    f->last_addr = 0;
}

H7F_RAMFUNC int h7f_check_range(uint32_t addr, uint32_t len)
{
    if (addr < H7_FLASH_BASE || addr > H7_FLASH_END)
        return H7F_E_RANGE;
    if (len > H7_FLASH_END - addr + 1u)
        return H7F_E_RANGE;
    return H7F_OK;
}

H7F_RAMFUNC int h7f_check_writable(const struct h7f *f, uint32_t addr, uint32_t len)
{
    int err = h7f_check_range(addr, len);
    if (err || len == 0)
        return err;
    uint32_t first = addr & ~(H7_SECTOR_SIZE - 1u);
    for (uint32_t s = first; s <= addr + (len - 1u); s += H7_SECTOR_SIZE) {
        if (f->protected_mask & h7f_sector_bit(s))
            return H7F_E_PROTECTED;
        if (s >= H7_FLASH_END + 1u - H7_SECTOR_SIZE)
            break;
    }
    return H7F_OK;
}

/* Hardware protection of [addr, addr+len) (within one bank): WPSN (bit =
 * 0: sector protected) and the PCROP area PRAR (256-byte blocks START..END
 * from the bank base, none when START > END), RM0399 4.9.11, 4.9.15.
 * Checked before anything is queued: the hardware would refuse with
 * WRPERR. Whether these registers follow SWAP_BANK is not confirmed
 * (docs/H7_FLASH.md 5.2); like the model, the driver takes them as
 * physical: register set = logical bank xor swap. */
H7F_RAMFUNC static int wrp_check(struct h7f *f, uint32_t addr, uint32_t len)
{
    unsigned set = h7f_bank_of(addr);
    if (rd(1, FLASH_OPTCR) & FLASH_OPTCR_SWAP_BANK)
        set ^= 3u;
    uint32_t lo = (addr - H7_FLASH_BASE) % H7_BANK_SIZE;
    uint32_t hi = lo + (len - 1u);
    uint32_t sectors = 0;
    for (uint32_t s = lo / H7_SECTOR_SIZE; s <= hi / H7_SECTOR_SIZE; s++)
        sectors |= 1u << s;
    uint32_t wpsn = rd(set, FLASH_WPSN_CUR);
    uint32_t prar = rd(set, FLASH_PRAR_CUR);
    uint32_t p_start = prar & 0xFFFu, p_end = (prar >> 16) & 0xFFFu;
    bool pcrop = p_start <= p_end && lo <= p_end * 256u + 255u && hi >= p_start * 256u;
    if ((~wpsn & sectors & FLASH_WPSN_WRPSN_Msk) || pcrop)
        return note(f, h7f_flags_to_err(FLASH_SR_WRPERR, 0), FLASH_SR_WRPERR, addr);
    return H7F_OK;
}

/* ---- the operation sequence (RAM resident) ------------------------------ */

/* Wait until none of mask is set in SRx. WBNE, QW and BSY together say
 * "nothing left in the buffer, the queue or the array" (docs/H7_FLASH.md
 * 3.2). */
H7F_RAMFUNC static int wait_clear(unsigned bank, uint32_t mask, uint32_t tmo_us, uint32_t *sr_out)
{
    uint32_t t0 = h7f_io_now_us();
    for (;;) {
        uint32_t sr = rd(bank, FLASH_SR);
        *sr_out = sr;
        if (!(sr & mask))
            return H7F_OK;
        /* A partial buffer that nothing will complete: do not wait for it. */
        if ((sr & (FLASH_SR_QW | FLASH_SR_BSY)) == 0 && (sr & H7F_SR_OP_ERRORS))
            return H7F_OK;
        if ((uint32_t)(h7f_io_now_us() - t0) > tmo_us)
            return H7F_E_TIMEOUT;
        h7f_io_poll();
    }
}

/* Keys only when LOCK=1: a key written to an unlocked bank disables the
 * bank until reset (RM0399 4.9.4) and raises a bus fault
 * (docs/H7_FLASH.md 2.4). */
H7F_RAMFUNC static int unlock(unsigned bank)
{
    if (!(rd(bank, FLASH_CR) & FLASH_CR_LOCK))
        return H7F_OK;
    wr(bank, FLASH_KEYR, FLASH_KEY1);
    wr(bank, FLASH_KEYR, FLASH_KEY2);
    h7f_io_dsb();
    if (rd(bank, FLASH_CR) & FLASH_CR_LOCK)
        return H7F_E_LOCKED;
    return H7F_OK;
}

/* Start of every program/erase: wait for whatever is queued, unlock if
 * locked, drop what a halted loader left behind, clear stale flags. */
H7F_RAMFUNC static int op_begin(struct h7f *f, unsigned bank, uint32_t addr)
{
    uint32_t sr;
    int err = wait_clear(bank, FLASH_SR_QW | FLASH_SR_BSY, H7F_TMO_BANK_US, &sr);
    if (err)
        return note(f, err, sr, addr);
    err = unlock(bank);
    if (err)
        return note(f, err, rd(bank, FLASH_SR), addr);
    /* docs/H7_FLASH.md 8.2.2, 8.2.4: a debugger or flash loader may have
     * left PG set with a partial word in the buffer (WBNE=1), or SER/BER
     * set. Clearing PG discards the buffer (RM0399 4.9.4); our first store
     * would otherwise raise INCERR (other word) or STRBERR (same word).
     * PSIZE may have been rewritten (OpenOCD's loader uses x8): set ours. */
    uint32_t cr = rd(bank, FLASH_CR);
    wr(bank, FLASH_CR, (cr & ~CR_OP_MASK) | (f->psize & FLASH_CR_PSIZE_Msk));
    /* docs/H7_FLASH.md 8.2.1, 3.7: stale flags (speculative RDSERR, ECC
     * from a memory view, a pending INCERR that turns every store into
     * PGSERR) are cleared through CCR; SR itself is read-only (RM0399
     * 4.9.5, 4.9.6). */
    wr(bank, FLASH_CCR, FLASH_CCR_CLR_ALL);
    return H7F_OK;
}

/* docs/H7_FLASH.md 8.2.2: right before the stores (or START), make sure
 * the bank is still unlocked and CR still holds what we set: a debugger
 * may have re-locked it (OpenOCD writes CR = LOCK, clearing PG and PSIZE
 * too) or cleared PG. Keys only when LOCK reads 1. Ends with DSB+ISB so
 * the CR write is done before the first store to the array
 * (docs/H7_FLASH.md 3.3, 7.3). */
H7F_RAMFUNC static int op_arm(unsigned bank, uint32_t want)
{
    /* Each pass reads CR and repairs one thing (unlock, or rewrite CR);
     * the next pass checks the repair. A debugger that keeps interfering
     * makes this give up with H7F_E_LOCKED. */
    for (unsigned i = 0; i < 6u; i++) {
        uint32_t cr = rd(bank, FLASH_CR);
        if (cr & FLASH_CR_LOCK) {
            int err = unlock(bank);
            if (err)
                return err;
            continue;
        }
        if ((cr & CR_OP_MASK) == want) {
            h7f_io_dsb();
            h7f_io_isb();
            return H7F_OK;
        }
        wr(bank, FLASH_CR, (cr & ~CR_OP_MASK) | want);
        h7f_io_dsb();
        h7f_io_isb();
    }
    return H7F_E_LOCKED;
}

/* End of every operation: clear the request bits, relock (two writes:
 * LOCK 0->1 leaves the other bits alone, RM0399 4.9.4). Keeps the first
 * error. */
H7F_RAMFUNC static int op_end(unsigned bank, int err)
{
    uint32_t cr = rd(bank, FLASH_CR);
    if (!(cr & FLASH_CR_LOCK)) {
        cr &= ~(FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_BER | FLASH_CR_SNB_Msk | FLASH_CR_FW);
        wr(bank, FLASH_CR, cr);
        wr(bank, FLASH_CR, cr | FLASH_CR_LOCK);
        h7f_io_dsb();
    }
    return err;
}

/* Wait for the operation just started, then judge it by its own flags. */
H7F_RAMFUNC static int op_wait(struct h7f *f, unsigned bank, uint32_t addr, uint32_t tmo_us)
{
    uint32_t sr;
    int err = wait_clear(bank, H7F_SR_PENDING, tmo_us, &sr);
    if (!err)
        err = h7f_flags_to_err(sr & H7F_SR_OP_ERRORS, 0);
    return note(f, err, sr, addr);
}

H7F_INLINE uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

H7F_RAMFUNC static int program_raw(struct h7f *f, uint32_t addr, const uint8_t *data)
{
    unsigned bank = h7f_bank_of(addr);
    int err = op_begin(f, bank, addr);
    if (!err) {
        err = op_arm(bank, (f->psize & FLASH_CR_PSIZE_Msk) | FLASH_CR_PG);
        if (!err) {
            /* RM0399 4.3.9: eight consecutive stores fill the 32-byte
             * buffer; the word is queued when the last byte arrives. */
            for (unsigned i = 0; i < H7_FLASH_WORD / 4u; i++)
                h7f_io_flash_write32(addr + 4u * i, load_le32(data + 4u * i));
            h7f_io_dsb();
            h7f_io_isb();
            err = op_wait(f, bank, addr, H7F_TMO_PROGRAM_US);
        } else {
            note(f, err, rd(bank, FLASH_SR), addr);
        }
    }
    return op_end(bank, err);
}

/* ---- erase jobs: one bank's sectors, one erase at a time ------------------ */

/* Start the job's next erase (a sector, or the bank with ber) and return
 * without waiting. The bank is relocked at once by setting LOCK alone
 * (RM0399 4.9.4: the other CR bits do not change; the erase goes on). */
H7F_RAMFUNC static int job_launch(struct h7f *f, struct h7f_erase_job *j)
{
    unsigned bank = h7f_bank_of(j->next);
    int err = op_begin(f, bank, j->next);
    if (!err) {
        uint32_t want =
            (f->psize & FLASH_CR_PSIZE_Msk) |
            (j->ber ? FLASH_CR_BER : FLASH_CR_SER | (h7f_sector_of(j->next) << FLASH_CR_SNB_Pos));
        err = op_arm(bank, want);
        if (!err) {
            /* RM0399 4.3.10: SER/BER and SNB first, START in a second write. */
            wr(bank, FLASH_CR, (rd(bank, FLASH_CR) & ~CR_OP_MASK) | want | FLASH_CR_START);
            h7f_io_dsb();
            h7f_io_isb();
            wr(bank, FLASH_CR, rd(bank, FLASH_CR) | FLASH_CR_LOCK);
            j->busy = true;
            j->t0 = h7f_io_now_us();
            return H7F_OK;
        }
        note(f, err, rd(bank, FLASH_SR), j->next);
    }
    return op_end(bank, err);
}

/* The job has nothing left: unlock only to clear SER/BER/SNB, relock. */
H7F_RAMFUNC static void job_close(struct h7f_erase_job *j)
{
    unsigned bank = h7f_bank_of(j->next);
    int err = unlock(bank);
    err = op_end(bank, err);
    if (!j->err)
        j->err = err;
    j->pending = false;
}

H7F_RAMFUNC int h7f_erase_job_start(struct h7f *f, struct h7f_erase_job *j, uint32_t addr,
                                    uint32_t len)
{
    if (f == NULL || j == NULL)
        return H7F_E_INVAL;
    j->busy = j->pending = j->ber = false;
    j->erased = 0;
    j->err = H7F_OK;
    j->t0 = 0;
    j->next = j->last = addr;
    if (len == 0)
        return H7F_OK;
    int err = h7f_check_writable(f, addr, len);
    if (err)
        return j->err = note(f, err, 0, addr);
    unsigned bank = h7f_bank_of(addr);
    uint32_t base = h7f_bank_base(bank);
    uint32_t hi = addr + (len - 1u);
    if (h7f_bank_of(hi) != bank)
        hi = base + (H7_BANK_SIZE - 1u);
    j->next = addr & ~(H7_SECTOR_SIZE - 1u);
    j->last = hi & ~(H7_SECTOR_SIZE - 1u);
    /* A whole bank: one bank erase is faster than eight sector erases
     * (docs/H7_FLASH.md 6.1: tME 5 s typ against 8 x 1 s at x64). */
    j->ber = j->next == base && j->last == base + 7u * H7_SECTOR_SIZE;
    err = wrp_check(f, j->next, j->last + H7_SECTOR_SIZE - j->next);
    if (err)
        return j->err = err;
    j->pending = true;
    return H7F_OK;
}

/* One step without waiting: collect a finished erase (its flags, the
 * D-cache), launch the next one. Returns 2 after progress, 1 while an
 * erase runs, 0 when the job is over (j->err says how). */
H7F_RAMFUNC static int job_step(struct h7f *f, struct h7f_erase_job *j)
{
    bool progress = false;
    if (j->busy) {
        unsigned bank = h7f_bank_of(j->next);
        uint32_t sr = rd(bank, FLASH_SR);
        if (!(sr & H7F_SR_PENDING)) {
            uint32_t span = j->ber ? H7_BANK_SIZE : H7_SECTOR_SIZE;
            int err = note(f, h7f_flags_to_err(sr & H7F_SR_OP_ERRORS, 0), sr, j->next);
            /* docs/H7_FLASH.md 7.1: the controller does not update the
             * D-cache. */
            h7f_io_dcache_invalidate(j->next, span);
            j->busy = false;
            progress = true;
            if (err) {
                j->err = err;
                job_close(j);
            } else {
                for (uint32_t s = j->next; s < j->next + span; s += H7_SECTOR_SIZE)
                    j->erased |= h7f_sector_bit(s);
                if (j->ber || j->next == j->last)
                    job_close(j);
                else
                    j->next += H7_SECTOR_SIZE;
            }
        } else if ((uint32_t)(h7f_io_now_us() - j->t0) >
                   (j->ber ? H7F_TMO_BANK_US : H7F_TMO_SECTOR_US)) {
            j->err = note(f, H7F_E_TIMEOUT, sr, j->next);
            j->busy = false;
            job_close(j);
            return 0;
        }
    }
    if (!j->busy && j->pending && !j->err) {
        int err = job_launch(f, j);
        progress = true;
        if (err) {
            j->err = err;
            j->pending = false;
        }
    }
    if (j->busy)
        return progress ? 2 : 1;
    return 0;
}

H7F_RAMFUNC int h7f_erase_job_poll(struct h7f *f, struct h7f_erase_job *j, bool wait)
{
    if (f == NULL || j == NULL)
        return H7F_E_INVAL;
    for (;;) {
        int r = job_step(f, j);
        if (r == 0)
            return j->err;
        if (!wait)
            return 1;
        if (r == 1)
            h7f_io_poll();
    }
}

H7F_RAMFUNC int h7f_erase_range(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *erased)
{
    if (f == NULL)
        return H7F_E_INVAL;
    uint32_t dummy = 0;
    if (erased == NULL)
        erased = &dummy;
    if (len == 0)
        return H7F_OK;
    int first = h7f_check_writable(f, addr, len);
    if (first)
        return note(f, first, 0, addr);

    /* RM0399 4.3.11: the banks are independent, so one job per bank runs
     * at the same time; within a bank the sectors go one after the other. */
    struct h7f_erase_job job[2];
    uint32_t end = addr + (len - 1u);
    int err = h7f_erase_job_start(f, &job[0], addr, len);
    if (!err && h7f_bank_of(addr) == 1u && h7f_bank_of(end) == 2u)
        err = h7f_erase_job_start(f, &job[1], H7_BANK2_BASE, end - H7_BANK2_BASE + 1u);
    else
        h7f_erase_job_start(f, &job[1], addr, 0); /* an empty job */
    if (err)
        return err;
    for (;;) {
        int r0 = job_step(f, &job[0]);
        int r1 = job_step(f, &job[1]);
        /* After an error nothing new starts: a running erase ends, the
         * rest of its job is dropped. */
        if (job[0].err || job[1].err) {
            for (unsigned i = 0; i < 2u; i++) {
                if (job[i].busy)
                    job[i].last = job[i].next;
                else if (job[i].pending)
                    job_close(&job[i]);
            }
        }
        if (r0 == 0 && r1 == 0)
            break;
        if (r0 != 2 && r1 != 2)
            h7f_io_poll();
    }
    *erased |= job[0].erased | job[1].erased;
    return job[0].err ? job[0].err : job[1].err;
}

/* ---- checked reads ------------------------------------------------------ */

/* Read n 32-bit words from addr (4-aligned, one bank) with ECC checking:
 * a bus error (double ECC, docs/H7_FLASH.md 3.8) or SNECCERR/DBECCERR
 * raised by these reads is returned with *bad set to the failing flash
 * word. */
static int read_words(struct h7f *f, uint32_t addr, uint32_t *out, uint32_t n, uint32_t *bad)
{
    unsigned bank = h7f_bank_of(addr);
    wr(bank, FLASH_CCR, FLASH_CCR_CLR_SNECCERR | FLASH_CCR_CLR_DBECCERR);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = addr + 4u * i;
        if (h7f_io_flash_read32(a, &out[i]) != 0) {
            *bad = a & ~(H7_FLASH_WORD - 1u);
            return note(f, h7f_flags_to_err(FLASH_SR_DBECCERR, 0), rd(bank, FLASH_SR), *bad);
        }
    }
    uint32_t sr = rd(bank, FLASH_SR);
    if (sr & H7F_SR_ECC) {
        uint32_t fa = rd(bank, FLASH_ECC_FA) & FLASH_ECC_FA_FAIL_ECC_ADDR_Msk;
        *bad = h7f_bank_base(bank) + fa * H7_FLASH_WORD;
        return note(f, h7f_flags_to_err(sr & H7F_SR_ECC, 0), sr, *bad);
    }
    return H7F_OK;
}

static int check_virgin(struct h7f *f, uint32_t addr)
{
    uint32_t w[H7_FLASH_WORD / 4u], bad;
    int err = read_words(f, addr, w, H7_FLASH_WORD / 4u, &bad);
    if (err == H7F_E_SNECCERR)
        return note(f, H7F_E_NOT_VIRGIN, f->last_sr, addr);
    if (err)
        return err;
    for (unsigned i = 0; i < H7_FLASH_WORD / 4u; i++)
        if (w[i] != 0xFFFFFFFFu)
            return note(f, H7F_E_NOT_VIRGIN, 0, addr);
    return H7F_OK;
}

/* ---- public low-level API ------------------------------------------------ */

int h7f_program_word(struct h7f *f, uint32_t addr, const void *data32)
{
    if (f == NULL || data32 == NULL)
        return H7F_E_INVAL;
    if (addr & (H7_FLASH_WORD - 1u))
        return note(f, H7F_E_ALIGN, 0, addr);
    int err = h7f_check_writable(f, addr, H7_FLASH_WORD);
    if (!err)
        err = wrp_check(f, addr, H7_FLASH_WORD);
    if (err)
        return note(f, err, 0, addr);

    /* RM0399 4.3.9: never program a word that is not virgin. Read it past
     * the D-cache: a line cached as 0xFF before a debugger or the other
     * core programmed the word would hide it (docs/H7_FLASH.md 7.1,
     * 8.2.6). */
    h7f_io_dcache_invalidate(addr, H7_FLASH_WORD);
    err = check_virgin(f, addr);
    if (err)
        return err;

    /* All-0xFF data: the erased word already holds it. Programming it
     * would leave a word that reads as erased but can never be programmed
     * again before an erase (ECC, RM0399 4.3.9): a later write of that
     * word would pass the virgin check above and break its ECC. */
    const uint8_t *data = data32;
    bool all_ff = true;
    for (unsigned i = 0; i < H7_FLASH_WORD; i++)
        all_ff = all_ff && data[i] == 0xFFu;
    if (all_ff)
        return H7F_OK;

    err = program_raw(f, addr, data);
    /* docs/H7_FLASH.md 7.1: the controller does not update the D-cache. */
    h7f_io_dcache_invalidate(addr, H7_FLASH_WORD);
    if (err)
        return err;

    uint32_t w[H7_FLASH_WORD / 4u], bad;
    err = read_words(f, addr, w, H7_FLASH_WORD / 4u, &bad);
    if (err)
        return err;
    for (unsigned i = 0; i < H7_FLASH_WORD / 4u; i++)
        if (w[i] != load_le32(data + 4u * i))
            return note(f, H7F_E_VERIFY, 0, addr + 4u * i);
    return H7F_OK;
}

int h7f_erase_sector(struct h7f *f, uint32_t addr)
{
    if (f == NULL)
        return H7F_E_INVAL;
    if (h7f_check_range(addr, 1))
        return note(f, H7F_E_RANGE, 0, addr);
    return h7f_erase_range(f, addr & ~(H7_SECTOR_SIZE - 1u), H7_SECTOR_SIZE, NULL);
}

int h7f_erase_bank(struct h7f *f, unsigned bank)
{
    if (f == NULL || (bank != 1u && bank != 2u))
        return H7F_E_INVAL;
    return h7f_erase_range(f, h7f_bank_base(bank), H7_BANK_SIZE, NULL);
}

int h7f_blank_check(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *first_bad)
{
    if (f == NULL)
        return H7F_E_INVAL;
    if ((addr | len) & (H7_FLASH_WORD - 1u))
        return note(f, H7F_E_ALIGN, 0, addr);
    int err = h7f_check_range(addr, len);
    if (err)
        return note(f, err, 0, addr);
    uint32_t dummy;
    if (first_bad == NULL)
        first_bad = &dummy;
    /* Read past the D-cache so ECC errors are seen by the flash. */
    h7f_io_dcache_invalidate(addr, len);
    uint32_t w[16];
    for (uint32_t off = 0; off < len; off += sizeof w) {
        uint32_t n = len - off < sizeof w ? len - off : (uint32_t)sizeof w;
        err = read_words(f, addr + off, w, n / 4u, first_bad);
        if (err)
            return err;
        for (uint32_t i = 0; i < n / 4u; i++) {
            if (w[i] != 0xFFFFFFFFu) {
                *first_bad = (addr + off + 4u * i) & ~(H7_FLASH_WORD - 1u);
                return note(f, H7F_E_NOT_VIRGIN, 0, *first_bad);
            }
        }
    }
    return H7F_OK;
}

int h7f_read(struct h7f *f, uint32_t addr, void *out, size_t len, uint32_t *bad_addr)
{
    if (f == NULL || (out == NULL && len != 0))
        return H7F_E_INVAL;
    if (len > UINT32_MAX)
        return note(f, H7F_E_RANGE, 0, addr);
    int err = h7f_check_range(addr, (uint32_t)len);
    if (err)
        return note(f, err, 0, addr);
    uint32_t dummy;
    if (bad_addr == NULL)
        bad_addr = &dummy;
    uint8_t *o = out;
    uint32_t w[16];
    uint32_t a = addr & ~3u;
    uint32_t end = addr + (uint32_t)len; /* may be 0x08200000 */
    int first = H7F_OK;
    while (a < end) {
        /* Chunks never cross a 64-byte boundary, hence never a bank. */
        uint32_t chunk_end = (a | 63u) + 1u;
        if (chunk_end > ((end + 3u) & ~3u))
            chunk_end = (end + 3u) & ~3u;
        uint32_t n = (chunk_end - a) / 4u;
        err = read_words(f, a, w, n, bad_addr);
        if (err == H7F_E_SNECCERR) {
            /* Corrected data was returned: keep going, report it. */
            if (!first)
                first = err;
        } else if (err) {
            return err;
        }
        for (uint32_t i = 0; i < n * 4u; i++) {
            uint32_t b = a + i;
            if (b >= addr && b < end)
                o[b - addr] = (uint8_t)(w[i / 4u] >> (8u * (i % 4u)));
        }
        a = chunk_end;
    }
    return first;
}

int h7f_crc32(struct h7f *f, uint32_t addr, size_t len, uint32_t *crc)
{
    if (f == NULL || crc == NULL)
        return H7F_E_INVAL;
    if (len > UINT32_MAX || h7f_check_range(addr, (uint32_t)len))
        return note(f, H7F_E_RANGE, 0, addr);
    uint8_t buf[64];
    uint32_t c = 0, bad;
    int first = H7F_OK;
    for (size_t off = 0; off < len; off += sizeof buf) {
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        int err = h7f_read(f, addr + (uint32_t)off, buf, n, &bad);
        if (err == H7F_E_SNECCERR) {
            if (!first)
                first = err;
        } else if (err) {
            return err;
        }
        c = crc32_zlib(c, buf, n);
    }
    *crc = c;
    return first;
}

#define CRC_UNIT_BURST CRC32_H7FLASH_BURST /* CRC_BURST = 00: 4 flash words */

int h7f_crc_unit(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *crc)
{
    if (f == NULL || crc == NULL || len == 0)
        return H7F_E_INVAL;
    if (h7f_check_range(addr, len) || h7f_bank_of(addr) != h7f_bank_of(addr + len - 1u))
        return note(f, H7F_E_RANGE, 0, addr);
    if ((addr | len) & (CRC_UNIT_BURST - 1u))
        return note(f, H7F_E_ALIGN, 0, addr);
    unsigned bank = h7f_bank_of(addr);
    int err = op_begin(f, bank, addr);
    if (err)
        return op_end(bank, err);
    wr(bank, FLASH_CR, rd(bank, FLASH_CR) | FLASH_CR_CRC_EN);
    wr(bank, FLASH_CCR, FLASH_CCR_CLR_CRCEND | FLASH_CCR_CLR_CRCRDERR);
    /* Burst field 0 (4 words), by address, fresh register and sector list. */
    wr(bank, FLASH_CRCCR, FLASH_CRCCR_CLEAN_CRC | FLASH_CRCCR_CLEAN_SECT);
    wr(bank, FLASH_CRCSADD, addr);
    /* The flash word that starts the last burst. */
    wr(bank, FLASH_CRCEADD, addr + len - CRC_UNIT_BURST);
    h7f_io_dsb();
    wr(bank, FLASH_CRCCR, FLASH_CRCCR_START_CRC);
    uint32_t sr;
    /* 40 ns per flash word (docs/FLASH_MODEL.md): a whole bank in 1.3 ms;
     * the sector erase time is a generous bound. */
    err = wait_clear(bank, FLASH_SR_CRC_BUSY, H7F_TMO_SECTOR_US, &sr);
    if (!err && (sr & FLASH_SR_CRCRDERR))
        err = h7f_flags_to_err(FLASH_SR_CRCRDERR, 0);
    else if (!err && !(sr & FLASH_SR_CRCEND))
        err = H7F_E_VERIFY;
    if (!err)
        *crc = rd(bank, FLASH_CRCDATA);
    wr(bank, FLASH_CCR, FLASH_CCR_CLR_CRCEND | FLASH_CCR_CLR_CRCRDERR);
    wr(bank, FLASH_CR, rd(bank, FLASH_CR) & ~FLASH_CR_CRC_EN);
    if (err)
        note(f, err, sr, addr);
    return op_end(bank, err);
}

int h7f_crc_unit_span(struct h7f *f, uint32_t addr, uint32_t len, uint32_t *crc)
{
    uint32_t n1, c1 = CRC32_H7FLASH_INIT, c2;
    int err;

    if (f == NULL || crc == NULL || len == 0)
        return H7F_E_INVAL;
    if (h7f_check_range(addr, len))
        return note(f, H7F_E_RANGE, 0, addr);
    n1 = addr < H7_BANK2_BASE && addr + len > H7_BANK2_BASE ? H7_BANK2_BASE - addr : len;
    err = h7f_crc_unit(f, addr, n1, &c1);
    if (err)
        return err;
    if (n1 == len) {
        *crc = c1;
        return H7F_OK;
    }
    err = h7f_crc_unit(f, H7_BANK2_BASE, len - n1, &c2);
    if (!err)
        *crc = crc32_h7flash_combine(c1, c2, len - n1);
    return err;
}

/* ---- option bytes (RM0399 4.4.3) ------------------------------------------ */

int h7f_opt_read(struct h7f *f, struct h7f_options *o)
{
    if (f == NULL || o == NULL)
        return H7F_E_INVAL;
    o->optsr = rd(1, FLASH_OPTSR_CUR);
    o->wpsn[0] = rd(1, FLASH_WPSN_CUR);
    o->wpsn[1] = rd(2, FLASH_WPSN_CUR);
    o->boot7 = rd(1, FLASH_BOOT7_CUR);
    o->boot4 = rd(1, FLASH_BOOT4_CUR);
    o->swap_bank = (rd(1, FLASH_OPTCR) & FLASH_OPTCR_SWAP_BANK) != 0;
    return H7F_OK;
}

/* Read-modify-write one _PRG register and launch the option change. */
static int opt_change(struct h7f *f, uint32_t prg_reg, uint32_t cur_reg, uint32_t mask,
                      uint32_t value)
{
    uint32_t sr;
    int err = H7F_OK;
    /* No option change while either bank has work queued
     * (docs/H7_FLASH.md 5.3). */
    for (unsigned bank = 1; bank <= 2u && !err; bank++) {
        err =
            wait_clear(bank, FLASH_SR_QW | FLASH_SR_BSY | FLASH_SR_CRC_BUSY, H7F_TMO_BANK_US, &sr);
        note(f, err, sr, prg_reg);
    }
    if (err)
        return err;
    /* OPTKEYR is one register behind two offsets: keys only when locked. */
    if (h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK) {
        h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTKEYR, FLASH_OPT_KEY1);
        h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTKEYR, FLASH_OPT_KEY2);
        h7f_io_dsb();
        if (h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTCR) & FLASH_OPTCR_OPTLOCK)
            return note(f, H7F_E_LOCKED, 0, prg_reg);
    }
    uint32_t v = h7f_io_read32(prg_reg);
    h7f_io_write32(prg_reg, (v & ~mask) | (value & mask));
    h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTCCR, FLASH_OPTCCR_CLR_OPTCHANGEERR);
    uint32_t optcr = h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTCR);
    h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTCR, optcr | FLASH_OPTCR_OPTSTART);
    h7f_io_dsb();

    uint32_t t0 = h7f_io_now_us(), optsr;
    for (;;) {
        optsr = h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTSR_CUR);
        if (!(optsr & FLASH_OPTSR_OPT_BUSY))
            break;
        if ((uint32_t)(h7f_io_now_us() - t0) > H7F_TMO_OPTION_US) {
            err = note(f, H7F_E_TIMEOUT, optsr, prg_reg);
            break;
        }
        h7f_io_poll();
    }
    if (!err) {
        err = note(f, h7f_flags_to_err(0, optsr), optsr, prg_reg);
        if (err)
            h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTCCR, FLASH_OPTCCR_CLR_OPTCHANGEERR);
    }
    if (!err && (h7f_io_read32(cur_reg) & mask) != (value & mask))
        err = note(f, H7F_E_VERIFY, h7f_io_read32(cur_reg), cur_reg);
    optcr = h7f_io_read32(H7_FLASH_R_BASE + FLASH_OPTCR);
    h7f_io_write32(H7_FLASH_R_BASE + FLASH_OPTCR, optcr | FLASH_OPTCR_OPTLOCK);
    h7f_io_dsb();
    return err;
}

int h7f_opt_set_boot_cm4(struct h7f *f, uint32_t addr)
{
    if (f == NULL || (addr & 0xFFFFu) != 0u)
        return H7F_E_INVAL;
    if ((h7f_io_read32(H7_FLASH_R_BASE + FLASH_BOOT4_CUR) & FLASH_BOOT_ADD0_Msk) == addr >> 16)
        return H7F_OK;
    return opt_change(f, H7_FLASH_R_BASE + FLASH_BOOT4_PRG, H7_FLASH_R_BASE + FLASH_BOOT4_CUR,
                      FLASH_BOOT_ADD0_Msk, addr >> 16);
}

int h7f_opt_set_wrp(struct h7f *f, unsigned bank, uint8_t protect_mask)
{
    if (f == NULL || (bank != 1u && bank != 2u))
        return H7F_E_INVAL;
    /* WPSN: bit = 0 means protected (RM0399 4.9.15). */
    return opt_change(f, H7_FLASH_REG(bank, FLASH_WPSN_PRG), H7_FLASH_REG(bank, FLASH_WPSN_CUR),
                      FLASH_WPSN_WRPSN_Msk, (uint32_t)(uint8_t)~protect_mask);
}

int h7f_opt_set_swap(struct h7f *f, bool swap)
{
    if (f == NULL)
        return H7F_E_INVAL;
    return opt_change(f, H7_FLASH_R_BASE + FLASH_OPTSR_PRG, H7_FLASH_R_BASE + FLASH_OPTSR_CUR,
                      FLASH_OPTSR_SWAP_BANK_OPT, swap ? FLASH_OPTSR_SWAP_BANK_OPT : 0u);
}
