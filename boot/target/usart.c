/*
 * USART3 (PD8 TX, PD9 RX, AF7: the ST-LINK virtual COM port), 115200 baud
 * at power-on. The line rate follows the host: auto-baud (CR2.ABREN, start
 * bit measurement) on the first byte after reset, which therefore must have
 * bit 0 = 1 (0x7F, '1', '3', Enter); a first byte that cannot be measured
 * is flagged as a framing error and the next one is measured. The rate is
 * handed across resets and to the application (BOOT_HANDOFF_BAUD_ADDR).
 * Receive: RXNE interrupt (handler and vector table in RAM, so it keeps
 * running while bank 1 is busy, docs/H7_FLASH.md 8.4) into a ring buffer
 * of byte | flags; a parity or framing error is attached to its byte, an
 * overrun (ORE, or the ring full) to the next byte, and counted. Transmit:
 * polled.
 */
#include <stdbool.h>

#include "h7_layout.h"
#include "boot/serial.h"
#include "h7flash/io.h"
#include "hw.h"
#include "usart.h"

#define USART3_R(off) MMIO32(USART3_BASE + (off))
#define GPIOD_R(off)  MMIO32(GPIOD_BASE + (off))
/* The ring must outlast the longest stretch in which the main loop does
 * not read it: inflating one 8 KiB fast-protocol frame takes about 5 ms
 * (proto/inflate.c, one bit at a time), 1000 bytes at 2 Mbaud and 2000 at
 * 4 Mbaud; 1024 entries lost bytes at 2 Mbaud. 8192 entries (16 KiB, AXI
 * SRAM: DTCM is 16 KiB in all) last 41 ms at 2 Mbaud, 20 ms at 4 Mbaud. */
#define RING 8192u

static volatile uint16_t ring[RING] __attribute__((section(".bss.axisram.usart")));
static volatile uint32_t ring_head, ring_tail;
static volatile uint32_t ore_count;
static volatile uint16_t ore_pending;

H7F_RAMFUNC void USART3_IRQHandler(void)
{
    uint32_t isr = USART3_R(USART_ISR);

    if (isr & USART_ISR_ORE) {
        USART3_R(USART_ICR) = USART_ICR_ORECF;
        ore_count++;
        ore_pending = BOOT_SER_ORE;
    }
    if (isr & USART_ISR_RXNE) {
        uint16_t v = (uint16_t)(USART3_R(USART_RDR) & 0xFFu);
        uint32_t next = (ring_head + 1u) % RING;

        if (isr & USART_ISR_PE)
            v |= BOOT_SER_PE;
        if (isr & (USART_ISR_FE | USART_ISR_NE))
            v |= BOOT_SER_FE;
        if (isr & USART_ISR_ABRE) {
            v |= BOOT_SER_FE; /* not measurable: measure the next byte */
            USART3_R(USART_RQR) = USART_RQR_ABRRQ;
        }
        USART3_R(USART_ICR) = USART_ICR_PECF | USART_ICR_FECF | USART_ICR_NECF;
        if (next == ring_tail) {
            ore_count++;
            ore_pending = BOOT_SER_ORE;
            return;
        }
        ring[ring_head] = (uint16_t)(v | ore_pending);
        ore_pending = 0;
        ring_head = next;
    }
}

static void set_cr1(enum boot_ser_format f)
{
    uint32_t cr1 = USART_CR1_RE | USART_CR1_TE | USART_CR1_RXNEIE;

    if (f == BOOT_SER_8E1)
        cr1 |= USART_CR1_M0 | USART_CR1_PCE; /* 9-bit word: 8 data + even parity */
    /* Auto-baud stays armed until it has measured a byte. */
    uint32_t abr =
        (USART3_R(USART_ISR) & USART_ISR_ABRF) ? 0u : (USART3_R(USART_CR2) & USART_CR2_ABREN);

    USART3_R(USART_CR2) = (f == BOOT_SER_8N2 ? USART_CR2_STOP_2 : 0u) | abr; /* else 1 stop bit */
    USART3_R(USART_CR1) = cr1;
    USART3_R(USART_CR1) = cr1 | USART_CR1_UE;
}

/* The rate handed over by the previous run, or the default. */
static uint32_t handoff_baud(void)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_BAUD_ADDR;
    uint32_t b = h[0];

    if (h[1] == ~b && b >= BOOT_BAUD_MIN && b <= BOOT_BAUD_MAX)
        return b;
    return BOOT_BAUD;
}

void usart_init(void)
{
    uint32_t baud = handoff_baud();

    MMIO32(RCC_BASE + RCC_AHB4ENR) |= RCC_AHB4ENR_GPIODEN;
    MMIO32(RCC_BASE + RCC_APB1LENR) |= RCC_APB1LENR_USART3EN;
    (void)MMIO32(RCC_BASE + RCC_APB1LENR);
    /* PD8, PD9: alternate function 7, medium speed, RX pulled up */
    GPIOD_R(GPIO_AFRH) =
        (GPIOD_R(GPIO_AFRH) & ~(GPIO_AF_Msk(8) | GPIO_AF_Msk(9))) | GPIO_AF(8, 7u) | GPIO_AF(9, 7u);
    GPIOD_R(GPIO_OSPEEDR) = (GPIOD_R(GPIO_OSPEEDR) & ~(GPIO_PIN2_Msk(8) | GPIO_PIN2_Msk(9))) |
                            GPIO_PIN2(8, GPIO_OSPEED_MEDIUM) | GPIO_PIN2(9, GPIO_OSPEED_MEDIUM);
    GPIOD_R(GPIO_PUPDR) = (GPIOD_R(GPIO_PUPDR) & ~(GPIO_PIN2_Msk(8) | GPIO_PIN2_Msk(9))) |
                          GPIO_PIN2(9, GPIO_PUPD_PULLUP);
    GPIOD_R(GPIO_MODER) = (GPIOD_R(GPIO_MODER) & ~(GPIO_PIN2_Msk(8) | GPIO_PIN2_Msk(9))) |
                          GPIO_PIN2(8, GPIO_MODE_AF) | GPIO_PIN2(9, GPIO_MODE_AF);
    USART3_R(USART_CR1) = 0;
    USART3_R(USART_CR2) = USART_CR2_ABREN;
    USART3_R(USART_CR3) = USART_CR3_EIE;
    USART3_R(USART_BRR) = (BOOT_PCLK1_HZ + baud / 2u) / baud;
    ring_head = ring_tail = 0;
    /* Error flags only: clearing TC (TCCF) would hold TC at 0 until the
	 * first byte is sent, and drain() would wait for nothing. */
    USART3_R(USART_ICR) = USART_ICR_PECF | USART_ICR_FECF | USART_ICR_NECF | USART_ICR_ORECF;
    MMIO8(NVIC_BASE + NVIC_IPR_BYTE(USART3_IRQn)) = 0x40u;
    MMIO32(NVIC_BASE + NVIC_ICPR(USART3_IRQn / 32u)) = 1u << (USART3_IRQn % 32u);
    MMIO32(NVIC_BASE + NVIC_ISER(USART3_IRQn / 32u)) = 1u << (USART3_IRQn % 32u);
    set_cr1(BOOT_SER_8N1);
    MMIO32(SYSTICK_BASE + SYST_RVR) = BOOT_CORE_HZ / 1000u - 1u;
    MMIO32(SYSTICK_BASE + SYST_CVR) = 0;
    MMIO32(SYSTICK_BASE + SYST_CSR) = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

/* Wait until the last byte has left (TC), at most 20 ms: 200 bytes. */
static void drain(void)
{
    uint32_t t0 = h7f_io_now_us();

    while (!(USART3_R(USART_ISR) & USART_ISR_TC) && h7f_io_now_us() - t0 < 20000u)
        ;
}

void usart_deinit(void)
{
    volatile uint32_t *h = (volatile uint32_t *)BOOT_HANDOFF_BAUD_ADDR;
    uint32_t brr = USART3_R(USART_BRR) & USART_BRR_Msk;

    drain();
    if (brr >= 16u) {
        h[0] = BOOT_PCLK1_HZ / brr;
        h[1] = ~h[0];
    }
    MMIO32(NVIC_BASE + NVIC_ICER(USART3_IRQn / 32u)) = 1u << (USART3_IRQn % 32u);
    USART3_R(USART_CR1) = 0;
    MMIO32(RCC_BASE + RCC_APB1LRSTR) |= RCC_APB1LRSTR_USART3RST;
    MMIO32(RCC_BASE + RCC_APB1LRSTR) &= ~RCC_APB1LRSTR_USART3RST;
    MMIO32(RCC_BASE + RCC_APB1LENR) &= ~RCC_APB1LENR_USART3EN;
    MMIO32(NVIC_BASE + NVIC_ICPR(USART3_IRQn / 32u)) = 1u << (USART3_IRQn % 32u);
}

/* Millisecond tick (SysTick, RAM handler): the time base of timeouts and
 * the wake-up of the wait-for-interrupt in getc. */
static volatile uint32_t ticks_ms;

H7F_RAMFUNC void SysTick_Handler(void)
{
    ticks_ms++;
}

static uint32_t now_ms(void)
{
    return ticks_ms;
}

static int ser_getc(void *ctx, uint32_t timeout_ms)
{
    uint32_t t0 = now_ms();

    (void)ctx;
    for (;;) {
        if (ring_tail != ring_head) {
            int v = ring[ring_tail];

            ring_tail = (ring_tail + 1u) % RING;
            return v;
        }
        iwdg_refresh();
        if (now_ms() - t0 >= timeout_ms)
            return BOOT_SER_TIMEOUT;
        /* Sleep until the next byte or tick (at most 1 ms). */
        __asm volatile("wfi" ::: "memory");
    }
}

static void ser_write(void *ctx, const void *p, size_t n)
{
    const uint8_t *b = p;

    (void)ctx;
    while (n--) {
        while (!(USART3_R(USART_ISR) & USART_ISR_TXE))
            ;
        USART3_R(USART_TDR) = *b++;
    }
}

static void ser_drain(void *ctx)
{
    (void)ctx;
    drain();
}

static enum boot_ser_format cur_format;

static void ser_set_format(void *ctx, enum boot_ser_format f)
{
    (void)ctx;
    drain();
    USART3_R(USART_CR1) = 0;
    set_cr1(f);
    cur_format = f;
}

static uint32_t ser_now_ms(void *ctx)
{
    (void)ctx;
    return now_ms();
}

/* BRR = PCLK1 / rate with 16x oversampling (RM0399 48.5.7). */
static uint32_t ser_baud(void *ctx, uint32_t want, bool apply)
{
    uint32_t brr;

    (void)ctx;
    if (want == 0) {
        brr = USART3_R(USART_BRR) & USART_BRR_Msk;
        return brr >= 16u ? BOOT_PCLK1_HZ / brr : 0u;
    }
    brr = (BOOT_PCLK1_HZ + want / 2u) / want;
    if (brr < 16u || brr > 0xFFFFu)
        return 0;
    if (apply) {
        drain();
        USART3_R(USART_CR1) = 0;
        USART3_R(USART_BRR) = brr;
        set_cr1(cur_format);
    }
    return BOOT_PCLK1_HZ / brr;
}

static uint32_t ser_overruns(void *ctx)
{
    (void)ctx;
    return ore_count;
}

const struct boot_serial usart_serial = {
    .getc = ser_getc,
    .write = ser_write,
    .drain = ser_drain,
    .set_format = ser_set_format,
    .overruns = ser_overruns,
    .ctx = 0,
    .now_ms = ser_now_ms,
    .baud = ser_baud,
};
