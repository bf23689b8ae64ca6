#!/usr/bin/env python3
"""make bench: every update path measured in virtual time on the virtual
board, against the physical limit computed from the flash model.

    bench.py --host HOST_BUILD --fw FW_BUILD [--out docs/BENCHMARKS.md]
             [--sizes 64K,768K,1792K] [--bauds 115200,921600,2000000]
             [--clients sb,stm32flash,stm32flash-v,h7iap[,h7iap-fast,h7iap-fast-fw]]
             [--jobs 2]
             [--timeout S] [--repeat N] [--json FILE] [--split] [--require-ok]
             [--from-json FILE]

One configuration = one fresh board (bench/h7bench board: the bootloader,
an erased application area, USART3 on a pty), one client run as a user
would, then the application's banner. The board's observer takes the
figures at exact virtual instants (see bench/h7bench.c); this script only
orchestrates, checks the banner, and formats. A configuration that fails
or times out is reported as "n/a (reason)", never hangs the run.
"""
import argparse
import concurrent.futures as cf
import datetime
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "proto"))
import h7_layout  # noqa: E402  (proto/h7_layout.h, the firmware's layout)

APP_BASE = h7_layout.load()["BOOT_APP_START"]
APP_BAUD = 115200
SIZES = {"64K": 64 * 1024, "768K": 768 * 1024, "1792K": 1792 * 1024}
SIZE_LABEL = {64 * 1024: "64 KB", 768 * 1024: "768 KB", 1792 * 1024: "1.75 MB"}
CLIENTS = ["sb", "sb-ab", "stm32flash", "stm32flash-v", "h7iap", "h7iap-fast", "h7iap-fast-fw",
           "h7iap-fast-reflash", "h7iap-fast-resume"]
# The default run: every client. Pick rows with --clients.
DEFAULT_CLIENTS = CLIENTS
# Rows that only some clients get: 4 Mbaud is the fast protocol's (after its
# safe start at the row's rate ... sb and stm32flash run at the rate they
# start at); the firmware image, the re-flash and the resume rows are 1.75 MB
# transfers by definition.
FAST_ONLY_BAUDS = {4000000}
FULL_SIZE_ONLY = {"h7iap-fast-fw", "h7iap-fast-reflash", "h7iap-fast-resume"}
# The A/B layout's slot holds at most 896 KB less its trailer
# (proto/h7_layout.h BOOT_AB_IMAGE_MAX).
AB_CLIENTS = {"sb-ab"}


def wanted(client, size, baud):
    if baud in FAST_ONLY_BAUDS and not client.startswith("h7iap-fast"):
        return False
    if client in FULL_SIZE_ONLY and size != SIZES["1792K"]:
        return False
    if client in AB_CLIENTS and size > h7_layout.load()["BOOT_AB_IMAGE_MAX"]:
        return False
    return True
CLIENT_LABEL = {
    "sb": "sb (YMODEM menu)",
    "sb-ab": "sb (YMODEM menu), A/B bootloader",
    "stm32flash": "stm32flash",
    "stm32flash-v": "stm32flash -v",
    "h7iap": "h7iap flash",
    "h7iap-fast": "h7iap flash (fast protocol)",
    "h7iap-fast-fw": "h7iap flash (fast protocol), M7 firmware image",
    "h7iap-fast-reflash": "h7iap flash (fast protocol), re-flash with one sector changed",
    "h7iap-fast-resume": "h7iap flash (fast protocol), resumed after a power cut at 50 %",
}
TURNAROUND_US = 1000
HOST_WAIT_MS = 2000
# The client stays attached for the whole run: a long computation on the
# emulated device (h7iap's Get Checksum over 1.75 MB takes seconds of host
# time) must not make the board count the host as gone (vboard's default
# is 3 s), or the client's next byte is stamped at a host-dependent time.
HOST_IDLE_MS = 3600000
# After the last byte of a client's reaction the board waits this long (wall
# time) for more bytes of the same reaction before it lets virtual time run
# on. Every client here writes a reaction with one write() (sb: one 1029-byte
# write per block, relayed as read), so the wait would only cost wall time:
# vboard's default of 2 ms is 2/3 of a full run (about 400 000 reactions).
# A reaction that does arrive in pieces shows up as late host bytes: such a
# run is repeated (attempts()).
HOST_GAP_MS = 0

# Figures of the observed window that must not change between two runs of
# the same configuration.
DETERMINISTIC = {
    "t0_ns", "t_first_rx_ns", "t_app_ns", "t_banner_ns", "t_erase0_ns", "t_prog0_ns", "t_prog_end_ns",
    "rx_wire_ns", "tx_wire_ns", "rx_bytes", "tx_bytes", "stall_ns", "idle_ns", "insns",
    "link_baud", "link_frame_bits", "psize", "late_host_bytes", "driver_cycles_per_word", "driver_cycles_samples",
    "bank1_program_ns", "bank1_program_ops", "bank1_erase_ns", "bank1_erase_ops",
    "bank2_program_ns", "bank2_program_ops", "bank2_erase_ns", "bank2_erase_ops",
}

LIVE = set()
LIVE_LOCK = threading.Lock()
STOP = threading.Event()


class NA(Exception):
    """A configuration that cannot be measured: the reason goes in the table."""


def spawn(argv, **kw):
    with LIVE_LOCK:
        if STOP.is_set():
            raise NA("stopped")
        p = subprocess.Popen(argv, **kw)
        LIVE.add(p)
    return p


def reap(p, sig=signal.SIGTERM, grace=10.0):
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with LIVE_LOCK:
        LIVE.discard(p)


def kill_all(*_):
    """SIGINT/SIGTERM: no new process starts, every live one is killed; the
    workers then see their processes gone and return."""
    with LIVE_LOCK:
        STOP.set()
        procs = list(LIVE)
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
    raise KeyboardInterrupt


def baud_const(baud):
    return getattr(termios, "B%d" % baud, None)


def set_raw_speed(fd, baud):
    tty.setraw(fd, termios.TCSANOW)
    a = termios.tcgetattr(fd)
    c = baud_const(baud)
    if c is None:
        raise NA(f"no termios constant for {baud} baud")
    a[4] = a[5] = c
    termios.tcsetattr(fd, termios.TCSANOW, a)


class Pty:
    """The harness's own end of the board's pty (sb's stdin/stdout, the
    banner). Reads one byte at a time so that what follows a prompt stays
    in the tty for the client."""

    def __init__(self, path, baud):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        set_raw_speed(self.fd, baud)
        self.pending = b""

    def send(self, data):
        try:
            os.write(self.fd, data)
        except OSError:
            raise NA("board stopped")

    def expect(self, pat, timeout, board):
        t0 = time.monotonic()
        buf = b""
        while pat not in buf:
            if self.pending:
                buf, self.pending = buf + self.pending[:1], self.pending[1:]
                continue
            if time.monotonic() - t0 > timeout:
                raise NA(f"no {pat.decode(errors='replace').strip()!r} from the board "
                         f"in {timeout:.0f} s (last: {buf[-60:].decode(errors='replace')!r})")
            if board.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                raise NA(f"board stopped waiting for {pat.decode(errors='replace').strip()!r}")
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    buf += os.read(self.fd, 1)
                except OSError:
                    raise NA("pty closed")
        return buf

    def relay(self, argv, timeout, board):
        """Run an lrzsz client on pipes, copying bytes to and from the pty
        (lrzsz flushes its terminal on exit: what the board says after
        the transfer must not be lost)."""
        p = spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out_fd, err_fd = p.stdout.fileno(), p.stderr.fileno()
        os.set_blocking(out_fd, False)
        os.set_blocking(err_fd, False)
        err = b""
        out_eof = False
        board_gone = None
        t0 = time.monotonic()
        try:
            while True:
                if time.monotonic() - t0 > timeout:
                    raise NA(f"{argv[0]} did not finish in {timeout:.0f} s")
                alive = p.poll() is None
                fds = [err_fd] + ([self.fd] if alive else []) + ([] if out_eof else [out_fd])
                r, _, _ = select.select(fds, [], [], 0.05)
                if out_fd in r:
                    try:
                        x = os.read(out_fd, 65536)
                    except BlockingIOError:
                        x = None
                    if x:
                        try:
                            os.write(self.fd, x)
                        except OSError:
                            raise NA("board stopped during the transfer")
                        continue
                    if x == b"":
                        out_eof = True
                if err_fd in r:
                    try:
                        err += os.read(err_fd, 65536)
                    except BlockingIOError:
                        pass
                if self.fd in r and alive:
                    try:
                        x = os.read(self.fd, 65536)
                    except OSError:
                        raise NA("board stopped during the transfer")
                    if not x:
                        raise NA("board stopped during the transfer")
                    # Kept as well: what the board says right after the
                    # transfer reaches the client before it exits.
                    self.pending += x
                    try:
                        p.stdin.write(x)
                        p.stdin.flush()
                    except BrokenPipeError:
                        pass
                if not alive and (out_eof or out_fd not in r):
                    break
                if board.poll() is not None and alive:
                    board_gone = board_gone or time.monotonic()
                    if time.monotonic() - board_gone > 3:
                        raise NA("board stopped during the transfer")
            return p.returncode, err
        finally:
            reap(p, signal.SIGKILL)

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass


def make_image(path, size, app, firmware=None):
    """The example application padded with deterministic pseudo-random bytes,
    or with the bytes of a real firmware image (firmware) after it."""
    rnd = random.Random(size)
    with open(path, "wb") as f:
        if firmware is not None:
            f.write(app + firmware[len(app):size])
        else:
            f.write(app + rnd.randbytes(size - len(app)))


def read_kv(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                out[k] = v
    except FileNotFoundError:
        pass
    return out


def tail_text(b, n=120):
    s = b.decode(errors="replace").strip().splitlines()
    return (s[-1] if s else "")[-n:]


def run_client(argv, timeout, board, errlog, **kw):
    """Run a client; the board stopping first (wrong link rate, limit) ends it.
    Its stderr goes to errlog (a file: a chatty client never blocks)."""
    with open(errlog, "wb") as ef:
        p = spawn(argv, stderr=ef, **kw)
    t0 = time.monotonic()
    board_gone = None
    try:
        while p.poll() is None:
            if time.monotonic() - t0 > timeout:
                raise NA(f"{os.path.basename(argv[0])} did not finish in {timeout:.0f} s")
            if board.poll() is not None:
                board_gone = board_gone or time.monotonic()
                if time.monotonic() - board_gone > 3:
                    raise NA("board stopped during the transfer")
            time.sleep(0.05)
        with open(errlog, "rb") as ef:
            return p.returncode, ef.read()
    finally:
        reap(p, signal.SIGKILL)


def prepare_reflash(env, img, size, flash, timeout):
    """The board's flash holds img; img then changes in one byte of its middle
    sector. The first write goes over AN3155 without Go (uncommitted: the
    bootloader stays in charge at the next power-on), on a board of its own."""
    sector = h7_layout.load()["H7_SECTOR_SIZE"]
    argv = [env["h7iap"], "-q", "--vboard", "--vboard-bin", env["vboard"], "--vboard-boot",
            env["boot"], "--vboard-flash", flash, "-b", "2000000", "--protocol", "an3155",
            "--no-reset", "--no-verify", "flash", img]
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NA("re-flash: the first write timed out")
    if p.returncode != 0:
        raise NA(f"re-flash: the first write failed: {tail_text(p.stderr)}")
    with open(img, "r+b") as f:
        at = (size // sector) // 2 * sector + 77
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0xFF]))


def prepare_resume(env, img, size, baud, flash, timeout):
    """A fast transfer of img that a power cut stops after half of its flash
    word programs, on a board of its own (h7iap must fail)."""
    argv = [env["h7iap"], "-q", "--vboard", "--vboard-bin", env["vboard"], "--vboard-boot",
            env["boot"], "--vboard-flash", flash, "-b", str(baud), "--protocol", "fast",
            "--baud-fast", "0", "--vboard-arg", f"--cut-after-ops={size // 32 // 2}",
            "--no-reset", "flash", img]
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NA("resume: the interrupted transfer timed out")
    if p.returncode == 0 or b"power cut" not in p.stderr:
        raise NA(f"resume: the first transfer was not cut: {tail_text(p.stderr)}")


def one(cfg, env, work):
    """Run one configuration; returns the result dict (with 'na' on failure)."""
    client, size, baud, turn = cfg["client"], cfg["size"], cfg["baud"], cfg["turnaround_us"]
    os.makedirs(work, exist_ok=True)
    img = os.path.join(work, "image.bin")
    ab = client in AB_CLIENTS
    make_image(img, size, env["app_ab"] if ab else env["app"],
               env["firmware"] if client.endswith("-fw") else None)
    flash = os.path.join(work, "flash.bin")
    if client == "h7iap-fast-reflash":
        try:
            prepare_reflash(env, img, size, flash, cfg["timeout"])
        except NA as e:
            return dict(cfg, na=str(e), board={})
    if client == "h7iap-fast-resume":
        try:
            prepare_resume(env, img, size, baud, flash, cfg["timeout"])
        except NA as e:
            return dict(cfg, na=str(e), board={})
    pty = os.path.join(work, "pty")
    ready = os.path.join(work, "ready")
    result = os.path.join(work, "result.txt")
    banner = os.path.join(work, "banner")
    log = open(os.path.join(work, "board.log"), "wb")
    board = spawn([env["h7bench"], "board", "--flash", flash,
                   "--pty-link", pty, "--ready", ready, "--banner", banner, "--result", result,
                   "--turnaround-us", str(turn), "--host-wait-ms", str(HOST_WAIT_MS),
                   "--host-idle-ms", str(HOST_IDLE_MS), "--host-gap-ms", str(cfg["host_gap_ms"]),
                   "--max-time-ms", str(cfg["max_time_ms"]), "--expect-baud", str(baud),
                   "--host-baud", str(baud),
                   *(["--app-vtor", str(h7_layout.load()["BOOT_AB_SLOT_START"])] if ab else []),
                   env["boot_ab"] if ab else env["boot"]], stdout=log, stderr=log)
    res = dict(cfg)
    hp = None
    try:
        t0 = time.monotonic()
        while not os.path.exists(ready):
            if board.poll() is not None:
                raise NA(f"board exited at start (rc {board.returncode})")
            if time.monotonic() - t0 > 60:
                raise NA("board never waited for the host")
            time.sleep(0.01)
        timeout = cfg["timeout"]
        if client in ("sb", "sb-ab"):
            hp = Pty(pty, baud)
            hp.send(b"1")
            hp.expect(b"'a' aborts) ...\r\n", 20, board)
            rc, err = hp.relay(["sb", "-k", img], timeout, board)
            if rc != 0:
                raise NA(f"sb exit {rc}: {tail_text(err)}")
            # h7boot_ab resets into the new mapping by itself.
            out = hp.expect(b"Resetting into the new image" if ab else b"> ", 30, board)
            if b"Programming completed successfully" not in out:
                raise NA("bootloader: " + tail_text(out.replace(b"> ", b""), 80))
            if not ab:
                hp.send(b"3")
        else:
            if client.startswith("stm32flash"):
                argv = ["stm32flash", "-m", "8n1", "-b", str(baud), "-w", img]
                if client.endswith("-v"):
                    argv.append("-v")
                argv += ["-S", "0x%08x" % APP_BASE, "-g", "0x%08x" % APP_BASE, pty]
            else:
                # -t: h7iap's reply timeouts are wall-clock; the emulated
                # bootloader's image check before Go's ACK can take longer
                # than the default 3 s of host time on a loaded machine.
                # Virtual time does not depend on it.
                # The AN3155 row stays AN3155 when the bootloader offers
                # more; the fast row enters at the row's rate (no switch:
                # the board's host keeps one rate, --host-baud).
                proto = (["--protocol", "fast", "--baud-fast", "0"] if client.startswith("h7iap-fast")
                         else ["--protocol", "an3155"])
                argv = [env["h7iap"], "--port", pty, "--baud", str(baud), "-t", "30000", "-q",
                        *proto, "flash", "--go", img]
            rc, err = run_client(argv, timeout, board, os.path.join(work, "client.err"),
                                 stdout=subprocess.DEVNULL)
            if rc != 0:
                raise NA(f"{os.path.basename(argv[0])} exit {rc}: {tail_text(err)}")
        if hp and baud == APP_BAUD:
            # The harness holds the line: the banner itself must come (the
            # application always prints at 115200).
            hp.expect(b"h7app ", 30, board)
        # The clients flush their tty when they close it: the observer's
        # mark (the application enabled its USART) is what counts.
        t0 = time.monotonic()
        while not os.path.exists(banner):
            if board.poll() is not None:
                raise NA("the application did not start")
            if time.monotonic() - t0 > 30:
                raise NA("the application did not start its banner in 30 s")
            time.sleep(0.01)
    except NA as e:
        res["na"] = str(e)
    except Exception as e:  # a harness bug must not stop the other configurations
        res["na"] = f"harness error: {e!r}"
    finally:
        if hp:
            hp.close()
        reap(board)
        log.close()
    kv = read_kv(result)
    res["board"] = kv
    if "error" in kv:
        res["na"] = kv["error"] if "link ran at" in kv["error"] else res.get("na", kv["error"])
    if "na" not in res and "t_banner_ns" not in kv:
        res["na"] = "no figures from the board"
    return res


def attempts(cfg, env, work, retries):
    """One configuration, run again when it failed in host time (a client's
    wall-clock timeout while the emulator was starved of CPU): virtual time
    is the same in every attempt that completes."""
    for n in range(retries + 1):
        res = one(cfg, env, work + (f"-retry{n}" if n else ""))
        late = int(res["board"].get("late_host_bytes", 0) or 0)
        if "na" not in res and not late:
            break
        if STOP.is_set() or ("na" in res and any(w in res["na"] for w in (
                "link ran at", "termios", "does not list the fast protocol"))):
            break
        why = res.get("na") or f"{late} host byte(s) arrived late"
        print(f"bench: {cfg['client']} {cfg['size']} B {cfg['baud']} baud: {why}; "
              f"running it again", file=sys.stderr)
    res["attempts"] = n + 1
    return res


def limit_for(env, size, baud, psize, bits=10):
    r = subprocess.run([env["h7bench"], "limit", "--size", str(size), "--baud", str(baud),
                        "--psize", str(psize), "--frame-bits", str(bits)],
                       capture_output=True, text=True, check=True)
    return {k: v for k, _, v in (line.partition("=") for line in r.stdout.splitlines())}


def emulator_speed(env):
    fw = os.path.join(env["fw"], "tests", "fw", "fw_speed.elf")
    if not os.path.exists(fw):
        return None
    r = subprocess.run([env["vboard"], fw], capture_output=True, text=True, timeout=300)
    insns, secs_ = None, None
    for tok in r.stderr.split():
        if tok.startswith("insns="):
            insns = int(tok[6:])
        if tok.startswith("wall=") and secs_ is None:
            secs_ = float(tok[5:].rstrip("s"))
        if tok.startswith("cpu="):
            secs_ = float(tok[4:].rstrip("s"))   # host CPU seconds: load does not matter
    if not insns or not secs_:
        return None
    return insns / secs_


def fw_sizes(env):
    out = []
    size_tool = shutil.which("arm-none-eabi-size")
    for rel in ("boot/h7boot.elf", "app/h7app.elf"):
        p = os.path.join(env["fw"], rel)
        if not size_tool or not os.path.exists(p):
            out.append((os.path.basename(rel), None))
            continue
        r = subprocess.run([size_tool, p], capture_output=True, text=True)
        f = r.stdout.splitlines()[-1].split()
        out.append((os.path.basename(rel), tuple(int(x) for x in f[:3])))
    return out


def secs(ns):
    return int(ns) / 1e9


def duration_ns(kv):
    """From the start of the host's first byte to the application's banner."""
    return int(kv["t_banner_ns"]) - int(kv.get("t_first_rx_ns") or kv["t0_ns"])


def figures(res, lim):
    """Derived figures of one measured configuration."""
    kv = res["board"]
    t = secs(duration_ns(kv))
    size = res["size"]
    bits = int(kv.get("link_frame_bits", 10))
    lb = int(kv.get("link_baud") or res["baud"])
    f = {
        "t": t,
        "kib_s": size / 1024 / t,
        "limit": secs(lim["limit_ns"]),
        "ratio": t / secs(lim["limit_ns"]),
        "wire_per_byte": (int(kv["rx_bytes"]) + int(kv["tx_bytes"])) / size,
        "wire_h2d": secs(kv["rx_wire_ns"]) if "rx_wire_ns" in kv else int(kv["rx_bytes"]) * bits / lb,
        "wire_d2h": secs(kv["tx_wire_ns"]) if "tx_wire_ns" in kv else int(kv["tx_bytes"]) * bits / lb,
        "erase": secs(int(kv["bank1_erase_ns"]) + int(kv["bank2_erase_ns"])),
        "program": secs(int(kv["bank1_program_ns"]) + int(kv["bank2_program_ns"])),
        "stall": secs(kv["stall_ns"]),
        "cpu": int(kv["insns"]) / max(int(kv.get("boot_core_hz") or 400000000), 1),
        "rx": int(kv["rx_bytes"]),
        "tx": int(kv["tx_bytes"]),
    }
    if "turnaround_ns" in kv:
        f["turn"] = secs(kv["turnaround_ns"])
        f["turns"] = int(kv["turnarounds"])
    return f


def lkey(r):
    """The limit that applies to a measured run: its size, rate and frame bits."""
    return (r["size"], r["baud"], int(r["board"].get("link_frame_bits") or 10))


def fmt_s(x):
    return f"{x:.2f}" if x < 100 else f"{x:.1f}"


def table(results, limits, sizes, bauds, clients):
    hdr = ("| client | image | baud | virtual s | KiB/s | limit s | x limit | wire B/B "
           "| wire h->d s | wire d->h s | erase s | program s | stall s | turnaround s |")
    lines = [hdr, "|" + "---|" * 14]
    for size in sizes:
        for baud in bauds:
            for c in clients:
                r = results.get((c, size, baud))
                head = f"| {CLIENT_LABEL[c]} | {SIZE_LABEL.get(size, size)} | {baud} "
                if r is None:
                    continue
                if "na" in r:
                    lines.append(head + f"| n/a ({r['na']}) |" + " |" * 10)
                    continue
                f = figures(r, limits[lkey(r)])
                turn = fmt_s(f["turn"]) if "turn" in f else "n/a"
                late = " (host late)" if int(r["board"].get("late_host_bytes", 0)) else ""
                lines.append(head + f"| {fmt_s(f['t'])}{late} | {f['kib_s']:.1f} | {fmt_s(f['limit'])} "
                             f"| {f['ratio']:.2f} | {f['wire_per_byte']:.3f} | {fmt_s(f['wire_h2d'])} "
                             f"| {fmt_s(f['wire_d2h'])} | {fmt_s(f['erase'])} | {fmt_s(f['program'])} "
                             f"| {fmt_s(f['stall'])} | {turn} |")
    return "\n".join(lines)


def limit_text(limits, sizes, bauds):
    any_l = next(iter(limits.values()))
    lines = [
        "limit = max(wire, bank 1, bank 2)   (the two banks erase and program in parallel)",
        "  wire   = frame_bits x S / B        (10 bits per byte in 8N1, 11 in 8E1 or 8N2;",
        "                                     the frame format the session ran in)",
        "  bank n = sectors_n x t_sector_erase + words_n x t_program_word",
        "           (sectors and 32-byte flash words of the image in bank n)",
        f"  from the model (h7sim_durations, {any_l['timing']} timing, PSIZE {any_l['psize']}"
        f" = x{8 << int(any_l['psize'])}):"
        f" t_program_word = {int(any_l['program_word_ns']) / 1000:.1f} us,"
        f" t_sector_erase = {int(any_l['sector_erase_ns']) / 1e6:.1f} ms",
        f"  image at 0x{APP_BASE:08x}",
        "",
        "| S bytes | B baud | frame bits | wire s | bank 1: sectors, words, s | bank 2: sectors, words, s | limit s | bound |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (size, baud, bits) in sorted(limits):
        l = limits[(size, baud, bits)]
        lines.append(f"| {size} | {baud} | {bits} | {secs(l['wire_ns']):.3f} "
                     f"| {l['bank1_sectors']}, {l['bank1_words']}, {secs(l['bank1_ns']):.3f} "
                     f"| {l['bank2_sectors']}, {l['bank2_words']}, {secs(l['bank2_ns']):.3f} "
                     f"| {secs(l['limit_ns']):.3f} | {l['bound']} |")
    return "\n".join(lines)


CLIENT_HOW = {
    "sb": "YMODEM-1K through the menu: one 1029-byte block per 1024 payload bytes, one host "
          "turnaround per block; the bootloader erases a sector when the first block for it "
          "arrives and programs each block before it acknowledges it",
    "sb-ab": "as sb, into h7boot_ab (docs/PROTOCOL.md \"A/B updates\") on an empty part: the "
             "image (h7app_ab first) goes to the slot that is not running (bank 2 only, the "
             "running bank never stalls), the slot's trailer sector is erased first, then the "
             "CRC unit, the IMAGE word, the SWAP_BANK option change and a reset; the time is "
             "to the new image's banner on trial. The limit column is the single-slot one "
             "(both banks in parallel): one bank does all the flash work here",
    "stm32flash": "AN3155 Write Memory: 256 payload bytes per command, 3 host turnarounds per "
                  "command (command, address, data); one Extended Erase of the pages first",
    "stm32flash-v": "as stm32flash, then every 256 bytes read back with Read Memory (3 more "
                    "turnarounds and the payload again, device to host)",
    "h7iap": "AN3155 like stm32flash (256 bytes per Write Memory, 3 turnarounds), erase of the "
             "sectors the image needs, verify by one Get Checksum (CRC-32 computed on the device)",
    "h7iap-fast": "the h7iap fast protocol (docs/PROTOCOL.md), entered at the row's rate: 8 KiB "
                  "frames deflated when smaller, a window of 52 in flight, both banks erased and "
                  "programmed while frames arrive, one flash CRC per bank at the end",
    "h7iap-fast-fw": "as h7iap flash (fast protocol), the image real M7 code (the example "
                     "application, then newlib's libc and libm linked for the M7: "
                     "img_newlib_1m75.bin of the target build's tests/proto) instead of random bytes",
    "h7iap-fast-reflash": "as h7iap flash (fast protocol) on a board whose flash already holds "
                          "the image but for one byte in its middle sector (written before by "
                          "h7iap over AN3155 and left uncommitted, not measured): SECTORS finds "
                          "the one sector that differs, only it is erased, sent and programmed",
    "h7iap-fast-resume": "as h7iap flash (fast protocol) after a first transfer of the same image "
                         "that a power cut stopped halfway through its flash words (not "
                         "measured): QUERY finds the log's PROGRESS records, only the rest is "
                         "sent (the host bytes of the row against the image's show what was "
                         "sent again)",
}


def describe(r, lim):
    """One measured run in words: where its time went."""
    f = figures(r, lim)
    wire = f["wire_h2d"] + f["wire_d2h"]
    turn = f.get("turn", 0.0)
    flash = f["erase"] + f["program"]
    exposed = f["t"] - wire - turn
    if flash > 0 and exposed >= 0.8 * flash:
        verdict = ("the flash work is not overlapped with the transfer (stop-and-wait: the host "
                   "waits while the device erases and programs)")
    elif flash > 0 and exposed >= 0.2 * flash:
        verdict = "part of the flash work overlaps the transfer, part adds to it"
    else:
        verdict = "the flash work is hidden behind the transfer"
    lb = lim["bound"]
    return (f"{SIZE_LABEL.get(r['size'], r['size'])} at {r['baud']} baud: {fmt_s(f['t'])} s, "
            f"{f['ratio']:.2f} x the limit ({fmt_s(f['limit'])} s, bound by "
            f"{'the wire' if lb == 'wire' else lb.replace('bank', 'bank ') + ' erase + program'}). "
            f"Wire {fmt_s(wire)} s ({100 * wire / f['t']:.0f} %, {f['wire_per_byte']:.3f} bytes per payload "
            f"byte), host turnarounds {fmt_s(turn)} s ({100 * turn / f['t']:.0f} %, {f.get('turns', 0)} of them); "
            f"the remaining {fmt_s(exposed)} s compare with {fmt_s(flash)} s of flash work (erase "
            f"{fmt_s(f['erase'])} s, program {fmt_s(f['program'])} s, both banks added) and the CPU: "
            f"{verdict}.")


def summary_text(results, limits, cyc, hz):
    """The lesson of the table in a few sentences, from the figures."""
    ok = [r for r in results.values() if "na" not in r]
    if not ok:
        return ""
    big = max(r["size"] for r in ok)
    bauds = sorted({r["baud"] for r in ok if r["size"] == big})
    out = []
    for b in (bauds[0], bauds[-1]) if len(bauds) > 1 else bauds[:1]:
        rs = sorted((r for r in ok if r["size"] == big and r["baud"] == b),
                    key=lambda r: figures(r, limits[lkey(r)])["ratio"])
        parts = ", ".join(f"{CLIENT_LABEL[r['client']]} {figures(r, limits[lkey(r)])['ratio']:.2f}" for r in rs)
        lims = sorted({lkey(r)[2]: limits[lkey(r)] for r in rs}.items())
        what = ", ".join(f"{fmt_s(secs(l['limit_ns']))} s with {n}-bit frames" for n, l in lims) \
            if len({l["limit_ns"] for _, l in lims}) > 1 else f"{fmt_s(secs(lims[0][1]['limit_ns']))} s"
        lb = lims[0][1]["bound"]
        out.append(f"{SIZE_LABEL.get(big, big)} at {b} baud (limit {what}, "
                   f"{'the wire' if lb == 'wire' else 'the flash of ' + lb.replace('bank', 'bank ')}): "
                   f"x limit {parts}.")
    r_big = [r for r in ok if r["size"] == big]
    r_hi = [r for r in r_big if r["baud"] == bauds[-1]]
    an = [r for r in r_hi if r["client"] in ("stm32flash", "h7iap")]
    ym = [r for r in r_hi if r["client"] == "sb"]
    text = " ".join(out)
    fs = [figures(r, limits[lkey(r)]) for r in r_big]
    serial = [f["t"] - f["wire_h2d"] - f["wire_d2h"] - f.get("turn", 0.0) >= 0.8 * (f["erase"] + f["program"])
              for f in fs]
    if fs and all(serial):
        fl = fs[0]["erase"] + fs[0]["program"]
        text += (f" No client overlaps the flash work with the transfer: for {SIZE_LABEL.get(big, big)} its "
                 f"{fmt_s(fl)} s of erase and program (both banks) add to the wire time at every rate, while "
                 f"the limit lets the two banks work in parallel behind the wire.")
    if an:
        fa = figures(an[0], limits[lkey(an[0])])
        text += (f" AN3155's three host turnarounds per 256 bytes cost {fmt_s(fa.get('turn', 0.0))} s at any rate "
                 f"({fa.get('turns', 0)} x 1 ms), {fa.get('turn', 0.0) / fa['limit']:.1f} x the whole limit at "
                 f"{bauds[-1]} baud")
        if ym:
            text += f"; YMODEM's one per 1 KiB block costs {fmt_s(figures(ym[0], limits[lkey(ym[0])]).get('turn', 0.0))} s"
        text += "."
    if cyc and hz:
        pw = int(next(iter(limits.values()))["program_word_ns"])
        text += (f" The CPU is not a bound: the driver spends {cyc} cycles ({cyc / hz * 1e6:.1f} us) per flash "
                 f"word against {pw / 1000:.0f} us of programming.")
    return text


def bounds_text(results, limits):
    """What bounds each client: the largest image at the lowest and at the
    highest rate it ran."""
    out = []
    for c in CLIENTS:
        rs = [r for (cc, s, b), r in results.items() if cc == c and "na" not in r]
        if not rs:
            continue
        big = max(r["size"] for r in rs)
        rs = sorted((r for r in rs if r["size"] == big), key=lambda r: r["baud"])
        text = f"**{CLIENT_LABEL[c]}** ({CLIENT_HOW[c]}). " + describe(rs[0], limits[lkey(rs[0])])
        if len(rs) > 1:
            text += " " + describe(rs[-1], limits[lkey(rs[-1])])
        out.append(text)
    return "\n\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--fw", required=True)
    ap.add_argument("--out")
    ap.add_argument("--sizes", default="64K,768K,1792K")
    ap.add_argument("--bauds", default="115200,921600,2000000,4000000")
    ap.add_argument("--clients", default=",".join(DEFAULT_CLIENTS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--split", action="store_true",
                    help="also run every configuration with no host turnaround, to check the "
                         "counted turnaround time against the difference")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a configuration again when its client failed (default 1)")
    ap.add_argument("--from-json", metavar="FILE",
                    help="no runs: report the figures saved by an earlier --json FILE")
    ap.add_argument("--host-gap-ms", type=int, default=HOST_GAP_MS,
                    help=f"board's wait for the rest of a client's reaction (default {HOST_GAP_MS})")
    ap.add_argument("--work")
    ap.add_argument("--require-ok", action="store_true",
                    help="exit 2 when a configuration is n/a (tests/bench)")
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, kill_all)
    signal.signal(signal.SIGINT, kill_all)
    env = {
        "h7bench": os.path.join(a.host, "bench", "h7bench"),
        "vboard": os.path.join(a.host, "vboard", "h7vboard"),
        "h7iap": os.path.join(a.host, "tools", "h7iap"),
        "boot": os.path.join(a.fw, "boot", "h7boot.elf"),
        "boot_ab": os.path.join(a.fw, "boot", "h7boot_ab.elf"),
        "fw": a.fw,
    }
    for k in ("h7bench", "h7iap", "boot"):
        if not os.path.exists(env[k]):
            sys.exit(f"bench: {env[k]} is missing: build first (make build)")
    appbin = os.path.join(a.fw, "app", "h7app.bin")
    if not os.path.exists(appbin):
        sys.exit(f"bench: {appbin} is missing: build first (make build)")
    with open(appbin, "rb") as f:
        env["app"] = f.read()
    env["app_ab"] = None
    appab = os.path.join(a.fw, "app", "h7app_ab.bin")
    if os.path.exists(appab):
        with open(appab, "rb") as f:
            env["app_ab"] = f.read()
    fwimg = os.path.join(a.fw, "tests", "proto", "img_newlib_1m75.bin")
    env["firmware"] = None
    if os.path.exists(fwimg):
        with open(fwimg, "rb") as f:
            env["firmware"] = f.read()
    sizes = [SIZES[s] if s in SIZES else int(s, 0) for s in a.sizes.split(",")]
    bauds = [int(b) for b in a.bauds.split(",")]
    clients = a.clients.split(",")
    for c in clients:
        if c not in CLIENTS:
            sys.exit(f"bench: unknown client {c} ({', '.join(CLIENTS)})")
        if c in AB_CLIENTS and (env["app_ab"] is None or not os.path.exists(env["boot_ab"])):
            sys.exit(f"bench: {c} needs h7boot_ab.elf and h7app_ab.bin: build first (make build)")
        if c.endswith("-fw") and env["firmware"] is None:
            sys.exit(f"bench: {fwimg} is missing: build first (make build)")
        if c in ("sb", "sb-ab", "stm32flash", "stm32flash-v") and not shutil.which(c.split("-")[0]):
            sys.exit(f"bench: {c.split('-')[0]} is not installed (scripts/deps.sh)")

    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        done, wall, jobs = saved["results"], saved.get("wall_s"), saved["results"]
        sizes = sorted({r["size"] for r in done})
        bauds = sorted({r["baud"] for r in done})
        clients = [c for c in CLIENTS if any(r["client"] == c for r in done)]
        a.jobs = saved.get("jobs", a.jobs)
        a.stamp = tuple(saved.get("stamp") or stamp())
    else:
        a.stamp = stamp()
        done, wall, jobs = run_all(a, env, sizes, bauds, clients)
    return report(a, env, done, wall, jobs, sizes, bauds, clients)


def stamp():
    """The commit and the date of a run, taken when it starts."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "unknown"
    return commit, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def run_all(a, env, sizes, bauds, clients):
    work = a.work or tempfile.mkdtemp(prefix="h7bench.")
    jobs = []
    for rep in range(a.repeat):
        for size in sizes:
            for baud in bauds:
                for c in clients:
                    if not wanted(c, size, baud):
                        continue
                    for turn in ([TURNAROUND_US, 0] if a.split else [TURNAROUND_US]):
                        jobs.append({"client": c, "size": size, "baud": baud, "rep": rep,
                                     "turnaround_us": turn, "timeout": a.timeout,
                                     "max_time_ms": 1800000, "host_gap_ms": a.host_gap_ms})
    # Longest first: the two workers finish together.
    jobs.sort(key=lambda j: (-j["size"] * (2 if j["client"] == "stm32flash-v" else 1), j["baud"]))
    t_start = time.monotonic()
    done = []
    print(f"bench: {len(jobs)} runs, {a.jobs} at a time, work dir {work}", file=sys.stderr)
    ex = cf.ThreadPoolExecutor(max_workers=a.jobs)
    try:
        futs = {}
        for i, j in enumerate(jobs):
            d = os.path.join(work, f"{i:03d}-{j['client']}-{j['size']}-{j['baud']}-t{j['turnaround_us']}")
            futs[ex.submit(attempts, j, env, d, a.retries)] = j
        for fu in cf.as_completed(futs):
            r = fu.result()
            done.append(r)
            kv = r["board"]
            what = r.get("na") or "%.3f s virtual" % secs(duration_ns(kv))
            print(f"bench: {r['client']:13s} {r['size']:8d} B {r['baud']:8d} baud "
                  f"turnaround {r['turnaround_us']:4d} us: {what} "
                  f"(wall {float(kv.get('wall_s', 0)):.1f} s)", file=sys.stderr)
    except KeyboardInterrupt:
        STOP.set()
        ex.shutdown(wait=True, cancel_futures=True)
        print("bench: stopped", file=sys.stderr)
        sys.exit(130)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    wall = time.monotonic() - t_start
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": done, "wall_s": wall, "jobs": a.jobs, "stamp": a.stamp}, f, indent=1)
    return done, wall, jobs


def report(a, env, done, wall, jobs, sizes, bauds, clients):
    # Main results (turnaround as configured, first repetition), split from
    # the runs with no turnaround, determinism across repetitions.
    results, zero, reps = {}, {}, {}
    for r in done:
        key = (r["client"], r["size"], r["baud"])
        if r["turnaround_us"] == 0:
            zero[key] = r
            continue
        reps.setdefault(key, []).append(r)
        if r["rep"] == 0:
            results[key] = r
    nondet = []
    for key, rs in reps.items():
        ts = {duration_ns(r["board"]) for r in rs if "na" not in r}
        figs = {tuple(sorted((k, v) for k, v in r["board"].items() if k in DETERMINISTIC))
                for r in rs if "na" not in r}
        if len(ts) > 1 or len(figs) > 1 or (ts and any("na" in r for r in rs)):
            diff = sorted({k for f in figs for k, v in f if any((k, v) not in g for g in figs)})
            nondet.append((key, sorted(ts), diff))
    split_check = []
    for key, r in results.items():
        z = zero.get(key)
        if "na" not in r and z and "na" not in z:
            diff = secs(duration_ns(r["board"]) - duration_ns(z["board"]))
            split_check.append(f"{CLIENT_LABEL[key[0]]} {key[1]} B {key[2]}: counted "
                               f"{secs(r['board'].get('turnaround_ns', 0)):.3f} s, difference {diff:.3f} s")
    psize = 3
    for r in results.values():
        p = int(r["board"].get("psize", -1) or -1)
        if p >= 0:
            psize = p
            break
    # The wire term uses the frame format the session ran in (the bootloader
    # answers AN3155 in 8N2 when the host is 8N1: 11 bits, as 8E1).
    fbits = {(s, b): {10} for s in sizes for b in bauds}
    for (c, s_, b), r in results.items():
        if "na" not in r:
            fbits[(s_, b)].add(int(r["board"].get("link_frame_bits") or 10))
    limits = {(s, b, n): limit_for(env, s, b, psize, n) for s in sizes for b in bauds for n in sorted(fbits[(s, b)])}
    for l in limits.values():
        for k in list(l):
            if k.endswith("_ns"):
                l[k] = int(l[k])

    ok = [r for r in done if "na" not in r]
    emu_runs = sum(int(r["board"]["insns_total"]) for r in ok) / max(
        sum(float(r["board"].get("cpu_s") or r["board"]["wall_s"]) for r in ok), 1e-9)
    emu_wall = sum(int(r["board"]["insns_total"]) for r in ok) / max(
        sum(float(r["board"]["wall_s"]) for r in ok), 1e-9)
    emu_fw = emulator_speed(env)
    cyc = sorted(int(r["board"]["driver_cycles_per_word"]) for r in ok if "driver_cycles_per_word" in r["board"])
    hz = next((int(r["board"]["boot_core_hz"]) for r in ok if r["board"].get("boot_core_hz")), 0)
    sizes_fw = fw_sizes(env)

    commit, date = a.stamp
    tab = table(results, limits, sizes, bauds, clients)
    lim = limit_text(limits, sizes, bauds)
    extra = []
    extra.append(f"- Emulator speed: {emu_fw / 1e6:.0f} M guest instructions per host CPU second (tests/fw "
                 "fw_speed: a CRC loop)" if emu_fw else "- Emulator speed (fw_speed): n/a (tests/fw/fw_speed.elf not built)")
    extra.append(f"- Emulator speed over the benchmark runs: {emu_runs / 1e6:.1f} M guest instructions per host "
                 f"CPU second ({emu_wall / 1e6:.1f} M per wall second: the boards mostly wait for the clients)")
    if cyc:
        extra.append(f"- Driver CPU cycles per programmed flash word: {cyc[len(cyc) // 2]} (median over "
                     f"{len(cyc)} runs, range {cyc[0]}-{cyc[-1]}; instructions from the end of one program "
                     f"operation to the start of the next in the same bank, at {hz / 1e6:.0f} MHz "
                     f"= {cyc[len(cyc) // 2] / max(hz, 1) * 1e6:.2f} us)")
    else:
        extra.append("- Driver CPU cycles per programmed flash word: n/a (no run programmed)")
    for name, s in sizes_fw:
        if s:
            extra.append(f"- {name}: text {s[0]} B, data {s[1]} B, bss {s[2]} B "
                         f"(flash {s[0] + s[1]} B, arm-none-eabi-size)")
        else:
            extra.append(f"- {name}: n/a (not built)")
    det = ("identical virtual durations in every repetition" if a.repeat > 1 and not nondet
           else "NOT deterministic: " + "; ".join(f"{k}: {v} (differ: {', '.join(d)})" for k, v, d in nondet)
           if nondet
           else "one run per configuration (tests/bench checks determinism)")
    extra.append(f"- Determinism: {det}")
    if split_check:
        extra.append("- Turnaround check (runs with --turnaround-us 0): " + "; ".join(split_check))
    extra.append(f"- This run: {len(jobs)} board runs, {a.jobs} at a time, "
                 + (f"{wall:.0f} s wall" if wall is not None else "wall time not recorded"))

    text = (f"bench {date}, commit {commit}\n\n"
            f"Virtual seconds from the client's first byte to the application's banner "
            f"(turnaround {TURNAROUND_US} us)\n\n{tab}\n\nLimit\n\n{lim}\n\n" + "\n".join(extra) + "\n")
    print(text)
    if a.out:
        summ = summary_text(results, limits, cyc[len(cyc) // 2] if cyc else 0, hz)
        write_doc(a.out, date, commit, tab, lim, extra, (summ + "\n\n" if summ else "") + bounds_text(results, limits))
    if nondet:
        print("bench: FAIL: figures differ between repetitions of the same configuration", file=sys.stderr)
        return 1
    late = [r for r in done if "na" not in r and int(r["board"].get("late_host_bytes", 0))]
    if late:
        print("bench: WARNING: host bytes arrived after the board stopped waiting in "
              + ", ".join(f"{r['client']} {r['size']} B {r['baud']}" for r in late)
              + ": those figures depend on the host's speed", file=sys.stderr)
    if a.require_ok and (late or any("na" in r for r in done)):
        print("bench: FAIL: a configuration could not be measured", file=sys.stderr)
        return 2
    return 0


DOC_HEAD = """# Benchmarks

Generated by `make bench` (bench/run.sh); do not edit by hand: run it again.
How the figures are taken: see "Method" at the end.
"""

DOC_METHOD = """## Method

Each configuration is one fresh virtual board (`bench/h7bench board`: libvboard
running build/arm's `h7boot.elf`, an erased application area, USART3 on a pty,
host turnaround 1 ms, `--wait-host`), one client run as a user would run it on
that pty, and the application's banner:

- **sb**: `1` to the bootloader's menu, `sb -k IMAGE` on the pty, `3` (execute)
  after "Programming completed successfully"; the pty speed is set to the
  baud rate first (what `stty -F PTY BAUD` does);
- **stm32flash**: `stm32flash -m 8n1 -b BAUD -w IMAGE [-v] -S {app} -g {app} PTY`
  (`-m 8n1`: Linux ptys have no parity);
- **h7iap**: `h7iap --port PTY --baud BAUD -t 30000 flash --go IMAGE` (erase, write,
  verify by Get Checksum, go).

The image is `h7app.bin` padded to the size with deterministic pseudo-random
bytes, so the application still boots and prints its banner.

The board's trace goes to an observer inside the same process, which reads
the board's and the model's statistics at the exact virtual instant of each
event: **start** = the firmware waits for the host and the host's first byte
is stamped there (the board reports that stamp); **end** = the application enables its USART to print its
banner (VTOR = {app} seen before). Wire = the frame times of the bytes
each way, as the board's USART model counted them; erase and program = time the model's
banks were busy with those operations (both banks added: they overlap with
each other and with the wire); stall = CPU cycles held by a busy bank;
turnaround = host reactions (received bytes that follow board output,
counted from the bootloader's RX interrupts) x 1 ms, the time the board's
host model holds each of them (`bench.py --split` checks it against the
same runs with `--turnaround-us 0`).
A configuration whose link does not run at the asked rate (the bootloader
has no auto-baud yet) is stopped at its first flash operation and shown as
n/a. A client that fails (stm32flash and h7iap have wall-clock reply
timeouts, which a starved emulator on a loaded host can miss), or a run in
which a host byte arrived after the board had stopped waiting for it, is
run once more on a fresh board (`--retries`); a configuration that still
fails is n/a with the client's message. Runs are two at a time; virtual time does not depend on the host's
speed (the board fast-forwards idle time and holds time while it waits for
a client's reaction, up to 2 s of wall time; the client counts as attached
for the whole run; the board does not wait for more bytes after the end of
a reaction, `--host-gap-ms 0`, since every client writes a reaction at
once). The observer counts host bytes that arrived after the
board had stopped waiting for them (`late_host_bytes` in the raw figures):
such a run depends on the host's speed, and the repetitions of
tests/bench would differ.
"""


def write_doc(path, date, commit, tab, lim, extra, bounds):
    with open(path, "w") as f:
        f.write(DOC_HEAD)
        f.write(f"\n## Results ({date}, commit {commit})\n\n")
        f.write("Virtual seconds from the client's first byte to the application's banner; "
                "KiB/s = image size / that time; x limit = that time / the limit below; wire B/B = "
                "bytes on the wire (both ways) per image byte.\n\n")
        f.write(tab + "\n\n## The physical limit\n\n```\n" + "\n".join(lim.split("\n\n")[0].splitlines())
                + "\n```\n\n" + lim.split("\n\n", 1)[1] + "\n\n## Board and firmware\n\n")
        f.write("\n".join(extra) + "\n\n## What bounds each client\n\n" + bounds + "\n\n")
        f.write(DOC_METHOD.format(app="0x%08x" % APP_BASE))


if __name__ == "__main__":
    sys.exit(main())
