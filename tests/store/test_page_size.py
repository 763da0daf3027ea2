"""A new SQLite store is created with 16 KiB pages (`db.STORE_PAGE_SIZE`); a store created before keeps its own.

Order documents are ~3.5 KiB: at SQLite's default 4 KiB pages a backfill writes each into the WAL and the
database with four times the system calls of 16 KiB pages, and leaves more of each page empty. An existing
file cannot change its page size in WAL mode, and must not be touched: it opens, is migrated and written as
before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shopify_bridge.store import Store, db
from shopify_bridge.store.db import STORE_PAGE_SIZE


def page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_store_has_sixteen_kib_pages(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    store = Store.open_writer(database)
    store.close()
    assert STORE_PAGE_SIZE == 16384
    assert page_size(database) == STORE_PAGE_SIZE


def test_a_store_with_four_kib_pages_keeps_them_and_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "bridge.db"
    monkeypatch.setattr(db, "STORE_PAGE_SIZE", 4096)  # a store made before: SQLite's default page size
    Store.open_writer(database).close()
    monkeypatch.undo()
    assert page_size(database) == 4096
    store = Store.open_writer(database)
    try:
        store.sources.ensure("old-pages.myshopify.com", "Old Pages")
    finally:
        store.close()
    assert page_size(database) == 4096
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT name FROM sources WHERE shop = 'old-pages.myshopify.com'").fetchall()
    assert rows == [("Old Pages",)]
