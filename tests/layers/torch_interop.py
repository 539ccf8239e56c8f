#!/usr/bin/env python3
"""PyTorch's side of tests/layers/test_torch_io.cpp (needs python3-torch).

The models, defined here as plain nn.Modules and in the C++ test alike:
  lstm  rnn = nn.LSTM(5, 6, num_layers=2, bidirectional=True), head = nn.Linear(12, 4)
  gru   embed = nn.Embedding(11, 5, padding_idx=0), rnn = nn.GRU(5, 6),
        head = nn.Linear(6, 3, bias=False); reads token ids
  rnn   rnn = nn.RNN(5, 6, num_layers=2, nonlinearity='relu', batch_first=True),
        head = nn.Linear(6, 2)
Each returns y = head(every output step), h_n and, for the LSTM, c_n.
And cells run by hand as a decoder runs them, the state carried from a given
h0 (and c0) over every step of x (STEPS, BATCH, 5):
  lstm_cell      cell = nn.LSTMCell(5, 6), head = nn.Linear(6, 4)
  gru_cell       cell = nn.GRUCell(5, 6), head = nn.Linear(6, 3, bias=False)
  rnn_cell       cell = nn.RNNCell(5, 6, nonlinearity='relu'), head = nn.Linear(6, 2)
  rnn_tanh_cell  cell = nn.RNNCell(5, 6), head = nn.Linear(6, 2)
Each returns y = head(h of every step), h and, for the LSTM cell, c (every
step), and h_from_zeros (and c_from_zeros): one step on x[0] from no state.

  torch_interop.py check DIR   load DIR/<model>.safetensors (exported by
      tapegrad) with load_state_dict(strict=True), run DIR/<model>_io.safetensors'
      input, compare with the outputs stored there; check that the
      "torch_modules" metadata builds the same modules. Prints
      {"<model>": max |difference|} as JSON; exits 1 above 1e-5.
  torch_interop.py make DIR    initialise each model (torch.manual_seed), save
      its state_dict to DIR/torch_<model>.safetensors and an input with the
      outputs to DIR/torch_<model>_io.safetensors, for tapegrad to import.

Files are safetensors, written and read by hand (bench/torch/read_checkpoint.py):
python3-safetensors is not in Debian 12.
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

STEPS, BATCH, TOLERANCE = 7, 3, 1e-5


class LstmNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(5, 6, num_layers=2, bidirectional=True)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        out, (h, c) = self.rnn(x)
        return {"y": self.head(out), "h_n": h, "c_n": c}

    @staticmethod
    def input():
        return {"x": torch.rand(STEPS, BATCH, 5) * 2 - 1}


class GruNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 5, padding_idx=0)
        self.rnn = nn.GRU(5, 6)
        self.head = nn.Linear(6, 3, bias=False)

    def forward(self, ids):
        out, h = self.rnn(self.embed(ids))
        return {"y": self.head(out), "h_n": h}

    @staticmethod
    def input():
        return {"ids": torch.randint(0, 11, (STEPS, BATCH))}


class RnnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(5, 6, num_layers=2, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        out, h = self.rnn(x)
        return {"y": self.head(out), "h_n": h}

    @staticmethod
    def input():
        return {"x": torch.rand(BATCH, STEPS, 5) * 2 - 1}


class CellNet(nn.Module):
    """A cell stepped by hand, as a decoder does (the module docstring)."""

    def __init__(self, cell, head):
        super().__init__()
        self.cell = cell
        self.head = head

    def forward(self, x, h0, c0=None):
        lstm = c0 is not None
        state, hs, cs = (h0, c0) if lstm else h0, [], []
        for x_t in x:
            state = self.cell(x_t, state)
            hs.append(state[0] if lstm else state)
            if lstm:
                cs.append(state[1])
        first = self.cell(x[0])  # from zeros
        out = {"y": self.head(torch.stack(hs)), "h": torch.stack(hs),
               "h_from_zeros": first[0] if lstm else first}
        if lstm:
            out.update(c=torch.stack(cs), c_from_zeros=first[1])
        return out

    @staticmethod
    def input(lstm=False):
        state = {"h0": torch.rand(BATCH, 6) * 2 - 1}
        if lstm:
            state["c0"] = torch.rand(BATCH, 6) * 2 - 1
        return {"x": torch.rand(STEPS, BATCH, 5) * 2 - 1, **state}


class LstmCellNet(CellNet):
    def __init__(self):
        super().__init__(nn.LSTMCell(5, 6), nn.Linear(6, 4))

    @staticmethod
    def input():
        return CellNet.input(lstm=True)


class GruCellNet(CellNet):
    def __init__(self):
        super().__init__(nn.GRUCell(5, 6), nn.Linear(6, 3, bias=False))


class RnnCellNet(CellNet):
    def __init__(self):
        super().__init__(nn.RNNCell(5, 6, nonlinearity="relu"), nn.Linear(6, 2))


class RnnTanhCellNet(CellNet):
    def __init__(self):
        super().__init__(nn.RNNCell(5, 6), nn.Linear(6, 2))


MODELS = {"lstm": LstmNet, "gru": GruNet, "rnn": RnnNet, "lstm_cell": LstmCellNet,
          "gru_cell": GruCellNet, "rnn_cell": RnnCellNet, "rnn_tanh_cell": RnnTanhCellNet}


def load(path):
    metadata, arrays = read_checkpoint.read(path)
    return metadata, {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}


def save(path, tensors, metadata):
    read_checkpoint.write(path, {k: v.detach().contiguous().numpy() for k, v in tensors.items()},
                          metadata)


def check_modules(model, metadata):
    """Each "torch_modules" entry builds a module equal to the model's own."""
    described = json.loads(metadata["torch_modules"])
    assert set(described) == {n for n, _ in model.named_children()}, described
    for name, call in described.items():
        built, ours = eval(call, {"nn": nn}), getattr(model, name)
        assert repr(built) == repr(ours), f"{name}: {call} builds {built!r}, not {ours!r}"
        assert getattr(built, "nonlinearity", None) == getattr(ours, "nonlinearity", None), name


def check(directory):
    worst = {}
    for name, cls in MODELS.items():
        model = cls()
        metadata, state = load(os.path.join(directory, name + ".safetensors"))
        model.load_state_dict(state, strict=True)
        check_modules(model, metadata)
        _, io = load(os.path.join(directory, name + "_io.safetensors"))
        inputs = {k: io.pop(k) for k in cls.input()}
        with torch.no_grad():
            out = model(*inputs.values())
        assert set(out) == set(io), f"{name}: outputs {sorted(out)}, stored {sorted(io)}"
        worst[name] = max(float((out[k] - io[k]).abs().max()) for k in out)
    print(json.dumps(worst))
    sys.exit(0 if max(worst.values()) <= TOLERANCE else 1)


def make(directory):
    torch.manual_seed(1234)
    for name, cls in MODELS.items():
        model = cls()
        save(os.path.join(directory, f"torch_{name}.safetensors"), model.state_dict(),
             {"format": "pt"})
        inputs = cls.input()
        with torch.no_grad():
            out = model(*inputs.values())
        save(os.path.join(directory, f"torch_{name}_io.safetensors"), {**inputs, **out}, {})


if __name__ == "__main__":
    torch.set_num_threads(1)
    {"check": check, "make": make}[sys.argv[1]](sys.argv[2])
