/*
 * Bootloader entry (docs/PROTOCOL.md "Boot decision"):
 *   1. clocks, watchdog, USART3, CM4 held;
 *   2. the application asked for the bootloader (handoff words)?  -> stay;
 *   3. no valid application (record, CRC, vectors)?                -> stay;
 *   4. a byte from the host within BOOT_WINDOW_MS?                  -> stay,
 *      that byte picks the protocol;
 *   5. otherwise start the application.
 */
#include "boot/boot.h"
#include "cm4.h"
#include "hw.h"
#include "jump.h"
#include "usart.h"

#define BOOT_WINDOW_MS 300u

extern uint32_t h7f_port_cpu_mhz;
uint32_t boot_stack_used(void);

static struct boot_ctx ctx;

static bool handoff_requested(void)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_ADDR;
    bool req = h[0] == BOOT_HANDOFF_ENTER && h[1] == ~BOOT_HANDOFF_ENTER;

    h[0] = 0;
    h[1] = 0;
    return req;
}

int main(void)
{
    struct boot_app_info info;
    struct boot_result res;
    bool stay;
    int first = BOOT_SER_TIMEOUT;
    uint32_t cm4;

    clock_init();
    h7f_port_cpu_mhz = BOOT_CORE_HZ / 1000000u;
    iwdg_start();
    stay = handoff_requested();
    cm4 = cm4_hold();
    usart_init();
    hw_irq_on();

    boot_init(&ctx, &usart_serial);
#ifdef H7BOOT_IDLE_8E1
    ctx.idle_format = BOOT_SER_8E1;
#else
    ctx.idle_format = BOOT_SER_8N1;
#endif
    usart_serial.set_format(usart_serial.ctx, ctx.idle_format);
#ifdef H7BOOT_HOST_RAM
    ctx.host_ram = true;
#endif
    ctx.cm4_state = cm4;
    ctx.stack_used = boot_stack_used;
    boot_app_check(&ctx, &info);
    if (!stay && info.status == 0) {
        first = usart_serial.getc(usart_serial.ctx, BOOT_WINDOW_MS);
        if (first == BOOT_SER_TIMEOUT)
            boot_jump(BOOT_APP_START, info.cm4_valid);
    }
    res = boot_session(&ctx, first);
    if (res.act == BOOT_ACT_JUMP_APP || res.act == BOOT_ACT_JUMP_RAM)
        boot_jump(res.addr, res.release_cm4);
    boot_reset();
}
