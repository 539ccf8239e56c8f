#!/usr/bin/env python3
"""Every app's flags are documented, and the docs document no flag an app lacks.

An app's page holds a table with a row per flag (a line starting "| `--flag");
apps without a page of their own have a section of docs/apps.md ("### app").
The shared table of docs/apps.md ("## Shared flags") lists what every training
app has. So, for each app:
  - every flag of its --help is in its page's rows or in the shared table;
  - every flag in its page's rows is in its --help;
  - a training app (one with --steps) has every flag of the shared table;
  - no flag takes a separate true/false word (a boolean is a bare flag).

usage: docs_flags.py ROOT APP=EXE...   -- prints each mismatch, exits 1 if any."""
import pathlib
import re
import subprocess
import sys

HELP_FLAG = re.compile(r"^\s+(?:-\w,)?(--[a-z0-9][a-z0-9-]*)")
ROW_FLAG = re.compile(r"^\|\s*`(--[a-z0-9][a-z0-9-]*)")
PAGE = {"mnist_rnn": "mnist_rnn.md", "imdb_lstm": "imdb_lstm.md", "slot_filling": "slot_filling.md"}


def help_text(exe):
    return subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout


def help_flags(text):
    return {m.group(1) for line in text.splitlines() if (m := HELP_FLAG.match(line))}


def word_booleans(text):
    """Flags that take a separate true/false word: a boolean is a bare flag."""
    return sorted(m.group(1) for line in text.splitlines()
                  if (m := HELP_FLAG.match(line)) and re.search(r"(?i)true\|false|\{true,false\}|BOOLEAN", line))


def section(text, heading):
    """The lines under `heading` up to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines, inside = [], False
    for line in text.splitlines():
        m = re.match(r"^(#+)\s", line)
        if inside and m and len(m.group(1)) <= level:
            break
        if line.strip() == heading:
            inside = True
        elif inside:
            lines.append(line)
    if not inside:
        raise SystemExit(f"docs_flags: no heading '{heading}'")
    return lines


def row_flags(lines):
    return {m.group(1) for line in lines if (m := ROW_FLAG.match(line))}


def check(root, app, exe, shared):
    docs = root / "docs"
    if app in PAGE:
        page, rows = PAGE[app], row_flags((docs / PAGE[app]).read_text().splitlines())
    else:
        page, rows = f"apps.md#{app}", row_flags(section((docs / "apps.md").read_text(), f"### {app}"))
    text = help_text(exe)
    have = help_flags(text)
    bad = [f"{app}: {f} is in --help but neither in docs/{page} nor in the shared table"
           for f in sorted(have - rows - shared)]
    bad += [f"{app}: docs/{page} documents {f}, which --help lacks" for f in sorted(rows - have)]
    bad += [f"{app}: {f} takes a true/false word; a boolean is a bare flag (--flag, --flag=false)"
            for f in word_booleans(text)]
    if "--steps" in have:
        bad += [f"{app}: the shared table of docs/apps.md lists {f}, which --help lacks"
                for f in sorted(shared - have)]
    return bad


def main(root, apps):
    root = pathlib.Path(root).resolve()
    shared = row_flags(section((root / "docs" / "apps.md").read_text(), "## Shared flags"))
    bad = []
    for arg in apps:
        app, exe = arg.split("=", 1)
        bad += check(root, app, exe, shared)
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
