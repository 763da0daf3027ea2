"""The driver's errors that mean the disk or the file failed become StorageFailure (exit 74), after a rollback;
the others stay what they are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.store import StorageFailure, Store, storage_failure


def driver_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(("code", "says"), [
    (10, "disk I/O error"),                      # SQLITE_IOERR
    (778, "disk I/O error"),                     # SQLITE_IOERR_WRITE: extended codes count by their primary
    (13, "the disk is full"),                    # SQLITE_FULL
    (8, "read-only"),                            # SQLITE_READONLY
])
def test_disk_and_file_errors_are_storage_failures(code: int, says: str) -> None:
    failure = storage_failure(driver_error("boom", code))
    assert failure is not None and failure.exit_code == exit_codes.IOERR and says in str(failure)


def test_a_busy_database_or_a_bug_is_not_a_storage_failure() -> None:
    assert storage_failure(driver_error("database is locked", 5)) is None       # SQLITE_BUSY
    assert storage_failure(ValueError("bug")) is None


def test_an_io_error_inside_a_transaction_rolls_back_and_comes_out_as_74(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "bridge.db")
    try:
        with pytest.raises(StorageFailure) as failed, store.transaction():
            store.sources.ensure("io.myshopify.com", "IO")
            raise driver_error("disk I/O error", 10)
        assert f"local storage failure on {tmp_path / 'bridge.db'}: disk I/O error" in str(failed.value)
        assert not store.conn.in_transaction
        assert store.sql.all("SELECT shop FROM sources") == []
    finally:
        store.close()
