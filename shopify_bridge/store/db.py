"""SQLite's connections, transactions and statement runner (`SqliteSql`).

Everything SQLite-specific about running statements lives here: how a connection is opened and tuned,
how a write transaction begins (`BEGIN IMMEDIATE`), and how a statement is run. The table modules
(`sources`, `orders`, `refunds`, `events`, `outbox`) write their SQL in a portable subset — `?`
placeholders, `INSERT … ON CONFLICT`, `INSERT … RETURNING` instead of `lastrowid`, the `dialect` for
the rest — and run it through a `Sql` runner: this one, or PostgreSQL's in `postgres`.

SQLite's opening rules live here too: a path the bridge cannot write is refused (78) before SQLite creates
anything, a new file is born 0600, readers never write, and the driver's disk and file errors come out of a
transaction as `StorageFailure` (74) after the rollback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from shopify_bridge import exit_codes
from shopify_bridge.private_files import create_private
from shopify_bridge.store.dialect import SQLITE
from shopify_bridge.store.sql import Row, Sql, StoreError, is_postgres_url
from shopify_bridge.store.sqlite_file import read_only_uri, writable_problem

__all__ = ["BUSY_TIMEOUT_MS", "Row", "Sql", "SqliteSql", "StorageFailure", "StoreError", "connect_reader",
           "connect_writer", "storage_failure", "transaction", "use_wal"]

BUSY_TIMEOUT_MS = 10_000
SQLITE_NOTADB = 26
# The page size of a new store (SQLite's default is 4 KiB; an existing file keeps its own). An order version's
# document is ~3.5 KiB of JSON: at 4 KiB nearly every one fills a page of its own, and WAL mode writes each
# page with two system calls (frame header, page) and copies it again into the database at each checkpoint.
# At 16 KiB four documents share a page: a 20k-order backfill writes a 94 MB store instead of 103 MB (8 KiB)
# with fewer calls — ~0.05 CPU s less ingest at 20k orders, and 9.45/9.55 against 9.94/10.77 CPU s for the
# whole 100k-order run (`bench/backfill.py --whole`) — and no slower delivery (`bench/delivery.py`: the
# delivered marks commit in the same time), while a poll's small transaction rewrites a few pages of
# 16 KiB. Larger pages saved little more (32 KiB: ~0.02 s of ingest at 20k).
STORE_PAGE_SIZE = 16384


class StorageFailure(StoreError):
    """The local storage failed (disk full, I/O error, the database file removed or replaced): the process
    must stop (exit 74); nothing committed is lost, and what was not committed is done again at the next start."""

    exit_code = exit_codes.IOERR


# SQLite's primary result codes that mean the local storage failed, not the bridge (exit 74).
_STORAGE_FAILURES = {
    8: "the database became read-only",  # SQLITE_READONLY (e.g. the file was moved or remounted)
    10: "disk I/O error",  # SQLITE_IOERR
    11: "the database file is corrupt",  # SQLITE_CORRUPT
    13: "the disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened any more",  # SQLITE_CANTOPEN
    26: "the database file is no longer an SQLite database",  # SQLITE_NOTADB
}


class StoreConnection(sqlite3.Connection):
    """A connection that knows its file and, for the writer, what to check before each commit."""

    path: str = "the database"
    before_commit: Callable[[], None] | None = None


def storage_failure(exc: BaseException, conn: sqlite3.Connection | None = None) -> StorageFailure | None:
    """The exit-74 error for a driver error that says the disk or file failed (disk full, I/O error), else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None or code & 0xFF not in _STORAGE_FAILURES:
        return None
    path = getattr(conn, "path", "the database")
    return StorageFailure(
        f"local storage failure on {path}: {_STORAGE_FAILURES[code & 0xFF]} ({exc}); stopping (nothing committed "
        "is lost)"
    )


def sqlite_path(path: Path | str) -> Path | str:
    """The SQLite file named by `database`; a PostgreSQL URL is opened by `postgres`, never here."""
    if is_postgres_url(path):
        raise StoreError("a PostgreSQL URL is not an SQLite file", exit_code=78)
    return path


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")


def _connect(target: str, path: Path, *, uri: bool = False) -> StoreConnection:
    conn = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False, factory=StoreConnection)
    conn.path = str(path)
    return conn


def _open_error(exc: sqlite3.Error, database: Path) -> StoreError:
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_NOTADB:
        problem = f"database = {database} is not a shopify-bridge database ({exc})"
        return StoreError(problem, exit_code=exit_codes.CONFIG)
    return storage_failure(exc) or StoreError(f"cannot open database {database}: {exc}")


def connect_writer(path: Path | str, synchronous: str = "full") -> StoreConnection:
    """The one writing connection, autocommit mode with explicit transactions (not yet in WAL mode, not migrated).

    A path the bridge cannot write is refused with 78 before SQLite touches it; a new database file is
    created 0600 first, because SQLite gives its WAL and SHM files the database file's mode.
    """
    database = Path(sqlite_path(path))
    problem = writable_problem(database)
    if problem is not None:
        raise StoreError(problem, exit_code=exit_codes.CONFIG)
    try:
        create_private(database)
    except OSError as exc:
        raise StoreError(f"database = {database}: {exc.strerror or exc}", exit_code=exit_codes.CONFIG) from None
    conn = _connect(str(database), database)
    try:
        _configure(conn, synchronous)
        conn.execute(f"PRAGMA page_size = {STORE_PAGE_SIZE}")  # before the first table; ignored afterwards
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the file now: errors surface here
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(exc, database) from None
    return conn


def use_wal(conn: sqlite3.Connection) -> None:
    """WAL: readers never block the writer, and a commit is one append."""
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        where = getattr(conn, "path", "the database")
        raise storage_failure(exc, conn) or StoreError(f"cannot use WAL mode on {where}: {exc}") from exc


def connect_reader(path: Path | str, *, probe: bool = False) -> StoreConnection:
    """A read-only connection for dashboards and commands; never blocks the writer, never writes the database
    (works on a read-only database file, directory or file system). `probe`: one quick look (see read_only_uri)."""
    database = Path(sqlite_path(path))
    if database.is_dir():
        raise StoreError(f"database = {database} is a directory, not a shopify-bridge database",
                         exit_code=exit_codes.CONFIG)
    if not database.exists():
        raise StoreError(f"no database at {database}: run `shopify-bridge run` first")
    conn = _connect(read_only_uri(database, probe=probe), database, uri=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the file now: errors surface here
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(exc, database) from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … COMMIT, rolled back on any exception (nothing half-written survives).

    IMMEDIATE takes the write lock up front, so a writer never fails half-way on a lock upgrade. The
    connection's `before_commit` check (is the file still the database?) runs before COMMIT; a disk that is
    full or failing comes out as a StoreError with exit 74, after the rollback.
    """
    if conn.in_transaction:
        # Nested use joins the outer transaction: one commit for ingest, events and cursor.
        yield conn
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        check = getattr(conn, "before_commit", None)
        if check is not None:
            check()
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:  # SQLite may have rolled back already (e.g. after SQLITE_FULL)
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        failure = storage_failure(exc, conn)
        if failure is not None:
            raise failure from exc
        raise


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
