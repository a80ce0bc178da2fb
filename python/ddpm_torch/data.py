"""data.py: the datasets of `ddpm train --data`, as src/core/dataset.c opens
them (ddpm/dataset.h), for the DDP trainer:

  digits   the bundled 10,000 digits (assets/digits/, or $DDPM_ASSETS):
           train = the first 9,000, held-out = the last 1,000
  fashion  Fashion-MNIST from Debian's dataset-fashion-mnist package
           (/usr/share/datasets/fashion-mnist): train 60,000, held-out 10,000
  DIR      a folder of MNIST-family IDX files (train-/t10k-images-idx3-ubyte,
           optionally .gz, also in MNIST/raw, FashionMNIST/raw or raw)

Pixels are bytes / 127.5 - 1, as in C.  The IDX format: LeCun et al.'s
MNIST page (big-endian magic 0x00000803 / 0x00000801, then the dimensions).
"""
import gzip
import os
import struct

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
DIGITS_HELDOUT = 1000


def assets_dir():
    env = os.environ.get("DDPM_ASSETS")
    return env if env else os.path.join(ROOT, "assets")


def read_idx(path):
    """An IDX file (gzip'ed or not) as a numpy array of bytes."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX file")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08 or not 1 <= ndim <= 3:
        raise ValueError(f"{path}: not an IDX file of bytes (magic {raw[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    n = int(np.prod(dims, dtype=np.int64))
    body = raw[4 + 4 * ndim:]
    if len(body) != n:
        raise ValueError(f"{path}: {len(body)} bytes of data for dimensions {dims}")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(base, stem, kind):
    for layout in ("", "MNIST/raw", "FashionMNIST/raw", "raw"):
        for name in (f"{stem}-{kind}-idx{3 if kind == 'images' else 1}-ubyte",
                     f"{stem}-{kind}.idx{3 if kind == 'images' else 1}-ubyte"):
            for ext in ("", ".gz"):
                p = os.path.join(base, layout, name + ext)
                if os.path.isfile(p):
                    return p
    return None


def open_images(spec, split="train"):
    """(images uint8 (N, 28, 28), labels uint8 (N) or None, name) of a dataset spec and split."""
    if split not in ("train", "heldout"):
        raise ValueError("split is train or heldout")
    if spec in (None, "", "digits"):
        d = os.path.join(assets_dir(), "digits")
        x = read_idx(os.path.join(d, "digits-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(d, "digits-labels-idx1-ubyte.gz"))
        cut = len(x) - DIGITS_HELDOUT
        return (x[:cut], y[:cut], "digits") if split == "train" else (x[cut:], y[cut:], "digits")
    base = FASHION_DIR if spec == "fashion" else spec
    if not os.path.isdir(base):
        if spec == "fashion":
            raise FileNotFoundError(f"Fashion-MNIST is not installed ({FASHION_DIR} is missing); "
                                    "install Debian's dataset-fashion-mnist")
        raise FileNotFoundError(f"'{spec}' is not a folder; pass digits, fashion or a folder of IDX files")
    stem = "train" if split == "train" else "t10k"
    ip = _find(base, stem, "images")
    if ip is None:
        raise FileNotFoundError(f"'{base}' has no {stem}-images-idx3-ubyte[.gz]")
    lp = _find(base, stem, "labels")
    x = read_idx(ip)
    y = read_idx(lp) if lp else None
    return x, y, "fashion" if spec == "fashion" else spec


def to_pixels(images):
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [-1, 1]: x / 127.5 - 1."""
    return (images.astype(np.float32) / np.float32(127.5) - np.float32(1.0))[:, None, :, :]
