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


def kinds(work, which):
    """Kind letters of the trailer of the slot "running" (the bank mapped
    at 0x08000000) or "other"."""
    bank = 2 if swapped(work) == (which == "running") else 1
    return "".join(word_kind(w) for w in phys_trailer(work, bank))


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


def install_noconfirm(env, work):
    """Image #1 confirmed, then h7app_ab_noconfirm downloaded as image #2:
    it starts on trial and does not confirm itself."""
    b = first_install(env, work)
    to_menu(b)
    download(b, noconfirm_bin(env))
    seen(b, 2, "on trial")
    return b


def test_rollback(env, work):
    """(b) An image that never confirms is rolled back to the old confirmed
    one: (1) it hangs ('w': no more watchdog refreshes), the watchdog resets
    the part, the bootloader rejects it and swaps back; (2) it is reset
    (power cycles) without confirming until its trials are used up; (3) it
    runs without confirming until its trial budget is used up."""
    b = install_noconfirm(env, work)
    try:
        b.send("w")
        b.expect("h7app: no more watchdog refreshes", 10)
        # IWDG1 8.2 s (boot/target/iwdg.c), then REJECT, SWAP, reset.
        seen(b, 1, "confirmed", 60)
        to_menu(b)
        download(b, noconfirm_bin(env))
        seen(b, 3, "on trial")
    finally:
        b.stop()
    # Trials 2 and 3 at the next power-ons, then REJECT and the swap back.
    for trial in (2, 3):
        b = power_on(env, work)
        try:
            seen(b, 3, "on trial")
        finally:
            b.stop()
        k = kinds(work, "running")
        if k[:1 + trial] != "I" + "T" * trial:
            raise Fail(f"after trial start {trial}: running trailer {k!r}")
    b = power_on(env, work)
    try:
        seen(b, 1, "confirmed")
    finally:
        b.stop()
    # Image #3 is rejected in its trailer (the flash file is written when
    # the board stops): three trials, no confirm, REJECT.
    k = kinds(work, "other")
    if k != "ITTT...R":
        raise Fail(f"rejected slot's trailer {k!r} (expected 'ITTT...R')")
    b = power_on(env, work)
    try:
        seen(b, 1, "confirmed")
        # (3) It runs and never confirms: its trial budget (20 s, app/app.c)
        # runs out, it stops refreshing the watchdog, rollback.
        to_menu(b)
        download(b, noconfirm_bin(env))
        seen(b, 4, "on trial")
        b.expect("h7app: not confirmed within the trial budget", 120)
        seen(b, 1, "confirmed", 60)
    finally:
        b.stop()


def h7iap(env, b, *args, timeout=120):
    """h7iap on the board's pty (the board keeps running)."""
    exe = os.environ.get("H7IAP")
    need(exe, "h7iap (tools/), given as H7IAP")
    r = b.run_client([exe, "-v", "-p", b.link, *args], timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def test_host_confirm(env, work):
    """(b) The host confirms an image on trial: h7iap -e confirm takes the
    running image to the bootloader, programs its CONFIRM word, resets,
    and the image runs confirmed; h7iap info shows both slots; flash is
    refused with a clear error (the A/B bootloader takes YMODEM only)."""
    b = install_noconfirm(env, work)
    try:
        b.drain(0.3)
        rc, out = h7iap(env, b, "-e", "confirm", "--expect", "A/B image #2, confirmed")
        if rc != 0:
            raise Fail(f"h7iap -e confirm: exit {rc}\n{out[-1500:]}")
        b.drain(0.3)
        rc, out = h7iap(env, b, "-e", "info")
        if rc != 0:
            raise Fail(f"h7iap -e info: exit {rc}\n{out[-1500:]}")
        for want in ("layout:      A/B", "Confirm(0xe2)",
                     "running:     0x%08x: confirmed, image #2" % SLOT,
                     "other:       0x%08x: confirmed, image #1" % OTHER):
            if want not in out:
                raise Fail(f"h7iap info: no {want!r} in\n{out}")
        rc, out = h7iap(env, b, "confirm", "--no-reset")
        if rc != 0 or "confirmed" not in out:
            raise Fail(f"h7iap confirm of a confirmed image: exit {rc}\n{out[-800:]}")
        rc, out = h7iap(env, b, "flash", env["app"])
        if rc == 0 or "YMODEM" not in out:
            raise Fail(f"h7iap flash on h7boot_ab: exit {rc} (expected a refusal)\n{out[-800:]}")
    finally:
        b.stop()
    k = kinds(work, "running")
    if k != "IT..C...":
        raise Fail(f"confirmed slot's trailer {k!r} (expected 'IT..C...')")


def trace_ops(path):
    """The flash operations a board started, in order (the k-th is the one
    --cut-after-ops k cuts: array operations and option changes, CRC
    computations are not counted): (kind, bank, addr, len) from
    --trace-file."""
    ops = []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"flash (\S+) start bank (\d) 0x([0-9a-f]+) \+(\d+)", line)
            if m and m.group(1) != "crc":
                ops.append((m.group(1), int(m.group(2)), int(m.group(3), 16), int(m.group(4))))
    return ops


OTHER_TRAILER = OTHER + TRAILER_OFF
RUN_TRAILER = SLOT + TRAILER_OFF


def update_flow(env):
    """Power-on of image #1, back to the bootloader, download of image #2
    (h7app_ab), its trial start and confirm."""
    def flow(b):
        seen(b, 1, "confirmed")
        to_menu(b)
        download(b, env["app"])
        running_confirmed(b, 2)
    return flow


def cut_points(ops):
    """Where to cut an update: op index -> (what, image expected after the
    next power-on)."""
    erase = next(i for i, o in enumerate(ops)
                 if o[0] == "sector-erase" and o[2] == OTHER + LAYOUT["BOOT_AB_SLOT_SIZE"] - 0x20000)
    image_word = next(i for i, o in enumerate(ops) if o[0] == "program" and o[2] == OTHER_TRAILER)
    progs = [i for i in range(erase, image_word) if ops[i][0] == "program"]
    opt = next(i for i in range(image_word, len(ops)) if ops[i][0] == "option-change")
    trial = next(i for i in range(opt, len(ops))
                 if ops[i][0] == "program" and ops[i][2] == RUN_TRAILER + 32)
    confirm = next(i for i in range(trial, len(ops))
                   if ops[i][0] == "program" and ops[i][2] == RUN_TRAILER + 4 * 32)
    return {
        erase: ("the other slot's trailer-sector erase", 1),
        progs[len(progs) // 2]: ("an image word", 1),
        image_word: ("the IMAGE word", 1),
        opt: ("the SWAP_BANK option change", 2),
        trial: ("the TRIAL word", 2),
        confirm: ("the CONFIRM word", 2),
    }


def torn_range(op):
    """What a cut during op may leave unreadable (double ECC): the flash
    word being programmed, the sector being erased; nothing for an option
    change."""
    kind, _, addr, _ = op
    if kind == "program":
        return addr, addr + 32
    if kind == "sector-erase":
        return addr, addr + 0x20000
    return addr, addr


def cut_violations(work, op):
    """The model's violations in board.log that the cut does not explain:
    only CPU reads of double-ECC words inside what op tore, at either
    mapping (a swap may follow the cut) are allowed. board.log moves
    aside, so that the test's final check sees the other runs only."""
    log = os.path.join(work, "board.log")
    with open(log, errors="replace") as f:
        text = f.read()
    os.replace(log, os.path.join(work, "board-cut%d.log" % op[2]))
    lo, hi = torn_range(op)
    bad = []
    for line in text.splitlines():
        m = re.match(r"h7sim: t=\d+ ns addr=0x([0-9a-f]+) rule=(\S+)", line)
        if not m:
            continue
        a = int(m.group(1), 16)
        if m.group(2) == "read-double-ecc" and any(lo <= x < hi for x in (a, a ^ BANK)):
            continue
        bad.append(line)
    return bad


def cut_and_power_on(env, work, base, k, op, flow, what, want):
    """Start from base, cut power during the k-th flash operation of flow
    (op, as the reference run started it), power on again: image #want
    runs and confirms (or is confirmed), no other image starts."""
    shutil.copy(base, os.path.join(work, "flash.bin"))
    tf = os.path.join(work, f"cut{k}.trace")
    b = power_on(env, work, ("--cut-after-ops", str(k), "--trace-file", tf))
    try:
        flow(b)
    except (Fail, OSError):
        pass
    finally:
        b.stop()
    if b.p.returncode != 5:
        raise Fail(f"cut in {what} (op {k}): the board did not stop with a power cut "
                   f"(rc {b.p.returncode})")
    # The operation the cut hit: the last one started before it.
    last = trace_ops(tf)[-1:]
    if last != [op]:
        raise Fail(f"cut in {what} (op {k}): the cut hit {last} instead of {op}")
    cut = "%s 0x%08x" % (op[0], op[2])
    b = power_on(env, work)
    try:
        # on trial, it confirms itself first
        out = b.expect(f"h7app: A/B image #{want}, confirmed", 40)
        other = re.findall(rb"A/B image #(\d+)", out)
        if any(int(n) != want for n in other):
            raise Fail(f"images started: {other}")
    except Fail as e:
        raise Fail(f"cut in {what} (op {k}, {cut}): after power-on: {e}")
    finally:
        b.stop()
    bad = cut_violations(work, op)
    if bad:
        raise Fail(f"cut in {what} (op {k}, {cut}): model violations:\n  " + "\n  ".join(bad[:5]))
    print(f"  cut in {what} (op {k}, {cut}): image #{want} runs")


def cut_test(env, work, pick):
    """Reference run (its trace numbers the flash operations), then one cut
    per point of pick."""
    b = first_install(env, work)
    b.stop()
    base = os.path.join(work, "base.bin")
    shutil.copy(os.path.join(work, "flash.bin"), base)
    ref = os.path.join(work, "ref.trace")
    flow = update_flow(env)
    b = power_on(env, work, ("--trace-file", ref))
    try:
        flow(b)
    finally:
        b.stop()
    ops = trace_ops(ref)
    points = cut_points(ops) if pick else every_point(ops)
    n = 0
    for k, (what, want) in sorted(points.items()):
        if not pick or any(p in what for p in pick):
            cut_and_power_on(env, work, base, k, ops[k], flow, what, want)
            n += 1
    if n != (len(pick) if pick else len(ops)):
        raise Fail(f"{n} cut points for {pick} in {len(ops)} operations")


def every_point(ops):
    """Every flash operation of the update: up to the IMAGE word the old
    image stays, from the SWAP_BANK change on the new one runs."""
    image_word = next(i for i, o in enumerate(ops) if o[0] == "program" and o[2] == OTHER_TRAILER)
    return {k: ("%s 0x%08x" % (o[0], o[2]), 1 if k <= image_word else 2)
            for k, o in enumerate(ops)}


def test_cut_update(env, work):
    """(c) Power cuts while image #2 is written: the next power-on starts
    image #1, confirmed."""
    cut_test(env, work, ("erase", "image word", "IMAGE word"))


def test_cut_swap(env, work):
    """(c) Power cuts in the SWAP_BANK option change of the commit, the
    TRIAL and the CONFIRM words: the next power-on starts image #2, on trial
    (it confirms itself), never neither."""
    cut_test(env, work, ("SWAP_BANK", "TRIAL", "CONFIRM"))


def test_cut_all(env, work):
    """(c) long: a power cut at every flash and option-byte operation of the
    update, in order: image #1 up to its IMAGE word, image #2 after."""
    cut_test(env, work, ())


if __name__ == "__main__":
    sys.exit(main([
        ("update_confirm", test_update_confirm),
        ("rollback", test_rollback),
        ("host_confirm", test_host_confirm),
        ("cut_update", test_cut_update),
        ("cut_swap", test_cut_swap),
        ("cut_all", test_cut_all),
    ]))
