#!/usr/bin/env python3
"""Board tests of the fast protocol (docs/PROTOCOL.md "h7iap fast
protocol") with h7iap itself as the client, on the real bootloader ELF.

  test_fastp.py H7VBOARD BOOT_ELF APP_BIN [TEST...]   (H7IAP in the environment)

no_overrun: a 320 KB image at 2 Mbaud spans three bank-1 sector erases,
each started while frames keep arriving. Every receive path and every
function it calls must run from ITCM then (a fetch from bank 1 stalls the
CPU for the erase, docs/H7_FLASH.md 5.1), so USART3 must never overrun:
the board counts ORE, h7iap counts frames it had to send again, and the
flash must hold the image byte for byte.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Fail  # noqa: E402


def h7iap(env, work, *args, timeout=600):
    exe = os.environ.get("H7IAP")
    e2e.need(exe, "h7iap (tools/), given as H7IAP")
    argv = [exe, "-v", "--vboard", "--vboard-bin", env["vboard"], "--vboard-boot", env["boot"],
            "--vboard-flash", os.path.join(work, "flash.bin"),
            "--vboard-log", os.path.join(work, "board.log"), *args]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def board_summaries(work):
    with open(os.path.join(work, "board.log"), errors="replace") as f:
        return [ln for ln in f if ln.startswith("h7vboard: stop=")]


def test_no_overrun(env, work):
    img = os.path.join(work, "img.bin")
    e2e.image(img, 320 * 1024, 7)
    rc, out = h7iap(env, work, "flash", "--protocol", "fast", "--no-reset", img)
    if rc != 0:
        raise Fail(f"h7iap flash --protocol fast: exit {rc}\n{out[-1500:]}")
    m = re.search(r"(\d+) frames \((\d+) repeated\)", out)
    if not m:
        raise Fail(f"h7iap printed no frame count:\n{out[-800:]}")
    if int(m.group(2)) != 0:
        raise Fail(f"{m.group(2)} of {m.group(1)} frames sent again on a clean line:\n{out[-1500:]}")
    s = board_summaries(work)
    if not s:
        raise Fail("the board printed no summary")
    ore = re.search(r" ore=(\d+)", s[-1])
    if not ore or int(ore.group(1)) != 0:
        raise Fail(f"USART3 overran while the bootloader erased bank 1: {s[-1].strip()}")
    back = os.path.join(work, "back.bin")
    rc, out = h7iap(env, work, "read", "0x%08x" % e2e.APP, str(320 * 1024), back)
    if rc != 0:
        raise Fail(f"h7iap read: exit {rc}\n{out[-800:]}")
    with open(img, "rb") as a, open(back, "rb") as b:
        if a.read() != b.read():
            raise Fail("the flash does not hold the image sent")


TESTS = [
    ("no_overrun", test_no_overrun),
]

if __name__ == "__main__":
    sys.exit(e2e.main(TESTS))
