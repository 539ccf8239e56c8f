"""Shared plumbing of the PyTorch twin benchmarks in bench/torch/.

Run the twins with Debian's interpreter, /usr/bin/python3 (python3-torch 1.13);
the pyenv `python3` on PATH has no torch.

`setup(parser)` must run before anything imports torch: it parses the command
line, and with one thread (the default) it sets OPENBLAS_NUM_THREADS=1 so that
OpenBLAS never starts a pool. OPENBLAS_CORETYPE is left as the environment
has it. It then imports torch, sets the intra-op thread count and the seeds,
and returns (args, torch).

Output convention: progress for humans goes to stderr (`log`); stdout gets
exactly one line per measurement (`result`):
    RESULT name=<bench name> impl=torch key=value key=value ...
which compare.py (and the C++ side, impl=tapegrad) use.
"""
import argparse
import os
import resource
import sys


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1; with 1, OPENBLAS_NUM_THREADS=1 too)")
    parser.add_argument("--seed", type=int, default=1, help="seed of torch and numpy (default 1)")


def setup(parser: argparse.ArgumentParser, argv=None):
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.threads == 1:
        if "torch" in sys.modules:
            raise RuntimeError("twin_common.setup must run before torch is imported")
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    log(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, seed {args.seed}")
    return args, torch


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def peak_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fmt(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    if not text or any(c.isspace() or c == "=" for c in text):
        raise ValueError(f"RESULT value {text!r} must be a non-empty word without '='")
    return text


def result(name: str, **fields) -> str:
    """Print one RESULT line on stdout (and return it)."""
    parts = [f"name={fmt(name)}", "impl=torch"]
    parts += [f"{key}={fmt(value)}" for key, value in fields.items()]
    line = "RESULT " + " ".join(parts)
    print(line, flush=True)
    return line


def cache_root() -> str:
    """$TAPEGRAD_DATA, else ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad (as datasets/fetch.hpp)."""
    if os.environ.get("TAPEGRAD_DATA"):
        return os.environ["TAPEGRAD_DATA"]
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "tapegrad")
    return os.path.join(os.path.expanduser("~"), ".cache", "tapegrad")


def package_dir(data_flag, folder: str) -> str:
    """The --data flag names a package folder directly; else <cache>/<folder>."""
    return data_flag if data_flag else os.path.join(cache_root(), folder)


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("median of nothing")
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
