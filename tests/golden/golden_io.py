# tests/golden/golden_io.py — safetensors reading and writing for the golden-fixture scripts (torch only).
# One writer for every fixture, so that all of them share one layout: names sorted, data back to back.
"""Minimal safetensors I/O for the scripts in tests/golden (no `safetensors` package needed).

Layout: u64 little-endian N, then N bytes of JSON header (padded with spaces to a
multiple of 8), then the tensors' bytes back to back in sorted-name order. Each header
entry gives dtype, shape and data_offsets [begin, end) relative to the data section.
"""

import json
import os
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64"}
ITEMSIZE = {"F32": 4, "F64": 8, "I32": 4, "I64": 8}


def write_safetensors(path, tensors, metadata):
    """Write `tensors` (name -> tensor) and `metadata` (str -> str) to `path`, atomically (temp file + rename)."""
    if sys.byteorder != "little":
        raise RuntimeError("this writer assumes a little-endian machine")
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in DTYPES:
            raise TypeError(f"{path}: {name}: dtype {t.dtype} not supported by this writer")
        blob = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    """Read back a file written by `write_safetensors`; return (tensors, metadata). Checks the data tiling."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    by_name = {v: k for k, v in DTYPES.items()}
    tensors, position = {}, 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if begin != position or end - begin != count * ITEMSIZE[info["dtype"]]:
            raise ValueError(f"{path}: {name}: bytes [{begin}, {end}) for shape {info['shape']} "
                             f"{info['dtype']} (expected to start at {position})")
        dtype = by_name[info["dtype"]]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
        position = end
    if position != len(data):
        raise ValueError(f"{path}: data section has {len(data)} bytes, tensors cover {position}")
    return tensors, metadata


def max_abs_diff(a, b):
    """Largest |a - b| over all elements, compared in float64."""
    return (a.double() - b.double()).abs().max().item()
