#!/usr/bin/python3
"""char_rnn.py: main.cpp's character-level LSTM language model in PyTorch.

The same data split, model (Embedding -> LSTM -> Linear, PyTorch's init),
truncated BPTT over `batch` parallel streams with the state carried and
detached, Adam, gradient-norm clipping, one thread, and the same printed
lines: the held-out bits per character at every evaluation, the time per
step, a sample. Run with the python that has torch (/usr/bin/python3 here).
"""
import argparse
import math
import sys
import time

import torch
from torch import nn

# ---- Arguments and the text file (not counted in the README's line counts)


def parse():
    p = argparse.ArgumentParser(description="a character-level LSTM language model on a text file")
    p.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    for name, default in [("steps", 600), ("eval-every", 100), ("hidden", 128), ("layers", 2), ("embed", 32),
                          ("seq-len", 64), ("batch", 32), ("sample-chars", 500), ("seed", 1), ("threads", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    for name, default in [("lr", 2e-3), ("clip", 5.0), ("temperature", 0.8)]:
        p.add_argument("--" + name, type=float, default=default)
    p.add_argument("--prime", default="The ")
    return p.parse_args()


def read_text(a):
    try:
        data = open(a.text, "rb").read()
    except OSError as e:
        sys.exit(f"char_rnn.py: error: {a.text}: cannot open the text file ({e.strerror})")
    chars = sorted(set(data))
    ids = [chars.index(c) for c in data]
    cut = len(data) * 9 // 10
    need = a.batch * (a.seq_len + 1)
    if cut < need or len(data) - cut < 2:
        sys.exit(f"char_rnn.py: error: {a.text}: {len(data)} characters is too short: one batch of {a.batch} "
                 f"streams of {a.seq_len + 1} needs {need} in the first 90%, and 2 are held out")
    unknown = [c for c in a.prime.encode() if c not in chars]
    if not a.prime or unknown:
        sys.exit(f"char_rnn.py: error: --prime '{a.prime}': " +
                 (f"'{chr(unknown[0])}' is not in {a.text}" if unknown else "empty"))
    return bytes(chars), torch.tensor(ids[:cut]), torch.tensor(ids[cut:])


# ---- The model, training and generation


def window(text, batch, seq_len, i):
    """Window i of the text cut into `batch` streams: x (T, B) and the characters that follow, y (T*B)."""
    streams = text[:len(text) // batch * batch].view(batch, -1)
    chunk = streams[:, i * seq_len:(i + 1) * seq_len + 1].t()
    return chunk[:-1], chunk[1:].reshape(-1)


class CharRnn(nn.Module):
    def __init__(self, vocab, a):
        super().__init__()
        self.embed = nn.Embedding(vocab, a.embed)
        self.lstm = nn.LSTM(a.embed, a.hidden, a.layers)
        self.head = nn.Linear(a.hidden, vocab)

    def forward(self, ids, state=None):
        """ids (T, B) -> logits (T, B, V) and the LSTM's final state."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


@torch.no_grad()
def bits_per_char(model, text):
    """Mean cross-entropy / ln 2 of the held-out text, read as one stream."""
    x, y = window(text, 1, len(text) - 1, 0)
    return nn.functional.cross_entropy(model(x)[0].flatten(0, 1), y).item() / math.log(2)


@torch.no_grad()
def generate(model, chars, a):
    rng = torch.Generator().manual_seed(a.seed)
    x, out, state = torch.tensor([[chars.index(ord(c))] for c in a.prime]), a.prime, None
    for _ in range(a.sample_chars):
        logits, state = model(x, state)
        next_id = torch.multinomial(torch.softmax(logits[-1, 0] / a.temperature, 0), 1, generator=rng).item()
        out += chr(chars[next_id])
        x = torch.tensor([[next_id]])
    return out


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    chars, train, held_out = read_text(a)
    print(f"{a.text}: vocabulary {len(chars)} (log2 {math.log2(len(chars)):.4f}), {len(train)} characters to train on, "
          f"{len(held_out)} held out")
    torch.manual_seed(a.seed)
    model = CharRnn(len(chars), a)
    print(model)
    adam = torch.optim.Adam(model.parameters(), lr=a.lr)
    batches = (len(train) // a.batch - 1) // a.seq_len
    state, seconds, cpu, losses = None, 0.0, 0.0, []
    for step in range(1, a.steps + 1):
        start, cpu_start, (epoch, index) = time.perf_counter(), time.process_time(), divmod(step - 1, batches)
        if index == 0:
            state = None  # each pass over the text starts from zeros
        x, y = window(train, a.batch, a.seq_len, index)
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)  # the next window's gradients stop here
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), y)
        adam.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        adam.step()
        losses.append(loss.item())
        seconds, cpu = seconds + time.perf_counter() - start, cpu + time.process_time() - cpu_start
        if step % a.eval_every == 0 or step == a.steps:
            bpc = bits_per_char(model, held_out)
            print(f"step {step:5d}  epoch {epoch + 1:2d}  loss {sum(losses) / len(losses):.4f}  "
                  f"held_out_bpc {bpc:.4f}  [train {seconds:.1f} s]", flush=True)
            losses = []
    print(f"trained {a.steps} steps in {seconds:.1f} s (CPU {cpu:.1f} s), {1e3 * seconds / a.steps:.2f} ms per step")
    print(f"sample (seed {a.seed}, temperature {a.temperature:g}):\n{generate(model, chars, a)}")


if __name__ == "__main__":
    main()
