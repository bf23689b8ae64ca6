/*
 * vboard: USART3 (0x40004800); its link to the host is in vb_link.c.
 *
 * Bytes take 1 start + M data (parity included) + stop bits at the baud rate
 * programmed in BRR, in virtual time, both ways: 10 bit times in 8N1, 11 in
 * 8E1. RX goes through RDR (or the 16-byte RX FIFO when CR1.FIFOEN=1); a
 * byte that completes while it is full is lost and sets ORE.
 *
 * Host bytes are stamped deterministically (docs/VBOARD.md, "Virtual time
 * and the host"): the next host byte cannot start before
 *   H = max(end of the previous host byte, end of the board's last byte + turnaround)
 * and when the board's time reaches H it takes the next byte the host has
 * written, waiting on the wall clock for a bounded time if none is there
 * yet. Time on the board never runs past H while the host may still answer.
 */
#define _GNU_SOURCE
#include "vb_internal.h"
#include "stm32h7/usart.h"

#include <string.h>

/* ---- line format ---------------------------------------------------------------- */

static unsigned word_bits(const struct vb_usart *u)
{
    if (u->cr1 & USART_CR1_M1)
        return 7;
    return (u->cr1 & USART_CR1_M0) ? 9 : 8;
}

static unsigned stop_bits(const struct vb_usart *u)
{
    return ((u->cr2 >> 12) & 3) >= 2 ? 2 : 1;
}

static unsigned frame_bits(const struct vb_usart *u)
{
    return 1 + word_bits(u) + stop_bits(u);
}

/* USART kernel clock after the prescaler. */
static uint64_t kernel_hz(struct vb *b)
{
    static const unsigned presc[12] = { 1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256 };
    unsigned p = b->u.presc & 0xF;
    return vb_rcc_usart3_hz(b) / presc[p < 12 ? p : 11];
}

/* The baud divider and its scale: baud = fck * mult / div. */
static uint64_t brr_div(const struct vb_usart *u, uint64_t *mult)
{
    uint64_t div = u->brr & 0xFFFF;
    *mult = 1;
    if (u->cr1 & USART_CR1_OVER8) {
        div = (div & 0xFFF0u) | ((div & 7u) << 1);
        *mult = 2;
    }
    return div;
}

/* Virtual duration of one frame. */
static uint64_t frame_ns(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint64_t fck = kernel_hz(b), mult;
    uint64_t div = brr_div(u, &mult);
    uint64_t bits = frame_bits(u);
    if (div < 16 || fck == 0)
        return (bits * VB_NS_PER_S + 115199) / 115200;
    return (uint64_t)(((unsigned __int128)bits * div * VB_NS_PER_S + fck * mult - 1) /
                      (fck * mult));
}

/* Duration of a host frame: at the host's own rate when it has one. */
static uint64_t host_frame_ns(struct vb *b)
{
    uint64_t hb = b->cfg.host_baud;
    if (!hb)
        return frame_ns(b);
    return (frame_bits(&b->u) * VB_NS_PER_S + hb - 1) / hb;
}

/* Whether the firmware's rate is within the 3.5% a UART tolerates of the
 * host's rate (always, when the host follows the firmware). */
static bool rate_matches(struct vb *b)
{
    uint64_t hb = b->cfg.host_baud, fck = kernel_hz(b), mult;
    if (!hb)
        return true;
    uint64_t div = brr_div(&b->u, &mult);
    if (div < 16 || fck == 0)
        return false;
    uint64_t fb = fck * mult / div;
    uint64_t d = fb > hb ? fb - hb : hb - fb;
    return d * 1000 <= hb * 35;
}

/* What a receiver sampling at the wrong rate makes of a byte. */
static uint8_t garble(uint8_t c)
{
    return (uint8_t)((c << 1) | 0x01u) ^ 0x80u;
}

/* Auto baud rate detection on the first byte after ABREN/ABRRQ (CR2.ABRMOD:
 * 0 start bit, needs bit 0 = 1; 1 falling edges, needs bits 0..1 = 10b
 * read LSB first; 2 the 0x7F frame; 3 the 0x55 frame). On success BRR
 * takes the host's rate and ABRF is set; otherwise ABRE and ABRF. */
static void autobaud(struct vb *b, uint8_t c)
{
    struct vb_usart *u = &b->u;
    unsigned mode = (u->cr2 >> USART_CR2_ABRMOD_Pos) & 3u;
    bool ok = mode == 0 ? (c & 1u) : mode == 1 ? (c & 3u) == 1u : mode == 2 ? c == 0x7F : c == 0x55;
    uint64_t hb = b->cfg.host_baud, fck = kernel_hz(b);
    if (ok && hb && fck) {
        if (u->cr1 & USART_CR1_OVER8) {
            uint64_t div = (2 * fck + hb / 2) / hb;
            u->brr = (uint32_t)((div & 0xFFF0u) | ((div & 0xFu) >> 1));
        } else {
            u->brr = (uint32_t)((fck + hb / 2) / hb) & 0xFFFFu;
        }
        u->isr |= USART_ISR_ABRF;
        vb_trace(b, "USART3 auto-baud (mode %u) on 0x%02x: %u baud, BRR = %u", mode, c,
                 (unsigned)hb, u->brr);
    } else {
        u->isr |= USART_ISR_ABRF | USART_ISR_ABRE;
        vb_trace(b, "USART3 auto-baud (mode %u) failed on 0x%02x", mode, c);
    }
}

static unsigned rx_capacity(const struct vb_usart *u)
{
    return (u->cr1 & USART_CR1_FIFOEN) ? 16 : 1;
}

static unsigned tx_capacity(const struct vb_usart *u)
{
    return (u->cr1 & USART_CR1_FIFOEN) ? 16 : 1;
}

static bool host_engaged(struct vb *b)
{
    struct vb_link_state *l = &b->link;
    if (l->kind == VB_LINK_NONE || l->in_eof)
        return false;
    if (!l->seen_host) /* TCP: also before the client connects */
        return b->cfg.wait_host && !l->gave_up;
    if (l->kind == VB_LINK_TCP && l->fd_in < 0)
        return false;
    return vb_wall() - l->last_host_byte_wall < (double)b->cfg.host_idle_ms / 1000.0;
}

/* ---- interrupt line ---------------------------------------------------------------- */

static uint32_t isr_value(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint32_t v = u->isr & (USART_ISR_PE | USART_ISR_FE | USART_ISR_NE | USART_ISR_ORE |
                           USART_ISR_IDLE | USART_ISR_ABRE | USART_ISR_ABRF);
    if (u->rx_count)
        v |= USART_ISR_RXNE;
    if (u->rx_count >= 16)
        v |= USART_ISR_RXFF;
    if (u->tx_count < tx_capacity(u))
        v |= USART_ISR_TXE;
    if (u->tx_count == 0)
        v |= USART_ISR_TXFE;
    if (!u->tx_shifting && u->tx_count == 0 && !u->tc_cleared)
        v |= USART_ISR_TC;
    if (u->tx_shifting || u->rx_inflight)
        v |= USART_ISR_BUSY;
    if ((u->cr1 & USART_CR1_UE) && (u->cr1 & USART_CR1_TE))
        v |= USART_ISR_TEACK;
    if ((u->cr1 & USART_CR1_UE) && (u->cr1 & USART_CR1_RE))
        v |= USART_ISR_REACK;
    return v;
}

static void update_irq(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint32_t isr = isr_value(b), cr1 = u->cr1;
    bool level =
        ((cr1 & USART_CR1_RXNEIE) && (isr & (USART_ISR_RXNE | USART_ISR_ORE))) ||
        ((cr1 & USART_CR1_TXEIE) && (isr & USART_ISR_TXE)) ||
        ((cr1 & USART_CR1_TCIE) && (isr & USART_ISR_TC)) ||
        ((cr1 & USART_CR1_PEIE) && (isr & USART_ISR_PE)) ||
        ((u->cr3 & USART_CR3_EIE) && (isr & (USART_ISR_FE | USART_ISR_NE | USART_ISR_ORE))) ||
        ((cr1 & USART_CR1_IDLEIE) && (isr & USART_ISR_IDLE));
    if (!(cr1 & USART_CR1_UE))
        level = false;
    if (level != b->irq_level[USART3_IRQn] || level)
        vb_irq_set_level(b, USART3_IRQn, level);
}

/* ---- transmit --------------------------------------------------------------------- */

/* Earliest start of the next host byte. The turnaround applies to the
 * first byte of a host reaction (the host had to read the board's output
 * first); the bytes it wrote in the same go follow back to back. */
static uint64_t horizon(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint64_t h = u->prev_rx_end;
    if (!u->reaction_started) {
        uint64_t t = u->last_tx_end ? u->last_tx_end + b->cfg.turnaround_ns : 0;
        if (t > h)
            h = t;
    }
    if (u->horizon > h)
        h = u->horizon; /* late arrivals */
    return h;
}

static void start_shift(struct vb *b, uint64_t t)
{
    struct vb_usart *u = &b->u;
    uint8_t c = u->txq[u->tx_head];
    if (!rate_matches(b))
        c = garble(c);
    u->tx_head = (u->tx_head + 1) % 16;
    u->tx_count--;
    u->tx_shifting = true;
    uint64_t fr = frame_ns(b);
    b->tx_wire_ns += fr;
    u->tx_end = t + fr;
    u->last_tx_end = u->tx_end;
    /* A new board output: the host may react to it. */
    u->host_silent = false;
    b->uart_tx++;
    struct vb_link_state *l = &b->link;
    if (l->fd_out >= 0 || l->kind == VB_LINK_TCP) {
        if (l->out_count == VB_OUTBUF_SIZE)
            vb_link_flush(b);
        if (l->out_count < VB_OUTBUF_SIZE)
            l->out[l->out_count++] = c;
        else
            l->dropped_out++;
    }
    vb_schedule(b);
}

/* ---- receive ---------------------------------------------------------------------- */

static unsigned parity_of(uint32_t x)
{
    return (unsigned)__builtin_popcount(x) & 1u;
}

/* The byte as the USART samples it when the host's frame format differs
 * from the programmed one (e.g. host 8N1, firmware 8E1): *flags gets PE/FE. */
static uint32_t sample(struct vb *b, uint8_t byte, uint32_t *flags)
{
    struct vb_usart *u = &b->u;
    struct vb_link_state *l = &b->link;
    unsigned m = word_bits(u), pce = (u->cr1 & USART_CR1_PCE) ? 1 : 0, dbits = m - pce;
    unsigned fw_par = pce ? ((u->cr1 & USART_CR1_PS) ? 2 : 1) : 0;
    *flags = 0;
    if (l->pty_slave < 0 || !b->cfg.check_line_format ||
        (l->host_parity == (int)fw_par && l->host_bits == (int)dbits))
        return byte & ((1u << dbits) - 1);
    /* Host frame bits after the start bit, then idle (1). */
    uint64_t bits = 0;
    unsigned n = 0, hb = (unsigned)l->host_bits;
    uint32_t data = byte & ((1u << hb) - 1);
    bits |= (uint64_t)data;
    n = hb;
    if (l->host_parity) {
        unsigned p = parity_of(data) ^ (l->host_parity == 2 ? 1u : 0u);
        bits |= (uint64_t)p << n;
        n++;
    }
    bits |= ~0ull << n; /* stop bit and idle line */
    uint32_t word = (uint32_t)(bits & ((1ull << m) - 1));
    unsigned stop = (unsigned)(bits >> m) & 1;
    if (!stop)
        *flags |= USART_ISR_FE;
    if (pce) {
        unsigned ones = parity_of(word);
        if ((fw_par == 1 && ones != 0) || (fw_par == 2 && ones != 1))
            *flags |= USART_ISR_PE;
    }
    return word & ((1u << dbits) - 1);
}

static void rx_deliver(struct vb *b)
{
    struct vb_usart *u = &b->u;
    u->rx_inflight = false;
    u->prev_rx_end = u->rx_end;
    if (!(u->cr1 & USART_CR1_UE) || !(u->cr1 & USART_CR1_RE)) {
        vb_trace(b, "USART3 RX byte 0x%02x dropped (receiver off)", u->rx_byte);
        return;
    }
    if (b->cfg.host_baud && (u->cr2 & USART_CR2_ABREN) && !(u->isr & USART_ISR_ABRF))
        autobaud(b, u->rx_byte);
    uint32_t flags = 0;
    uint32_t data = sample(b, u->rx_byte, &flags);
    if (!rate_matches(b)) {
        data = garble((uint8_t)data);
        flags |= USART_ISR_FE;
    }
    if (u->rx_count >= rx_capacity(u)) {
        if (!(u->cr3 & USART_CR3_OVRDIS)) {
            u->isr |= USART_ISR_ORE;
            b->uart_ore++;
            vb_trace(b, "USART3 overrun: byte 0x%02x lost", u->rx_byte);
            update_irq(b);
            return;
        }
        return;
    }
    u->isr |= flags;
    u->rxfifo[(u->rx_head + u->rx_count) % 16] = (uint8_t)data;
    u->rx_count++;
    b->uart_rx++;
    update_irq(b);
}

/* ---- time -------------------------------------------------------------------------- */

static uint64_t sync_time(struct vb *b)
{
    struct vb_usart *u = &b->u;
    if (u->rx_inflight)
        return VB_NEVER;
    if (b->link.q_count)
        return horizon(b);
    /* Before any exchange, the first contact waits for the firmware to
     * wait for input (vb_usart_first_contact). */
    if (!b->link.seen_host && u->last_tx_end == 0 && !u->first_wait)
        return VB_NEVER;
    if (!u->host_silent && host_engaged(b))
        return horizon(b);
    return VB_NEVER;
}

void vb_usart_first_contact(struct vb *b)
{
    struct vb_usart *u = &b->u;
    if (b->link.seen_host || u->last_tx_end != 0 || u->first_wait || !host_engaged(b))
        return;
    u->first_wait = true;
    uint64_t now = vb_now(b);
    if (u->horizon < now)
        u->horizon = now;
    vb_trace(b, "firmware waits for input: first contact with the host");
    vb_schedule(b);
}

uint64_t vb_usart_next(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint64_t t = VB_NEVER;
    if (u->tx_shifting && u->tx_end < t)
        t = u->tx_end;
    if (u->rx_inflight && u->rx_end < t)
        t = u->rx_end;
    uint64_t s = sync_time(b);
    if (s < t)
        t = s;
    return t;
}

/* At the horizon: take the host's next byte, waiting a bounded wall time. */
static void host_sync(struct vb *b, uint64_t h)
{
    struct vb_usart *u = &b->u;
    struct vb_link_state *l = &b->link;
    if (l->q_count == 0)
        vb_link_poll(b);
    if (l->q_count == 0 && host_engaged(b)) {
        unsigned ms = u->reaction_started                   ? b->cfg.host_gap_ms
                      : (!l->seen_host && b->cfg.wait_host) ? 5000
                                                            : b->cfg.host_wait_ms;
        double until = vb_wall() + ms / 1000.0;
        for (;;) {
            double left = until - vb_wall();
            if (left <= 0 || vb_link_wait(b, (int)(left * 1000.0) + 1) || l->in_eof || b->sig_stop)
                break;
        }
    }
    if (l->q_count == 0) {
        /* The host's reaction is over (or never came): silent until the
         * board sends again. A host that never showed up within the first
         * wait is not waited for again (until it sends something). */
        if (!l->seen_host)
            l->gave_up = true;
        u->host_silent = true;
        u->reaction_started = false;
        return;
    }
    u->rx_byte = l->q[l->q_head];
    l->q_head = (l->q_head + 1) % VB_HOSTQ_SIZE;
    l->q_count--;
    u->rx_inflight = true;
    uint64_t fr = host_frame_ns(b);
    u->rx_end = h + fr;
    b->rx_wire_ns += fr;
    if (b->first_rx_ns == VB_NEVER)
        b->first_rx_ns = h;
    u->reaction_started = true;
}

void vb_usart_process(struct vb *b, uint64_t now)
{
    struct vb_usart *u = &b->u;
    struct vb_link_state *l = &b->link;
    if (l->kind == VB_LINK_NONE && !u->tx_shifting && !u->rx_inflight)
        return;
    /* While the host is silent, bytes it writes later arrive late: they
     * are stamped at the board's present time. */
    if (l->kind != VB_LINK_NONE && l->q_count == 0 && !u->rx_inflight &&
        (u->host_silent || !host_engaged(b)) && vb_wall() - l->last_poll_wall > 0.001) {
        vb_link_poll(b);
        if (l->q_count) {
            u->reaction_started = false;
            if (horizon(b) < now)
                u->horizon = now;
            u->host_silent = false;
            vb_trace(b, "host byte arrived late, stamped at %.6f ms", (double)horizon(b) / 1e6);
        }
    }
    bool changed = false;
    for (;;) {
        uint64_t t_tx = u->tx_shifting ? u->tx_end : VB_NEVER;
        uint64_t t_rx = u->rx_inflight ? u->rx_end : VB_NEVER;
        uint64_t t_sync = sync_time(b);
        uint64_t t = t_tx < t_rx ? t_tx : t_rx;
        if (t_sync < t)
            t = t_sync;
        if (t > now)
            break;
        changed = true;
        if (t == t_tx) {
            u->tx_shifting = false;
            if (u->tx_count)
                start_shift(b, t_tx);
        } else if (t == t_rx) {
            rx_deliver(b);
        } else {
            host_sync(b, t_sync);
            if (u->host_silent && !u->rx_inflight)
                break;
        }
    }
    if (changed)
        update_irq(b);
    /* Output goes out in batches: at least every millisecond of wall time,
     * and before any wait for the host. */
    if (l->out_count) {
        double w = vb_wall();
        if (w - l->last_flush_wall > 0.001 || l->out_count > VB_OUTBUF_SIZE / 2) {
            vb_link_flush(b);
            l->last_flush_wall = w;
        }
    }
}

/* ---- registers --------------------------------------------------------------------- */

void vb_usart_reset(struct vb *b)
{
    struct vb_usart *u = &b->u;
    uint64_t keep_tx = u->last_tx_end, keep_rx = u->prev_rx_end, keep_h = u->horizon;
    bool inflight = u->rx_inflight, first_wait = u->first_wait;
    uint8_t byte = u->rx_byte;
    uint64_t rx_end = u->rx_end;
    memset(u, 0, sizeof *u);
    /* The wire keeps its history across a reset of the MCU. */
    u->last_tx_end = keep_tx;
    u->prev_rx_end = keep_rx;
    u->horizon = keep_h;
    u->first_wait = first_wait;
    u->rx_inflight = inflight;
    u->rx_byte = byte;
    u->rx_end = rx_end;
    u->tc_cleared = false;
}

uint32_t vb_usart_read(struct vb *b, uint32_t off, unsigned size)
{
    struct vb_usart *u = &b->u;
    uint32_t v = 0, a = off & ~3u;
    switch (a) {
    case USART_CR1: v = u->cr1; break;
    case USART_CR2: v = u->cr2; break;
    case USART_CR3: v = u->cr3; break;
    case USART_BRR: v = u->brr; break;
    case USART_GTPR: v = u->gtpr; break;
    case USART_RTOR: v = u->rtor; break;
    case USART_ISR:
        v = isr_value(b);
        /* A firmware polling an empty receiver waits for input: the first
         * contact with the host (even if its loop is not pure). */
        if (!(v & USART_ISR_RXNE) && (u->cr1 & USART_CR1_RE)) {
            if (++b->rx_polls >= 64 && !u->tx_shifting && u->tx_count == 0)
                vb_usart_first_contact(b);
        } else if (v & USART_ISR_RXNE) {
            b->rx_polls = 0;
        }
        vb_poll_read(b, USART3_BASE + off, v);
        break;
    case USART_RDR:
        if (u->rx_count) {
            vb_poll_dirty(b);
            v = u->rxfifo[u->rx_head];
            u->rx_head = (u->rx_head + 1) % 16;
            u->rx_count--;
            if (u->rx_count == 0)
                u->isr &= ~(USART_ISR_PE | USART_ISR_FE | USART_ISR_NE);
            update_irq(b);
        } else {
            v = u->rxfifo[(u->rx_head + 15) % 16]; /* RDR keeps the last byte */
        }
        break;
    case USART_PRESC: v = u->presc; break;
    default: v = 0; break;
    }
    v >>= 8 * (off & 3);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void vb_usart_write(struct vb *b, uint32_t off, unsigned size, uint32_t v)
{
    struct vb_usart *u = &b->u;
    uint32_t a = off & ~3u;
    if (size < 4)
        v <<= 8 * (off & 3);
    uint64_t now = vb_now(b);
    vb_usart_process(b, now);
    switch (a) {
    case USART_CR1: {
        uint32_t old = u->cr1;
        u->cr1 = v;
        if ((old ^ v) & (USART_CR1_UE | USART_CR1_RE | USART_CR1_TE | USART_CR1_PCE | USART_CR1_PS |
                         USART_CR1_M0 | USART_CR1_M1 | USART_CR1_FIFOEN))
            vb_trace(b, "USART3 CR1 = 0x%08x (%u%c%u%s)", v,
                     word_bits(u) - ((v & USART_CR1_PCE) ? 1 : 0),
                     (v & USART_CR1_PCE) ? ((v & USART_CR1_PS) ? 'O' : 'E') : 'N', stop_bits(u),
                     (v & USART_CR1_FIFOEN) ? ", FIFO" : "");
        if (!(v & USART_CR1_UE)) {
            u->tx_count = 0;
            u->rx_count = 0;
        }
        break;
    }
    case USART_CR2: u->cr2 = v; break;
    case USART_CR3: u->cr3 = v; break;
    case USART_BRR:
        u->brr = v & 0xFFFF;
        vb_trace(b, "USART3 BRR = %u (frame %.3f us)", u->brr, (double)frame_ns(b) / 1e3);
        break;
    case USART_GTPR: u->gtpr = v; break;
    case USART_RTOR: u->rtor = v; break;
    case USART_RQR:
        if (v & USART_RQR_ABRRQ) /* measure the next byte again */
            u->isr &= ~(USART_ISR_ABRF | USART_ISR_ABRE);
        if (v & USART_RQR_RXFRQ) { /* drop the received data */
            u->rx_count = 0;
        }
        if (v & USART_RQR_TXFRQ)
            u->tx_count = 0;
        break;
    case USART_ICR:
        u->isr &=
            ~(v & (USART_ISR_PE | USART_ISR_FE | USART_ISR_NE | USART_ISR_ORE | USART_ISR_IDLE));
        if (v & USART_ICR_TCCF)
            u->tc_cleared = true;
        break;
    case USART_TDR:
        if (!(u->cr1 & USART_CR1_UE) || !(u->cr1 & USART_CR1_TE)) {
            vb_trace(b, "USART3 TDR write 0x%02x with the transmitter off", v & 0xFF);
            break;
        }
        if (u->tx_count >= tx_capacity(u)) {
            vb_trace(b, "USART3 TDR write 0x%02x while full: lost", v & 0xFF);
            break;
        }
        u->tc_cleared = false;
        u->txq[(u->tx_head + u->tx_count) % 16] =
            (uint8_t)(v & ((1u << (word_bits(u) - ((u->cr1 & USART_CR1_PCE) ? 1 : 0))) - 1));
        u->tx_count++;
        if (!u->tx_shifting)
            start_shift(b, now);
        break;
    case USART_PRESC: u->presc = v & 0xF; break;
    default: break;
    }
    update_irq(b);
    vb_schedule(b);
}

/* USART3: the device table's entry. */
static uint64_t usart_read(struct vb *b, uint32_t a, unsigned size)
{
    return vb_usart_read(b, a - USART3_BASE, size);
}

static void usart_write(struct vb *b, uint32_t a, unsigned size, uint64_t v)
{
    vb_usart_write(b, a - USART3_BASE, size, (uint32_t)v);
}

static void usart_reset(struct vb *b, bool power_on)
{
    (void)power_on;
    vb_usart_reset(b);
}

static bool usart_process(struct vb *b, uint64_t now)
{
    vb_usart_process(b, now);
    return true;
}

const struct vb_device vb_dev_usart3 = {
    .name = "USART3",
    .base = USART3_BASE,
    .size = 0x400,
    .read = usart_read,
    .write = usart_write,
    .reset = usart_reset,
    .next_event = vb_usart_next,
    .process = usart_process,
};
