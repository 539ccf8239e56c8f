#!/usr/bin/python3
"""Checks a run report (a notebook written with --report), for tests/apps/test_report.cpp.

  check_report.py REPORT.ipynb [--section TITLE]... [--images N]
                  [--expect 'SECTION::TEXT']... [--figure NAME]...

- validates the notebook against the nbformat schema (Debian's python3-nbformat);
- converts it to HTML with `jupyter nbconvert --to html` (python3-nbconvert);
- every --section is a markdown heading of the notebook ("## Metrics");
- at least N outputs are PNG images, each a PNG file, and each figure's file
  REPORT.<name>.png beside the notebook holds the same bytes;
- each --figure NAME is one of them;
- each --expect's TEXT is in the cells (sources and outputs) of SECTION, from
  its heading to the next heading of the same or a higher level.
Prints what is wrong and exits 1; exits 0 when all holds.
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile


def fail(message):
    print("check_report: " + message, file=sys.stderr)
    sys.exit(1)


try:
    import nbformat
except ImportError:
    fail("python3-nbformat is missing (" + sys.executable + "): install it, scripts/test.sh does")


def text_of(cell):
    parts = [cell.source]
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        for key, value in out.get("data", {}).items():
            if key.startswith("text/"):
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def sections(nb):
    """{heading: text of its cells} for every markdown heading."""
    headings = []  # (level, title, index of its cell)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^(#+)\s+(.*)$", line)
                if m:
                    headings.append((len(m.group(1)), m.group(2).strip(), i))
    found = {}
    for k, (level, title, start) in enumerate(headings):
        end = len(nb.cells)
        for later_level, _, later_start in headings[k + 1:]:
            if later_level <= level and later_start > start:
                end = later_start
                break
        found[title] = "\n".join(text_of(c) for c in nb.cells[start:end])
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--section", action="append", default=[])
    ap.add_argument("--images", type=int, default=0)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--figure", action="append", default=[])
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=nbformat.NO_CONVERT)
    if nb.nbformat != 4:
        fail(f"nbformat {nb.nbformat}, not 4")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        fail("not a valid notebook: " + str(e).splitlines()[0])

    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([jupyter if os.path.exists(jupyter) else "jupyter", "nbconvert", "--to", "html",
                            "--output-dir", out, args.notebook], capture_output=True, text=True)
        if r.returncode != 0:
            fail("jupyter nbconvert --to html failed (python3-nbconvert, jupyter-core installed?):\n" + r.stderr)
        html = os.path.join(out, os.path.splitext(os.path.basename(args.notebook))[0] + ".html")
        if not os.path.exists(html) or os.path.getsize(html) == 0:
            fail("nbconvert wrote no HTML")
        with open(html) as f:
            page = f.read()

    problems = []
    found = sections(nb)
    for title in args.section:
        if title.lstrip("#").strip() not in found:
            problems.append(f"no section '{title}' (the notebook has: {', '.join(found)})")

    stem = args.notebook[:-len(".ipynb")] if args.notebook.endswith(".ipynb") else args.notebook
    images, names = 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png is None:
                continue
            images += 1
            data = base64.b64decode(png)
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                problems.append("an image output is not a PNG")
            m = re.search(r'Image\(filename="[^"]*?\.([^".]+)\.png"\)', cell.source)
            if not m:
                problems.append("an image cell does not name its file: " + cell.source)
                continue
            names.append(m.group(1))
            path = f"{stem}.{m.group(1)}.png"
            if not os.path.exists(path):
                problems.append(f"no file {path} beside the notebook")
            elif open(path, "rb").read() != data:
                problems.append(f"{path} differs from the image in the notebook")
    if images < args.images:
        problems.append(f"{images} image outputs, expected at least {args.images}")
    if page.count("data:image/png;base64,") < images:
        problems.append("the HTML shows fewer images than the notebook holds")
    for name in args.figure:
        if name not in names:
            problems.append(f"no figure '{name}' (figures: {', '.join(names)})")

    for spec in args.expect:
        title, _, text = spec.partition("::")
        title = title.lstrip("#").strip()
        if title not in found:
            problems.append(f"no section '{title}' to look for '{text}' in")
        elif text not in found[title]:
            problems.append(f"section '{title}' does not contain '{text}'")

    if problems:
        fail(f"{args.notebook}:\n  " + "\n  ".join(problems))
    print(f"check_report: {args.notebook}: valid, converted, {len(found)} sections, {images} images")


main()
