#!/usr/bin/env python3
"""Fill the docs' sample outputs from real runs of the built apps.

A sample in README.md or docs/*.md sits between two markers:

    <!-- sample: mnist_rnn --steps 1000 -->
    ...replaced by this script...
    <!-- /sample -->

The command's first word is an app (run as build/apps/APP/APP, in a fresh
temporary folder, with OPENBLAS_NUM_THREADS=1; several joined by " && " run
in the same folder, and `{atis}` is the ATIS folder: $TAPEGRAD_SHARED/data/atis, or
../shared/data/atis beside the clone);
what the last prints on stdout replaces the block, indented as code, under a line giving the command, the
date and the commit. So a sample is never pasted: it is what that command
printed when the script last ran.

usage: scripts/doc_samples.py [BUILD] [PAGE...]   (BUILD: default build/;
pages: default every page with a marker)"""
import datetime
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- sample: (.+?) -->\n)(.*?)(<!-- /sample -->)", re.S)


def run(build, command):
    """The stdout of the last of the command's `&&`-joined app runs, all in one
    fresh folder (so a sample may train, save, then --load what it saved)."""
    # {atis}: the ATIS folder, under $TAPEGRAD_SHARED or ../shared beside the clone
    atis = pathlib.Path(os.environ.get("TAPEGRAD_SHARED", ROOT.parent / "shared")) / "data" / "atis"
    if "{atis}" in command and not atis.is_dir():
        raise SystemExit(f"doc_samples: '{command}' needs the ATIS data in {atis}")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as scratch:
        for part in command.split(" && "):
            words = shlex.split(part.replace("{atis}", str(atis)))
            exe = build / "apps" / words[0] / words[0]
            done = subprocess.run([str(exe)] + words[1:], cwd=scratch, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"doc_samples: '{part}' exited {done.returncode}:\n{done.stderr}")
    return done.stdout.replace(str(pathlib.Path.home()), "~")  # the reader's home, not the runner's


def fill(page, build, stamp):
    text = page.read_text()

    def replace(m):
        print(f"doc_samples: {page.relative_to(ROOT)}: {m.group(2)}", file=sys.stderr)
        out = run(build, m.group(2))
        body = "".join(f"    {line}".rstrip() + "\n" for line in out.splitlines())
        head = f"`{m.group(2)}` (stdout; by `scripts/doc_samples.py`, {stamp}):\n\n"
        return m.group(1) + head + body + m.group(4)

    new = BLOCK.sub(replace, text)
    if new != text:
        page.write_text(new)


def main(args):
    build = pathlib.Path(args[0]).resolve() if args and not args[0].endswith(".md") else ROOT / "build"
    pages = [pathlib.Path(a).resolve() for a in args if a.endswith(".md")]
    if not pages:
        pages = [p for p in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")) if BLOCK.search(p.read_text())]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    stamp = f"{datetime.date.today().isoformat()}, commit {commit}"
    for page in pages:
        fill(page, build, stamp)


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        sys.exit(__doc__)
    main(sys.argv[1:])
