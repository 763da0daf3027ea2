"""A database path the bridge cannot use is a configuration error: `check` and `run` exit 78 with one line
naming it, and leave whatever is there untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from shopify_bridge.store import SCHEMA_VERSION, Store

TOKEN = "shpat_dbpath_canary_8e2a"


def write_config(tmp_path: Path, database: str) -> str:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        f'database = "{database}"\n\n[[sources]]\nname = "Path Store"\nstore = "path-store"\n'
        'access_token = "${SHOPIFY_ACCESS_TOKEN}"\napi_url = "http://127.0.0.1:9"\n'
    )
    return str(path)


def a_directory(path: Path) -> None:
    path.mkdir()


def not_sqlite(path: Path) -> None:
    path.write_text("name,total\n#1001,10.00\n")


def someone_elses_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")
    conn.commit()
    conn.close()


def a_newer_bridge_database(path: Path) -> None:
    Store.open_writer(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@pytest.mark.parametrize(("make", "says"), [
    (a_directory, "is a directory"),
    (not_sqlite, "not a shopify-bridge database"),
    (someone_elses_sqlite, "not a shopify-bridge database"),
    (a_newer_bridge_database, "newer than this shopify-bridge"),
])
@pytest.mark.parametrize("command", [["check"], ["run", "--once"]])
def test_an_unusable_database_is_exit_78_in_one_line_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any,
    make: Callable[[Path], None], says: str, command: list[str],
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    database = tmp_path / "bridge.db"
    make(database)
    before = digest(database)
    assert main(["--config", write_config(tmp_path, "bridge.db"), *command]) == exit_codes.CONFIG
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and str(database) in lines[0], lines
    assert digest(database) == before                  # not migrated, not even switched to WAL (header bytes)


@pytest.mark.parametrize("command", [["check"], ["run", "--once"]])
def test_a_database_in_a_missing_directory_is_exit_78(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, command: list[str]
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    assert main(["--config", write_config(tmp_path, "state/bridge.db"), *command]) == exit_codes.CONFIG
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"{tmp_path / 'state'} does not exist" in lines[0], lines
