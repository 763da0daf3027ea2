"""The staging of bulk results: SQLite tables of ids beside a file of the lines; indexes, keys, clearing.

A staged line's bytes go to the staging database's lines file (`lines_path`: the database's path with
`-lines`), appended a batch at a time; its row holds its ids and where its bytes are (`at`, `size`). The
tables stay small — tens of bytes per line, whatever the orders hold — so the index builds and the
iteration's scans read a few MB where they read the whole result before, and each document is read back
with one `pread` per line, from the operating system's cache. A staging database is therefore a file.

Speed at scale comes from two more choices. Rows are keyed by small integers: an operation's gid becomes an
`op_key`, an order or line item the numeric tail of its gid (`gid://shopify/Order/5801234567890` →
5801234567890, unique per type; `gid://shopify/<type>/<id>` rebuilds the gid). And the lookup indexes are
built once, after the file is loaded, instead of being maintained during the load: a shuffled file would
insert into them in random order, and once an index outgrows the page cache every batch's commit rewrites
most of it, so the load slows down as the file grows. Loading therefore appends rows; `build_indexes`
then sorts the keys in one pass, and `stage_file` resolves repeated lines (the last one wins) with them.

These tables hold nothing that cannot be rebuilt from the downloaded result file; `stage_file` always
clears an operation before staging it again. One staging at a time per database.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import accumulate, chain
from pathlib import Path

from shopify_bridge.private_files import create_private, open_private

StagingDb = sqlite3.Connection
"""A connection to a staging file (the bulk reader's scratch database, never the store)."""

STAGING_CACHE_KIB = 8 * 1024
STAGING_PAGE_SIZE = 8192

STAGING_TABLES = """
CREATE TABLE IF NOT EXISTS bulk_staging_op (
    op_key INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE          -- the BulkOperation gid (or any label the caller uses)
);
CREATE TABLE IF NOT EXISTS bulk_staged_order (
    op_key INTEGER NOT NULL,
    order_id INTEGER NOT NULL,          -- numeric tail of the gid; iteration follows it (creation order)
    line_no INTEGER NOT NULL,
    at INTEGER NOT NULL,                -- where the line starts in the lines file, and its length: the
    size INTEGER NOT NULL               -- raw bytes, valid JSON, slashes possibly escaped
);
CREATE TABLE IF NOT EXISTS bulk_staged_child (
    op_key INTEGER NOT NULL,
    parent_id INTEGER NOT NULL,         -- numeric id of the parent order
    child_type INTEGER NOT NULL,        -- which connection: an index into assemble.CHILD_TYPES (0 = LineItem)
    child_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    at INTEGER NOT NULL,                -- where the line starts in the lines file, and its length: the
    size INTEGER NOT NULL               -- raw bytes, `__parentId` included (documents drops it)
);
CREATE TABLE IF NOT EXISTS bulk_quarantine (
    op_key INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw_head TEXT NOT NULL,             -- the start of the line, decoded leniently
    PRIMARY KEY (op_key, line_no)
);
"""

# Unique once `stage_file` has resolved repeated lines. A line item belongs to one order for life, so
# (order, type, id) identifies it as well as its id does; leading with the order serves the iteration too,
# and with `at` and `size` in them the iteration reads the indexes alone.
STAGING_INDEXES = {
    "bulk_staged_order_id": "bulk_staged_order (op_key, order_id, at, size)",
    "bulk_staged_child_parent": "bulk_staged_child (op_key, parent_id, child_type, child_id, at, size)",
}

_STAGED_TABLES = ("bulk_staged_order", "bulk_staged_child", "bulk_quarantine")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN … COMMIT, rolled back on any exception; inside a caller's open transaction, joins it."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def open_staging(path: Path | str) -> sqlite3.Connection:
    """A connection to a new, empty staging database at `path` (a file of its own, never the store), with
    its empty lines file beside it (`lines_path`).

    The file is disposable: whatever was there is deleted first, because everything in it can be rebuilt
    from the downloaded JSONL file (`stage_file` clears and re-stages). That is what makes the fast
    settings acceptable here and only here — synchronous=OFF and no rollback journal mean a crash, a power
    cut or a failed statement may leave this file corrupt, which costs a re-stage, never data (a failed
    staging is discarded, never read). They must not be applied to the store's connection, where they would
    cover the outbox too. Use one staging file per concurrent backfill. Memory stays flat whatever the file
    size: the page cache is capped, and without a journal no changed page is kept twice.
    """
    discard_staging(path)
    create_private(path)  # the orders it stages are personal data; its journal inherits the mode
    create_private(lines_path(path))  # the lines themselves: personal data too
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA page_size = {STAGING_PAGE_SIZE}")  # before the first table (4 KiB measured the same)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{STAGING_CACHE_KIB}")
    ensure_schema(conn)
    return conn


def discard_staging(path: Path | str) -> None:
    """Delete a staging database file, its journals and its lines file (close its connections first)."""
    for suffix in ("", "-journal", "-wal", "-shm", LINES_SUFFIX):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


LINES_SUFFIX = "-lines"


def lines_path(database: Path | str) -> Path:
    """The file of the staged lines of the staging database at `database`."""
    return Path(f"{database}{LINES_SUFFIX}")


@contextmanager
def lines_reader(conn: sqlite3.Connection) -> Iterator[int]:
    """A descriptor of the lines file of the staging database `conn`, for `read_line`."""
    fd = os.open(lines_path(staging_file(conn)), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def read_line(fd: int, at: int, size: int) -> bytes:
    """`size` bytes of a staged line from `at`. A lines file cut short (by hand: the bridge never does)
    gives bytes that do not parse, never another line's: that order is quarantined, nothing else."""
    raw = os.pread(fd, size, at)
    return raw if len(raw) == size else raw + b"\x00"


def staging_file(conn: sqlite3.Connection) -> Path:
    """The file of `conn`'s main database; a staging database must be one (its lines are kept beside it)."""
    for _, name, path in conn.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            return Path(path)
    raise ValueError("a staging database must be a file: its lines are kept in a file beside it")


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the staging tables and their indexes in `conn`'s main database when missing."""
    with transaction(conn):
        for statement in STAGING_TABLES.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    build_indexes(conn)


def build_indexes(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        for name, target in STAGING_INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        for name in STAGING_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")


def op_key(conn: sqlite3.Connection, op_id: str, *, create: bool = False) -> int | None:
    """The small integer standing for `op_id` in the staged rows; None when unknown and not `create`."""
    if create:
        conn.execute("INSERT OR IGNORE INTO bulk_staging_op (op_id) VALUES (?)", (op_id,))
    row = conn.execute("SELECT op_key FROM bulk_staging_op WHERE op_id = ?", (op_id,)).fetchone()
    return None if row is None else int(row[0])


def clear(conn: sqlite3.Connection, op_id: str) -> None:
    """Drop everything staged or quarantined for one bulk operation."""
    ensure_schema(conn)
    with transaction(conn):
        key = op_key(conn, op_id)
        if key is None:
            return
        for table in _STAGED_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE op_key = ?", (key,))
        conn.execute("DELETE FROM bulk_staging_op WHERE op_key = ?", (key,))
        if conn.execute("SELECT 1 FROM bulk_staging_op LIMIT 1").fetchone() is None:
            lines = lines_path(staging_file(conn))
            if lines.exists():
                os.truncate(lines, 0)  # no operation's rows point into it any more


def quarantined(conn: sqlite3.Connection, op_id: str) -> list[tuple[int, str, str]]:
    """The quarantine of one operation as (line_no, reason, raw_head), in file order."""
    ensure_schema(conn)
    key = op_key(conn, op_id)
    rows = conn.execute(
        "SELECT line_no, reason, raw_head FROM bulk_quarantine WHERE op_key = ? ORDER BY line_no", (key,)
    ).fetchall()
    return [(int(line_no), str(reason), str(head)) for line_no, reason, head in rows]


def drop_repeats(conn: sqlite3.Connection, table: str, key_columns: str, op: int) -> int:
    """Delete all but the last-loaded row of each key of one operation (a repeated line replaces); how many.

    Rows are appended in file order, so the greatest rowid of a key is its last line. Needs the indexes.
    """
    # The scan in index order finds repeats in one pass; the delete only runs when there are any.
    repeats = conn.execute(
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table} WHERE op_key = ? "
        f"GROUP BY {key_columns} HAVING n > 1)", (op,)
    ).fetchone()[0]
    if repeats:
        keys = " AND ".join(f"later.{c} = {table}.{c}" for c in ("op_key", *key_columns.split(", ")))
        conn.execute(
            f"DELETE FROM {table} WHERE op_key = ? AND EXISTS "
            f"(SELECT 1 FROM {table} later WHERE {keys} AND later.rowid > {table}.rowid)", (op,)
        )
    return int(repeats)


def staged_counts(conn: sqlite3.Connection, key: int) -> tuple[int, int]:
    """(orders, children) staged for an operation key."""
    orders = conn.execute("SELECT count(*) FROM bulk_staged_order WHERE op_key = ?", (key,)).fetchone()[0]
    children = conn.execute("SELECT count(*) FROM bulk_staged_child WHERE op_key = ?", (key,)).fetchone()[0]
    return int(orders), int(children)


OrderRow = tuple[int, int, bytes]
"""(order_id, line_no, the line's bytes) of a line to stage as a `bulk_staged_order` row."""
ChildRow = tuple[int, int, int, int, bytes]
"""(parent_id, child_type, child_id, line_no, the line's bytes) of a line to stage in `bulk_staged_child`."""
QuarantineRow = tuple[int, str, str]
"""(line_no, reason, raw_head) of a `bulk_quarantine` row."""

# Rows are appended with multi-row `INSERT … SELECT … FROM (VALUES …)` statements of up to
# `APPEND_ROWS_PER_STATEMENT` rows, which bind the numbers directly. The values are each line's numbers and
# its offset in the batch's bytes; the second parameter is where those bytes start in the lines file. 100
# rows keep a statement's parameters under SQLite's smallest limit (999) and its compiled form small; only
# full statements recur, so the statement cache holds them. Staging the 60k lines of a 20k-order result,
# the staging transactions took 46–48 ms of CPU where one statement per batch over a JSON array
# (`json_each`, a `json_extract` per column) took 102–106 ms. That made the writer thread the batches were
# once appended on cost more than it saved: without it, staging that file took ~0.30 CPU s instead of
# ~0.33, in the same wall time.
APPEND_ROWS_PER_STATEMENT = 100
_APPEND_TABLES = {
    # table: (its columns after op_key, the SELECT list over the VALUES columns, values per row);
    # `at` is the second parameter plus the line's offset
    "bulk_staged_order": ("order_id, line_no, at, size", "column1, column2, ? + column3, column4", 4),
    "bulk_staged_child": (
        "parent_id, child_type, child_id, line_no, at, size",
        "column1, column2, column3, column4, ? + column5, column6",
        6,
    ),
}


@lru_cache(maxsize=2 * APPEND_ROWS_PER_STATEMENT)
def _append_statement(table: str, rows: int) -> str:
    """The INSERT of `rows` rows into `table`: parameters op_key, the batch's start, then the rows' values."""
    columns, select, width = _APPEND_TABLES[table]
    row = f"({', '.join('?' * width)})"
    return f"INSERT INTO {table} (op_key, {columns}) SELECT ?, {select} FROM (VALUES {', '.join([row] * rows)})"


_ADD_QUARANTINE = (
    "INSERT OR REPLACE INTO bulk_quarantine (op_key, line_no, reason, raw_head) VALUES (?, ?, ?, ?)"
)


def add_quarantine(conn: sqlite3.Connection, key: int, rows: Iterable[QuarantineRow]) -> None:
    """Record lines of operation `key` in the quarantine (a line quarantined again keeps its last reason)."""
    conn.executemany(_ADD_QUARANTINE, [(key, *row) for row in rows])


Packed = tuple[list[list[int]], bytes] | None
"""A batch of one table's rows: the values of each statement (`_append_statement`), and the lines joined."""


def packed_rows(rows: list[OrderRow] | list[ChildRow]) -> Packed:
    """(each row's numbers + the offset and length of its line, flat, in statements of
    `APPEND_ROWS_PER_STATEMENT` rows; the lines joined into one blob)."""
    if not rows:
        return None
    columns = list(zip(*rows, strict=True))
    blobs: tuple[bytes, ...] = columns.pop()
    lengths = list(map(len, blobs))
    offsets = accumulate(lengths, initial=0)
    values: list[int] = list(chain.from_iterable(zip(*columns, offsets, lengths, strict=False)))
    step = APPEND_ROWS_PER_STATEMENT * (len(columns) + 2)
    return [values[at : at + step] for at in range(0, len(values), step)], b"".join(blobs)


def append_rows(
    conn: sqlite3.Connection, key: int, orders: Packed, children: Packed, quarantine: list[QuarantineRow]
) -> None:
    """Append one batch of rows of operation `key`, in one transaction, in the lists' order: the lines to the
    lines file, then the rows that point into it (a row never points past what was written)."""
    with open_private(lines_path(staging_file(conn)), "ab") as lines:
        start = lines.tell()
        for packed in (orders, children):
            if packed:
                lines.write(packed[1])
    at = start
    with transaction(conn):
        for table, packed in (("bulk_staged_order", orders), ("bulk_staged_child", children)):
            if packed:
                width = _APPEND_TABLES[table][2]
                for values in packed[0]:
                    conn.execute(_append_statement(table, len(values) // width), (key, at, *values))
                at += len(packed[1])
        if quarantine:
            add_quarantine(conn, key, quarantine)
