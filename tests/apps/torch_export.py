#!/usr/bin/env python3
"""PyTorch's side of the apps' --export-torch tests (needs python3-torch).

  torch_export.py MODEL IO

MODEL is a file an app wrote with --export-torch. Its "torch_modules"
metadata names each module and the PyTorch call that builds it; the modules
are built from it, put together in one nn.Module, and that loads MODEL with
load_state_dict(strict=True).

IO holds "x" (time, batch, features) and "y", what the app's model computed
on x. For the apps whose head reads the top layer's final state (mnist_rnn,
adding_problem) that is y = head(h_n[-1]), computed here in PyTorch.

Prints {"max_abs_diff": d, "tensors": n} as JSON, and exits 1 when
d > 1e-5. Files are read by bench/torch/read_checkpoint.py (python3-safetensors
is not in Debian 12).
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench", "torch"))
import read_checkpoint  # noqa: E402

TOLERANCE = 1e-5


def tensors(path):
    metadata, arrays = read_checkpoint.read(path)
    return metadata, {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}


def main(model_path, io_path):
    metadata, state = tensors(model_path)
    assert metadata.get("format") == "pt", f"{model_path}: metadata format {metadata.get('format')!r}"
    model = nn.Module()
    for name, call in json.loads(metadata["torch_modules"]).items():
        setattr(model, name, eval(call, {"nn": nn}))
    model.load_state_dict(state, strict=True)
    _, io = tensors(io_path)
    with torch.no_grad():
        _, h_n = model.rnn(io["x"])
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        y = model.head(h_n[-1])
    assert y.shape == io["y"].shape, f"PyTorch's output {tuple(y.shape)}, ours {tuple(io['y'].shape)}"
    worst = float((y - io["y"]).abs().max())
    print(json.dumps({"max_abs_diff": worst, "tensors": len(state)}))
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], sys.argv[2])
