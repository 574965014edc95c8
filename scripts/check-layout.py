#!/usr/bin/env python3
"""Checks the crate layout the README promises: no import circle between the files of `src/`
(a file depends on another when it names a path into it: `crate::a::b::…`, `super::…`), and no
source file in src/, node/src/, protocol/src/ or swarm/src/ over 400 lines before its inline tests."""
import re
import sys
from pathlib import Path

MAX_LINES = 400


def without_tests(text: str) -> str:
    """The file up to its inline test module (`#[cfg(test)]` or `#[cfg(all(test, …))]`)."""
    return re.split(r"#\[cfg\((?:all\()?test\b[^\n]*\n\s*mod tests", text)[0]


def module_of(path: Path, root: Path) -> tuple:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def check_cycles(root: Path) -> list:
    files = {module_of(p, root): p for p in root.rglob("*.rs")}
    deps = {}
    for module, path in files.items():
        text = path.read_text()
        text = without_tests(text)
        text = re.sub(r"//.*", "", text)
        found = set()
        for m in re.finditer(r"\bcrate((?:::[a-z_][a-z0-9_]*)+)", text):
            found.add(tuple(m.group(1).strip(":").split("::")))
        for m in re.finditer(r"\bsuper((?:::[a-z_][a-z0-9_]*)*)", text):
            base = module[:-1] if path.name != "mod.rs" else module[:-1]
            found.add(base + tuple(p for p in m.group(1).strip(":").split("::") if p))
        targets = set()
        for ref in found:
            # The longest prefix of the path that is a file of the crate.
            for n in range(len(ref), -1, -1):
                if ref[:n] in files:
                    if ref[:n] != module and ref[:n] != ():
                        targets.add(ref[:n])
                    break
        deps[module] = targets
    # Tarjan's strongly connected components.
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted("/".join(s) or "lib" for s in scc))

    sys.setrecursionlimit(10000)
    for v in deps:
        if v not in index:
            visit(v)
    return out


def long_files(roots) -> list:
    out = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.rs")):
            code = without_tests(path.read_text())
            n = code.count("\n")
            if n > MAX_LINES:
                out.append(f"{path}: {n} lines before its tests (at most {MAX_LINES})")
    return out


def main() -> int:
    problems = [f"import circle in src/: {' <-> '.join(c)}" for c in check_cycles(Path("src"))]
    problems += long_files(["src", "node/src", "protocol/src", "swarm/src"])
    for p in problems:
        print(p)
    if problems:
        return 1
    print("layout: no import circle between the files of src/, no source file over 400 lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
