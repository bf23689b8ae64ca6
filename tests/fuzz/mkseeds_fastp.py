#!/usr/bin/env python3
"""Seed corpus of the fastp harness (tests/fuzz/fuzz_fastp.c): frames of
every type, DATA frames raw and deflated, DEFLATE streams, a noisy stream,
written with an encoder of our own (struct, zlib.crc32, zlib.compressobj:
independent of proto/) from the layout in docs/PROTOCOL.md "h7iap fast
protocol". Run from anywhere; rewrites tests/fuzz/corpus/fastp."""
import os
import random
import shutil
import struct
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "corpus", "fastp")
AREA = 0x1C0000
SPLIT = 0xC0000
SECTOR = 0x20000


def frame(ftype, body, tag=0):
    hdr = struct.pack("<BBBBH", 0xE7, 0x7E, ftype, tag, len(body))
    hdr += struct.pack("<H", zlib.crc32(hdr) & 0xFFFF)
    f = hdr + body
    return f + struct.pack("<I", zlib.crc32(f))


def deflate(raw, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(raw) + c.flush()


def data(seq, offset, raw, codec=None):
    comp = deflate(raw)
    if codec is None:
        codec = 1 if len(comp) < len(raw) else 0
    payload = comp if codec == 1 else raw
    return struct.pack("<IIHBBI", seq, offset, len(raw), codec, 0, zlib.crc32(raw)) + payload


def thumbish(rng, n):
    """Bytes that look like Thumb-2 code: a few opcodes, small operands,
    literal pools of addresses, some repetition."""
    ops = [0x4600, 0x4770, 0xB500, 0xBD00, 0x2000, 0x6800, 0x6000, 0xF000, 0xE000]
    out = bytearray()
    while len(out) < n:
        r = rng.random()
        if r < 0.7:
            out += struct.pack("<H", rng.choice(ops) | rng.randrange(0x100))
        elif r < 0.85:
            out += struct.pack("<I", 0x08040000 + rng.randrange(0x40000) * 4)
        elif len(out) > 64:
            k = rng.randrange(8, 64)
            s = rng.randrange(len(out) - k)
            out += out[s:s + k]
        else:
            out += bytes(4)
    return bytes(out[:n])


def bodies(rng):
    img = thumbish(rng, 0x4000)
    b = {
        "hello": (0x01, struct.pack("<HH", 1, 0)),
        "hello_r": (0x81, struct.pack("<HHHHIIIIIII", 1, 1, 8192, 48, 0x08040000, AREA,
                                      SPLIT, SECTOR, 100000000, 6250000, 115200)),
        "baud": (0x02, struct.pack("<I", 2000000)),
        "baud_r": (0x82, struct.pack("<I", 2000000)),
        "ping": (0x03, struct.pack("<I", 0x12345678)),
        "pong": (0x83, struct.pack("<I", 0x12345678)),
        "query": (0x04, b""),
        "resume_none": (0x84, bytes(24)),
        "resume_log": (0x84, struct.pack("<B3xIIIII", 2, 0x150000, 0xCAFEF00D, 0x7FF,
                                         0xC0000, 0x20000)),
        "sectors": (0x05, struct.pack("<BBH", 0, 14, 0)),
        "sectors_r": (0x85, struct.pack("<BBH", 2, 3, 0) +
                      b"".join(struct.pack("<II", 0x11E66C62 + i, 0) for i in range(3))),
        "begin": (0x06, struct.pack("<IIIB3xII", 0x150000, 0xCAFEF00D, 0x7FF, 0, 0, 0)),
        "begin_resume": (0x06, struct.pack("<IIIB3xII", 0x150000, 0xCAFEF00D, 0x7FF, 1,
                                           0x40000, 0x20000)),
        "data_raw": (0x07, data(0, 0, img[:256], codec=0)),
        "data_deflate": (0x07, data(1, 0x2000, img[:8192])),
        "data_zero": (0x07, data(2, 0xC0000, bytes(8192))),
        "data_last": (0x07, data(3, 0x1FE0, img[:4] + b"\xff" * 28, codec=0)),
        "status": (0x87, struct.pack("<IIQIBBHIBBHHH", 100, 148, 5 << 40, 0x20000, 1, 3, 812,
                                     0, 0, 0xFF, 0, 3, 0)),
        "end": (0x08, struct.pack("<III", 224, 1, 2)),
        "end_r": (0x88, struct.pack("<iII", 0, 1, 2)),
        "go": (0x09, struct.pack("<I", 0x08040000)),
        "go_r": (0x89, b""),
        "bye": (0x0A, b""),
        "bye_r": (0x8A, b""),
        "error": (0xEE, struct.pack("<iIIIBBH", -1018, 1 << 18, 0x08040020, 0xFFFFFFFF, 7, 1, 0)),
    }
    return b, img


def main():
    rng = random.Random(0x7E)
    b, img = bodies(rng)
    seeds = {}
    # mode 0: wire frames
    for name, (t, body) in b.items():
        seeds["w_" + name] = bytes([0]) + frame(t, body, tag=5)
    # mode 1: {type, tag, image_len, page_mask, body}; DATA with the image
    # of a transfer: 0x150000 bytes, every sector written
    for name, (t, body) in b.items():
        seeds["f_" + name] = bytes([1, t, 5]) + struct.pack("<II", 0x150000, 0x7FF) + body
    seeds["f_data_tail"] = (bytes([1, 7, 0]) + struct.pack("<II", 0x1FE4, 0x1) +
                            data(3, 0x1FE0, img[:4] + b"\xff" * 28, codec=0))
    # mode 2: {cap, stream}
    streams = {
        "z_thumb9": deflate(img[:8192]),
        "z_thumb1": deflate(img[:8192], 1),
        "z_fixed": deflate(img[:2048], 9, zlib.Z_FIXED),
        "z_huff": deflate(img[:2048], 9, zlib.Z_HUFFMAN_ONLY),
        "z_rle": deflate(bytes(3000) + b"\x55" * 3000, 9, zlib.Z_RLE),
        "z_stored": deflate(bytes(rng.randrange(256) for _ in range(1000)), 0),
        "z_empty": deflate(b""),
        "z_text": deflate(b"the quick brown fox jumps over the lazy dog " * 40),
    }
    for name, s in streams.items():
        seeds["i_" + name] = bytes([2]) + struct.pack("<H", 8192) + s
    # mode 3: frames with noise between them
    stream = b""
    for i in range(4):
        stream += bytes(rng.choice([0xE7, 0x7E, rng.randrange(256)]) for _ in range(7))
        stream += frame(0x07, data(i, i * 256, img[i * 256:(i + 1) * 256], codec=0))
    seeds["r_noisy"] = bytes([3]) + stream
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for name, v in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(v)
    print("%d seeds in %s" % (len(seeds), OUT))


if __name__ == "__main__":
    main()
