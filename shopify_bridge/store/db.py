"""SQLite's connections, transactions and statement runner (`SqliteSql`).

Everything SQLite-specific about running statements lives here: how a connection is opened and tuned,
how a write transaction begins (`BEGIN IMMEDIATE`), and how a statement is run. The table modules
(`sources`, `orders`, `refunds`, `events`, `outbox`) write their SQL in a portable subset — `?`
placeholders, `INSERT … ON CONFLICT`, `INSERT … RETURNING` instead of `lastrowid`, the `dialect` for
the rest — and run it through a `Sql` runner: this one, or PostgreSQL's in `postgres`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from shopify_bridge.store.dialect import SQLITE
from shopify_bridge.store.sql import Row, Sql, StoreError, is_postgres_url

__all__ = ["BUSY_TIMEOUT_MS", "Row", "Sql", "SqliteSql", "StoreError", "connect_reader", "connect_writer",
           "transaction"]

BUSY_TIMEOUT_MS = 10_000


def sqlite_path(path: Path | str) -> Path | str:
    """The SQLite file named by `database`; a PostgreSQL URL is opened by `postgres`, never here."""
    if is_postgres_url(path):
        raise StoreError("a PostgreSQL URL is not an SQLite file", exit_code=78)
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


class SqliteSql(Sql):
    """Runs the table modules' statements on one SQLite connection; rows come back as plain tuples."""

    dialect = SQLITE
    errors = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn: sqlite3.Connection = conn

    def transaction(self) -> AbstractContextManager[None]:
        return _joined(transaction(self.conn))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")  # deferred: a read transaction sees one state until it ends
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def change_counter(self) -> int:
        """SQLite's `PRAGMA data_version`: moves only when another connection commits."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def cursor(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return self.conn.executemany(sql, rows).rowcount

    def close(self) -> None:
        self.conn.close()


@contextmanager
def _joined(inner: AbstractContextManager[sqlite3.Connection]) -> Iterator[None]:
    with inner:
        yield
