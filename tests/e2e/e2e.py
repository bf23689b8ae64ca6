"""Board tests of the bootloader on the virtual board: helpers.

Each test starts h7vboard with the bootloader ELF and a flash file of its
own, talks to USART3 through the board's pty, and runs the third-party
clients (lrzsz sb/rb, stm32flash) on that pty as a user would.
"""
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "proto"))
import h7_layout  # noqa: E402  (proto/h7_layout.h, the firmware's layout)

LAYOUT = h7_layout.load()
APP = LAYOUT["BOOT_APP_START"]        # the application area ...
APP_SIZE = LAYOUT["BOOT_APP_SIZE"]    # ... 1.75 MB
BOOT = LAYOUT["BOOT_CODE_BASE"]       # sector 0; Go here = reset
LOG = LAYOUT["BOOT_LOG_BASE"]         # sector 1: the update record log
BANK2 = LAYOUT["H7_BANK2_BASE"]


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def need(path, what):
    if not path or not os.path.exists(path):
        raise Fail(f"{what} is missing ({path}); build it first (make build)")


def need_tool(name):
    p = shutil.which(name)
    if not p:
        raise Fail(f"{name} is not installed (Debian package: scripts/deps.sh)")
    return p


def _die_with_parent():
    """Child side of Popen: the board gets SIGTERM when this test process
    dies, even when ctest kills it on a timeout."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Board:
    """h7vboard running the bootloader, USART3 on a pty; boot_elf None:
    power on what the flash file holds (nothing loaded)."""

    def __init__(self, vboard, boot_elf, work, flash=None, extra=()):
        need(vboard, "h7vboard (vboard/)")
        if boot_elf is not None:
            need(boot_elf, "the bootloader ELF (boot/)")
        self.work = work
        self.flash = flash or os.path.join(work, "flash.bin")
        self.link = os.path.join(work, "pty")
        self.log = open(os.path.join(work, "board.log"), "ab")
        if os.path.lexists(self.link):
            os.unlink(self.link)
        self.p = subprocess.Popen(
            [vboard, "--flash", self.flash, "--pty-link", self.link, *extra,
             *([boot_elf] if boot_elf else [])],
            stdout=self.log, stderr=self.log, preexec_fn=_die_with_parent)
        t0 = time.time()
        while not os.path.exists(self.link):
            if self.p.poll() is not None:
                raise Fail(f"h7vboard exited at start (rc {self.p.returncode}), see {self.log.name}")
            if time.time() - t0 > 10:
                raise Fail("h7vboard did not create its pty")
            time.sleep(0.02)
        self.fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.fd, data)

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            d = os.read(self.fd, 65536)
        except OSError:
            return b""
        self.buf += d
        return d

    def expect(self, pattern, timeout=30):
        if isinstance(pattern, str):
            pattern = pattern.encode()
        t0 = time.time()
        while pattern not in self.buf:
            if time.time() - t0 > timeout:
                raise Fail(f"timeout waiting for {pattern!r}; got {self.buf[-400:]!r}")
            if self.p.poll() is not None:
                raise Fail(f"board stopped (rc {self.p.returncode}) waiting for {pattern!r}; "
                           f"got {self.buf[-400:]!r}")
            self.read_some(0.1)
        i = self.buf.index(pattern) + len(pattern)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def prompt(self, timeout=30, every=2.0):
        """Press Enter until the bootloader's menu prompt appears, as a user
        would: a key pressed while the part is still starting (the first
        power-on resets once after setting its option bytes) is lost."""
        self.drain(0.2)
        t0 = time.time()
        while True:
            self.send("\r")
            try:
                return self.expect("> ", min(every, max(0.1, timeout - (time.time() - t0))))
            except Fail:
                if time.time() - t0 >= timeout or self.p.poll() is not None:
                    raise

    def ready(self):
        """Wait until the bootloader answers (menu prompt), then clear the
        line. Clients that send their first byte while the board is still
        starting (stm32flash does at once) would race its reset."""
        self.prompt(30)
        self.drain(0.3)

    def drain(self, quiet=0.3):
        while self.read_some(quiet):
            pass
        self.buf = b""

    def run_client(self, argv, timeout=600, cwd=None, stdio=False):
        """Run a client on the pty (stdin/stdout for lrzsz, path for others)."""
        kw = {}
        if stdio:
            kw = dict(stdin=self.fd, stdout=self.fd)
        else:
            kw = dict(stdout=subprocess.PIPE)
        try:
            r = subprocess.run(argv, stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, **kw)
        except subprocess.TimeoutExpired:
            raise Fail(f"{argv[0]} did not finish in {timeout} s")
        return r

    def run_piped(self, argv, timeout=600, cwd=None, kill_after=None):
        """Run lrzsz-style clients on pipes, copying bytes to and from the
        pty; the exchange is logged to transcript.txt in the work dir.
        kill_after: kill the client once it has sent that many bytes
        (returncode -9)."""
        sent = 0
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=cwd)
        out_fd, err_fd = p.stdout.fileno(), p.stderr.fileno()
        os.set_blocking(out_fd, False)
        os.set_blocking(err_fd, False)
        err = b""
        t0 = time.time()
        with open(os.path.join(self.work, "transcript.txt"), "a") as log:
            log.write(f"== {' '.join(argv)}\n")
            if self.buf:
                p.stdin.write(self.buf)
                p.stdin.flush()
                self.buf = b""
            while True:
                if time.time() - t0 > timeout:
                    p.kill()
                    p.wait()
                    raise Fail(f"{argv[0]} did not finish in {timeout} s")
                if self.p.poll() is not None:
                    # The board stopped (a power cut): its line reads EOF
                    # from now on, the client would wait for its timeouts.
                    p.kill()
                    p.wait()
                    log.write(f"{time.time() - t0:8.3f} board stopped (rc {self.p.returncode})\n")
                    raise Fail(f"board stopped (rc {self.p.returncode}) during {argv[0]}")
                fds = [self.fd, err_fd] + ([out_fd] if p.poll() is None else [])
                r, _, _ = select.select(fds, [], [], 0.1)
                if out_fd in r:
                    x = os.read(out_fd, 65536)
                    if x:
                        log.write(f"{time.time() - t0:8.3f} host {x.hex()} ({len(x)})\n")
                        os.write(self.fd, x)
                        sent += len(x)
                        if kill_after is not None and sent >= kill_after:
                            p.kill()
                            p.wait()
                            log.write(f"{time.time() - t0:8.3f} killed after {sent} bytes\n")
                            return subprocess.CompletedProcess(argv, -9, b"", err)
                if err_fd in r:
                    try:
                        err += os.read(err_fd, 65536)
                    except BlockingIOError:
                        pass
                if self.fd in r and p.poll() is None:
                    x = os.read(self.fd, 65536)
                    log.write(f"{time.time() - t0:8.3f} board {x.hex()} ({len(x)})\n")
                    try:
                        p.stdin.write(x)
                        p.stdin.flush()
                    except BrokenPipeError:
                        self.buf += x
                if p.poll() is not None and out_fd not in r:
                    # drain what the client wrote last
                    try:
                        x = os.read(out_fd, 65536)
                        if x:
                            os.write(self.fd, x)
                            continue
                    except (BlockingIOError, OSError):
                        pass
                    break
        try:
            err += os.read(err_fd, 65536)
        except (BlockingIOError, OSError):
            pass
        return subprocess.CompletedProcess(argv, p.returncode, b"", err)

    def stop(self):
        try:
            os.close(self.fd)
        except OSError:
            pass
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def image(path, n, seed, head=None):
    """Test image of n bytes: head (e.g. the example app) then random bytes."""
    rnd = random.Random(seed)
    data = bytearray(head or b"")[:n]
    data += bytes(rnd.getrandbits(8) for _ in range(n - len(data)))
    with open(path, "wb") as f:
        f.write(data)
    return bytes(data)


def model_violations(work):
    """The FLASH model's violation log lines of every board a test ran (the
    summary each board prints when it stops): the bootloader must not break
    a hardware rule, whatever the host does."""
    log = os.path.join(work, "board.log")
    if not os.path.exists(log):
        return []
    with open(log, "rb") as f:
        text = f.read().decode(errors="replace")
    counts = re.findall(r"^h7vboard: stop=.* violations=(\d+)", text, re.M)
    if not counts:
        raise Fail("no board summary in board.log (did the board stop cleanly?)")
    return [l for l in text.splitlines() if l.startswith("h7sim: t=")]


def main(tests):
    """Run the named tests (argv: vboard boot.elf app.bin [test...])."""
    if len(sys.argv) < 4:
        print("usage: test_*.py H7VBOARD BOOT_ELF APP_BIN [TEST...]", file=sys.stderr)
        return 2
    env = dict(vboard=sys.argv[1], boot=sys.argv[2], app=sys.argv[3])
    env["boot_bin"] = os.path.splitext(env["boot"])[0] + ".bin"
    only = sys.argv[4:]
    failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        work = tempfile.mkdtemp(prefix=f"h7e2e-{name}-")
        t0 = time.time()
        try:
            need(env["app"], "the example application (app/)")
            fn(env, work)
            allowed = getattr(fn, "expected_violations", ())
            bad = [v for v in model_violations(work) if not any(a in v for a in allowed)]
            if bad:
                raise Fail("the flash model logged violations:\n  " + "\n  ".join(bad[:10]))
            print(f"PASS {name} ({time.time() - t0:.1f} s)")
            shutil.rmtree(work, ignore_errors=True)
        except Fail as e:
            failed += 1
            print(f"FAIL {name}: {e} (work dir {work})")
            log = os.path.join(work, "board.log")
            if os.path.exists(log):
                with open(log, "rb") as f:
                    tail = f.read()[-1500:]
                print("  board log tail:\n" + tail.decode(errors="replace"))
        sys.stdout.flush()
    return 1 if failed else 0
