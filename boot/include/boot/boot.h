/*
 * The h7iap bootloader as a library: the same code runs on the chip, on the
 * virtual board and in host tests. Only startup, clocks, USART, watchdog and
 * the jump are target-only (boot/target/); they call into this.
 *
 * Flash goes through h7flash only, with two driver instances:
 *   fl_app: sectors 0-1 refused (every protocol write and erase),
 *   fl_log: sector 0 refused (the update record log in sector 1).
 * Every protocol also checks its ranges itself before calling the driver.
 *
 * Boot flow (boot/target/main.c):
 *   boot_init() -> handoff flag? -> boot_app_check() -> window for a host
 *   byte -> boot_session() or jump.
 */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7_layout.h"
#include "boot/serial.h"
#include "fastp.h"
#include "h7flash/h7flash.h"
#include "update_record.h"

#define BOOT_VERSION_STR "1.0.0"

/*
 * Bootloader error codes, range -2001..-2099. The bootloader's functions
 * return 0, one of these, or the code of the layer below unchanged: the
 * driver's H7F_E_* (-1..-1999) or a format's (proto_err.h, -3001..-3299);
 * docs/DESIGN.md "Error codes" has the table.
 */
#define BOOT_ERR_BASE (-2000)
enum boot_err {
    BOOT_OK = 0,
    BOOT_E_RANGE = BOOT_ERR_BASE - 1,       /* outside the allowed area */
    BOOT_E_TOO_BIG = BOOT_ERR_BASE - 2,     /* image larger than the application area */
    BOOT_E_NO_IMAGE = BOOT_ERR_BASE - 3,    /* no COMPLETE update record */
    BOOT_E_IMAGE_CRC = BOOT_ERR_BASE - 4,   /* image CRC differs from the record */
    BOOT_E_VECTORS = BOOT_ERR_BASE - 5,     /* initial SP or reset vector not plausible */
    BOOT_E_LOG = BOOT_ERR_BASE - 6,         /* record could not be written */
    BOOT_E_CANCELLED = BOOT_ERR_BASE - 7,   /* host cancelled (CAN CAN) or user abort */
    BOOT_E_PROTOCOL = BOOT_ERR_BASE - 8,    /* too many errors, sequence error */
    BOOT_E_TIMEOUT = BOOT_ERR_BASE - 9,     /* host silent */
    BOOT_E_INCOMPLETE = BOOT_ERR_BASE - 10, /* fewer bytes than announced */
    BOOT_E_STARTED = BOOT_ERR_BASE - 11,    /* newest record: an update that never ended */
    BOOT_E_NOSIZE = BOOT_ERR_BASE - 12,     /* YMODEM header without a size */
    BOOT_E_VERIFY = BOOT_ERR_BASE - 13,     /* read-back CRC differs from received data */
    BOOT_E_TRANSFER = BOOT_ERR_BASE - 14,   /* an earlier write of this transfer failed */
};

/* A driver code of a failed flash operation (H7F_E_* -1001..-1999, the
 * errno-valued ones excluded): it comes with the flash word's address. */
static inline bool boot_err_is_flash(int err)
{
    return err <= -1000 && err > BOOT_ERR_BASE;
}

/* Name of a code of any layer: the bootloader's own, else the formats'
 * (proto_strerror), else the driver's (h7f_strerror). Never NULL. */
const char *boot_strerror(int err);

/* What the caller (firmware main) must do when boot_session() returns. */
enum boot_action {
    BOOT_ACT_RESET = 1, /* system reset */
    BOOT_ACT_JUMP_APP,  /* start the verified application at addr */
    BOOT_ACT_JUMP_RAM,  /* AN3155 Go into RAM: vector table at addr */
};

struct boot_result {
    enum boot_action act;
    uint32_t addr;
    bool release_cm4; /* app image covers a valid CM4 vector table */
};

/* Result of checking the application. */
struct boot_app_info {
    int status;           /* 0: may run; else BOOT_E_* / H7F_E_* */
    uint32_t bad_addr;    /* status is a flash read error: the flash word */
    struct ur_record rec; /* newest record (if any) */
    bool have_rec;
    uint32_t sp, entry; /* from the image's vector table */
    bool cm4_valid;     /* image holds a plausible CM4 vector table */
};

/*
 * The update engine's state: written only by boot/src/update.c (the
 * protocols and the status page read it). The record log and the one
 * transfer into the application area.
 */
struct boot_update {
    struct h7f fl_log;  /* the record log's driver: sector 0 refused */
    struct ur_scan log; /* the log as scanned, kept up to date by appends */

    /* Update session: STARTED written, not yet COMPLETE. */
    bool open;
    uint32_t seq; /* the session's sequence number */
    /* The transfer into the application area: the one owner of the
	 * partial flash word and of the write order. */
    bool fast;        /* the open update is a fast-protocol transfer (its STARTED
                  is resumable): an AN3155 or YMODEM write ends it */
    bool stream;      /* w is open and may still commit */
    bool stream_dead; /* a transfer failed: writes refused until an
				   erase or a new download starts again */
    struct h7f_writer w;
    /* A staged transfer (YMODEM): written bytes wait in boot_stage_ram, a
     * ring, and boot_update_step() hands them to w a few words at a time
     * (docs/PROTOCOL.md "Write path"). */
    bool staged;
    uint32_t st_head, st_len; /* ring index of the oldest byte, bytes held */
    int st_err;               /* a step's failure, returned by the next write or commit */
};

/* The AN3155 server's session state: boot/src/an3155_srv.c only. */
struct boot_an3155_state {
    /* NACK reason (h7iap extension 0xE0) and its address. */
    uint32_t reason_addr;
    uint8_t reason;
    uint16_t errmask; /* line-error flags that invalidate an AN3155 byte */
};

/*
 * The fast protocol's transfer (boot/src/fastp_srv.c only;
 * docs/PROTOCOL.md "h7iap fast protocol"). The frames' bytes live in AXI
 * SRAM (fastp_srv.c); this is what describes them.
 */
#define BOOT_FP_SLOTS 52u

/* The staging RAM (AXI SRAM on the chip, boot/target/boot.ld): the fast
 * protocol's frame slots, or the ring of a staged download. One user at a
 * time: a download's first write ends any fast transfer. */
#define BOOT_STAGE_SLOT 8192u
#define BOOT_STAGE_SIZE (BOOT_FP_SLOTS * BOOT_STAGE_SLOT)
extern uint8_t boot_stage_ram[BOOT_FP_SLOTS][BOOT_STAGE_SLOT];

struct boot_fp_slot {
    uint32_t seq, offset;
    uint16_t len;
    bool held; /* received and checked, not yet programmed */
};

/* One region (bank) of the area: its writer, its erases, its queue of
 * frames in sequence order. */
struct boot_fp_region {
    struct h7f_writer w;
    bool wopen;
    uint32_t todo;            /* area sectors still to erase, lowest first */
    struct h7f_erase_job job; /* the erase running (job.pending) */
    uint32_t erase_t0;        /* now_ms at its start */
    uint8_t job_sector;
    uint8_t state, page; /* FP_BANK_*, for STATUS */
    uint8_t q[BOOT_FP_SLOTS];
    uint8_t qh, qn;    /* head index, count */
    uint32_t qoff;     /* bytes of the head frame programmed */
    uint32_t done;     /* bytes from the region's start programmed (STATUS, RESUME_R) */
    uint32_t rec;      /* done as the log has it (PROGRESS) */
    uint32_t rec_want; /* done to record once bank 1 is free */
};

struct boot_fastp {
    bool open;   /* a transfer is open in RAM (RESUME_R state RAM) */
    bool active; /* BEGIN seen in this session: DATA and END allowed */
    struct fp_image im;
    struct fp_order ord;
    uint32_t cum, pending; /* pending: frames below cum not programmed */
    uint16_t bad_frames;
    struct boot_fp_slot slot[BOOT_FP_SLOTS];
    struct boot_fp_region rg[FP_REGIONS];
};

/* Diagnostics shown by the menu's status page: written by boot_fail()
 * only. */
struct boot_diag {
    int last_err;
    uint32_t last_err_addr;
    /* Replies the fast protocol's encoder refused (a bug: not sent). */
    uint32_t unsent;
};

struct boot_ctx {
    /* Set by boot_init(). */
    const struct boot_serial *ser;
    struct h7f fl_app; /* application area: sectors 0-1 refused;
				   every flash read of the protocols too */

    /* Set by the firmware (or a test) after boot_init(). */
    /* AN3155 Write Memory and Go into RAM: off unless the firmware is
	 * built with H7BOOT_HOST_RAM (code from the host could rewrite the
	 * bootloader's sectors); Read Memory of RAM stays. */
    bool host_ram;
    uint32_t cm4_state;           /* see boot/target/cm4.c */
    uint32_t (*stack_used)(void); /* stack high-water mark, or NULL */

    /* The line: the format the USART has while waiting for the first
	 * byte (set by the firmware; the menu returns it to 8N1, and an
	 * AN3155 sync byte with a parity or framing error means the host
	 * uses the other one: boot/src/an3155_srv.c). */
    enum boot_ser_format idle_format;

    /* Set by the update engine's boot_update_init (the A/B one,
     * boot/ab/update_ab.c): a committed download takes effect at the next
     * reset (the bank swap), so the menu ends the session with
     * BOOT_ACT_RESET after it. */
    bool reset_after_download;
    /* The A/B layout (set by the same boot_update_init): AN3155 lists
     * Confirm (0xE2) instead of the fast protocol (0xE1). */
    bool ab_layout;

    struct boot_update upd;
    struct boot_an3155_state an;
    struct boot_fastp fp;
    struct boot_diag diag;
};

/* Driver instances, scan the record log. */
void boot_init(struct boot_ctx *c, const struct boot_serial *ser);

/* Check the application: newest record COMPLETE, CRC over flash, SP in
 * RAM, reset vector inside the image with the Thumb bit. */
void boot_app_check(struct boot_ctx *c, struct boot_app_info *info);

/* Whether an address range [a, a+n) lies in RAM the host may use. */
bool boot_ram_range_ok(uint32_t a, uint32_t n);
/* Whether sp is a plausible initial stack pointer (top of a RAM region
 * included). */
bool boot_sp_ok(uint32_t sp);

/*
 * Talk to the host until an action is needed. first is the first byte
 * already received (as from getc, with flags) or BOOT_SER_TIMEOUT to wait.
 * 0x7F starts AN3155; '1' '2' '3' are menu keys; anything else shows the
 * menu. Never returns while the host keeps talking without asking to run.
 */
struct boot_result boot_session(struct boot_ctx *c, int first);

/* ---- update engine (boot/src/update.c) ---- */

/* Start a whole-image transfer of len bytes at BOOT_APP_START (each YMODEM
 * download): each sector is erased before its first word, bank 2's in the
 * background while bank 1 is written. Whatever an earlier transfer left is
 * dropped. The transfer is staged: boot_update_write() keeps the bytes in
 * RAM (it programs only to make room), boot_update_step() programs them,
 * and the next sector's erase starts as soon as the last word before it is
 * programmed, while the host keeps sending. */
int boot_update_new_transfer(struct boot_ctx *c, uint32_t len);
/* Drop the transfer in progress (nothing of it can be committed). */
void boot_update_abandon(struct boot_ctx *c);
/* A staged transfer's bounded step: at most a few flash words programmed
 * from the ring, or the erase they need started or polled. 2: words
 * programmed, call again; 1: an erase runs (bytes wait for it); 0: nothing
 * held; or an error (the transfer has failed; the next write or commit
 * returns it too). The protocol reads the line between two steps. */
int boot_update_step(struct boot_ctx *c);
/* The log's driver instance, and the log scanned (boot_init). */
void boot_update_init(struct boot_ctx *c);
/* Re-read the record log. */
void boot_log_scan(struct boot_ctx *c);
/* Open an update: STARTED record (erasing the log first when full). */
int boot_update_begin(struct boot_ctx *c, uint32_t planned_len);
/* Program bytes into the application area through the transfer's writer:
 * addresses only move forward (a write before the transfer's position is
 * refused with H7F_E_SEQUENCE), bytes skipped must read as erased, partial
 * flash words wait in the writer. Without a transfer (AN3155: the host
 * erases) one is opened at BOOT_APP_START. Any error ends the transfer. */
int boot_update_write(struct boot_ctx *c, uint32_t addr, const void *p, size_t n);
/* Program the transfer's buffered partial word now, padded with 0xFF. */
int boot_update_flush(struct boot_ctx *c);
/* The same when [a, a+n) covers that word (a read must see every byte
 * written so far), else nothing. */
int boot_update_flush_overlap(struct boot_ctx *c, uint32_t a, uint32_t n);
/* Erase page p (2..15) of the application area. */
int boot_update_erase_page(struct boot_ctx *c, unsigned page);
/* Erase the pages of mask (bit p: page p, application pages only), bank 1
 * and bank 2 pages at the same time; on error c->diag.last_err_addr names
 * the sector. Erasing a page that holds bytes of the transfer ends it. */
int boot_update_erase_pages(struct boot_ctx *c, uint32_t mask);
/* Close the transfer: last word padded and programmed, CRC-32 over the
 * image read back from flash equal to the CRC of the bytes sent (gaps as
 * 0xFF), COMPLETE record with that length and CRC. BOOT_E_NO_IMAGE
 * without a transfer that wrote something. */
int boot_update_commit(struct boot_ctx *c);
/* A/B layout: confirm the running image on trial (ab_confirm); the
 * single-slot engine has nothing to confirm (BOOT_E_NO_IMAGE). */
int boot_update_confirm(struct boot_ctx *c);

/* The fast protocol's records (docs/PROTOCOL.md "Resume"). */
/* Open a fast update: a new resumable STARTED record (sequence +1, the
 * image's length, CRC and page mask); any transfer before it is dropped. */
int boot_update_begin_fast(struct boot_ctx *c, const struct fp_image *im);
/* PROGRESS: [start, start + done) is programmed and verified. Skipped
 * (0) when the log has fewer than three free slots: COMPLETE keeps two. */
int boot_update_progress(struct boot_ctx *c, uint32_t start, uint32_t done, uint32_t image_len);
/* COMPLETE for the open update. */
int boot_update_complete(struct boot_ctx *c, uint32_t len, uint32_t crc);
/* The newest STARTED when it is a fast transfer's with no COMPLETE after
 * it: its image and each region's largest PROGRESS; false if none. */
struct boot_fast_log {
    uint32_t seq;
    struct fp_image im;
    uint32_t done[FP_REGIONS]; /* bytes from each region's start */
};
bool boot_update_fast_log(struct boot_ctx *c, struct boot_fast_log *out);
/* Continue that update after a reset (its sequence, no new STARTED). */
void boot_update_resume_fast(struct boot_ctx *c, uint32_t seq);

/* ---- protocols ---- */

/* YMODEM receive into the application area (menu 1). */
int boot_ymodem_receive(struct boot_ctx *c, uint32_t *len_out);
/* YMODEM send of the current image (menu 2). */
int boot_ymodem_send(struct boot_ctx *c);
/* AN3155 server, after the sync byte (with its flags) was received. */
struct boot_result boot_an3155(struct boot_ctx *c, int sync);
/* The fast protocol, entered from AN3155 (0xE1 ACKed): true with *res
 * when the host sent GO, false when the session ended (BYE, silence). */
bool boot_fastp(struct boot_ctx *c, struct boot_result *res);
/* AN3155 Go's address handling (also the fast protocol's GO): true with
 * *res for the reset address and a runnable image; else false with an
 * AN3155_REASON_* in *reason. */
bool boot_go(struct boot_ctx *c, uint32_t addr, struct boot_result *res, uint8_t *reason);

/* Helpers shared by the protocols. */
/* Record a failure for the status page (last error and its address) and
 * return err: every place that fails with a diagnostic goes through it. */
int boot_fail(struct boot_ctx *c, int err, uint32_t addr);
void boot_puts(struct boot_ctx *c, const char *s);
void boot_put_hex(struct boot_ctx *c, uint32_t v);
void boot_put_dec(struct boot_ctx *c, uint32_t v);

/*
 * Platform hooks the library calls (boot/target on the chip, tests/boot on
 * the host).
 */
/* Copy n bytes from/to RAM the host may use (range already checked). */
void boot_port_ram_read(uint32_t addr, void *out, size_t n);
void boot_port_ram_write(uint32_t addr, const void *in, size_t n);
/* Called in every waiting loop (watchdog refresh on the chip). */
void boot_port_idle(void);

#endif /* BOOT_BOOT_H */
