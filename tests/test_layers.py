"""The layers of issue #12 hold: contracts checked by import-linter, and SQL only inside the store."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "shopify_bridge"
SQL = re.compile(r"\b(SELECT\s.*\bFROM\b|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b",
                 re.S)
# The write path: these modules reach the bridge's database only through `Store`. (The bulk reader's staging
# file is its own scratch database, never the store: `shopify/bulk/staging.py`, `assemble.py`, `documents.py`.)
WRITE_PATH = [
    *[CORE / "service" / f"{name}.py" for name in ("ingest", "poller", "bridge", "backfill", "backfill_result")],
    *(CORE / "deliver").rglob("*.py"),
    CORE / "observe" / "backfill_progress.py",
    *(path for path in (CORE / "shopify").rglob("*.py")
      if path.name not in ("staging.py", "assemble.py", "documents.py")),
    *(CORE / "decide").rglob("*.py"),
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
    assert "4 kept, 0 broken" in out.stdout


def test_the_write_path_runs_no_sql_of_its_own() -> None:
    offenders = {str(path.relative_to(REPO)): found for path in WRITE_PATH if (found := sql_strings(path))}
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
