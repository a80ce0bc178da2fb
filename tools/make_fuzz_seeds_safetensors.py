"""make_fuzz_seeds_safetensors.py: writes the seed corpus of the safetensors
fuzz target (tests/fuzz/corpus/safetensors/).

Seeds are small on purpose (libFuzzer derives -max_len from them): a few
valid files in the layouts the reader must accept, and near-valid ones that
stop at each stage of validation.  Written by hand with struct/json, not
with ddpm-lab's writer, so the corpus does not inherit its assumptions.

    python3 tools/make_fuzz_seeds_safetensors.py
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz", "corpus", "safetensors")


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def file_bytes(header, data=b"", pad=True, length=None):
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def entry(shape, begin, end, dtype="F32"):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


SEEDS = {
    # safetensors' own test vector (tensor.rs, test_serialization)
    "valid_attn": file_bytes({"attn.0": entry([1, 2, 3], 0, 24)}, f32(0, 1, 2, 3, 4, 5)),
    "valid_multi": file_bytes({
        "__metadata__": {"format": "ddpm-lab", "step": "12", "unet": "{\"ch\": 16}"},
        "scalar": entry([], 0, 4),
        "w": entry([2, 3], 4, 28),
        "empty": entry([3, 0], 28, 28),
        "b": entry([2], 28, 36),
    }, f32(0.5) + f32(*range(6)) + f32(-1, 1)),
    "valid_empty": file_bytes({}),
    "valid_meta_only": file_bytes({"__metadata__": {"framework": "pt"}}),
    # JSON order differs from offset order; no padding, so the data is unaligned
    "valid_unaligned": file_bytes({"b": entry([1], 4, 8), "a": entry([1], 0, 4)},
                                  f32(1, 2), pad=False),
    "bad_dtype_f16": file_bytes({"h": entry([2], 0, 4, "F16")}, b"\0" * 4),
    "bad_overlap": file_bytes({"a": entry([2], 0, 8), "b": entry([2], 4, 12)}, f32(1, 2, 3)),
    "bad_hole": file_bytes({"a": entry([1], 0, 4), "b": entry([1], 8, 12)}, f32(1, 2, 3)),
    "bad_length": file_bytes({"a": entry([1], 0, 4)}, f32(1), length=4096),
    "bad_meta_value": file_bytes({"__metadata__": {"k": 1}}),
    "bad_shape": file_bytes(b'{"a":{"dtype":"F32","shape":[-1,2.5],"data_offsets":[4,0]}}'),
}

os.makedirs(OUT, exist_ok=True)
for name, blob in SEEDS.items():
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(blob)
print(f"wrote {len(SEEDS)} seeds to {os.path.normpath(OUT)}")
