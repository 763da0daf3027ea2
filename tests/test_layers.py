"""The layers of issue #12 hold: contracts checked by import-linter, and SQL only inside the store."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "shopify_bridge"
SQL = re.compile(r"\b(SELECT\s.*\bFROM\b|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b",
                 re.S)
# Everything but the store reaches the bridge's database only through `Store`. (The bulk reader's staging file
# is its own scratch database, never the store: `shopify/bulk/staging.py`, `assemble.py`, `documents.py`; the
# simulator is Shopify's stand-in and has no database.)
STAGING = {CORE / "shopify" / "bulk" / name for name in ("staging.py", "assemble.py", "documents.py")}
OUTSIDE_THE_STORE = [
    path
    for path in [*CORE.rglob("*.py"), *(REPO / "tui").rglob("*.py")]
    if not path.is_relative_to(CORE / "store") and not path.is_relative_to(CORE / "simulator") and path not in STAGING
]


def sql_strings(path: Path) -> list[str]:
    """String constants of `path` that are SQL statements (f-string parts included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)]


def test_the_import_contracts_in_pyproject_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint_imports), "--no-cache"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout


def test_only_the_store_runs_sql() -> None:
    offenders = {str(path.relative_to(REPO)): found for path in OUTSIDE_THE_STORE if (found := sql_strings(path))}
    assert offenders == {}


def test_the_sql_check_recognises_statements(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = "SELECT status FROM orders WHERE shop = ?"\n'
        'b = f"UPDATE deliveries SET state = {x}"\n'
        'c = "INSERT INTO events (seq) VALUES (?)"\n'
        'd = "select the orders from the list"  # prose, lower case\n'
    )
    assert len(sql_strings(sample)) == 3


def import_cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted; a self-import counts."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        # Iterative DFS: the package tree is deep enough to make recursion fragile.
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.find_modules_directly_imported_by(node):
                        cycles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_anywhere() -> None:
    graph = grimp.build_graph("shopify_bridge", "tui")
    modules = set(graph.modules)
    assert import_cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    assert import_cycles(graph, set(graph.modules)) == [["pkg.a", "pkg.b"]]


def test_the_architecture_doc_names_every_package() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    packages = [path.name for path in CORE.iterdir() if (path / "__init__.py").exists()]
    assert [name for name in packages if f"`{name}/`" not in doc] == []
    kernel = [path.name for path in CORE.glob("*.py") if not path.name.startswith("__")]
    assert [name for name in kernel if f"`{name}`" not in doc] == []
