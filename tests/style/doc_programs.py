#!/usr/bin/env python3
"""The docs' whole programs, written out to be compiled.

A fenced block opened with "```cpp program" in README.md or docs/*.md is a
whole program: CMake (tests/CMakeLists.txt) compiles each one as a target of
its own, and a CTest builds it, so a program in the docs that no longer
compiles fails the suite. Other ```cpp blocks are fragments and are not
compiled.

usage: doc_programs.py ROOT OUTDIR -- writes OUTDIR/<page>_<n>.cpp for each
block (only when its text changed) and prints "<name>:<page>:<line>" lines."""
import pathlib
import sys


def programs(path):
    """(first line number, text) of each ```cpp program block of a page."""
    found, lines, start = [], None, 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if lines is None and line.strip() == "```cpp program":
            lines, start = [], number + 1
        elif lines is not None and line.strip() == "```":
            found.append((start, "\n".join(lines) + "\n"))
            lines = None
        elif lines is not None:
            lines.append(line)
    if lines is not None:
        raise SystemExit(f"{path}:{start - 1}: a ```cpp program block is not closed")
    return found


def main(root, outdir):
    root, outdir = pathlib.Path(root), pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for page in [root / "README.md"] + sorted((root / "docs").glob("*.md")):
        for n, (line, text) in enumerate(programs(page), 1):
            name = f"{page.stem.lower().replace('-', '_')}_{n}"
            out = outdir / f"{name}.cpp"
            source = f'#line {line} "{page.relative_to(root)}"\n{text}'
            if not out.exists() or out.read_text() != source:  # keep the build's timestamps
                out.write_text(source)
            print(f"{name}:{page.relative_to(root)}:{line}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
