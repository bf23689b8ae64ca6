#!/usr/bin/env python3
"""Seed corpus of the proto and boot harnesses: valid sessions, written with
an encoder of our own (independent of proto/), and the reproducers of the
defects found (issue 14). Run from the repository root; rewrites
tests/fuzz/corpus/{proto,boot} and tests/fuzz/repro/boot."""
import os
import struct
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "..", "..", "proto"))
import h7_layout  # noqa: E402  (the addresses only: proto/h7_layout.h)

APP = h7_layout.load()["BOOT_APP_START"]
ESC = 0xF5


def crc16(d):
    c = 0
    for b in d:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
            c &= 0xFFFF
    return c


def xor(d, seed=0):
    for b in d:
        seed ^= b
    return seed


def cmd(c):
    return bytes([c, c ^ 0xFF])


def addr(a):
    f = struct.pack(">I", a)
    return f + bytes([xor(f)])


def write(a, data):
    return cmd(0x31) + addr(a) + bytes([len(data) - 1]) + data + bytes([xor(data, len(data) - 1)])


def erase(pages):
    f = struct.pack(">H", len(pages) - 1) + b"".join(struct.pack(">H", p) for p in pages)
    return cmd(0x44) + f + bytes([xor(f)])


def read(a, n):
    return cmd(0x11) + addr(a) + bytes([n - 1, (n - 1) ^ 0xFF])


def go(a):
    return cmd(0x21) + addr(a)


def checksum(a, n):
    return cmd(0xA1) + addr(a) + addr(n)


def image(n, seed=1):
    x = seed * 2654435761 + 1
    out = bytearray()
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    out[0:8] = struct.pack("<II", 0x20020000, APP + 0x101)
    return bytes(out)


def ym_block(seq, data, size):
    data = data + bytes([0x1A]) * (size - len(data))
    start = 0x01 if size == 128 else 0x02
    c = crc16(data)
    return bytes([start, seq & 0xFF, 0xFF - (seq & 0xFF)]) + data + bytes([c >> 8, c & 0xFF])


def ymodem(img, name=b"app.bin", cancel_after=None):
    hdr = name + b"\0" + str(len(img)).encode() + b"\0"
    s = b"1" + ym_block(0, hdr + bytes(128 - len(hdr)), 128)
    seq = 1
    for off in range(0, len(img), 1024):
        s += ym_block(seq, img[off:off + 1024], 1024)
        if cancel_after is not None and seq == cancel_after:
            return s + b"\x18\x18"
        seq += 1
    return s + b"\x04" + ym_block(0, bytes(128), 128)


def esc(s):
    return s.replace(bytes([ESC]), bytes([ESC, ESC]))


TIMEOUT = bytes([ESC, 1])


def an3155_flash(img, pages=(2,)):
    s = b"\x7f" + cmd(0x00) + erase(list(pages))
    for off in range(0, len(img), 256):
        s += write(APP + off, img[off:off + 256])
    return s


def main():
    boot = {}
    img = image(1000)
    boot["an3155_flash_go"] = bytes([0]) + an3155_flash(img) + read(APP, 256) + \
        checksum(APP, 1000) + go(APP)
    boot["an3155_reflash_old"] = bytes([1]) + an3155_flash(image(3000, 2)) + go(0x08000000)
    boot["an3155_bank2"] = bytes([0]) + b"\x7f" + erase([2, 8]) + write(APP, img[:256]) + \
        write(0x08100000, img[:256]) + go(APP)
    boot["an3155_ram"] = bytes([2]) + b"\x7f" + write(0x20004100, bytes(range(16))) + go(0x20004100)
    boot["ymodem_1k"] = bytes([4]) + esc(ymodem(image(3000, 3))) + TIMEOUT * 3 + b"3"
    boot["ymodem_over_old"] = bytes([5]) + esc(ymodem(image(2100, 4)))
    boot["menu_status"] = bytes([1]) + b"\r4\r2"
    for k, v in boot.items():
        write_file("corpus/boot", k, v)
    # Reproducers of issue 14's defects 1-3.
    write_file("repro/boot", "defect1_merge_next_word",
               bytes([0]) + b"\x7f" + erase([2]) + write(APP + 1, b"\x11") +
               write(APP + 2, bytes(range(0x40, 0x40 + 31))) + read(APP, 64) + go(0x08000000))
    write_file("repro/boot", "defect2_ff_word_twice",
               bytes([0]) + b"\x7f" + erase([2]) + write(APP, b"\xff" * 32) +
               write(APP, b"\x5a" * 32) + go(APP))
    write_file("repro/boot", "defect3_ymodem_cancel_then_go",
               bytes([4]) + esc(ymodem(image(8192, 5), cancel_after=3)) + TIMEOUT * 3 +
               b"\x7f" + go(APP))

    proto = {
        "an_cmd": bytes([0]) + cmd(0x31) + addr(APP) + bytes([3, 1, 2, 3, 4, 3 ^ 1 ^ 2 ^ 3 ^ 4]),
        "an_erase_pages": bytes([1]) + erase([2, 3, 4])[2:],
        "an_erase_mass": bytes([1, 0xFF, 0xFF, 0x00]),
        "ym_block": bytes([2]) + ym_block(1, b"hello", 128),
        "ym_header": bytes([2]) + b"app.bin\x00123\x00",
        "records": bytes([3]) + rec(0x5A, 1, 0xFFFFFFFF, 0xFFFFFFFF) + rec(0xC3, 1, 100, 0x1234) +
        b"\xff" * 32,
        "crc": bytes([4]) + bytes(range(64)),
    }
    for k, v in proto.items():
        write_file("corpus/proto", k, v)


def rec(state, seq, length, crc):
    body = struct.pack("<IBBHIIIII", 0x52553748, 1, state, 0xFFFF, seq, APP, length, crc, 0xFFFFFFFF)
    return body + struct.pack("<I", zlib.crc32(body))


def write_file(d, name, data):
    p = os.path.join(ROOT, d)
    os.makedirs(p, exist_ok=True)
    with open(os.path.join(p, name), "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
