"""No import circle inside the simulator: the shop's data sits at the bottom and nothing imports back into it."""

from __future__ import annotations

import ast
from pathlib import Path

import shopify_bridge.simulator as simulator_package

PACKAGE = "shopify_bridge.simulator"
PACKAGE_DIR = Path(simulator_package.__file__).parent


def simulator_imports(source: str, own_name: str = "") -> set[str]:
    """Simulator modules a module imports, including imports under `if TYPE_CHECKING:` and inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:  # `from . import x` / `from .x import y`
                base = f"{PACKAGE}.{node.module}" if node.module else PACKAGE
            elif node.level == 0 and node.module:
                base = node.module
            else:
                continue
            names = [base] if base != PACKAGE else [f"{PACKAGE}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE + "."):
                found.add(name[len(PACKAGE) + 1 :].split(".")[0])
            elif name == PACKAGE:
                found.add("__init__")
    found.discard(own_name)
    return found


def import_graph() -> dict[str, set[str]]:
    return {path.stem: simulator_imports(path.read_text(), path.stem) for path in PACKAGE_DIR.glob("*.py")}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary circle found by a depth-first walk (each reported once, from its smallest module)."""
    found: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                found.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_no_simulator_module_imports_itself_back_round_a_circle() -> None:
    graph = import_graph()
    assert len(graph) > 20
    assert cycles(graph) == []


def test_the_shop_data_depends_on_no_module_that_acts_on_it() -> None:
    graph = import_graph()
    acting = {"changes", "refunds", "records", "bulk", "bulk_run", "resolvers", "schema", "shop", "app", "control"}
    assert graph["state"] & acting == set()
    for module in ("changes", "refunds", "bulk", "resolvers"):
        assert "state" in graph[module] and "shop" not in graph[module]


def test_the_cycle_finder_notices_a_circle_including_type_checking_imports() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shopify_bridge.simulator.state import X\n"
    assert simulator_imports(source) == {"state"}
    assert simulator_imports("from . import changes\nfrom .bulk import BulkEngine") == {"changes", "bulk"}
    assert simulator_imports("from shopify_bridge.simulator import clock, money") == {"clock", "money"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
