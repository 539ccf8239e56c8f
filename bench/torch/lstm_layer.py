#!/usr/bin/python3
"""Forward+backward of one nn.LSTM layer (twin of our LSTM layer benchmark).

nn.LSTM(input 128, hidden 128), PyTorch's default init; input of shape
(time 200, batch 64, 128) (time-major, random normal, no grad); zero initial
state; loss = output.pow(2).mean() so that backward goes through every step.
Timed from the forward call to the end of backward (gradients reset to None
before each run, untimed); the median of --repeats runs after --warmup runs.
    RESULT name=lstm_layer impl=torch ms=... fwd_ms=... min_ms=...

Run: /usr/bin/python3 bench/torch/lstm_layer.py [--repeats 10] [--threads 1] [--seed 1]
"""
import argparse
import time

import twin_common as tc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", type=int, default=128)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--time", type=int, default=200)
    p.add_argument("--repeats", type=int, default=10, help="timed runs; the median is reported")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    args, torch = tc.setup(p)
    if args.repeats < 1:
        p.error("--repeats >= 1")

    lstm = torch.nn.LSTM(args.input, args.hidden)
    x = torch.randn(args.time, args.batch, args.input)

    def once():
        lstm.zero_grad(set_to_none=True)
        c0 = time.process_time()
        t0 = time.perf_counter()
        out, _ = lstm(x)
        loss = out.pow(2).mean()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t0, time.process_time() - c0, float(loss)

    for _ in range(args.warmup):
        once()
    fwd, tot, cpu = [], [], []
    for i in range(args.repeats):
        f, t, c, loss = once()
        cpu.append(c)
        fwd.append(f)
        tot.append(t)
        tc.log(f"run {i + 1}/{args.repeats}: {t * 1e3:.2f} ms (fwd {f * 1e3:.2f}), loss {loss:.6f}")
    ms = lambda s: s * 1e3
    tc.log(f"lstm_layer: T={args.time} B={args.batch} I={args.input} H={args.hidden}: median "
           f"{ms(tc.median(tot)):.2f} ms (fwd {ms(tc.median(fwd)):.2f}), min {ms(min(tot)):.2f}")
    tc.result("lstm_layer", time=args.time, batch=args.batch, input=args.input, hidden=args.hidden,
              repeats=args.repeats, ms=ms(tc.median(tot)), fwd_ms=ms(tc.median(fwd)),
              min_ms=ms(min(tot)), cpu_ms=ms(tc.median(cpu)), threads=args.threads, peak_mib=tc.peak_mib())


if __name__ == "__main__":
    main()
