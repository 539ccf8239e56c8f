#!/usr/bin/env python3
"""Counts the lines of model, training and decoding code of main.cpp and
seq2seq.py alike: the non-blank lines of their sections "the model" and
"training and evaluation", without comment lines (// or #) and docstrings.
Left out of both: the data, the scoring of strings, the command line, the
gradient check (main.cpp only) and main()."""
import pathlib
import re

here = pathlib.Path(__file__).parent


def count(path, comment):
    sections = re.split(r"^(?://|#) ---- ", (here / path).read_text(), flags=re.M)
    n, in_docstring = 0, False
    for section in sections:
        if not section.startswith(("the model", "training and evaluation")):
            continue
        for line in section.splitlines()[1:]:
            line = line.strip()
            quotes = line.count('"""')
            if in_docstring or quotes:
                in_docstring = in_docstring != (quotes % 2 == 1)
                continue
            n += bool(line) and not line.startswith(comment)
    return n


cpp, py = count("main.cpp", "//"), count("seq2seq.py", "#")
print(f"main.cpp {cpp} lines, seq2seq.py {py} lines: {cpp / py:.2f}x")
