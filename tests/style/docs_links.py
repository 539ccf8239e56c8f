#!/usr/bin/env python3
"""The docs hold together: every relative link in README.md and docs/*.md
names a file that exists and, with #anchor, a heading of that file (GitHub's
anchors); every page of docs/ is reachable from README.md through links.

usage: docs_links.py ROOT   -- prints each broken link or lost page, exits 1 if any."""
import pathlib
import re
import sys

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def outside_fences(text):
    """The lines outside fenced code blocks."""
    out, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            out.append(line)
    return out


def prose(text):
    """The text outside code: fenced blocks and inline spans."""
    return "\n".join(re.sub(r"`[^`]*`", "", line) for line in outside_fences(text))


def anchors(text):
    """GitHub's anchor of every heading: lower case, punctuation dropped, spaces to '-'."""
    seen, result = {}, set()
    for line in outside_fences(text):
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if not m:
            continue
        raw = re.sub(r"`", "", m.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", raw).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else f"{slug}-{n}")
    return result


def main(root):
    root = pathlib.Path(root).resolve()
    pages = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    bad, links_of = [], {}
    for page in pages:
        text = page.read_text()
        links_of[page] = set()
        for target in LINK.findall(prose(text)):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(root)}: link '{target}'"
            if not dest.exists():
                bad.append(f"{where}: no file {dest.relative_to(root) if root in dest.parents else dest}")
                continue
            links_of[page].add(dest)
            if anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text()):
                bad.append(f"{where}: no heading with anchor '#{anchor}' in {dest.relative_to(root)}")
    reached, todo = {root / "README.md"}, [root / "README.md"]
    while todo:
        for dest in links_of.get(todo.pop(), ()):
            if dest in links_of and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    for page in pages:
        if page not in reached:
            bad.append(f"{page.relative_to(root)}: no chain of links leads to it from README.md")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
