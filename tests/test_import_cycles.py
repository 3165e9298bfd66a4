"""No import cycle between the project's modules, counting imports inside functions: a deferred
import that closes a cycle hides it from the reader, not from the code."""

from __future__ import annotations

import grimp

PACKAGES = (
    "adminassistant",
    "foundations",
    "auditing",
    "accounts",
    "calendars",
    "archiving",
    "timesheets",
)
ALLOWED: set[frozenset[str]] = set()


def import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    return {
        module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_a_cycle_closed_by_any_import() -> None:
    edges = {"a.models": {"a.services"}, "a.services": {"a.models"}, "a.admin": {"a.models"}}

    assert cycles(edges) == [["a.models", "a.services"]]


def test_the_cycle_finder_finds_a_longer_cycle_and_nothing_in_a_tree() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    found = [group for group in cycles(import_graph()) if frozenset(group) not in ALLOWED]

    assert found == [], "import cycles (imports inside functions count): " + "; ".join(
        " <-> ".join(group) for group in found
    )
