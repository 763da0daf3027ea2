"""The SQLite staging tables of bulk results: schema, connections, per-operation keys, clearing.

Staged rows are keyed by small integers so that their indexes stay small enough for the page cache even
for hundreds of thousands of orders (random-order inserts into an index that does not fit in the cache are
what makes staging slow): an operation's gid becomes an `op_key`, and an order or line item is keyed by the
numeric tail of its gid (`gid://shopify/Order/5801234567890` → 5801234567890), which Shopify keeps unique
per type. The gids themselves are stored too, unindexed, for people reading the tables.

These tables hold nothing that cannot be rebuilt from the downloaded result file; `stage_file` always
clears an operation before staging it again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING_CACHE_KIB = 48 * 1024

STAGING_SCHEMA = """
CREATE TABLE IF NOT EXISTS bulk_staging_op (
    op_key INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE          -- the BulkOperation gid (or any label the caller uses)
);
CREATE TABLE IF NOT EXISTS bulk_staged_order (
    op_key INTEGER NOT NULL,
    order_id INTEGER NOT NULL,          -- numeric tail of the gid; iteration follows it (creation order)
    gid TEXT NOT NULL,
    line_no INTEGER NOT NULL,           -- of the line that won (a repeated line replaces the earlier one)
    json BLOB NOT NULL,                 -- the line's raw bytes: valid JSON, slashes possibly escaped
    PRIMARY KEY (op_key, order_id)
);
CREATE TABLE IF NOT EXISTS bulk_staged_child (
    op_key INTEGER NOT NULL,
    typename TEXT NOT NULL,             -- LineItem
    child_id INTEGER NOT NULL,
    parent_id INTEGER NOT NULL,         -- numeric id of the parent order
    gid TEXT NOT NULL,
    parent_gid TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    json BLOB NOT NULL,                 -- raw bytes, still carrying `__parentId`
    PRIMARY KEY (op_key, typename, child_id)
);
CREATE INDEX IF NOT EXISTS bulk_staged_child_parent ON bulk_staged_child (op_key, parent_id, child_id);
CREATE TABLE IF NOT EXISTS bulk_quarantine (
    op_key INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw_head TEXT NOT NULL,             -- the start of the line, decoded leniently
    PRIMARY KEY (op_key, line_no)
);
"""

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
    """A connection to a dedicated staging database file (not the store), tuned for bulk writes.

    synchronous=OFF is acceptable here and only here: the staging tables are re-creatable from the
    downloaded JSONL file at any time (`stage_file` clears and re-stages), so a power cut costs a re-stage,
    never data. It must not be applied to the store's connection, where it would cover the outbox too.
    The page cache is sized to hold the staging indexes of a few hundred thousand orders; it bounds the
    memory used, whatever the file size.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{STAGING_CACHE_KIB}")
    ensure_schema(conn)
    return conn


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the staging tables in `conn`'s main database when missing."""
    with transaction(conn):
        for statement in STAGING_SCHEMA.split(";\n"):
            if statement.strip():
                conn.execute(statement)


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


def quarantined(conn: sqlite3.Connection, op_id: str) -> list[tuple[int, str, str]]:
    """The quarantine of one operation as (line_no, reason, raw_head), in file order."""
    ensure_schema(conn)
    key = op_key(conn, op_id)
    rows = conn.execute(
        "SELECT line_no, reason, raw_head FROM bulk_quarantine WHERE op_key = ? ORDER BY line_no", (key,)
    ).fetchall()
    return [(int(line_no), str(reason), str(head)) for line_no, reason, head in rows]


def staged_counts(conn: sqlite3.Connection, key: int) -> tuple[int, int]:
    """(orders, children) staged for an operation key."""
    orders = conn.execute("SELECT count(*) FROM bulk_staged_order WHERE op_key = ?", (key,)).fetchone()[0]
    children = conn.execute("SELECT count(*) FROM bulk_staged_child WHERE op_key = ?", (key,)).fetchone()[0]
    return int(orders), int(children)
