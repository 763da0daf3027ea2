"""The simulator shares no code with the bridge: it must behave like Shopify, not like the bridge thinks."""

from __future__ import annotations

import ast
from pathlib import Path

import shopify_bridge.simulator as simulator_package

PACKAGE_DIR = Path(simulator_package.__file__).parent


def foreign_imports(source: str) -> list[str]:
    """Imports of `shopify_bridge.*` outside `shopify_bridge.simulator` (and relative escapes)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                found.append("." * node.level + (node.module or ""))
                continue
            if node.level == 0 and node.module:
                names = (
                    [node.module]
                    if node.module != "shopify_bridge"
                    else [f"shopify_bridge.{alias.name}" for alias in node.names]
                )
        for name in names:
            if name.split(".")[0] == "shopify_bridge" and not (
                name == "shopify_bridge.simulator" or name.startswith("shopify_bridge.simulator.")
            ):
                found.append(name)
    return found


def test_no_simulator_module_imports_the_rest_of_the_bridge() -> None:
    modules = sorted(PACKAGE_DIR.glob("*.py"))
    assert len(modules) > 10
    offenders = {path.name: foreign_imports(path.read_text()) for path in modules}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_scan_notices_each_way_of_reaching_into_the_bridge() -> None:
    assert foreign_imports("from shopify_bridge.shopify import queries") == ["shopify_bridge.shopify"]
    assert foreign_imports("import shopify_bridge.money") == ["shopify_bridge.money"]
    assert foreign_imports("from shopify_bridge import orderdoc") == ["shopify_bridge.orderdoc"]
    assert foreign_imports("from .. import money") == [".."]
    assert foreign_imports("from shopify_bridge.simulator.money import cents\nfrom . import state") == []


def test_the_subset_schema_ships_as_package_data() -> None:
    assert (PACKAGE_DIR / "schema.graphql").is_file()
