"""The payload package is pure: importing it loads no HTTP client, database, GraphQL or terminal code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "shopify_bridge" / "deliver" / "payloads"
FORBIDDEN = ("aiohttp", "sqlite3", "sqlite_utils", "gql", "textual", "rich", "tui", "yarl", "psycopg", "typer")
# The bridge modules it may build on: money and time helpers, and the event names.
PURE_BRIDGE_MODULES = {"shopify_bridge.decide.money", "shopify_bridge.timeutil", "shopify_bridge.decide.mapping_common"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_package_imports_nothing_that_does_io() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 8
    offenders = []
    for path in files:
        for module in imported_modules(path):
            root = module.split(".")[0]
            bridge_but_not_pure = (
                root == "shopify_bridge"
                and module not in PURE_BRIDGE_MODULES
                and not module.startswith("shopify_bridge.deliver.payloads")
            )
            if root in FORBIDDEN or bridge_but_not_pure:
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_importing_it_loads_none_of_them_even_indirectly() -> None:
    code = (
        "import sys, shopify_bridge.deliver.payloads; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The AST walk must notice both import forms, or the first test could never fail.
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlite3\nfrom aiohttp import ClientSession\n")
    assert {"sqlite3", "aiohttp"} <= imported_modules(sample)
