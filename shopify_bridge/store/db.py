"""Connections, transactions and the statement runner: the store's only contact with the database driver.

Everything driver- or dialect-specific lives here: how a connection is opened and tuned, how a write
transaction begins (`BEGIN IMMEDIATE` on SQLite), and how a statement is run. The table modules
(`sources`, `orders`, `refunds`, `events`, `outbox`) write their SQL in a portable subset — `?`
placeholders, `INSERT … ON CONFLICT`, `INSERT … RETURNING` instead of `lastrowid`, no SQLite-only
functions — and run it through `Sql`, so that a PostgreSQL backend (psycopg 3's synchronous
connection) can later sit behind the same API with a `Sql` of its own that converts the placeholders.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from shopify_bridge.errors import BridgeError

BUSY_TIMEOUT_MS = 10_000

Row = tuple[Any, ...]


class StoreError(BridgeError):
    exit_code = 1


def sqlite_path(path: Path | str) -> Path | str:
    """The SQLite file named by `database`; a PostgreSQL URL is refused (until issue #17) with 78."""
    if isinstance(path, str) and path.lower().startswith(("postgresql://", "postgres://")):
        raise StoreError("not supported yet: a PostgreSQL store (database = \"postgresql://…\")", exit_code=78)
    return path


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")


def connect_writer(path: Path | str, synchronous: str = "full") -> sqlite3.Connection:
    """The one writing connection: WAL, autocommit mode with explicit transactions (not yet migrated)."""
    path = sqlite_path(path)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    _configure(conn, synchronous)
    return conn


def connect_reader(path: Path | str) -> sqlite3.Connection:
    """A read-only connection for dashboards and commands; never blocks the writer."""
    path = sqlite_path(path)
    if not Path(path).exists():
        raise StoreError(f"no database at {path}: run `shopify-bridge run` first")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … COMMIT, rolled back on any exception (nothing half-written survives).

    IMMEDIATE takes the write lock up front, so a writer never fails half-way on a lock upgrade.
    """
    if conn.in_transaction:
        # Nested use joins the outer transaction: one commit for ingest, events and cursor.
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Sql:
    """Runs the table modules' statements on one connection; rows come back as plain tuples."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.conn)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement; the number of rows it changed."""
        return self.conn.execute(sql, params).rowcount

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one write statement per parameter row; the number of rows changed over all of them."""
        return self.conn.executemany(sql, rows).rowcount

    def returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run an `INSERT … RETURNING …`; the returned row, or None when the insert did nothing.

        The cursor is read to its end: an SQLite statement left half-stepped would hold up the commit.
        """
        rows = self.conn.execute(sql, params).fetchall()
        return rows[0] if rows else None
