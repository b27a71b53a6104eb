#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets to tests/fuzz/corpus/.

    tests/fuzz/make-seeds.py [OUTDIR]

Every seed of a framer target starts with the four option bytes that
tests/fuzz/fuzz_framer.c reads (chunking and storage, max_frame_size,
raw frame size), then the stream.  The seeds are small, valid streams of each
framing plus one of each kind of bad input, so the fuzzer starts from inside
every code path instead of having to find the magic numbers itself.

The output is deterministic: rerunning rewrites the same files.  Files of
the target directories that this script no longer writes are removed.
"""
import os
import struct
import sys

# Byte 0 of the options.
CHUNK_ALL, CHUNK_ONE, CHUNK_CAPPED, CHUNK_RANDOM = 0, 1, 2, 3
GROW = 0x04
VIA_PARTIAL = 0x08

# Byte 1, above max_frame_size: bytes handed over with tf_framer_feed().
READ_AHEAD = 0x10
IN_PLACE = 0x20

# Index of fuzz_framer.c's max_sizes[] for byte 1.
MAX = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 8: 5, 16: 6, 23: 7, 24: 8, 25: 9,
       100: 10, 1000: 11, 4096: 12, 65535: 13, 65536: 14, 1 << 20: 15}

LENGTH_FORMATS = {"u16be": (0, ">H"), "u16le": (1, "<H"), "u32be": (2, ">I"),
                  "u32le": (3, "<I"), "u64be": (4, ">Q"), "u64le": (5, "<Q")}


def options(chunking=CHUNK_ALL, flags=0, max_size=1 << 20, frame_size=0,
            length_format=0, ahead=0):
    """The four option bytes.  Bytes 2-3 are the raw frame size and also
    seed the chunk sizes, so non-raw seeds use them for variety."""
    return bytes([chunking | flags | (length_format << 4),
                  MAX[max_size] | ahead,
                  (frame_size >> 8) & 0xff, frame_size & 0xff])


def payload(n, seed=0):
    return bytes((i * 31 + seed * 7 + (i >> 8)) & 0xff for i in range(n))


# --- raw ---

def raw_seeds():
    yield "three-frames", options(CHUNK_ALL, 0, 4096, 16) + payload(48)
    yield "partial-last", options(CHUNK_CAPPED, 0, 100, 7) + payload(25, 1)
    yield "one-byte-reads", options(CHUNK_ONE, 0, 1000, 12) + payload(30, 2)
    yield "grown-storage", options(CHUNK_RANDOM, GROW, 4096, 1000) \
        + payload(2100, 3)
    yield "full-via-partial", options(CHUNK_RANDOM, VIA_PARTIAL, 65536, 300) \
        + payload(650, 4)
    yield "size-is-max", options(CHUNK_ALL, 0, 24, 24) + payload(50, 5)
    yield "too-large", options(CHUNK_ALL, 0, 100, 101) + payload(101, 6)
    yield "size-zero", options(CHUNK_ALL, 0, 100, 0) + payload(10, 7)
    yield "read-ahead", options(CHUNK_RANDOM, 0, 4096, 40, ahead=READ_AHEAD) \
        + payload(400, 8)
    yield "read-ahead-in-place", options(CHUNK_ALL, 0, 4096, 16,
                                         ahead=READ_AHEAD | IN_PLACE) \
        + payload(100, 9)


# --- length ---

def length_stream(fmt, sizes, seed=0):
    code = LENGTH_FORMATS[fmt][1]
    out = b""
    for i, n in enumerate(sizes):
        out += struct.pack(code, n) + payload(n, seed + i)
    return out


def length_seeds():
    for name, (index, _) in LENGTH_FORMATS.items():
        yield "frames-" + name, options(CHUNK_CAPPED, 0, 4096, 0x0105, index) \
            + length_stream(name, [5, 40, 1, 300], index)
    yield "grown-storage", options(CHUNK_RANDOM, GROW, 4096, 0x2233, 2) \
        + length_stream("u32be", [1500, 700])
    yield "zero-length", options(CHUNK_ALL, 0, 1000, 0, 2) \
        + length_stream("u32be", [3]) + struct.pack(">I", 0)
    yield "too-large", options(CHUNK_ONE, 0, 100, 0, 1) \
        + length_stream("u16le", [100]) + struct.pack("<H", 101)
    yield "max-u64", options(CHUNK_ALL, 0, 1 << 20, 0, 4) + b"\xff" * 8
    yield "truncated", options(CHUNK_RANDOM, 0, 1000, 0x0902, 0) \
        + length_stream("u16be", [20]) + struct.pack(">H", 50) + payload(10)
    yield "read-ahead", options(CHUNK_RANDOM, 0, 4096, 0x1020, 3,
                                ahead=READ_AHEAD | IN_PLACE) \
        + length_stream("u32le", [16, 16, 16, 40, 16, 1, 16])


# --- header ---

def header(payload_len, caps=b"", seq=0, ts=0xFFFFFFFFFFFFFFFF, magic=b"TFRM",
           version=1, flags=None):
    if flags is None:
        flags = 1 if caps else 0
    return magic + struct.pack(">BBHIIQ", version, flags, len(caps),
                               payload_len, seq, ts) + caps


def header_frame(data, caps=b"", seq=0, ts=0xFFFFFFFFFFFFFFFF):
    return header(len(data), caps, seq, ts) + data


GRAY = b"video/x-raw,format=GRAY8,width=4,height=2,framerate=30/1"


def header_seeds():
    # The README's example frame, then frames without caps, a gap, new caps.
    stream = header_frame(bytes(range(0x10, 0x18)),
                          b"video/x-raw,format=GRAY8,width=4,height=2",
                          7, 1732442400123456789)
    stream += header_frame(payload(8, 1), b"", 8)
    stream += header_frame(payload(8, 2), b"", 10, 1732442400200000000)
    stream += header_frame(payload(20, 3), b"application/x-test", 11)
    yield "readme-and-more", options(CHUNK_CAPPED, 0, 4096, 0x0311) + stream
    yield "grown-storage", options(CHUNK_RANDOM, GROW, 4096, 0x7788) \
        + header_frame(payload(1200), GRAY, 1) + header_frame(payload(300), b"", 2)
    yield "one-byte-reads", options(CHUNK_ONE, 0, 100, 0) \
        + header_frame(payload(8), GRAY, 0) + header_frame(payload(8), b"", 1)
    yield "caps-utf8", options(CHUNK_ALL, 0, 100, 0) \
        + header_frame(b"x", "image/x-caf\u00e9,name=\u65e5\u672c".encode(), 3)
    yield "bad-magic", options() + header(4, magic=b"TFRN") + b"abcd"
    yield "bad-version", options() + header(4, version=2) + b"abcd"
    yield "bad-flags", options() + header(4, flags=0x03, caps=b"a/b") + b"abcd"
    yield "caps-without-flag", options() + header(4, caps=b"a/b", flags=0) \
        + b"abcd"
    yield "flag-without-caps", options() + header(4, flags=1) + b"abcd"
    yield "caps-with-nul", options() + header(4, b"video/x\x00raw") + b"abcd"
    yield "caps-bad-utf8", options() + header(4, b"video/\xc3\x28") + b"abcd"
    yield "payload-empty", options() + header(0, GRAY)
    yield "payload-too-large", options(CHUNK_ALL, 0, 100, 0) + header(101)
    yield "payload-is-max", options(CHUNK_ALL, 0, 25, 0) \
        + header_frame(payload(25), b"a/b")
    # What tcpframesrc reads ahead: same-size frames, then new caps and a
    # new size in the middle of a read.
    burst = header_frame(payload(8), GRAY, 0)
    for i in range(1, 6):
        burst += header_frame(payload(8, i), b"", i)
    burst += header_frame(payload(16, 6), b"video/x-raw,format=GRAY8,"
                          b"width=8,height=2", 6)
    burst += header_frame(payload(16, 7), b"", 7)
    yield "read-ahead", options(CHUNK_RANDOM, 0, 4096, 0x4321,
                                ahead=READ_AHEAD) + burst
    yield "read-ahead-in-place", options(CHUNK_ALL, 0, 4096, 0,
                                         ahead=READ_AHEAD | IN_PLACE) + burst


# --- jpeg ---

def seg(code, body):
    return bytes([0xFF, code]) + struct.pack(">H", len(body) + 2) + body


SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0 = seg(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")
SOF0 = seg(0xC0, bytes([8, 0, 16, 0, 16, 1, 1, 0x11, 0]))
SOF2 = seg(0xC2, bytes([8, 0, 16, 0, 16, 1, 1, 0x11, 0]))
DHT = seg(0xC4, bytes([0, 0, 1] + [0] * 14 + [5]))
SOS = seg(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))


def entropy(n, seed=0):
    # No FF, so the scan ends only at the next marker.
    return bytes((i * 13 + seed) % 0xFE for i in range(n))


def jpeg(seed=0, n=40, sof=SOF0):
    return SOI + APP0 + sof + DHT + SOS + entropy(n, seed) + EOI


def jpeg_seeds():
    yield "one-image", options(CHUNK_ALL, 0, 4096, 0x0102) + jpeg()
    yield "two-images-garbage", options(CHUNK_CAPPED, 0, 4096, 0x0407) \
        + b"junk\xff\x00" + jpeg(1) + b"\x00\xff" + jpeg(2, 60) + b"\xff"
    # An EXIF-style thumbnail: a whole JPEG, EOI and all, inside APP1.
    thumb = SOI + DHT + SOS + entropy(10) + EOI
    yield "app1-thumbnail", options(CHUNK_RANDOM, 0, 4096, 0x1234) \
        + SOI + seg(0xE1, b"Exif\x00\x00" + thumb) + SOF0 + DHT + SOS \
        + entropy(30) + EOI
    # FF D9 inside a quantisation table and a comment.
    yield "eoi-in-dqt-and-com", options(CHUNK_ONE, 0, 1000, 0) \
        + SOI + seg(0xDB, bytes([0]) + b"\xff\xd9" * 32) \
        + seg(0xFE, b"made by \xff\xd9 test") + SOF0 + DHT + SOS \
        + entropy(20) + EOI
    # Stuffed FF 00, restart markers and fill bytes in the scan.
    scan = entropy(10) + b"\xff\x00" + entropy(5, 1) + b"\xff\xd0" \
        + entropy(5, 2) + b"\xff\xff\xff\xd1" + entropy(5, 3)
    yield "stuffing-rst-fill", options(CHUNK_CAPPED, 0, 1000, 0x0203) \
        + SOI + b"\xff\xff" + APP0 + SOF0 + DHT + SOS + scan + EOI
    yield "progressive", options(CHUNK_RANDOM, 0, 4096, 0x5555) \
        + SOI + SOF2 + DHT + SOS + entropy(20) + DHT + SOS + entropy(20, 1) \
        + EOI
    yield "image-is-max", options(CHUNK_ALL, 0, 100, 0) + jpeg(3, 100 - 67)
    yield "too-large", options(CHUNK_ALL, 0, 100, 0) + jpeg(4, 101 - 67)
    yield "truncated", options(CHUNK_ALL, 0, 4096, 0) + jpeg(5)[:-10]
    yield "bad-marker", options(CHUNK_ALL, 0, 4096, 0) + SOI + b"\x12\x34" \
        + jpeg(6)
    yield "bad-segment-length", options(CHUNK_ALL, 0, 4096, 0) + SOI \
        + b"\xff\xe0\x00\x01" + jpeg(7)
    yield "standalone-markers", options(CHUNK_ONE, 0, 1000, 0) + SOI \
        + b"\xff\x01\xff\xd8\xff\xd3" + APP0 + SOS + entropy(5) + EOI
    yield "big-image", options(CHUNK_RANDOM, 0, 65536, 0x0808) \
        + jpeg(8, 3000) + jpeg(9, 200)


# --- allow-list ---

def allowlist_seeds():
    specs = {
        "mixed": b"192.168.10.0/24,::1, 10.0.0.7",
        "empty": b"",
        "spaces": b" \t ",
        "ipv6-nets": b"2001:db8::/32, fe80::/10,2001:db8:ffff::1/128",
        "any": b"0.0.0.0/0, ::/0",
        "mapped": b"::ffff:10.0.0.0/104, ::ffff:192.0.2.7",
        "bad-address": b"10.0.0.300/24",
        "bad-prefix": b"10.0.0.0/33",
        "host-bits": b"10.0.0.7/24",
        "empty-entry": b"10.0.0.1,,10.0.0.2",
        "trailing-comma": b"10.0.0.1,",
        "zone-id": b"fe80::1%eth0",
        "odd-prefix": b"10.0.0.0/9, 192.168.1.128/25",
        # Lengths that strtoul() would wrap to 24.
        "prefix-wrap": b"10.0.0.0/4294967320",
        "prefix-negative": b"10.0.0.0/-4294967272",
        # An error message cuts this one inside a UTF-8 character.
        "long-utf8": b"10.0.0.1, 2001:db8::/32, " + b"0" * 63
        + "\u20ac\u20ac".encode(),
        # After the NUL: the bytes of the peers the target queries.
        "peer-ipv4": b"10.0.0.0/8\x00\x0a\x01\x02\x03",
        "peer-ipv6": b"2001:db8::/32\x00\x20\x01\x0d\xb8" + bytes(12),
    }
    yield from specs.items()


TARGETS = {
    "fuzz_framer_raw": raw_seeds,
    "fuzz_framer_length": length_seeds,
    "fuzz_framer_header": header_seeds,
    "fuzz_framer_jpeg": jpeg_seeds,
    "fuzz_allowlist": allowlist_seeds,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    total = 0
    for target, seeds in TARGETS.items():
        tdir = os.path.join(outdir, target)
        os.makedirs(tdir, exist_ok=True)
        written = set()
        for name, data in seeds():
            assert name not in written, name
            written.add(name)
            with open(os.path.join(tdir, name), "wb") as f:
                f.write(data)
            total += len(data)
        for old in set(os.listdir(tdir)) - written:
            os.remove(os.path.join(tdir, old))
    print(f"make-seeds: {total} bytes in {outdir}")


if __name__ == "__main__":
    main()
