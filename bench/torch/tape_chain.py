#!/usr/bin/python3
"""Per-op overhead of PyTorch's eager autograd (twin of our tape benchmarks).

1. Chain of --ops (10,000) elementwise ops on a leaf x (requires grad):
   y = x; then alternately y = y * cm and y = y + ca (cm: constant tensor of
   x's shape with values in [0.9999, 1.0001], ca: values in [-1e-4, 1e-4],
   neither requires grad), then y.sum().backward(). Timed from the first op
   to the end of backward; reported as microseconds per op (forward+backward),
   the median of --repeats runs after --warmup runs. Shapes (4,) and (64,128).
       RESULT name=tape_chain_4 impl=torch us_per_op=... fwd_us_per_op=... bwd_us_per_op=...
       RESULT name=tape_chain_64x128 impl=torch ...
2. A hand-written recurrent step, batch 64, input 128, hidden 128:
   h_0 = 0; h_t = tanh(x_t @ W + h_{t-1} @ U + b) for 50 steps;
   loss = h_50.pow(2).mean(); backward to W, U, b (x is data, no grad).
       RESULT name=rnn_step_b64_h128 impl=torch ms=... (one 50-step sequence, fwd+bwd)

Run: /usr/bin/python3 bench/torch/tape_chain.py [--threads 1] [--seed 1]
"""
import argparse
import time

import twin_common as tc


def chain_once(torch, x, cm, ca, ops):
    x.grad = None
    c0 = time.process_time()
    t0 = time.perf_counter()
    y = x
    for i in range(ops):
        y = y * cm if i % 2 == 0 else y + ca
    loss = y.sum()
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, x.grad, time.process_time() - c0


def bench_chain(torch, args, shape, name):
    g = torch.Generator().manual_seed(args.seed)
    x = torch.rand(shape, generator=g).requires_grad_(True)
    cm = 1.0 + (torch.rand(shape, generator=g) * 2 - 1) * 1e-4
    ca = (torch.rand(shape, generator=g) * 2 - 1) * 1e-4
    for _ in range(args.warmup):
        chain_once(torch, x, cm, ca, args.ops)
    fwd, bwd, tot, cpu = [], [], [], []
    for _ in range(args.repeats):
        f, b, grad, c = chain_once(torch, x, cm, ca, args.ops)
        cpu.append(c)
        fwd.append(f)
        bwd.append(b)
        tot.append(f + b)
    # d sum(y)/dx = prod of the multipliers: finite and near 1.
    if not bool(torch.isfinite(grad).all()):
        raise SystemExit(f"{name}: non-finite gradient")
    us = lambda s: s / args.ops * 1e6
    tc.log(f"{name}: shape {tuple(shape)}, {args.ops} ops, {args.repeats} runs: "
           f"median {us(tc.median(tot)):.3f} us/op (fwd {us(tc.median(fwd)):.3f}, "
           f"bwd {us(tc.median(bwd)):.3f}), min {us(min(tot)):.3f}, "
           f"grad mean {float(grad.mean()):.6f}")
    tc.result(name, shape="x".join(str(s) for s in shape), ops=args.ops, repeats=args.repeats,
              us_per_op=us(tc.median(tot)), fwd_us_per_op=us(tc.median(fwd)),
              bwd_us_per_op=us(tc.median(bwd)), min_us_per_op=us(min(tot)),
              cpu_us_per_op=us(tc.median(cpu)),
              threads=args.threads, peak_mib=tc.peak_mib())


def bench_rnn_step(torch, args):
    B, I, H, T = 64, 128, 128, args.rnn_steps
    g = torch.Generator().manual_seed(args.seed)
    xs = torch.randn(T, B, I, generator=g)
    W = ((torch.rand(I, H, generator=g) * 2 - 1) / H ** 0.5).requires_grad_(True)
    U = ((torch.rand(H, H, generator=g) * 2 - 1) / H ** 0.5).requires_grad_(True)
    b = ((torch.rand(H, generator=g) * 2 - 1) / H ** 0.5).requires_grad_(True)

    def once():
        for p in (W, U, b):
            p.grad = None
        c0 = time.process_time()
        t0 = time.perf_counter()
        h = torch.zeros(B, H)
        for t in range(T):
            h = torch.tanh(xs[t] @ W + h @ U + b)
        loss = h.pow(2).mean()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, time.process_time() - c0, float(loss)

    for _ in range(args.warmup):
        once()
    fwd, tot, cpu = [], [], []
    for _ in range(args.rnn_repeats):
        f, bk, c, loss = once()
        cpu.append(c)
        fwd.append(f)
        tot.append(f + bk)
    ms = lambda s: s * 1e3
    tc.log(f"rnn_step_b64_h128: {T} steps, {args.rnn_repeats} runs: median {ms(tc.median(tot)):.3f} ms "
           f"(fwd {ms(tc.median(fwd)):.3f}), min {ms(min(tot)):.3f}, loss {loss:.6f}")
    tc.result("rnn_step_b64_h128", batch=B, input=I, hidden=H, steps=T, repeats=args.rnn_repeats,
              ms=ms(tc.median(tot)), fwd_ms=ms(tc.median(fwd)), min_ms=ms(min(tot)),
              cpu_ms=ms(tc.median(cpu)), threads=args.threads, peak_mib=tc.peak_mib())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", type=int, default=10000, help="ops in the chain (default 10000)")
    p.add_argument("--rnn-steps", type=int, default=50, help="time steps of the recurrent bench (default 50)")
    p.add_argument("--repeats", type=int, default=11, help="timed runs per chain bench; the median is reported")
    p.add_argument("--rnn-repeats", type=int, default=31, help="timed runs of the recurrent bench")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    p.add_argument("--only", choices=["chain", "rnn"], help="run only one part")
    args, torch = tc.setup(p)
    if args.ops < 2 or args.repeats < 1 or args.rnn_repeats < 1 or args.rnn_steps < 1:
        p.error("need --ops >= 2, --repeats >= 1, --rnn-repeats >= 1, --rnn-steps >= 1")
    if args.only in (None, "chain"):
        bench_chain(torch, args, (4,), "tape_chain_4")
        bench_chain(torch, args, (64, 128), "tape_chain_64x128")
    if args.only in (None, "rnn"):
        bench_rnn_step(torch, args)


if __name__ == "__main__":
    main()
