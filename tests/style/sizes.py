#!/usr/bin/env python3
"""Sizes a reader can hold in the head (issue 23): no file in apps/ over 300
lines, no function in apps/ or train/ over 60 lines (from the first line of
its head to its closing brace, comments and lambdas inside included).

usage: sizes.py ROOT   -- prints each offender, exits 1 if there is one."""
import pathlib
import re
import sys

FILE_LIMIT = {"apps": 300}
FUNCTION_LIMIT = {"apps": 60, "train": 60}
SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$|^\s*extern\s+\"C\"\s*$")


def code_only(text):
    """The text with comments and string/char literals blanked, newlines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(first line, last line, head) of every function body at namespace or class scope."""
    code = code_only(text)
    stack, head_start, line = [], 0, 1
    for pos, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";{}" and c != "{":
            if c == "}" and stack:
                kind, first, head = stack.pop()
                if kind == "function":
                    yield first, line, head
            head_start = pos + 1
        elif c == "{":
            head = code[head_start:pos]
            at_scope = all(k == "scope" for k, _, _ in stack)
            if SCOPE.search(head.strip()) and "(" not in head:
                kind = "scope"
            elif at_scope and ")" in head and "=" not in head.split("(")[0]:
                kind = "function"
            else:
                kind = "block"
            lead = len(head) - len(head.lstrip())
            first = code.count("\n", 0, head_start + lead) + 1
            stack.append((kind, first, " ".join(head.split())[:70]))
            head_start = pos + 1


def main(root):
    root = pathlib.Path(root)
    bad = []
    for top in sorted(set(FILE_LIMIT) | set(FUNCTION_LIMIT)):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in (".cpp", ".hpp"):
                continue
            text = f.read_text()
            rel = f.relative_to(root)
            lines = text.count("\n")
            if top in FILE_LIMIT and lines > FILE_LIMIT[top]:
                bad.append(f"{rel}: {lines} lines (at most {FILE_LIMIT[top]} in {top}/)")
            if top in FUNCTION_LIMIT:
                for first, last, head in functions(text):
                    if last - first + 1 > FUNCTION_LIMIT[top]:
                        bad.append(f"{rel}:{first}: a function of {last - first + 1} lines "
                                   f"(at most {FUNCTION_LIMIT[top]} in {top}/): {head}")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
