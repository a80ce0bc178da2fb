"""st_io.py: safetensors reading and writing for the Python side.

Debian 12 packages no `safetensors` Python module, so ddpm_torch carries this
small reader/writer of the published format: an 8-byte little-endian header
length, a JSON header (tensor name -> dtype, shape, data_offsets, plus an
optional "__metadata__" map of strings), then the raw little-endian data.
F32, F64 and F16 are handled: ddpm-lab writes F32, and F16 for snapshots.
Saves are atomic (a temporary file in the same folder, fsync, rename), like
the C writer's: a crash mid-save leaves the previous file whole.
"""
import json
import os
import struct
import tempfile

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2")}


def load(path):
    """Returns (tensors: dict name -> np.ndarray, metadata: dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}; F32, F64 or F16 expected")
        dt = _DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        if not 0 <= b <= e <= len(data) or (e - b) != dt.itemsize * int(np.prod(info["shape"], dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name} has bad data offsets")
        arr = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"])
        tensors[name] = arr.copy()
    return tensors, meta


def save(path, tensors, metadata=None, dtype="F32"):
    """Writes tensors (dict name -> array, in insertion order) as dtype, atomically."""
    dt = _DTYPES[dtype]
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(np.asarray(arr, dtype=dt)).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(arr)),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
