"""Database identity: nothing is committed into a database file that was removed or replaced, and a new
database where a previous one had connected sources is refused (its orders would silently become history)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.store import StorageFailure, Store
from shopify_bridge.store.identity import witness_path

SHOP = "lost-shop.myshopify.com"
CONNECTED = "2026-11-20T15:00:00+00:00"


def connected_store(database: Path) -> None:
    """A bridge database whose source has connected (the witness beside it learns so on the next check)."""
    store = Store.open_writer(database, exclusive=True)
    store.sources.ensure(SHOP, "Lost Shop")
    store.sources.set_first_connected(SHOP, CONNECTED)
    store.check_identity()
    store.close()


def remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def test_a_commit_into_a_removed_database_file_is_refused_with_74(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    store = Store.open_writer(database, exclusive=True)
    try:
        store.sources.ensure(SHOP, "Before")
        database.unlink()
        with pytest.raises(StorageFailure) as failed:
            store.sources.ensure("after.myshopify.com", "After")
        assert failed.value.exit_code == exit_codes.IOERR
        assert f"the database file {database} was removed while running" in str(failed.value)
        assert not store.conn.in_transaction                 # rolled back: nothing went into the removed file
        assert store.sql.all("SELECT shop FROM sources") == [(SHOP,)]
        with pytest.raises(StorageFailure, match="removed while running"):
            store.check_identity()
    finally:
        store.close()


def test_a_database_replaced_by_another_file_is_noticed(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    other = tmp_path / "other" / "bridge.db"
    other.parent.mkdir()
    Store.open_writer(other).close()
    store = Store.open_writer(database, exclusive=True)
    try:
        store.check_identity()
        shutil.copy(other, tmp_path / "other.copy")
        os.replace(tmp_path / "other.copy", database)       # `mv other.db bridge.db`: a new inode
        with pytest.raises(StorageFailure, match="was replaced by another file while running"):
            store.check_identity()
    finally:
        store.close()


def test_a_new_database_where_a_source_had_connected_is_refused_until_restored_or_started_over(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bridge.db"
    connected_store(database)
    backup = tmp_path / "backup.db"
    shutil.copy(database, backup)
    remove_database(database)

    with pytest.raises(StorageFailure) as refused:
        Store.open_writer(database, exclusive=True)
    message = str(refused.value)
    assert refused.value.exit_code == exit_codes.IOERR
    assert f"{SHOP} (connected since {CONNECTED})" in message and "history" in message
    assert f"delete {witness_path(database)} to start over" in message
    assert not database.exists()                             # refused before creating an empty database

    other = tmp_path / "other.db"                            # another database that never saw that shop
    Store.open_writer(other).close()
    shutil.copy(other, database)
    with pytest.raises(StorageFailure, match="does not hold the state of"):
        Store.open_writer(database, exclusive=True)
    remove_database(database)

    shutil.copy(backup, database)                            # the restored backup knows the source: accepted
    Store.open_writer(database, exclusive=True).close()

    remove_database(database)
    witness_path(database).unlink()                          # starting over on purpose
    fresh = Store.open_writer(database, exclusive=True)
    fresh.close()
    assert witness_path(database).exists()                   # the new database is witnessed from now on


def test_the_witness_is_private_and_names_the_database_id(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    connected_store(database)
    text = witness_path(database).read_text()
    assert SHOP in text and CONNECTED in text
    assert oct(witness_path(database).stat().st_mode & 0o777) == oct(0o600)
    reader = sqlite3.connect(database)
    (database_id,) = reader.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    reader.close()
    assert database_id in text
