"""Print the shape of the code: the import graph between the project's packages, its cycles and
upward arrows, and the longest modules and functions.

    .venv/bin/python scripts/code_shape.py

Every import counts, a deferred one inside a function too (as import-linter counts them). The
layers are the README's folders: foundations/ at the bottom, then auditing, accounts, calendars,
archiving, timesheets; adminassistant/ (the Django project, which composes the apps) on top.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["auditing", "accounts", "calendars", "archiving", "timesheets"]
# The folders are the layers: foundations/ at the bottom, the apps, adminassistant/ (the Django
# project, which composes the apps) on top.
PACKAGES = ["foundations", *APPS, "adminassistant"]
NODES = PACKAGES


def python_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def node_of(module: str) -> str:
    """The module's node in the package graph: its top-level package."""
    return module.split(".")[0]


def layer_of(module: str) -> tuple[str, int]:
    """The layer a module sits in: 0 foundations, 1..5 the apps, 6 the project on top."""
    top = node_of(module)
    return top, PACKAGES.index(top) if top in PACKAGES else -1


def main() -> int:
    arrows: dict[tuple[str, str], set[str]] = defaultdict(set)
    module_imports: dict[str, set[str]] = {}
    sizes: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in python_files():
        module = module_name(path)
        source = path.read_text()
        sizes.append((len(source.splitlines()), str(path.relative_to(ROOT))))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
        here = node_of(module)
        module_imports[module] = imported_modules(path, module)
        for target in module_imports[module]:
            there = node_of(target)
            if there in NODES and there != here:
                arrows[(here, there)].add(module)

    print("Package imports (importer -> imported: importing modules)")
    for (here, there), modules in sorted(arrows.items()):
        print(f"  {here} -> {there}: {', '.join(sorted(modules))}")

    print("\nPackage-level cycles")
    graph = defaultdict(set)
    for here, there in arrows:
        graph[here].add(there)
    cycles = 0
    for a, b in itertools.combinations(NODES, 2):
        if b in graph[a] and a in graph[b]:
            cycles += 1
            print(f"  {a} <-> {b}")
    if not cycles:
        print("  none")

    print("\nUpward arrows (a lower app importing a higher one, or foundations importing an app)")
    upward = 0
    for (_here, there), modules in sorted(arrows.items()):
        for module in sorted(modules):
            _, importer_layer = layer_of(module)
            _, imported_layer = layer_of(there)
            if imported_layer > importer_layer:
                upward += 1
                print(f"  {module} -> {there}")
    if not upward:
        print("  none")

    print("\nModule-level cycles (imports inside functions count)")
    groups = module_cycles(module_imports)
    for group in groups:
        print(f"  {' <-> '.join(group)}")
    if not groups:
        print("  none")

    print("\nModules over 450 lines (a reason at their top, or none)")
    long_modules = [(n, name) for n, name in sorted(sizes, reverse=True) if n > 450]
    for length, name in long_modules:
        head = (
            (ROOT / name).read_text().split('"""')[1] if '"""' in (ROOT / name).read_text() else ""
        )
        reason = next((line for line in head.splitlines() if line.startswith("Over 450")), "")
        print(f"  {length:5d}  {name}  {reason or '(no reason given)'}")
    if not long_modules:
        print("  none")
    print(f"\nFunctions over 60 lines: {sum(1 for n, _ in functions if n > 60)}")

    print("\nLongest modules (lines)")
    for length, name in sorted(sizes, reverse=True)[:12]:
        print(f"  {length:5d}  {name}")
    print("\nLongest functions (lines)")
    for length, name in sorted(functions, reverse=True)[:15]:
        print(f"  {length:5d}  {name}")
    return 0


def module_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import each other, directly or round a loop."""
    edges = {m: {t for t in targets if t in imports and t != m} for m, targets in imports.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


if __name__ == "__main__":
    sys.exit(main())
