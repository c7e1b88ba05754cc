#!/usr/bin/env python3
"""Lists import circles between the modules (files) of a crate: `use crate::...`, `crate::a::b`
paths and `super::` paths in each file (test modules left out) are resolved to the module file
they name, and every cycle of that graph is printed. Exit 1 if there is one.

Usage: ci/module-cycles.py sink/src harness/src
"""
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\}", re.S)


def module_of(root: Path, file: Path) -> tuple:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def resolve(modules: dict, base: tuple, names: list) -> tuple | None:
    """The longest module path among base + names' prefixes."""
    best = None
    for i in range(len(names) + 1):
        cand = base + tuple(names[:i])
        if cand in modules:
            best = cand
    return best


def edges(root: Path) -> dict:
    files = {module_of(root, f): f for f in root.rglob("*.rs")}
    graph = {m: set() for m in files}
    for mod, file in files.items():
        text = file.read_text()
        text = text.split("#[cfg(test)]")[0]
        text = re.sub(r"//[^\n]*", "", text)
        refs = []
        for m in USE_GROUP.finditer(text):
            head, prefix, inner = m.group(1), m.group(2), m.group(3)
            for item in re.split(r"[,{}\s]+", inner):
                item = item.split(" as ")[0].strip()
                if item and item != "self":
                    refs.append((head, prefix + "::" + item))
                refs.append((head, prefix))
        for m in PATH.finditer(text):
            refs.append((m.group(1), m.group(2)))
        for head, path in refs:
            names = [n for n in path.split("::") if n]
            # `super` is the parent of the file's module (a/b.rs is a::b; a/mod.rs is a).
            base = () if head == "crate" else mod[:-1]
            target = resolve(files, base, names)
            if target is not None and target != mod:
                graph[mod].add(target)
    return graph


def cycles(graph: dict) -> list:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


def main() -> int:
    bad = 0
    for root in map(Path, sys.argv[1:]):
        graph = edges(root)
        found = cycles(graph)
        n = sum(len(v) for v in graph.values())
        if not found:
            print(f"{root}: {len(graph)} modules, {n} imports between them, no import circle")
        for comp in found:
            bad += 1
            names = sorted("::".join(m) or "(root)" for m in comp)
            print(f"{root}: import circle among {', '.join(names)}")
            for m in sorted(comp):
                inner = sorted("::".join(t) for t in graph[m] if t in comp)
                print(f"    {'::'.join(m) or '(root)'} -> {', '.join(inner)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
