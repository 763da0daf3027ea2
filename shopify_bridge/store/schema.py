"""Schema and migrations of the store (both backends), and opening an SQLite store at the right version.

The migrations are written once, in SQLite's words; `store.postgres` runs the same list through
`Dialect.ddl` on PostgreSQL. Append new steps in the portable subset (TEXT, INTEGER, REAL).

The store runs in WAL mode with one writer (the bridge process) and read-only readers (TUI
`--attach`, `explain`, `events`), each on its own connection (opened by `db`). Writes use
`BEGIN IMMEDIATE` so that a writer never fails half-way on a lock upgrade; readers get a busy
timeout so they never surface SQLITE_BUSY. `synchronous=FULL` by default: the outbox is the product, and a
delivered-but-not-durable mark is the one thing that could double an event after a power cut.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shopify_bridge import exit_codes

# Connections and transactions are `db`'s; imported here too for the callers that know them from here.
from shopify_bridge.store.db import (
    BUSY_TIMEOUT_MS,
    StoreConnection,
    StoreError,
    connect_reader,
    connect_writer,
    transaction,
    use_wal,
)
from shopify_bridge.store.dialect import SQLITE, Dialect
from shopify_bridge.store.sqlite_file import writable_problem

if TYPE_CHECKING:
    import sqlite_utils

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "SCHEMA_VERSION", "StoreError", "database_problem", "migrate",
           "open_reader", "open_writer", "reader_connection", "transaction", "writer_connection"]

SCHEMA_VERSION = 8

# Each entry migrates from version i to i+1. Never edit a shipped entry; append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE sources (
        shop TEXT PRIMARY KEY,              -- canonical <shop>.myshopify.com: the source's identity
        name TEXT NOT NULL,                 -- label from the config; may change
        first_connected_at TEXT,            -- first successful poll (UTC ISO); decides history
        cursor TEXT,                        -- incremental high-water mark on updated_at (UTC ISO)
        state TEXT NOT NULL DEFAULT 'idle', -- idle | polling | backfilling | throttled | failed
        state_reason TEXT,
        last_poll_at TEXT,
        last_poll_ok_at TEXT,
        shop_name TEXT, currency TEXT, timezone TEXT,
        bucket_max REAL, bucket_available REAL, bucket_restore REAL,
        backfill_state TEXT                 -- JSON: bulk operation bookkeeping
    );

    CREATE TABLE orders (
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,             -- numeric legacyResourceId
        gid TEXT NOT NULL,
        name TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,           -- newest stored version's updatedAt
        first_seen_at TEXT NOT NULL,
        total TEXT,                         -- newest version's current total (shop money), for display
        -- new | held | released | excluded | history | gone
        status TEXT NOT NULL,
        release_at TEXT,                    -- hold deadline (processedAt + delay)
        released_at TEXT,
        built_version INTEGER,              -- version the Placed Order / exclusion was decided on
        exclusion_rule TEXT, exclusion_value TEXT,
        placed_event_seq INTEGER,
        PRIMARY KEY (shop, order_id)
    );
    CREATE INDEX orders_status ON orders (status, release_at);
    CREATE INDEX orders_name ON orders (name);
    CREATE INDEX orders_processed ON orders (shop, processed_at);
    CREATE INDEX orders_placed ON orders (placed_event_seq);

    CREATE TABLE order_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        origin TEXT NOT NULL,               -- poll | read | bulk
        content_hash TEXT NOT NULL,
        doc TEXT NOT NULL,                  -- normalized order document (JSON)
        UNIQUE (shop, order_id, version)
    );

    CREATE TABLE refunds (
        shop TEXT NOT NULL,
        refund_id TEXT NOT NULL,            -- numeric
        order_id TEXT NOT NULL,
        gid TEXT NOT NULL,
        timestamp TEXT,                     -- createdAt, else processedAt
        -- waiting_details | waiting_order | evented | zero_amount_refund | excluded | history | skipped
        status TEXT NOT NULL,
        detail TEXT,                        -- READ_REFUND node (JSON) once read
        event_seq INTEGER,
        PRIMARY KEY (shop, refund_id)
    );
    CREATE INDEX refunds_order ON refunds (shop, order_id);
    CREATE INDEX refunds_status ON refunds (status);

    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        shop TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_name TEXT NOT NULL,
        order_id TEXT NOT NULL,
        refund_id TEXT,
        timestamp TEXT NOT NULL,
        created_at TEXT NOT NULL,
        payload TEXT NOT NULL,              -- the exact JSON sent on the wire
        UNIQUE (shop, event_id)
    );
    CREATE INDEX events_order ON events (shop, order_id);

    CREATE TABLE deliveries (
        event_seq INTEGER NOT NULL REFERENCES events(seq),
        destination TEXT NOT NULL,
        state TEXT NOT NULL,                -- pending | in_flight | delivered | dead
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_status INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT,
        PRIMARY KEY (event_seq, destination)
    );
    CREATE INDEX deliveries_pending ON deliveries (destination, state, event_seq);

    CREATE TABLE errors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        shop TEXT,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
    );
    """,
    # 2: the running backfill's progress in one line (phase and counts), for dashboards; NULL when none.
    """
    ALTER TABLE sources ADD COLUMN progress TEXT;
    """,
    # 3: per-destination routing (issue #16). A delivery a destination does not take is `filtered` (by its
    # events/channels/exclude_tags key) or `skipped` (by its payload rules, e.g. too_old_for_destination),
    # with that key or rule in `reason`; an event keeps the few order facts its payloads need (`facts`, JSON:
    # processedAt, tags, the client-id custom attributes); `alerts_sent` rate-limits alerts across restarts.
    """
    ALTER TABLE deliveries ADD COLUMN reason TEXT;
    ALTER TABLE events ADD COLUMN facts TEXT;
    CREATE TABLE alerts_sent (
        kind TEXT NOT NULL,                 -- source_failed | source_recovered | dead_letters | reconcile_mismatch
        source TEXT NOT NULL,               -- the source's name ('' when none)
        sent_at TEXT NOT NULL,              -- UTC ISO: the last alert of this kind and source that went out
        PRIMARY KEY (kind, source)
    );
    """,
    # 4: several processes on one (PostgreSQL) store (issue #17): who is alive, who polls which shop, who
    # sends what. On SQLite (one writer) the tables stay empty and `claimed_by` names the one process.
    """
    CREATE TABLE workers (
        owner TEXT PRIMARY KEY,             -- one bridge process: host:pid:random
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        seen_at TEXT NOT NULL               -- its last heartbeat; older than the lease time: dead
    );
    CREATE TABLE leases (
        shop TEXT PRIMARY KEY,              -- polled by `owner` alone until `expires_at`
        owner TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;  -- the worker sending an in_flight delivery
    CREATE INDEX deliveries_in_flight ON deliveries (claimed_by) WHERE state = 'in_flight';
    """,
    # 5: a waiting refund's settling state (what it waits for, since when, reads so far, the next read);
    # the scopes the token was granted (whether orders older than 60 days are visible); and, per customer,
    # by when a non-test order of theirs is known to exist (`$is_new_customer` settled without asking again).
    """
    ALTER TABLE refunds ADD COLUMN waits_for TEXT;
    ALTER TABLE refunds ADD COLUMN waiting_since TEXT;
    ALTER TABLE refunds ADD COLUMN read_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE refunds ADD COLUMN next_read_at TEXT;
    CREATE INDEX refunds_due ON refunds (shop, status, next_read_at);
    ALTER TABLE sources ADD COLUMN access_scopes TEXT;
    CREATE TABLE customer_orders (
        shop TEXT NOT NULL,
        customer_key TEXT NOT NULL,         -- sha256 of "customer:<id>" or "email:<trimmed lower-cased email>"
        earliest_at TEXT NOT NULL,          -- a non-test order of that customer was processed by then (UTC ISO)
        PRIMARY KEY (shop, customer_key)
    );
    """,
    # 6: what polling learned, kept across restarts: the largest search-index lag (seconds) measured in the
    # current hour-long period (which began at lag_since) and in the one before, which size the poll
    # windows' overlap; and when the last sweep completed.
    """
    ALTER TABLE sources ADD COLUMN lag_seconds INTEGER;
    ALTER TABLE sources ADD COLUMN lag_previous_seconds INTEGER;
    ALTER TABLE sources ADD COLUMN lag_since TEXT;
    ALTER TABLE sources ADD COLUMN swept_at TEXT;
    """,
    # 7: `$is_new_customer` looked up while an order is held (new | returning | omitted), and the SHA-256 of
    # the customer key it answers for: the release uses it and never asks Shopify (holds go out on time).
    """
    ALTER TABLE orders ADD COLUMN new_customer TEXT;
    ALTER TABLE orders ADD COLUMN new_customer_key TEXT;
    """,
    # 8: the status and Placed Order indexes hold only the rows they are searched for. Nearly every order
    # of a store ends as history or released and is never looked up by status, nor by a Placed Order it
    # does not have; indexing them cost every backfilled order two index inserts. Held orders are searched
    # by shop and release time, excluded ones listed newest first (the dashboard), Placed Orders by seq.
    """
    DROP INDEX orders_status;
    CREATE INDEX orders_held ON orders (shop, release_at) WHERE status = 'held';
    CREATE INDEX orders_excluded ON orders (processed_at, order_id) WHERE status = 'excluded';
    DROP INDEX orders_placed;
    CREATE INDEX orders_placed ON orders (placed_event_seq) WHERE placed_event_seq IS NOT NULL;
    """,
]


def _current_version(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def apply_migrations(version: int, dialect: Dialect, execute: Callable[..., object]) -> int:
    """Run the steps from `version` to SCHEMA_VERSION in `dialect`'s words and record the new version,
    all through `execute(sql, params)` in the caller's transaction; refuse a newer database (78)."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this shopify-bridge ({SCHEMA_VERSION}); "
            "upgrade shopify-bridge",
            exit_code=exit_codes.CONFIG,
        )
    for step in range(version, SCHEMA_VERSION):
        for statement in dialect.ddl(MIGRATIONS[step]):
            execute(statement, ())
    execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(SCHEMA_VERSION),),
    )
    return SCHEMA_VERSION


def schema_problem(conn: sqlite3.Connection, path: Path | str) -> str | None:
    """Why the SQLite database at `path` is not one this shopify-bridge can use (someone else's, or newer), or
    None."""
    version = _current_version(conn)
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone():
        return f"database = {path} is not a shopify-bridge database (it holds other tables)"
    if version > SCHEMA_VERSION:
        return f"database {path} has schema version {version}, newer than this shopify-bridge ({SCHEMA_VERSION}); " \
               "upgrade shopify-bridge"
    return None


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; refuse someone else's database or a newer one."""
    with transaction(conn):
        problem = schema_problem(conn, getattr(conn, "path", "the database"))
        if problem is not None:
            raise StoreError(problem, exit_code=exit_codes.CONFIG)
        return apply_migrations(_current_version(conn), SQLITE, conn.execute)


def database_problem(path: Path | str) -> str | None:
    """What `check` reports about the configured database (exit 78), touching nothing; None when usable."""
    database = Path(path)
    problem = writable_problem(database)
    if problem is not None or not database.exists() or database.stat().st_size == 0:
        return problem
    try:
        conn = connect_reader(database, probe=True)
    except StoreError as exc:
        return str(exc)
    try:
        return schema_problem(conn, database)
    except sqlite3.Error as exc:
        return f"database = {database} cannot be read: {exc}"
    finally:
        conn.close()


def writer_connection(path: Path | str, synchronous: str = "full") -> StoreConnection:
    """The one writing connection: WAL, migrated, autocommit mode with explicit transactions.

    Someone else's database, or a newer one, is refused before anything is written to it (not even WAL mode).
    """
    conn = connect_writer(path, synchronous)
    try:
        problem = schema_problem(conn, path)
        if problem is not None:
            raise StoreError(problem, exit_code=exit_codes.CONFIG)
        use_wal(conn)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def reader_connection(path: Path | str) -> StoreConnection:
    """A read-only connection for dashboards and commands; never blocks the writer."""
    conn = connect_reader(path)
    problem = schema_problem(conn, path)
    version = _current_version(conn)
    if problem is not None or version != SCHEMA_VERSION:
        conn.close()
        if problem is not None:
            raise StoreError(problem, exit_code=exit_codes.CONFIG)
        raise StoreError(f"database {path} has schema version {version}, expected {SCHEMA_VERSION}")
    return conn


# `sqlite_utils` is imported only here: the bridge itself (`Store`) uses the connections, and a start-up
# without it is shorter.
def open_writer(path: Path | str, synchronous: str = "full") -> sqlite_utils.Database:
    """`writer_connection` in a `sqlite_utils.Database` (for tests and tools)."""
    import sqlite_utils

    return sqlite_utils.Database(writer_connection(path, synchronous))


def open_reader(path: Path | str) -> sqlite_utils.Database:
    """`reader_connection` in a `sqlite_utils.Database` (for tests and tools)."""
    import sqlite_utils

    return sqlite_utils.Database(reader_connection(path))
