#!/usr/bin/env python3
"""A tiny safetensors reader and writer in numpy, independent of the C++ code.

tests/io uses it to check that our files interoperate:
  read_checkpoint.py read FILE    print {"metadata": {..}, "tensors": {name:
                                  {"dtype", "shape", "values" (flat)}}} as JSON
  read_checkpoint.py write FILE   write the checkpoint WRITTEN (unpadded header,
                                  tensors in insertion order, not aligned)
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
NAMES = {np.dtype(t): d for d, t in DTYPES.items()}
WRITTEN = {
    "w": np.arange(6, dtype="<f4").reshape(2, 3) / np.float32(4),
    "b": np.array([0.1, -2.5], dtype="<f8"),
    "step": np.array(7, dtype="<i8"),
}


def read(path):
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = e["data_offsets"]
        assert begin == end, f"{name}: hole or overlap at byte {begin}"
        flat = np.frombuffer(data[begin:stop], dtype=DTYPES[e["dtype"]])
        tensors[name] = flat.reshape(e["shape"])
        end = stop
    assert end == len(data), f"bytes [{end}, {len(data)}) belong to no tensor"
    return metadata, tensors


def write(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(path, WRITTEN, {"writer": "numpy"})
    else:
        metadata, tensors = read(path)
        print(json.dumps({"metadata": metadata, "tensors": {
            k: {"dtype": NAMES[v.dtype], "shape": list(v.shape),
                "values": v.ravel().tolist()}
            for k, v in tensors.items()}}))
