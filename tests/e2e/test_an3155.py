#!/usr/bin/env python3
"""AN3155 with stm32flash (and a scripted host for refusals) on the virtual board."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import APP, APP_SIZE, BANK2, BOOT, LOG, Board, Fail, image, main, need_tool  # noqa: E402

ACK, NACK = 0x79, 0x1F


def stm32flash(b, *args, timeout=900, ok=True):
    need_tool("stm32flash")
    argv = ["stm32flash", "-b", "115200", "-m", "8n1", *args, b.link]
    r = b.run_client(argv, timeout=timeout)
    if ok and r.returncode != 0:
        out = (r.stdout or b"").decode(errors="replace")[-600:]
        raise Fail(f"{' '.join(argv)} failed (rc {r.returncode}):\n{out}\n"
                   f"{r.stderr.decode(errors='replace')[-300:]}")
    return r


def banner(b):
    """The application's banner. stm32flash flushes the port's input when
    it exits, so the banner printed right after Go may be gone: ask the
    application to print it again ('v')."""
    try:
        b.expect("h7app ", 3)
    except Fail:
        b.send("v")
        b.expect("h7app ", 30)


def read_back(b, work, addr, n):
    out = os.path.join(work, "read.bin")
    if os.path.exists(out):
        os.unlink(out)
    stm32flash(b, "-r", out, "-S", "0x%08x:%d" % (addr, n))
    with open(out, "rb") as f:
        return f.read()


def test_stm32flash_write_verify_go(env, work):
    b = Board(env["vboard"], env["boot"], work)
    try:
        b.ready()
        stm32flash(b, "-w", env["app"], "-v", "-S", "0x%08x" % APP, "-g", "0x%08x" % APP)
        banner(b)
    finally:
        b.stop()
    # the image was committed: a power-on starts it
    b = Board(env["vboard"], env["boot"], work)
    try:
        b.expect("h7app ", 30)
    finally:
        b.stop()


def test_stm32flash_sizes(env, work):
    """1 and 33 bytes at the application start, and 8 KB across the bank
    boundary (its last 4 KB in bank 1, 4 KB in bank 2): written, verified by stm32flash,
    read back with the padding of the last flash word."""
    b = Board(env["vboard"], env["boot"], work)
    try:
        b.ready()
        for n, seed, addr in ((1, 1, APP), (33, 2, APP), (8192, 3, BANK2 - 0x1000)):
            p = os.path.join(work, "img%d.bin" % n)
            data = image(p, n, seed)
            stm32flash(b, "-w", p, "-v", "-S", "0x%08x" % addr)
            got = read_back(b, work, addr, n + 64)
            pad = (32 - n % 32) % 32
            if got[:n] != data or got[n:n + pad] != b"\xff" * pad:
                raise Fail(f"{n}-byte image at 0x{addr:08x} read back wrong")
    finally:
        b.stop()


def test_stm32flash_full(env, work):
    """The whole 1.75 MB application area, verified and started."""
    with open(env["app"], "rb") as f:
        app = f.read()
    p = os.path.join(work, "full.bin")
    image(p, APP_SIZE, 4, head=app)
    b = Board(env["vboard"], env["boot"], work)
    try:
        b.ready()
        stm32flash(b, "-w", p, "-v", "-S", "0x%08x" % APP, "-g", "0x%08x" % APP, timeout=3000)
        banner(b)
    finally:
        b.stop()


def test_stm32flash_reset_via_ram(env, work):
    """stm32flash -R writes its reset code to 0x20004100 and goes there:
    refused by default (code from the host could rewrite the bootloader),
    the bootloader stays in charge; -g to the bootloader's own vector
    table (0x08000000) resets instead."""
    b = Board(env["vboard"], env["boot"], work)
    try:
        b.ready()
        r = stm32flash(b, "-R", ok=False)
        if r.returncode == 0 and b"Reset done" in (r.stdout or b""):
            raise Fail("stm32flash -R: the RAM write was accepted")
        r = stm32flash(b, "-g", "0x%08x" % BOOT)
        b.ready()
    finally:
        b.stop()


def frame_addr(a):
    f = a.to_bytes(4, "big")
    x = 0
    for c in f:
        x ^= c
    return f + bytes([x])


class Host:
    """A scripted AN3155 host on the board's pty."""

    def __init__(self, b):
        self.b = b

    def reply(self, n=1, timeout=20):
        import time
        t0 = time.time()
        while len(self.b.buf) < n:
            if time.time() - t0 > timeout:
                raise Fail(f"no reply from the board (have {self.b.buf.hex()})")
            self.b.read_some(0.1)
        r, self.b.buf = self.b.buf[:n], self.b.buf[n:]
        return r

    def cmd(self, c):
        self.b.send(bytes([c, c ^ 0xFF]))
        return self.reply()[0]


def test_refusals_and_noise(env, work):
    """Bad checksums, protected sectors, Go outside the image, noise: each
    refused with a NACK, the bootloader stays responsive, sectors 0-1 of the
    bootloader unchanged."""
    with open(env["boot_bin"], "rb") as f:
        boot = f.read()
    b = Board(env["vboard"], env["boot"], work)
    try:
        h = Host(b)
        b.ready()
        b.send(b"\x7f")
        if h.reply()[0] != ACK:
            raise Fail("no ACK to the sync byte")
        # bad complement
        b.send(b"\x11\x11")
        if h.reply()[0] != NACK:
            raise Fail("bad command complement not NACKed")
        # write to the bootloader's sector 0, then sector 1 (record log)
        for a in (BOOT, LOG):
            if h.cmd(0x31) != ACK:
                raise Fail("Write Memory command not ACKed")
            b.send(frame_addr(a))
            if h.reply()[0] != NACK:
                raise Fail(f"write to 0x{a:08x} accepted")
        # address frame with a bad checksum
        h.cmd(0x31)
        f = bytearray(frame_addr(APP))
        f[4] ^= 0xFF
        b.send(bytes(f))
        if h.reply()[0] != NACK:
            raise Fail("bad address checksum not NACKed")
        # data frame with a bad checksum (after erasing page 2)
        h.cmd(0x44)
        b.send(bytes([0, 0, 0, 2, 2]))
        if h.reply(timeout=60)[0] != ACK:
            raise Fail("erase of page 2 failed")
        h.cmd(0x31)
        b.send(frame_addr(APP))
        if h.reply()[0] != ACK:
            raise Fail("app address refused")
        data = bytes(range(32))
        x = 31
        for c in data:
            x ^= c
        b.send(bytes([31]) + data + bytes([x ^ 0x01]))
        if h.reply()[0] != NACK:
            raise Fail("bad data checksum not NACKed")
        # erase of the bootloader's pages
        for page in (0, 1):
            h.cmd(0x44)
            b.send(bytes([0, 0, 0, page, page]))
            if h.reply()[0] != NACK:
                raise Fail(f"erase of page {page} accepted")
        # Go outside any image
        h.cmd(0x21)
        b.send(frame_addr(APP + 0x10000))
        if h.reply()[0] != NACK:
            raise Fail("Go to 0x%08x accepted" % (APP + 0x10000))
        # noise, then a new client syncs and works
        b.send(bytes([0x00, 0x42, 0x13, 0xFF, 0x99, 0x01]))
        b.read_some(2)
        b.drain(1)
        r = stm32flash(b, "-r", os.path.join(work, "boot.bin"), "-S", "0x%08x:%d" % (BOOT, len(boot)))
        with open(os.path.join(work, "boot.bin"), "rb") as f:
            if f.read() != boot:
                raise Fail("the bootloader's sector 0 changed")
        # the record log area holds only records (STARTED from the erase)
        log = read_back(b, work, LOG, 64)
        if log[:4] != b"H7UR" or log[32:] != b"\xff" * 32:
            raise Fail(f"unexpected record log contents {log.hex()}")
        # Go to the app is refused: the interrupted update is never started
        h.b.send(b"\x7f")
        h.reply()
        h.cmd(0x21)
        b.send(frame_addr(APP))
        if h.reply()[0] != NACK:
            raise Fail("Go to an incomplete image accepted")
    finally:
        b.stop()


TESTS = [
    ("stm32flash_write_verify_go", test_stm32flash_write_verify_go),
    ("stm32flash_sizes", test_stm32flash_sizes),
    ("stm32flash_full", test_stm32flash_full),
    ("refusals_and_noise", test_refusals_and_noise),
    ("stm32flash_reset_via_ram", test_stm32flash_reset_via_ram),
]

if __name__ == "__main__":
    sys.exit(main(TESTS))
