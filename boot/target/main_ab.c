/*
 * h7boot_ab entry: the bootloader of the A/B layout (docs/PROTOCOL.md
 * "A/B updates", proto/h7_layout.h "A/B layout"). The same protocols as
 * h7boot (boot/target/main.c), with the A/B update engine behind them
 * (boot/ab/update_ab.c), and ab_boot() deciding what runs:
 *   1. clocks, watchdog (the reset flags read, then cleared), USART3, CM4
 *      held;
 *   2. handoff words: CONFIRM (the image on trial asks) -> ab_confirm();
 *      ENTER -> stay;
 *   3. a byte from the host within BOOT_WINDOW_MS?           -> stay, that
 *      byte picks the protocol;
 *   4. ab_boot(watchdog reset?): BOOT or TRIAL -> start the running slot
 *      at 0x08020000, its state left in the handoff words; SWAP -> reset
 *      (the other bank mapped); STAY -> the protocols.
 * The session ends in a reset (after a download: the swap acts), or in a
 * jump to host code in RAM (H7BOOT_HOST_RAM builds only).
 */
#include "ab.h"
#include "boot/boot.h"
#include "cm4.h"
#include "hw.h"
#include "jump.h"
#include "usart.h"

#define BOOT_WINDOW_MS 300u

extern uint32_t h7f_port_cpu_mhz;
uint32_t boot_stack_used(void);

static struct boot_ctx ctx;

/* The handoff words' request (BOOT_HANDOFF_ENTER, BOOT_HANDOFF_CONFIRM or
 * 0), both words cleared. */
static uint32_t handoff_take(void)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;
    uint32_t req = h[1] == ~h[0] ? h[0] : 0u;

    h[0] = 0;
    h[1] = 0;
    return req;
}

/* The last reset came from IWDG1 (RCC_RSR, RM0399 8.4.4 / 8.7.42); the
 * flags are cleared so that the next reset reports only itself. */
static bool watchdog_reset(void)
{
    bool wdg = (MMIO32(RCC_BASE + RCC_C1_RSR) & RCC_RSR_IWDG1RSTF) != 0;

    MMIO32(RCC_BASE + RCC_C1_RSR) = RCC_RSR_RMVF;
    return wdg;
}

/* Start the running slot; the image finds its state in the handoff words.
 * The CM4 is released (RCC_GCR.BOOT_C2) only when ab_boot says so: a
 * confirmed image with a CM4 table, the CM4 boot address set to it. */
__attribute__((noreturn)) static void start_slot(const struct ab_boot_result *r)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;
    struct ab_slot s;

    ab_slot_load(boot_ab(), BOOT_AB_SLOT_START, &s);
    h[0] = r->act == AB_ACT_TRIAL ? BOOT_HANDOFF_AB_TRIAL : BOOT_HANDOFF_AB_CONFIRMED;
    h[1] = s.t.image.sequence;
    boot_jump(BOOT_AB_SLOT_START, r->release_cm4);
}

int main(void)
{
    struct ab_boot_result r;
    struct boot_result res;
    uint32_t req, cm4;
    bool wdg;
    int first = BOOT_SER_TIMEOUT;

    clock_init();
    h7f_port_cpu_mhz = BOOT_CORE_HZ / 1000000u;
    iwdg_start();
    wdg = watchdog_reset();
    req = handoff_take();
    cm4 = cm4_hold();
    usart_init();
    hw_irq_on();

    boot_init(&ctx, &usart_serial);
    ctx.idle_format = BOOT_SER_8N1;
    usart_serial.set_format(usart_serial.ctx, ctx.idle_format);
    ctx.cm4_state = cm4;
    ctx.stack_used = boot_stack_used;
    if (req == BOOT_HANDOFF_CONFIRM) {
        int rc = ab_confirm(boot_ab());

        if (rc)
            (void)boot_fail(&ctx, rc, BOOT_AB_SLOT_START + BOOT_AB_TRAILER_OFF);
    }
    if (req != BOOT_HANDOFF_ENTER) {
        first = usart_serial.getc(usart_serial.ctx, BOOT_WINDOW_MS);
        if (first == BOOT_SER_TIMEOUT) {
            ab_boot(boot_ab(), wdg, &r);
            if (r.act == AB_ACT_BOOT || r.act == AB_ACT_TRIAL)
                start_slot(&r);
            if (r.act == AB_ACT_SWAP)
                boot_reset();
            if (r.err)
                (void)boot_fail(&ctx, r.err, 0);
        }
    }
    res = boot_session(&ctx, first);
    if (res.act == BOOT_ACT_JUMP_RAM)
        boot_jump(res.addr, false);
    boot_reset();
}
