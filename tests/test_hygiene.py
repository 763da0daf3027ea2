"""Architecture rules that a test must prove, not a reviewer remember."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "shopify_bridge"
SIMULATOR = CORE / "simulator"
# The demo wires the simulator and the bridge together in one process; the CLI starts either.
WIRING = {CORE / "cli" / "demo.py", CORE / "cli" / "run.py", CORE / "cli" / "app.py"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_never_imports_textual_or_the_tui_at_module_level() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: cli/run.py loads the TUI lazily inside a function
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in ("textual", "tui")]
    assert offenders == []


def test_core_and_cli_import_without_loading_textual() -> None:
    code = (
        "import sys, shopify_bridge.cli.app, shopify_bridge.service.bridge, shopify_bridge.cli.setup, "
        "shopify_bridge.cli.run, shopify_bridge.cli.inspect; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_simulator_shares_no_code_with_the_bridge() -> None:
    offenders = []
    for path in SIMULATOR.rglob("*.py"):
        for name in imports_of(path):
            if name.startswith("shopify_bridge") and not name.startswith("shopify_bridge.simulator"):
                offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert offenders == []


def test_core_does_not_import_the_simulator_except_for_wiring() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        if path.is_relative_to(SIMULATOR) or path in WIRING:
            continue
        offenders += [
            f"{path.relative_to(REPO)}: {n}" for n in imports_of(path) if n.startswith("shopify_bridge.simulator")
        ]
    assert offenders == []


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    demo_command, test_command = blocks[0].strip(), blocks[1].strip()
    assert "shopify-bridge demo" in demo_command
    assert test_command in ci.splitlines()


def test_the_tree_is_ruff_clean() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stdout[-3000:]


def test_the_core_and_the_dashboard_pass_strict_mypy(tmp_path: Path) -> None:
    # The packages and the strictness come from [tool.mypy] in pyproject.toml; a fresh cache per run, so
    # the answer never depends on an earlier run's (about 7 s on this machine).
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
        capture_output=True, text=True, cwd=REPO,
    )
    assert out.returncode == 0, out.stdout[-3000:]


def test_ci_stops_when_the_reference_data_is_missing(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    (clone / ".ci" / "run").write_text((REPO / ".ci" / "run").read_text())
    done = subprocess.run(["bash", str(clone / ".ci" / "run")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "../shared/spec/PRODUCT.md is missing" in done.stderr
    assert not (clone / ".venv").exists()  # stopped before installing anything


def test_a_required_but_missing_shared_fails_the_session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests import conftest

    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.setenv(conftest.REQUIRE_SHARED, "1")
    with pytest.raises(pytest.UsageError, match="fidelity tests would skip"):
        conftest.pytest_configure(pytest.Config.__new__(pytest.Config))
    monkeypatch.delenv(conftest.REQUIRE_SHARED)
    conftest.pytest_configure(pytest.Config.__new__(pytest.Config))  # outside CI: tests skip with a reason
