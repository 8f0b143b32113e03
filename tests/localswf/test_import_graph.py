"""The embedded SWF's modules form a DAG: no module imports, even for types or inside a
function, one that imports it back. A cycle is how executions came to reach into ten
attributes of the backend; the backend now hands runs a narrow protocol instead."""

from __future__ import annotations

import ast
from pathlib import Path

import flotod.localswf

PACKAGE = "flotod.localswf"
ROOT = Path(flotod.localswf.__file__).parent


def imported_modules(source: str) -> set[str]:
    """Every flotod.localswf module a source imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # "from flotod.localswf import activities" imports a module, not a name
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith(PACKAGE + ".")}


def import_graph() -> dict[str, set[str]]:
    paths = [path for path in ROOT.glob("*.py") if path.stem != "__init__"]
    modules = {f"{PACKAGE}.{path.stem}": path for path in paths}
    return {
        name: imported_modules(path.read_text()) & set(modules) - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_count_wherever_they_are() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from flotod.localswf import activities\n"
        "if TYPE_CHECKING:\n    from flotod.localswf.backend import X\n"
        "def f():\n    from flotod.localswf.decisions import g\n"
    )
    assert {"flotod.localswf.activities", "flotod.localswf.backend"} <= imported_modules(source)
    assert "flotod.localswf.decisions" in imported_modules(source)


def test_no_import_cycles_inside_the_embedded_swf() -> None:
    graph = import_graph()
    assert len(graph) >= 10  # the package's modules were found
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])
