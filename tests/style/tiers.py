#!/usr/bin/env python3
"""One tier per folder, and no include runs back up a tier (issue 24).

Each library folder sits in one tier; its code includes <tapegrad/...>
headers of its own folder and of lower tiers only, never of its own tier's
other folders (layers and optim know nothing of each other) nor of a higher
one. The programs (apps, examples, bench, fuzz, tests) stand above them all.
Also checked: every library folder of CMakeLists.txt has a tier, and every
<tapegrad/...> include in the tree and in the docs names a header that exists.

usage: tiers.py ROOT   -- prints each offending include, exits 1 if there is one."""
import pathlib
import re
import sys

# Lowest first. A folder may include only its own folder and lower tiers.
TIERS = [
    ["backend"],               # tensors, memory, gemm dispatch, kernels
    ["io"],                    # the atomic writer, safetensors
    ["autograd", "datasets"],  # the tape and its ops; data readers and the loader
    ["layers", "optim"],       # modules over the tape; optimizers
    ["checkpoint"],            # a run's state keyed by parameter name
    ["train"],                 # the Trainer
    ["parallel"],              # data parallelism plugged into the Trainer
]
PROGRAMS = ["apps", "examples", "bench", "fuzz", "tests"]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE = {".hpp", ".cpp", ".h", ".cc"}


def tier_of():
    return {folder: rank for rank, folders in enumerate(TIERS) for folder in folders}


def includes(path):
    """(line number, '<' or '"', header) of every #include in the file."""
    text = path.read_text(errors="replace")
    for m in INCLUDE.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)


def check(root):
    rank = tier_of()
    problems = []
    cmake = (root / "CMakeLists.txt").read_text()
    m = re.search(r"set\(TAPEGRAD_LIBRARY_FOLDERS ([^)]*)\)", cmake)
    folders = m.group(1).split() if m else []
    for folder in folders:
        if folder not in rank:
            problems.append(f"CMakeLists.txt: library folder {folder}/ has no tier in tests/style/tiers.py")
    for folder in rank:
        if folder not in folders:
            problems.append(f"tests/style/tiers.py: {folder}/ is not a library folder of CMakeLists.txt")

    for top in list(rank) + PROGRAMS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in SOURCE or not path.is_file():
                continue
            where = path.relative_to(root)
            for line, kind, header in includes(path):
                if kind == '"' and top in rank and not header.startswith(top + "/"):
                    # Library code names other folders only as <tapegrad/...>.
                    if "/" in header or ".." in header:
                        problems.append(f"{where}:{line}: \"{header}\": a library includes <tapegrad/...>")
                    continue
                if kind != "<" or not header.startswith("tapegrad/"):
                    continue
                target = header.split("/")[1]
                if target not in rank:
                    problems.append(f"{where}:{line}: <{header}>: {target}/ is no library folder")
                    continue
                if not (root / header[len("tapegrad/"):]).is_file():
                    problems.append(f"{where}:{line}: <{header}> does not exist")
                if top in rank and target != top and rank[target] >= rank[top]:
                    way = "sideways" if rank[target] == rank[top] else "up"
                    problems.append(f"{where}:{line}: <{header}> runs {way}: {top}/ is tier "
                                    f"{rank[top]}, {target}/ tier {rank[target]}")

    docs = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    for path in docs:
        for line, kind, header in includes(path):
            if kind == "<" and header.startswith("tapegrad/") and \
                    not (root / header[len("tapegrad/"):]).is_file():
                problems.append(f"{path.relative_to(root)}:{line}: <{header}> does not exist")
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = check(root)
    for p in problems:
        print(p)
    order = " < ".join(", ".join(f) for f in TIERS)
    print(f"tiers: {order}: " + (f"{len(problems)} problem(s)" if problems else "every include runs down"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
