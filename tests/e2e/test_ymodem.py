#!/usr/bin/env python3
"""Menu + YMODEM with lrzsz on the virtual board."""
import filecmp
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import APP, APP_SIZE, BANK2, Board, Fail, image, main, need_tool  # noqa: E402


# lrzsz takes a while to start and to answer at the end of a batch: the
# board waits up to 3 s of wall time for a host reaction before its virtual
# time runs on (docs/VBOARD.md, host timing).
SLOW_HOST = ("--host-wait-ms", "3000")


def menu(b):
    b.prompt(20)


def sb_upload(b, path, expect_ok=True):
    need_tool("sb")
    b.send("1")
    b.expect("(YMODEM, 'a' aborts) ...\r\n", 20)
    r = b.run_piped(["sb", "-k", path], timeout=900)
    if expect_ok and r.returncode != 0:
        raise Fail(f"sb failed (rc {r.returncode}): {r.stderr.decode(errors='replace')[-300:]}")
    return r


def test_sb_upload_then_banner_and_rb(env, work):
    app = env["app"]
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        menu(b)
        sb_upload(b, app)
        b.expect("Programming completed successfully: %d bytes" % os.path.getsize(app), 60)
        b.expect("> ", 10)
        b.send("3")
        b.expect("h7app ", 30)
    finally:
        b.stop()
    # power on again: the bootloader starts the verified application
    # (rb answers the end of a batch in two writes up to a second apart:
    # the board waits that long for the rest of a host reaction)
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST + ("--host-gap-ms", "1500"))
    try:
        b.expect("h7app ", 30)
        # the application hands back to the bootloader
        b.send("b")
        b.expect("returning to the bootloader", 20)
        menu(b)
        # upload back with rb: byte-identical
        need_tool("rb")
        b.send("2")
        b.expect("Start the YMODEM receiver now ...\r\n", 20)
        d = os.path.join(work, "rx")
        os.mkdir(d)
        r = b.run_piped(["rb", "-E"], cwd=d, timeout=300)
        if r.returncode != 0:
            raise Fail(f"rb failed (rc {r.returncode}): {r.stderr.decode(errors='replace')[-300:]}")
        got = os.path.join(d, "h7app.bin")
        if not os.path.exists(got) or not filecmp.cmp(got, app, shallow=False):
            raise Fail("rb: downloaded image differs from the uploaded one")
        b.expect("Upload completed successfully", 30)
        b.send("4")
        b.expect("application: valid", 20)
    finally:
        b.stop()


def test_ecc_in_image(env, work):
    """A flash word of the application damaged after a good update: one
    flipped bit is corrected by ECC and the application starts; two make a
    double-ECC word, and the bootloader's boot check (a read with bus faults
    ignored) refuses the image and names the word, it never HardFaults."""
    app = env["app"]
    size = os.path.getsize(app)
    base = APP
    single = base + (size // 4) // 32 * 32
    double = base + (size // 2) // 32 * 32
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        menu(b)
        sb_upload(b, app)
        b.expect("Programming completed successfully: %d bytes" % size, 60)
    finally:
        b.stop()
    b = Board(env["vboard"], env["boot"], work, extra=("--flip-bits", "%#x:1" % single))
    try:
        b.expect("h7app ", 30)
    finally:
        b.stop()
    b = Board(env["vboard"], env["boot"], work, extra=("--flip-bits", "%#x:2" % double))
    try:
        b.read_some(2.0)
        if b"h7app " in b.buf:
            raise Fail("the application started from an image with a double-ECC word")
        menu(b)
        b.send("4")
        st = b.expect("last error", 20)
        want = "not runnable: double ECC error (DBECCERR) at %#010x" % double
        if want.encode() not in st:
            raise Fail(f"status does not say {want!r}: {st[-300:]!r}")
        menu(b)
        b.send("3")
        b.expect("> ", 20)
        if b.p.poll() is not None:
            raise Fail(f"board stopped (rc {b.p.returncode})")
    finally:
        b.stop()


# The boot check's reads of the damaged word are logged by the model (a CPU
# read of a double-ECC word); nothing else may be.
test_ecc_in_image.expected_violations = ("rule=read-double-ecc",)


def test_sb_too_large_then_new_upload(env, work):
    big = os.path.join(work, "big.bin")
    image(big, APP_SIZE + 1, 5)
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        menu(b)
        r = sb_upload(b, big, expect_ok=False)
        if r.returncode == 0:
            raise Fail("sb reported success for a file larger than the application area")
        b.expect("Download failed: image larger than the application area", 60)
        b.send("4")
        b.expect("no complete update record", 20)
        b.expect("> ", 10)
        sb_upload(b, env["app"])
        b.expect("Programming completed successfully", 60)
    finally:
        b.stop()


def test_sb_small(env, work):
    """1-byte and 33-byte files: programmed, padded, recorded; not
    runnable (no vector table), so the bootloader keeps the menu."""
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        for n, seed in ((1, 1), (33, 2)):
            p = os.path.join(work, "img%d.bin" % n)
            image(p, n, seed)
            menu(b)
            sb_upload(b, p)
            b.expect("Programming completed successfully: %d bytes" % n, 60)
            b.expect("> ", 10)
            b.send("4")
            b.expect("length %d" % n, 20)
            b.expect("not runnable", 20)
    finally:
        b.stop()


def test_sb_large(env, work):
    """An image across the bank boundary, then the full 1.75 MB: both
    start (the example application at the front, random bytes after)."""
    with open(env["app"], "rb") as f:
        app = f.read()
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        for n, seed in ((BANK2 - APP + 5000, 3), (APP_SIZE, 4)):
            p = os.path.join(work, "img%d.bin" % n)
            image(p, n, seed, head=app)
            menu(b)
            sb_upload(b, p)
            b.expect("Programming completed successfully: %d bytes" % n, 600)
            b.expect("> ", 10)
            b.send("3")
            b.expect("h7app ", 30)
            b.send("b")
            b.expect("returning to the bootloader", 20)
    finally:
        b.stop()


def test_sb_abort_midway(env, work):
    """sb killed in the middle: the interrupted image never starts, even
    after a power-on; a new upload works."""
    with open(env["app"], "rb") as f:
        app = f.read()
    p = os.path.join(work, "big.bin")
    # Large enough that sb cannot finish before it is killed (4 s of wall
    # time), however fast the machine: 1.5 MB is 130 s of virtual line time.
    image(p, 1500000, 7, head=app)
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        menu(b)
        sb_upload(b, env["app"])
        b.expect("Programming completed successfully", 60)
        menu(b)
        b.send("1")
        b.expect("(YMODEM, 'a' aborts) ...\r\n", 20)
        r = b.run_piped(["sb", "-k", p], timeout=600, kill_after=50 * 1029)
        if r.returncode != -9:
            raise Fail(f"sb finished before it could be killed (rc {r.returncode})")
        # the board gives up on the silent sender and stays responsive
        b.expect("Download failed", 120)
        menu(b)
        b.send("4")
        b.expect("last update was interrupted", 20)
    finally:
        b.stop()
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        # no application banner: the bootloader stays
        b.drain(1.0)
        menu(b)
        b.send("4")
        b.expect("last update was interrupted", 20)
        b.expect("> ", 10)
        sb_upload(b, env["app"])
        b.expect("Programming completed successfully", 60)
        b.expect("> ", 10)
        b.send("3")
        b.expect("h7app ", 30)
    finally:
        b.stop()


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def block(seq, data, size):
    data = data + bytes([0x1A if seq else 0]) * (size - len(data))
    c = crc16(data)
    return bytes([0x02 if size == 1024 else 0x01, seq & 0xFF, 0xFF - (seq & 0xFF)]) + data + \
        bytes([c >> 8, c & 0xFF])


def wait_byte(b, wanted, timeout=20):
    import time
    t0 = time.time()
    while True:
        while b.buf:
            c, b.buf = b.buf[0], b.buf[1:]
            if c in wanted:
                return c
        if time.time() - t0 > timeout:
            raise Fail(f"no {wanted!r} from the board")
        b.read_some(0.1)


def test_noise_and_corrupted_blocks(env, work):
    """Random noise on the menu line, then a YMODEM sender (written here)
    whose block 2 arrives corrupted and block 3's ACK is 'lost': the
    corrupted block is NAKed and accepted when sent again, the repeated
    block is ACKed once more, the image is complete and starts."""
    import random
    with open(env["app"], "rb") as f:
        app = f.read()
    img = app + bytes(random.Random(9).getrandbits(8) for _ in range(5000))
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    try:
        noise = bytes(random.Random(1).choice(range(0x80, 0x100)) for _ in range(200))
        b.send(noise)
        menu(b)
        b.send("1")
        b.expect("(YMODEM, 'a' aborts) ...\r\n", 20)
        wait_byte(b, b"C")
        hdr = b"img.bin\x00" + str(len(img)).encode() + b"\x00"
        b.send(block(0, hdr, 128))
        if wait_byte(b, b"\x06\x15") != 0x06:
            raise Fail("header not ACKed")
        wait_byte(b, b"C")
        seq, off, naks = 1, 0, 0
        while off < len(img):
            chunk = img[off:off + 1024]
            frame = block(seq, chunk, 1024)
            if seq == 2 and naks == 0:
                bad = bytearray(frame)
                bad[100] ^= 0x55
                b.send(bytes(bad))
            else:
                b.send(frame)
            r = wait_byte(b, b"\x06\x15\x18")
            if r == 0x15:
                naks += 1
                continue
            if r != 0x06:
                raise Fail("transfer cancelled by the board")
            if seq == 3 and naks < 2:
                naks += 1
                b.send(frame)        # our ACK was "lost": send block 3 again
                if wait_byte(b, b"\x06\x15\x18") != 0x06:
                    raise Fail("repeated block not ACKed")
            seq, off = seq + 1, off + len(chunk)
        if naks != 2:
            raise Fail(f"expected one NAK and one repeat, saw {naks} events")
        b.send(b"\x04")
        if wait_byte(b, b"\x06\x15") != 0x06:
            raise Fail("EOT not ACKed")
        wait_byte(b, b"C")
        b.send(block(0, b"", 128))
        wait_byte(b, b"\x06")
        b.expect("Programming completed successfully: %d bytes" % len(img), 30)
        b.expect("> ", 10)
        b.send("3")
        b.expect("h7app ", 30)
    finally:
        b.stop()


TESTS = [
    ("sb_upload_then_banner_and_rb", test_sb_upload_then_banner_and_rb),
    ("sb_too_large_then_new_upload", test_sb_too_large_then_new_upload),
    ("sb_small", test_sb_small),
    ("sb_large", test_sb_large),
    ("sb_abort_midway", test_sb_abort_midway),
    ("ecc_in_image", test_ecc_in_image),
    ("noise_and_corrupted_blocks", test_noise_and_corrupted_blocks),
]

if __name__ == "__main__":
    sys.exit(main(TESTS))
