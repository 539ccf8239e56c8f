#!/usr/bin/env python3
"""Side-by-side table of tapegrad vs PyTorch from RESULT lines.

Reads lines of the form
    RESULT name=<bench> impl=<tapegrad|torch> key=value key=value ...
from the files given (or stdin when none, or for "-"); other lines are
ignored, and a line may carry a prefix before "RESULT name=" (ctest, a log).
For every name reported by both impls, and every time metric both report
(keys ms, us, ns, s, seconds, or ending in _ms/_us/_ns/_s/_seconds, or
containing ms_per_/us_per_/ns_per_/s_per_/seconds_per_ at the start or
after a "_"), it prints the two values and the ratio tapegrad/torch: below 1
means tapegrad is faster.
Accuracy, loss and memory keys (*acc*, *loss*, *f1*, *mib*) are shown beside
them for reference, without a verdict. When a name/impl appears on several
lines (repeated runs), each metric is the median over them.

The summary gives, per name, the primary ratio (the first time metric on the
tapegrad line that torch also reports) and their geometric mean.

Options:
  --metric KEY      compare only these time metrics (repeatable)
  --tsv             tab-separated output (name, metric, tapegrad, torch, ratio)
  --fail-above R    exit status 1 when a primary ratio exceeds R (e.g. 1.0:
                    tapegrad must be faster on every benchmark)
Exit status 3 when no name was reported by both impls.

Run: python3 bench/torch/compare.py tapegrad.txt torch.txt
     (cat a.txt b.txt | python3 bench/torch/compare.py)
"""
import argparse
import math
import re
import sys

TIME_KEY = re.compile(r"^(ms|us|ns|s|seconds)$|_(ms|us|ns|s|seconds)$|(^|_)(ms|us|ns|s|seconds)_per_")
INFO_KEY = re.compile(r"acc|loss|f1|mib")
IMPLS = ("tapegrad", "torch")


def parse_value(text):
    try:
        return float(text)
    except ValueError:
        return text


def parse_line(line):
    at = line.find("RESULT name=")
    if at < 0:
        return None
    fields = {}
    for word in line[at + len("RESULT "):].split():
        key, eq, value = word.partition("=")
        if not eq or not key:
            continue
        fields.setdefault(key, parse_value(value))
    if "name" not in fields or "impl" not in fields:
        return None
    fields["name"], fields["impl"] = str(fields["name"]), str(fields["impl"])
    return fields


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def collect(streams):
    """{name: {impl: {"n": runs, "keys": [ordered keys], "values": {key: median}}}}"""
    raw = {}
    for stream in streams:
        for line in stream:
            fields = parse_line(line.rstrip("\n"))
            if fields is None:
                continue
            entry = raw.setdefault(fields["name"], {}).setdefault(fields["impl"], {"n": 0, "keys": [], "lists": {}})
            entry["n"] += 1
            for key, value in fields.items():
                if key in ("name", "impl") or not isinstance(value, float):
                    continue
                if key not in entry["lists"]:
                    entry["keys"].append(key)
                    entry["lists"][key] = []
                entry["lists"][key].append(value)
    out = {}
    for name, impls in raw.items():
        for impl, e in impls.items():
            out.setdefault(name, {})[impl] = {
                "n": e["n"], "keys": e["keys"],
                "values": {k: median(v) for k, v in e["lists"].items()}}
    return out


def num(v):
    if v is None:
        return "-"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3e}"
    return f"{v:.4g}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="files with RESULT lines (default: stdin; '-' is stdin)")
    p.add_argument("--metric", action="append", help="time metric(s) to compare (default: all)")
    p.add_argument("--tsv", action="store_true", help="tab-separated output")
    p.add_argument("--fail-above", type=float, help="exit 1 if a primary ratio tapegrad/torch exceeds this")
    args = p.parse_args()

    streams = []
    for f in args.files or ["-"]:
        streams.append(sys.stdin if f == "-" else open(f, encoding="utf-8", errors="replace"))
    data = collect(streams)

    rows, info, primaries, unmatched = [], [], [], []
    for name in sorted(data):
        impls = data[name]
        if not all(i in impls for i in IMPLS):
            unmatched.append(f"{name} (only {', '.join(sorted(impls))})")
            continue
        tg, pt = impls["tapegrad"], impls["torch"]
        common = [k for k in tg["keys"] if k in pt["values"]]
        times = [k for k in common if TIME_KEY.search(k) and (not args.metric or k in args.metric)]
        first = True
        for key in times:
            a, b = tg["values"][key], pt["values"][key]
            ratio = a / b if b > 0 else math.inf
            rows.append((name, key, a, b, ratio))
            if first:
                primaries.append((name, key, ratio))
                first = False
        for key in common:
            if INFO_KEY.search(key) and not TIME_KEY.search(key):
                info.append((name, key, tg["values"][key], pt["values"][key]))

    if args.tsv:
        print("name\tmetric\ttapegrad\ttorch\tratio")
        for name, key, a, b, r in rows:
            print(f"{name}\t{key}\t{a:.6g}\t{b:.6g}\t{r:.6g}")
        for name, key, a, b in info:
            print(f"{name}\t{key}\t{a:.6g}\t{b:.6g}\t")
    elif rows or info:
        w = max([len(r[0]) for r in rows + info] + [4])
        k = max([len(r[1]) for r in rows + info] + [6])
        print(f"{'name':<{w}}  {'metric':<{k}}  {'tapegrad':>10}  {'torch':>10}  {'tg/torch':>8}")
        print("-" * (w + k + 38))
        for name, key, a, b, r in rows:
            verdict = "faster" if r < 1 else ("slower" if r > 1 else "equal")
            print(f"{name:<{w}}  {key:<{k}}  {num(a):>10}  {num(b):>10}  {r:>8.3f}  {verdict}")
        if info:
            print()
            print(f"{'name':<{w}}  {'metric':<{k}}  {'tapegrad':>10}  {'torch':>10}   (reference, no verdict)")
            print("-" * (w + k + 38))
            for name, key, a, b in info:
                print(f"{name:<{w}}  {key:<{k}}  {num(a):>10}  {num(b):>10}")
        if primaries:
            gm = math.exp(sum(math.log(r) for _, _, r in primaries if 0 < r < math.inf) /
                          max(1, sum(1 for _, _, r in primaries if 0 < r < math.inf)))
            print()
            print("primary ratios (tapegrad/torch, lower is better): " +
                  ", ".join(f"{n} {key} {r:.3f}" for n, key, r in primaries))
            print(f"geometric mean over {len(primaries)} benchmark(s): {gm:.3f}")
    for u in unmatched:
        print(f"note: {u}: no ratio", file=sys.stderr)

    if not primaries:
        print("compare.py: no benchmark reported by both impl=tapegrad and impl=torch", file=sys.stderr)
        return 3
    if args.fail_above is not None:
        bad = [(n, k, r) for n, k, r in primaries if r > args.fail_above]
        for n, k, r in bad:
            print(f"FAIL: {n} {k}: tapegrad/torch = {r:.3f} > {args.fail_above}", file=sys.stderr)
        if bad:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
