#!/usr/bin/env python3
"""A/B updates on the virtual board (docs/PROTOCOL.md "A/B updates"):
h7boot_ab, the example application linked for 0x08020000 (h7app_ab
confirms itself on trial, h7app_ab_noconfirm waits for the host), YMODEM
downloads with lrzsz sb, h7iap info/confirm.

argv: H7VBOARD H7BOOT_AB_ELF H7APP_AB_BIN [TEST...]; the never-confirming
image is H7APP_AB_BIN's sibling h7app_ab_noconfirm.bin.

Each image says what it is in its banner: "h7app: A/B image #N, on trial"
or ", confirmed" (the sequence number h7boot_ab left in the handoff
words); the sequence tells the old image from the new one.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import LAYOUT, Board, Fail, main, need, need_tool  # noqa: E402

SLOT = LAYOUT["BOOT_AB_SLOT_START"]
OTHER = LAYOUT["BOOT_AB_OTHER_START"]
TRAILER_OFF = LAYOUT["BOOT_AB_TRAILER_OFF"]
BANK = LAYOUT["H7_BANK_SIZE"]
FLASH_SIZE = LAYOUT["H7_FLASH_SIZE"]

# lrzsz takes a while to start and to answer at the end of a batch
# (tests/e2e/test_ymodem.py).
SLOW_HOST = ("--host-wait-ms", "3000")


def noconfirm_bin(env):
    p = os.path.join(os.path.dirname(env["app"]), "h7app_ab_noconfirm.bin")
    need(p, "h7app_ab_noconfirm (app/)")
    return p


def seen(b, seq, state, timeout=30):
    """The image with sequence seq starts, on trial or confirmed."""
    b.expect(f"h7app: A/B image #{seq}, {state}", timeout)


def running_confirmed(b, seq):
    """An h7app_ab image on trial confirms itself and starts again."""
    seen(b, seq, "on trial")
    b.expect(f"h7app: confirming image #{seq}", 10)
    seen(b, seq, "confirmed")


def download(b, path):
    """Menu 1, sb PATH: the image goes to the other slot, the bootloader
    swaps the banks and resets."""
    need_tool("sb")
    b.send("1")
    b.expect("(YMODEM, 'a' aborts) ...\r\n", 20)
    r = b.run_piped(["sb", "-k", path], timeout=120)
    if r.returncode != 0:
        raise Fail(f"sb failed (rc {r.returncode}): {r.stderr.decode(errors='replace')[-300:]}")
    b.expect("Programming completed successfully: %d bytes" % os.path.getsize(path), 30)
    b.expect("Resetting into the new image", 10)


def to_menu(b):
    """The running image hands over to the bootloader ('b'), menu prompt."""
    b.send("b")
    b.expect("returning to the bootloader", 10)
    b.prompt(20)


def first_install(env, work):
    """A fresh part with h7boot_ab only: both slots empty, the bootloader
    stays; the first download is an A/B update too (image #1)."""
    b = Board(env["vboard"], env["boot"], work, extra=SLOW_HOST)
    b.prompt(30)
    download(b, env["app"])
    running_confirmed(b, 1)
    return b


def power_on(env, work, extra=()):
    """Power on what the flash file holds (no ELF loaded: the bootloader in
    either bank is the one the update left there)."""
    return Board(env["vboard"], None, work, extra=SLOW_HOST + tuple(extra))


# The model's flash file (model/src/h7sim_fault.c h7sim_save): a 184-byte
# header (optsr first, at 16), then per physical bank its bytes and one
# state byte per flash word.
IMG_HDR = 184
IMG_BANK = BANK + BANK // 32


def flash_file(work):
    with open(os.path.join(work, "flash.bin"), "rb") as f:
        return f.read()


def phys_trailer(work, bank):
    """Trailer words of the slot in physical bank 1 or 2."""
    data = flash_file(work)
    off = IMG_HDR + (bank - 1) * IMG_BANK + (SLOT - LAYOUT["H7_FLASH_BASE"]) + TRAILER_OFF
    return [data[off + 32 * i: off + 32 * (i + 1)] for i in range(8)]


def _flash_h(name):
    """A bit of hw/include/stm32h7/flash.h, '(1u << N)'."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "hw", "include", "stm32h7", "flash.h")
    with open(path) as f:
        m = re.search(r"#define\s+%s\s+\(1u << (\d+)\)" % name, f.read())
    return 1 << int(m.group(1))


SWAP_BANK_OPT = _flash_h("FLASH_OPTSR_SWAP_BANK_OPT")


def swapped(work):
    """SWAP_BANK_OPT in the option bytes the file holds."""
    return bool(struct.unpack_from("<I", flash_file(work), 16)[0] & SWAP_BANK_OPT)


def word_kind(w):
    """Kind letter of a valid trailer word, '.' empty, '?' torn."""
    if w == b"\xff" * 32:
        return "."
    magic, ver, kind = struct.unpack_from("<IBB", w)
    if magic != 0x42413748 or ver != 1 or zlib.crc32(w[:28]) != struct.unpack_from("<I", w, 28)[0]:
        return "?"
    return chr(kind)


def test_update_confirm(env, work):
    """(a) Two updates, each written to the bank that is not running,
    swapped, started on trial, confirmed by the image: the new image stays,
    also after a power cycle."""
    b = first_install(env, work)
    try:
        to_menu(b)
        download(b, env["app"])
        running_confirmed(b, 2)
    finally:
        b.stop()
    b = power_on(env, work)
    try:
        seen(b, 2, "confirmed")
    finally:
        b.stop()
    # Image #1 went to physical bank 2, image #2 to bank 1: each one a
    # trailer with IMAGE, one TRIAL, one CONFIRM.
    t1, t2 = phys_trailer(work, 1), phys_trailer(work, 2)
    k1 = "".join(word_kind(w) for w in t1)
    k2 = "".join(word_kind(w) for w in t2)
    if k1 != "IT..C..." or k2 != "IT..C...":
        raise Fail(f"trailers: bank 1 {k1!r}, bank 2 {k2!r} (expected 'IT..C...' both)")
    s1 = struct.unpack_from("<I", t1[0], 8)[0]
    s2 = struct.unpack_from("<I", t2[0], 8)[0]
    if (s1, s2) != (2, 1):
        raise Fail(f"sequences: bank 1 #{s1}, bank 2 #{s2} (expected #2, #1)")


if __name__ == "__main__":
    sys.exit(main([
        ("update_confirm", test_update_confirm),
    ]))
