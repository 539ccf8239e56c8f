#!/usr/bin/env python3
"""Dates written in words, in five styles, read into ISO dates: main.cpp's
character-level encoder-decoder with attention, in PyTorch. The same data
(the same strings for the same seed), model, optimizer, clipping,
hyperparameters and printed metrics; one thread.

  /usr/bin/python3 seq2seq.py --steps 1000   # a python3 with torch
"""
import argparse
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# ---- the data (the same strings as main.cpp's for the same seed) ----

M64 = (1 << 64) - 1


class SplitMix:
    """SplitMix64, as main.cpp's."""

    def __init__(self, s):
        self.s = s & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


MONTHS = ["January", "February", "March", "April", "May", "June",
          "July", "August", "September", "October", "November", "December"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
SOURCE_CHARS = " ,/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TARGET_CHARS = "0123456789-"
BOS, STYLES, TARGET_LENGTH, HELD_OUT = 11, 5, 10, 1000


def all_dates():  # 1950-01-01 (a Sunday) to 2049-12-31: (y, m, d, weekday), weekday 0 Monday
    out = []
    for y in range(1950, 2050):
        for m in range(1, 13):
            leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
            days = 28 + leap if m == 2 else 30 if m in (4, 6, 9, 11) else 31
            for d in range(1, days + 1):
                out.append((y, m, d, (len(out) + 6) % 7))
    return out


def ordinal(d):
    last = d % 10
    return str(d) + ("th" if d // 10 == 1 else "st" if last == 1 else "nd" if last == 2 else "rd" if last == 3 else "th")


def written(date, style):
    y, m, d, weekday = date
    month = MONTHS[m - 1]
    mon = month[:3]
    return [f"{month} {ordinal(d)} {y}",               # November 2nd 2026
            f"{d} {mon} {y}",                          # 2 Nov 2026
            f"the {ordinal(d)} of {month}, {y}",       # the 2nd of November, 2026
            f"{m:02d}/{d:02d}/{y}",                    # 11/02/2026
            f"{WEEKDAYS[weekday]}, {mon} {d}, {y}"][style]  # Mon, Nov 2, 2026


def iso(date):
    return f"{date[0]}-{date[1]:02d}-{date[2]:02d}"


def split_dates(seed):
    """Every date, shuffled by the seed; the first tenth is held out: (train, held_out)."""
    dates, r = all_dates(), SplitMix(seed)
    for i in range(len(dates) - 1, 0, -1):
        j = r.below(i + 1)
        dates[i], dates[j] = dates[j], dates[i]
    cut = len(dates) // 10
    return dates[cut:], dates[:cut]


class Batch:
    """`count` examples: a random date of `dates` in a random style each."""

    def __init__(self, dates, count, r):
        self.sources, self.targets = [], []
        for _ in range(count):
            date = dates[r.below(len(dates))]
            self.sources.append(written(date, r.below(STYLES)))
            self.targets.append(iso(date))
        self.lengths = torch.tensor([len(s) for s in self.sources])
        self.source = torch.zeros(count, int(self.lengths.max()), dtype=torch.long)  # (B, S), 0 = padding
        for i, s in enumerate(self.sources):
            self.source[i, :len(s)] = torch.tensor([SOURCE_CHARS.index(c) + 1 for c in s])
        self.mask = self.source != 0  # (B, S)
        # steps[0] = BOS, steps[t + 1] = target character t: (11, B)
        self.steps = torch.tensor([[BOS] * count] + [[TARGET_CHARS.index(t[i]) for t in self.targets]
                                                     for i in range(TARGET_LENGTH)])


# ---- scoring ----

def score(predictions, targets):
    """(exact match, per-character accuracy, predictions): the fractions of dates and characters right."""
    exact = sum(p == t for p, t in zip(predictions, targets)) / len(targets)
    chars = sum(a == b for p, t in zip(predictions, targets) for a, b in zip(p, t)) / (len(targets) * TARGET_LENGTH)
    return exact, chars, predictions


# ---- the model ----

class Seq2Seq(nn.Module):
    def __init__(self, embed, hidden):
        super().__init__()
        self.source_embed = nn.Embedding(len(SOURCE_CHARS) + 1, embed, padding_idx=0)
        self.encoder = nn.LSTM(embed, hidden, bidirectional=True, batch_first=True)
        self.target_embed = nn.Embedding(len(TARGET_CHARS) + 1, embed)
        self.decoder = nn.LSTMCell(embed, 2 * hidden)
        self.head = nn.Linear(4 * hidden, len(TARGET_CHARS))

    def encode(self, b):
        """Encoder outputs (B, S, 2H) and both directions' final states, concatenated (B, 2H)."""
        packed = pack_padded_sequence(self.source_embed(b.source), b.lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.encoder(packed)
        out = pad_packed_sequence(out, batch_first=True, total_length=b.source.shape[1])[0]
        return out, (torch.cat([h[0], h[1]], 1), torch.cat([c[0], c[1]], 1))

    def step(self, enc, mask, previous, s):
        """One decoder step from the previous characters (B): the logits (B, 11) and the state."""
        s = self.decoder(self.target_embed(previous), s)
        scores = torch.bmm(enc, s[0].unsqueeze(2)).squeeze(2).masked_fill(~mask, float("-inf"))  # (B, S)
        context = torch.bmm(F.softmax(scores, 1).unsqueeze(1), enc).squeeze(1)  # (B, 2H)
        return self.head(torch.cat([s[0], context], 1)), s

    def loss(self, b):
        """Teacher forcing: the mean cross-entropy of every step."""
        enc, s = self.encode(b)
        logits = []
        for t in range(TARGET_LENGTH):
            out, s = self.step(enc, b.mask, b.steps[t], s)
            logits.append(out)
        return F.cross_entropy(torch.cat(logits), b.steps[1:].reshape(-1))

    def decode(self, b):
        """Greedy decoding: each step's argmax is the next step's input."""
        enc, s = self.encode(b)
        previous, out = b.steps[0], []
        for t in range(TARGET_LENGTH):
            logits, s = self.step(enc, b.mask, previous, s)
            previous = logits.argmax(1)
            out.append(previous)
        return ["".join(TARGET_CHARS[i] for i in row) for row in torch.stack(out, 1).tolist()]


# ---- training and evaluation ----

def evaluate(model, held_out):
    """Greedy decoding of a batch, scored."""
    with torch.no_grad():
        return score(model.decode(held_out), held_out.targets)


def train_and_evaluate(args, train_dates, held_out):
    """Trains as main.cpp's Trainer does (clip 1, an evaluation every eval_every
    steps and at the end); the last evaluation and the training time."""
    torch.manual_seed(args.seed)
    model = Seq2Seq(32, args.hidden)
    print(model)
    adam = torch.optim.Adam(model.parameters(), lr=args.lr)
    seconds, losses = 0.0, []
    for step in range(1, args.steps + 1):
        start = time.perf_counter()
        loss = model.loss(Batch(train_dates, args.batch, SplitMix(args.seed * 1000003 + step)))
        adam.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        adam.step()
        seconds += time.perf_counter() - start
        losses.append(loss.item())
        if step % args.eval_every == 0 or step == args.steps:
            last = evaluate(model, held_out)
            print(f"step {step:5d}  epoch  1  loss {sum(losses) / len(losses):.4f}  held_out_exact {last[0]:.4f}"
                  f"  held_out_char {last[1]:.4f}  [train {seconds:.1f} s]", flush=True)
            losses = []
    return last, seconds


# ---- the command line ----

def positive(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            v = 0
        if v <= 0:
            raise argparse.ArgumentTypeError(f"needs a positive {kind.__name__}, not '{text}'")
        return v
    return parse


def main():
    p = argparse.ArgumentParser(description="dates in words -> ISO dates, an encoder-decoder with attention")
    p.add_argument("--steps", type=positive(int), default=1000, help="training steps (default 1000)")
    p.add_argument("--seed", type=positive(int), default=1, help="data split, batches and weights (default 1)")
    p.add_argument("--hidden", type=positive(int), default=64,
                   help="encoder LSTM size each way; the decoder's is 2N (default 64)")
    p.add_argument("--batch", type=positive(int), default=64, help="dates per step (default 64)")
    p.add_argument("--lr", type=positive(float), default=3e-3, help="Adam's learning rate (default 0.003)")
    p.add_argument("--eval-every", type=positive(int), default=250,
                   help="steps between held-out evaluations (default 250)")
    args = p.parse_args()
    torch.set_num_threads(1)

    train_dates, held_out_dates = split_dates(args.seed)
    held_out = Batch(held_out_dates, HELD_OUT, SplitMix(args.seed + 1))
    print(f"{len(train_dates)} training dates, {len(held_out_dates)} held out; "
          f"e.g. '{held_out.sources[0]}' -> {held_out.targets[0]}")
    (exact, chars, predictions), seconds = train_and_evaluate(args, train_dates, held_out)
    print(f"held-out exact match {exact:.4f}, per-character accuracy {chars:.4f} on {HELD_OUT} dates; "
          f"training {seconds:.1f} s")
    for source, prediction, target in list(zip(held_out.sources, predictions, held_out.targets))[:8]:
        print(f"  {repr(source):<28} -> {prediction}  {'ok' if prediction == target else 'want ' + target}")


if __name__ == "__main__":
    sys.exit(main())
