#!/usr/bin/env python3
"""Print the import cycles between the project's modules (read with ``ast``, nothing imported).

Two graphs over ``src/``: imports run when a module loads (module level, ``TYPE_CHECKING``
blocks left out), and those plus the imports deferred into functions. A cycle is a strongly
connected group of two or more modules. ``from package import name`` counts as an import of the
submodule ``package.name`` when there is one, else of ``package``. Exit status 1 when either
graph has a cycle.

    python scripts/import_cycles.py [SRC] [--edges]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_names(src: Path) -> dict[str, Path]:
    names = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """(module-level, deferred) project modules that ``name`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    eager: set[str] = set()
    deferred: set[str] = set()

    def targets(node: ast.Import | ast.ImportFrom) -> set[str]:
        found: set[str] = set()
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    found.add(alias.name)
            return found
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[:len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            if f"{base}.{alias.name}" in known:
                found.add(f"{base}.{alias.name}")
            elif base in known:
                found.add(base)
        return found

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                (deferred if in_function else eager).update(targets(child))
            visit(child, in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    eager.discard(name)
    deferred.discard(name)
    return eager, deferred - eager


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(groups)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    src = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "src"
    names = module_names(src)
    eager: dict[str, set[str]] = {}
    both: dict[str, set[str]] = {}
    for name, path in names.items():
        now, later = imports_of(name, path, set(names))
        eager[name], both[name] = now, now | later
    edges = sum(len(v) for v in eager.values())
    deferred_edges = sum(len(v) for v in both.values()) - edges
    print(f"{len(names)} modules, {edges} module-level imports, {deferred_edges} deferred")
    if "--edges" in argv:
        for name in sorted(eager):
            for target in sorted(both[name]):
                print(f"  {name} -> {target}{'' if target in eager[name] else ' (deferred)'}")
    found = cycles(eager)
    print(f"module-level cycles: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
    later = [g for g in cycles(both) if g not in found]
    print(f"cycles through deferred imports: {len(later)}")
    for group in later:
        print("  " + " <-> ".join(group))
    return 1 if found or later else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
