#!/usr/bin/env python3
"""Virtual-board tests: run the test firmwares of tests/fw on h7vboard and
check what they print, the board's exit code and its summary line.

usage: vbtest.py BOARD FWDIR TEST     (TEST: see the table at the end)
"""
import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty

BOARD = FW = None


def fw(name):
    path = os.path.join(FW, name + ".elf")
    if not os.path.exists(path):
        sys.exit(f"missing firmware {path}: build the target tree first (make build-arm)")
    return path


def run(args, expect_rc=0, stdin=None, timeout=60, strict=True):
    """Run the board; strict: the FLASH model's violation log must be empty
    (tests that break a rule on purpose pass strict=False)."""
    p = subprocess.run([BOARD] + args, input=stdin, capture_output=True, timeout=timeout)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    sys.stdout.write(out)
    sys.stdout.write(err)
    if p.returncode != expect_rc:
        sys.exit(f"FAIL: exit code {p.returncode}, expected {expect_rc}")
    if strict:
        v = re.findall(r"^h7vboard: stop=.* violations=(\d+)", err, re.M)
        if v and v[-1] != "0":
            sys.exit(f"FAIL: the flash model logged {v[-1]} violation(s)")
    return out, err


def summary(err):
    m = re.search(r"^h7vboard: stop=.*$", err, re.M)
    if not m:
        sys.exit("FAIL: no summary line")
    fields = dict(re.findall(r"(\w+)=([^ ]+)", m.group(0)))
    return fields


def expect(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def no_fail(out):
    expect("FAIL" not in out, "firmware reports no failed check")


# ---- tests -------------------------------------------------------------------

def t_basic():
    out, err = run(["--max-time-ms", "2000", fw("fw_basic")])
    no_fail(out)
    expect("done" in out, "firmware ran to the end")
    s = summary(err)
    expect(s["core"] == "480000000", "core clock 480 MHz after the RCC set-up")


def t_fpu():
    out, _ = run(["--max-time-ms", "2000", fw("fw_fpu")])
    no_fail(out)


def program_read_cycles(out):
    m = re.search(r"during a word program: (\d+) cycles", out)
    expect(m is not None, "program-then-read figure printed")
    return int(m.group(1))


def t_stall():
    out, err = run(["--max-time-ms", "10000", fw("fw_stall")])
    no_fail(out)
    s = summary(err)
    stall = float(s["stall"])
    # Two stalls of one sector erase each (typical 1 s at x64 for the model).
    expect(stall > 1000.0, f"stall time reported ({stall} ms)")
    expect(program_read_cycles(out) < 1000, "default: a read during a word program does not stall")
    out, _ = run(["--max-time-ms", "10000", "--exact-read-stalls", fw("fw_stall")])
    no_fail(out)
    c = program_read_cycles(out)
    expect(c > 40000, f"--exact-read-stalls: the read waits for the word program ({c} cycles)")


def expect_violations(err, rules):
    """Exactly these model violations (rule names, in order) were logged."""
    got = re.findall(r"^h7sim: t=\d+ ns addr=0x[0-9a-f]+ rule=([\w-]+)", err, re.M)
    expect(got == rules, f"the model logged exactly {rules} (got {got})")


def t_ecc():
    out, err = run([fw("fw_ecc")], strict=False)
    no_fail(out)
    # The firmware programs a word twice and reads it on purpose.
    expect_violations(err, ["program-non-virgin", "read-double-ecc"])


def t_cache():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "cache.log")
        out, _ = run(["--cache-log", log, fw("fw_cache")])
        no_fail(out)
        lines = [l.split() for l in open(log)]
    ops = {}
    for name, addr, _t in lines:
        ops.setdefault(name, []).append(int(addr, 16))
    expect(ops.get("DCIMVAC") == [0x08020000, 0x08020020, 0x08020040, 0x08020060],
           "DCIMVAC: 4 lines at 0x08020000..0x08020060")
    expect(ops.get("DCCIMVAC") == [0x24000000, 0x24000020], "DCCIMVAC: 2 lines at 0x24000000")
    expect(len(ops.get("DCISW", [])) == 512, "DCISW: 128 sets x 4 ways")
    expect(len(ops.get("ICIALLU", [])) == 1, "ICIALLU once")


def t_wdg():
    out, err = run(["--max-time-ms", "1000", fw("fw_wdg")])
    expect("watchdog reset seen" in out, "firmware saw IWDG1RSTF after the reset")
    expect(summary(err)["resets"] == "1", "one reset")
    run(["--max-time-ms", "1000", "--stop-on-watchdog", fw("fw_wdg")], expect_rc=4)


def t_reset():
    with tempfile.TemporaryDirectory() as d:
        fl = os.path.join(d, "flash.bin")
        out, err = run(["--flash", fl, fw("fw_reset")])
        no_fail(out)
        expect("after reset: flash and RAM kept" in out, "SYSRESETREQ keeps flash and RAM")
        expect(os.path.getsize(fl) > 2 * 1024 * 1024, "flash file written")
        out, _ = run(["--flash", fl, fw("fw_reset")])
        no_fail(out)
        expect("flash persisted across power cycle" in out, "--flash keeps the array across runs")


def t_powercut():
    with tempfile.TemporaryDirectory() as d:
        fl = os.path.join(d, "flash.bin")
        _, err = run(["--flash", fl, "--cut-after-ops", "0", fw("fw_reset")], expect_rc=5)
        expect(summary(err)["stop"] == "power-cut", "power cut during the first operation")
        expect(os.path.exists(fl), "torn flash saved")


def t_cut_at():
    with tempfile.TemporaryDirectory() as d:
        fl = os.path.join(d, "flash.bin")
        _, err = run(["--flash", fl, "--cut-at-ns", "500000000", fw("fw_stall")], expect_rc=5)
        s = summary(err)
        expect(s["stop"] == "power-cut" and abs(float(s["time"]) - 500.0) < 1.0,
               "power cut at 500 ms of virtual time, during the first sector erase")


def t_sigusr1():
    with tempfile.TemporaryDirectory() as d:
        link = os.path.join(d, "uart")
        p = subprocess.Popen([BOARD, "--pty-link", link, fw("fw_echo")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(500):
            if os.path.exists(link):
                break
            time.sleep(0.01)
        time.sleep(0.1)
        p.send_signal(signal.SIGUSR1)
        _, err = p.communicate(timeout=30)
    err = err.decode()
    print(err)
    expect(p.returncode == 5, "SIGUSR1 cuts the power (exit 5)")


def t_jump():
    out, _ = run([fw("fw_jump"), fw("fw_app2")])
    no_fail(out)
    expect("image A" in out and "image B" in out, "image A jumped to image B")


def t_swap():
    with tempfile.TemporaryDirectory() as d:
        fl = os.path.join(d, "flash.bin")
        out, _ = run(["--flash", fl, fw("fw_swap"), fw("fw_swapb_bank2")])
        no_fail(out)
        expect("bank 2 image running at 0x08000000\nok   OPTCR.SWAP_BANK reads 1\nafter a software reset" in out,
               "SWAP_BANK_OPT + SYSRESETREQ: bank 2 at 0x08000000")
        out, _ = run(["--flash", fl])
        no_fail(out)
        expect("bank 1 image" not in out and "after power-on" in out,
               "the swap is kept in the option bytes of the flash file")


def t_fault():
    out, err = run([fw("fw_fault")], expect_rc=2)
    no_fail(out)
    expect("unhandled fault" in err, "board stopped on the unhandled fault")
    expect("BFAR 0x60000000" in err and "CFSR 0x00008200" in err, "register dump with CFSR and BFAR")
    expect("still running" not in out, "no instruction after the fault")


def t_timeout():
    _, err = run(["--max-time-ms", "50", fw("fw_echo")], expect_rc=3)
    expect(abs(float(summary(err)["time"]) - 50.0) < 1.0, "stopped at 50 ms of virtual time")
    _, err = run(["--max-insns", "100000", fw("fw_speed")], expect_rc=3)
    insns = int(summary(err)["insns"])
    expect(100000 <= insns < 100100, f"stopped after 100000 instructions ({insns})")


def t_autobaud():
    """USART auto-baud: the firmware measures the host's rate on its first
    byte (start bit, bit 0 = 1) and BRR follows; without it, bytes at
    another rate arrive garbled."""
    for baud, brr in ((921600, 130), (2000000, 60), (115200, 1042)):
        out, err = run(["--stdio", "--host-baud", str(baud), fw("fw_autobaud")],
                       stdin=b"\rhello\nquit\n")
        expect(out.startswith(f"BRR={brr}\r\nHELLO\nQUIT\n"),
               f"auto-baud at {baud}: BRR={brr} and a clean echo ({out!r})")
    # First byte with bit 0 = 0: the measurement fails (ABRE), the firmware stops with 1.
    run(["--stdio", "--host-baud", "921600", fw("fw_autobaud")], stdin=b"hello\nquit\n", expect_rc=1)
    # No auto-baud: the fixed 115200 firmware and a 921600 host garble each other.
    out, _ = run(["--stdio", "--host-baud", "921600", "--max-time-ms", "200", fw("fw_echo")],
                 stdin=b"hello\nquit\n", expect_rc=3)
    expect("READY" not in out and "HELLO" not in out, f"rate mismatch garbles the line ({out!r})")
    # A host at the firmware's rate (within 3.5%) is fine.
    out, _ = run(["--stdio", "--host-baud", "117000", fw("fw_echo")], stdin=b"hello\nquit\n")
    expect(out.startswith("READY\r\nHELLO\n"), "rates 1.6% apart still work")


def t_echo_stdio():
    out, err = run(["--stdio", fw("fw_echo")], stdin=b"hello\nworld\nquit\n")
    expect(out.startswith("READY\r\nHELLO\nWORLD\nQUIT\n"), "echo through the RX interrupt")
    s = summary(err)
    expect(s["uart_rx"] == "17", "17 bytes received")


def pty_board(d, name, extra):
    """Start firmware `name` on a board whose USART3 is a pty link in d (the
    board waits for the host); returns (process, raw pty fd)."""
    link = os.path.join(d, "uart")
    p = subprocess.Popen([BOARD, "--pty-link", link, "--wait-host", *extra, fw(name)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(200):
        if os.path.exists(link):
            break
        time.sleep(0.01)
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    return p, fd


def pty_session(lines, extra=()):
    """Run fw_echo on a pty; send each line in one write and wait for its
    echo. Returns the board's summary fields."""
    with tempfile.TemporaryDirectory() as d:
        p, fd = pty_board(d, "fw_echo", extra)
        buf = b""

        def read_until(token):
            nonlocal buf
            deadline = time.time() + 20
            while token not in buf:
                if time.time() > deadline:
                    raise SystemExit(f"FAIL: timeout waiting for {token!r}, got {buf!r}")
                try:
                    buf += os.read(fd, 4096)
                except BlockingIOError:
                    time.sleep(0.001)
                except OSError as e:
                    p.kill()
                    _, err = p.communicate()
                    raise SystemExit(f"FAIL: pty read: {e}; board said:\n{err.decode()}")
            i = buf.index(token) + len(token)
            got, buf = buf[:i], buf[i:]
            return got

        read_until(b"READY\r\n")
        for line in lines:
            os.write(fd, line)
            got = read_until(line.upper())
            if not got.endswith(line.upper()):
                raise SystemExit(f"FAIL: echo {got!r}")
        _, err = p.communicate(timeout=30)
        os.close(fd)
    err = err.decode()
    print(err.strip())
    if p.returncode != 0:
        sys.exit(f"FAIL: board exit code {p.returncode}")
    return summary(err)


def t_echo_tcp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p = subprocess.Popen([BOARD, "--tcp", str(port), "--wait-host", fw("fw_echo")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            c = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.02)
    else:
        p.kill()
        sys.exit("FAIL: cannot connect")
    buf = b""
    c.settimeout(20)
    while b"READY\r\n" not in buf:
        buf += c.recv(4096)
    c.sendall(b"over tcp\nquit\n")
    while b"QUIT\n" not in buf:
        buf += c.recv(4096)
    _, err = p.communicate(timeout=30)
    c.close()
    err = err.decode()
    print(buf, err)
    expect(p.returncode == 0, "board exit code 0")
    expect(b"OVER TCP\n" in buf, "echo through 127.0.0.1")


def t_echo_pty():
    s = pty_session([b"abc\n", b"the quick brown fox\n", b"quit\n"])
    expect(s["uart_rx"] == str(4 + 20 + 5), "all bytes received through the pty")


def uart_session(extra):
    with tempfile.TemporaryDirectory() as d:
        p, fd = pty_board(d, "fw_uart", extra)
        buf = b""

        def wait_for(token):
            nonlocal buf
            t0 = time.time()
            while token not in buf:
                if time.time() - t0 > 20:
                    raise SystemExit(f"FAIL: timeout waiting for {token!r}, got {buf!r}")
                buf += os.read(fd, 4096)
            buf = buf[buf.index(token) + len(token):]

        wait_for(b"A\r\n")
        os.write(fd, b"01234567")
        wait_for(b"B\r\n")
        os.write(fd, b"abcdefghijklmnopqrst")
        wait_for(b"C\r\n")
        for byte in (b"\x00", b"\x01", b"\x03"):
            os.write(fd, byte)
            wait_for(b".")
        out, err = p.communicate(timeout=30)
        os.close(fd)
    out, err = out.decode(), err.decode()
    print(out + err)
    expect(p.returncode == 0, "board exit code 0")
    return out, err


def t_uart():
    """Overrun without and with the RX FIFO, and parity sampling."""
    patient = ["--host-wait-ms", "10000"]      # the overrun checks need the bytes on time
    out, err = uart_session(["--check-line-format", *patient])
    expect("A n=1 ORE first=0" in out, "no FIFO: RDR keeps the first byte, ORE set")
    expect("B n=16 ORE first=a" in out, "FIFO: 16 bytes kept, ORE set")
    lines = [l for l in out.splitlines() if l.startswith("C byte=")]
    expect(lines == ["C byte=0x00000000 PE", "C byte=0x00000001 ok", "C byte=0x00000003 PE"],
           "8N1 host against an 8E1 USART: PE where the stop bit is the wrong parity")
    expect(int(summary(err)["ore"]) == 7 + 4, "11 bytes lost to overrun")
    out, err = uart_session(patient)
    lines = [l for l in out.splitlines() if l.startswith("C byte=")]
    expect(lines == ["C byte=0x00000000 ok", "C byte=0x00000001 ok", "C byte=0x00000003 ok"],
           "default: host bytes arrive in the format the USART expects")


def t_determinism():
    lines = [b"line %d with some text\n" % i for i in range(20)] + [b"quit\n"]
    # Generous waits: a loaded CI machine must not change the stamps.
    patient = ["--host-wait-ms", "5000", "--host-gap-ms", "50"]
    a = pty_session(lines, patient)
    b = pty_session(lines, patient)
    expect(a["time"] == b["time"] and a["insns"] == b["insns"],
           f"two pty runs: same virtual time ({a['time']} / {b['time']} ms) and instructions")
    data = b"".join(lines)
    _, e1 = run(["--stdio", fw("fw_echo")], stdin=data)
    _, e2 = run(["--stdio", fw("fw_echo")], stdin=data)
    s1, s2 = summary(e1), summary(e2)
    expect(s1["time"] == s2["time"], f"two stdio runs: same virtual time ({s1['time']} ms)")


def t_speed():
    _, err = run([fw("fw_speed")])
    s = summary(err)
    insns, wall, cpu = int(s["insns"]), float(s["wall"]), float(s["cpu"])
    print(f"speed: {insns} instructions in {cpu:.3f} s of CPU ({wall:.3f} s wall)"
          f" = {insns / max(cpu, 1e-9) / 1e6:.0f} M instr/s")


def t_bigprog():
    out, err = run([fw("fw_bigprog")])
    no_fail(out)
    s = summary(err)
    expect(int(s["flash_ops"]) == 14 + 57344, "14 sector erases and 57344 flash words")
    print(f"1.75 MB erase+program: {float(s['time']) / 1000:.3f} s virtual, {s['wall']} s wall")


def t_h7flash():
    """The h7flash driver, cross-compiled, on the board."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "cache.log")
        out, err = run(["--cache-log", log, fw("fw_h7flash")], strict=False, timeout=110)
        dcimvac = [int(l.split()[1], 16) for l in open(log) if l.startswith("DCIMVAC")]
    no_fail(out)
    expect("h7flash on the board: all passed" in out, "driver checks passed")
    # Its ECC check makes a double-ECC word with raw stores and reads it
    # through the driver twice; nothing else breaks a rule.
    expect_violations(err, ["program-non-virgin", "read-double-ecc", "read-double-ecc"])
    expect(0x08040000 in dcimvac and 0x0805FFE0 in dcimvac,
           "the erased sector 0x08040000 invalidated in the D-cache line by line")
    expect(all(a % 32 == 0 for a in dcimvac), "DCIMVAC operands are 32-byte aligned")


def t_polltmo():
    """Time is skipped only where the firmware cannot see it: a loop that
    counts its turns while it polls a 1 s sector erase at 64 MHz turns as
    often as one instruction per cycle gives, and an iteration-count
    timeout fires as on silicon; pure polls and waits timed on the cycle
    counter are skipped (few instructions run) and end with the erase."""
    out, err = run([fw("fw_polltmo")])
    no_fail(out)
    m = re.search(r"counting loop: (\d+) turns", out)
    expect(m is not None, "turn count printed")
    turns = int(m.group(1))
    # 64 M cycles, 5 instructions per turn.
    expect(12000000 <= turns <= 13000000, f"a counting poll loop runs turn by turn ({turns} turns, 12.8 M expected)")
    expect("1000000 turns, timed out with QW still set" in out,
           "while ((SR & QW) && --n) with n = 1000000 times out before the erase ends")
    m = re.search(r"timed wait counting: \d+ cycles, (\d+) turns", out)
    expect(m is not None and int(m.group(1)) > 5000000, "a timed wait that counts runs turn by turn")
    s = summary(err)
    insns, idle = int(s["insns"]), float(s["idle"])
    # Five erases of 1 s: the counting loop, the bounded one and the timed
    # counting one run (about 60 M cycles each at most), the pure polls and
    # the timed wait are skipped.
    expect(idle > 2800.0, f"pure polls and the timed wait skipped ({idle} ms idle)")
    expect(insns < 150000000, f"only the loops that count ran turn by turn ({insns} instructions)")


def t_dcache():
    """The L1 caches as firmware sees them (tests/fw/fw_dcache.c): a line
    cached before an erase reads the old data until DCIMVAC; stores that
    hit a cached flash line update it, also when the flash refuses them;
    an MPU region makes flash non-cacheable; DCIMVAC of a dirty SRAM line
    loses its stores; the I-cache runs old code until ICIALLU."""
    out, err = run([fw("fw_dcache")], strict=False)
    no_fail(out)
    # The fourth check stores into a locked bank on purpose.
    expect_violations(err, ["cr-write-locked"] + ["store-pg-clear"] * 8)


def t_cacheboot():
    """The bootloader with both caches on (tests/fw/fw_cacheboot.c starts
    it): an update over USART3 with h7iap, at power-on the old image's
    lines are in the D-cache (the boot check read them); the new image
    reads back right (Get Checksum, Read Memory) and starts."""
    h7iap, boot, app = os.environ["H7IAP"], os.environ["H7BOOT"], os.environ["H7APP"]
    with open(app, "rb") as f:
        head = f.read()
    with tempfile.TemporaryDirectory() as d:
        fl = os.path.join(d, "flash.bin")
        base = [h7iap, "--vboard", "--vboard-bin", BOARD, "--vboard-boot", boot,
                "--vboard-flash", fl, "--vboard-log", os.path.join(d, "board.log"),
                "--vboard-arg", "--boot", "--vboard-arg", "0x081E0000",
                "--vboard-arg", fw("fw_cacheboot")]
        for seed in (1, 2):
            img = os.path.join(d, f"img{seed}.bin")
            tail = bytes((i * 131 + seed * 71 + (i >> 7)) & 0xFF for i in range(40000))
            with open(img, "wb") as f:
                f.write(head + tail)
            p = subprocess.run(base + ["flash", img, "--expect", "h7app"], capture_output=True,
                               timeout=120)
            sys.stdout.write(p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))
            log = open(os.path.join(d, "board.log"), errors="replace").read()
            expect("caches on, starting the image" in log, f"image {seed}: the bootloader ran with the caches on")
            expect(p.returncode == 0, f"image {seed}: flashed, verified by Get Checksum, started")
            out = os.path.join(d, f"back{seed}.bin")
            p = subprocess.run(base + ["read", "0x08040000", str(len(head) + len(tail)), out],
                               capture_output=True, timeout=120)
            sys.stdout.write(p.stderr.decode(errors="replace"))
            expect(p.returncode == 0 and open(out, "rb").read() == head + tail,
                   f"image {seed}: Read Memory gives it back byte for byte")


def t_usage():
    out, _ = run(["--help"])
    expect("usage: h7vboard" in out, "--help")
    run([], expect_rc=9)
    run(["/nonexistent.elf"], expect_rc=9)


# ---- the GDB server (h7vboard --gdb PORT) with Debian's gdb-multiarch ----

GDB = os.environ.get("GDB", "gdb-multiarch")
GDB_BOARDS = []


def kill_boards():
    for p in GDB_BOARDS:
        if p.poll() is None:
            p.kill()
            p.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def gdb_board(args):
    """Start the board halted for a debugger; returns (process, port)."""
    port = free_port()
    p = subprocess.Popen([BOARD, "--gdb", str(port)] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if not GDB_BOARDS:
        atexit.register(kill_boards)  # a failed check leaves no board behind
    GDB_BOARDS.append(p)
    while p.poll() is None:
        line = p.stderr.readline().decode(errors="replace")
        sys.stdout.write(line)
        if "gdb server on" in line:
            return p, port
    sys.exit("FAIL: the board did not open its gdb port")


def gdb(port, elf, cmds, pre=()):
    """gdb-multiarch in batch mode against the board; its output."""
    args = [GDB, "-batch", "-nx", "-ex", "set print frame-arguments none",
            "-ex", "set confirm off"]
    for c in list(pre) + [f"target remote 127.0.0.1:{port}"] + list(cmds):
        args += ["-ex", c]
    p = subprocess.run(args + [elf], capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    sys.stdout.write(out)
    return out


def board_end(p, expect_rc=0, strict=True):
    out, err = p.communicate(timeout=60)
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    sys.stdout.write(out + err)
    expect(p.returncode == expect_rc, f"board exit code {expect_rc} (got {p.returncode})")
    if strict:
        v = re.findall(r"^h7vboard: stop=.* violations=(\d+)", err, re.M)
        expect(v and v[-1] == "0", "the flash model logged no violation")
    return out, err


def writers(out):
    naive = re.search(r"naive: failed calls, wrong bytes: (\d+) (\d+)", out)
    h7f = re.search(r"h7flash: error, wrong bytes: (\d+) (\d+)", out)
    expect(naive and h7f, "both writers reported")
    return (int(naive[1]), int(naive[2])), (int(h7f[1]), int(h7f[2]))


def t_gdb_seed():
    """The seed's scenario: a breakpoint inside the naive HAL-style write
    loop (PG set, between two words), continue; then one between two
    packets of the h7flash writer. With a memory view of the flash at each
    halt (x/8wx), the naive writer meets the stale RDSERR at its next
    pre-operation wait and skips every word after it (docs/H7_FLASH.md
    8.2.1); h7flash clears it and writes every byte. Without the view
    (gdb reads code from the ELF file) both write everything."""
    elf = fw("fw_gdbseed")
    halts = ["break naive_store_word", "ignore 1 20", "continue", "VIEW 0x08040000", "delete",
             "break h7f_packet", "ignore 2 1", "continue", "VIEW 0x08060000", "delete",
             "continue"]
    for view in (False, True):
        p, port = gdb_board([elf])
        cmds = [(f"x/8wx {c.split()[1]}" if view else "info registers pc")
                if c.startswith("VIEW") else c for c in halts]
        g = gdb(port, elf, cmds, pre=["set trust-readonly-sections on"])
        expect(g.count("Breakpoint 1, naive_store_word") == 1 and
               g.count("Breakpoint 2, h7f_packet") == 1, "halted in both write loops")
        if view:
            expect(re.search(r"0x8040000:\s+0x[0-9a-f]{8}", g) is not None,
                   "memory view of the flash while halted")
        out, _ = board_end(p)
        (nf, nw), (he, hw) = writers(out)
        if view:
            expect(nf > 0 and nw > 0, f"with the view the naive writer fails ({nf} calls, {nw} bytes wrong)")
        else:
            expect(nf == 0 and nw == 0, "without the view the naive writer writes everything")
        expect(he == 0 and hw == 0, "h7flash writes every byte" + (" after the view" if view else ""))


def t_gdb_load():
    """`load` of the bootloader ELF through gdb into an erased board (the
    memory map makes gdb use vFlashErase/vFlashWrite/vFlashDone), monitor
    reset, detach; then an update over USART3 with h7iap: the application
    it wrote starts."""
    h7iap, boot, app = os.environ["H7IAP"], os.environ["H7BOOT"], os.environ["H7APP"]
    with tempfile.TemporaryDirectory() as d:
        link = os.path.join(d, "uart")
        p, port = gdb_board(["--erase", "--flash", os.path.join(d, "flash.bin"),
                             "--pty-link", link])
        g = gdb(port, boot, ["x/2wx 0x08000000", "load", "monitor reset", "maintenance flush register-cache",
                             "x/2wx 0x08000000", "info registers sp pc", "detach"])
        vec = re.findall(r"0x8000000(?: <\w+>)?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", g)
        expect(len(vec) == 2 and vec[0] == ("0xffffffff", "0xffffffff"), "the part was erased")
        expect(re.search(r"Loading section \.text, size 0x[0-9a-f]+ lma 0x80", g) is not None,
               "gdb loaded .text into the flash")
        expect(vec[1][0] != "0xffffffff", "the vector table is in the flash")
        sp = re.search(r"^sp\s+(0x[0-9a-f]+)", g, re.M)
        expect(sp and int(sp[1], 16) == int(vec[1][0], 16), "reset loaded MSP from the vector table")
        expect("Remote target) detached" in g, "detached, the bootloader runs")
        r = subprocess.run([h7iap, "-p", link, "--retries", "25", "flash", app, "--expect", "h7app"],
                           capture_output=True, timeout=60)
        sys.stdout.write(r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))
        expect(r.returncode == 0, "h7iap flashed the application through the gdb-loaded bootloader")
        expect(b"h7app" in r.stdout + r.stderr, "the application started")
        p.send_signal(signal.SIGTERM)
        board_end(p, expect_rc=6)


def t_gdb_regs():
    """Step, register read and write, memory write: at report() (its first
    argument in r1), stepi moves the PC by one instruction; r1 := 777 and
    gdb_knob := 4242 show in what the firmware prints."""
    elf = fw("fw_gdbseed")
    p, port = gdb_board([elf])
    g = gdb(port, elf, ["break report", "continue", "p/x $pc", "stepi", "p/x $pc",
                        "set $r1 = 777", "p $r1", "set var gdb_knob = 4242", "x/wd &gdb_knob",
                        "delete", "continue"], pre=["set trust-readonly-sections on"])
    pcs = [int(x, 16) for x in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", g, re.M)]
    expect(len(pcs) == 2 and pcs[1] - pcs[0] in (2, 4), "stepi ran one instruction")
    expect(re.search(r"^\$\d+ = 777$", g, re.M) is not None, "r1 reads back 777")
    expect(re.search(r"<gdb_knob>:\s+4242", g) is not None, "gdb_knob reads back 4242")
    out, _ = board_end(p)
    expect("naive: failed calls, wrong bytes: 777 " in out, "the register write reached the firmware")
    expect("knob: 4242 " in out, "the memory write reached the firmware")


def rsp(sock, payload, ack=True):
    """Send one packet (raw bytes); the reply's payload."""
    s = sum(payload) & 0xFF
    sock.sendall(b"$" + payload + b"#%02x" % s)
    buf = b""
    while True:
        m = re.search(rb"\$([^#]*)#([0-9a-f]{2})", buf)
        if m:
            if ack:
                sock.sendall(b"+")
            return m.group(1)
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("FAIL: the gdb server closed the connection")
        buf += chunk


def t_gdb_rsp():
    """The protocol itself, without gdb: checksums (a bad one is NAKed),
    ack mode and QStartNoAckMode, qSupported, the register file, the FPB's
    8 breakpoints, Ctrl-C while running (the firmware sleeps in WFI), k."""
    p, port = gdb_board([fw("fw_echo")])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"$qSupported#00")
    expect(sock.recv(1) == b"-", "a packet with a bad checksum is NAKed")
    sup = rsp(sock, b"qSupported:multiprocess+")
    expect(b"PacketSize=" in sup and b"qXfer:memory-map:read+" in sup and
           b"qXfer:features:read+" in sup, "qSupported: PacketSize, memory map, target.xml")
    expect(rsp(sock, b"QStartNoAckMode") == b"OK", "QStartNoAckMode")
    expect(rsp(sock, b"?", ack=False).startswith(b"S05"), "halted at reset")
    regs = rsp(sock, b"g", ack=False)
    expect(len(regs) == 19 * 8, "g: r0-r12, sp, lr, pc, xpsr, msp, psp")
    xml = rsp(sock, b"qXfer:features:read:target.xml:0,fff", ack=False)
    expect(b"org.gnu.gdb.arm.m-profile" in xml and b"xpsr" in xml, "target.xml: m-profile, xpsr")
    mm = rsp(sock, b"qXfer:memory-map:read::0,fff", ack=False)
    expect(b'type="flash" start="0x08000000"' in mm and b"0x20000" in mm,
           "memory map: the flash, 128 KB blocks")
    oks = [rsp(sock, b"Z1,%x,2" % (0x24000000 + 2 * i), ack=False) for i in range(9)]
    expect(oks[:8] == [b"OK"] * 8 and oks[8].startswith(b"E"), "8 hardware breakpoints, not 9")
    for i in range(8):
        rsp(sock, b"z1,%x,2" % (0x24000000 + 2 * i), ack=False)
    sock.sendall(b"$c#63")
    time.sleep(0.5)
    expect(p.poll() is None, "running")
    sock.sendall(b"\x03")
    buf = b""
    while b"#" not in buf:
        buf += sock.recv(4096)
    expect(b"$S02" in buf, "Ctrl-C halts the core (S02)")
    pc = rsp(sock, b"p f", ack=False)
    expect(len(pc) == 8, "p: the PC after the interrupt")
    sock.sendall(b"$k#6b")
    sock.close()
    board_end(p, expect_rc=6)


TESTS = {name[2:]: f for name, f in globals().items() if name.startswith("t_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in TESTS:
        sys.exit(__doc__ + "tests: " + " ".join(TESTS))
    BOARD, FW = sys.argv[1], sys.argv[2]
    TESTS[sys.argv[3]]()
    print("PASS")
