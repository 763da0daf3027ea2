"""Schema and migrations of the SQLite store, and opening it at the right schema version.

The store runs in WAL mode with one writer (the bridge process) and read-only readers (TUI
`--attach`, `explain`, `events`), each on its own connection (opened by `db`). Writes use
`BEGIN IMMEDIATE` so that a writer never fails half-way on a lock upgrade; readers get a busy
timeout so they never surface SQLITE_BUSY. `synchronous=FULL` by default: the outbox is the product, and a
delivered-but-not-durable mark is the one thing that could double an event after a power cut.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

# Connections and transactions are `db`'s; imported here too for the callers that know them from here.
from shopify_bridge.store.db import BUSY_TIMEOUT_MS, StoreError, connect_reader, connect_writer, transaction

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "SCHEMA_VERSION", "StoreError", "migrate", "open_reader", "open_writer",
           "transaction"]

SCHEMA_VERSION = 3

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
    # 3: what polling learned, kept across restarts: the largest search-index lag (seconds) measured in the
    # current hour-long period (which began at lag_since) and in the one before, which size the poll
    # windows' overlap; and when the last sweep completed.
    """
    ALTER TABLE sources ADD COLUMN lag_seconds INTEGER;
    ALTER TABLE sources ADD COLUMN lag_previous_seconds INTEGER;
    ALTER TABLE sources ADD COLUMN lag_since TEXT;
    ALTER TABLE sources ADD COLUMN swept_at TEXT;
    """,
]


def _current_version(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; refuse a newer database."""
    with transaction(conn):
        version = _current_version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this shopify-bridge ({SCHEMA_VERSION}); upgrade it"
            )
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step].split(";\n"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
    return SCHEMA_VERSION


def open_writer(path: Path | str, synchronous: str = "full") -> sqlite_utils.Database:
    """The one writing connection: WAL, migrated, autocommit mode with explicit transactions."""
    conn = connect_writer(path, synchronous)
    migrate(conn)
    return sqlite_utils.Database(conn)


def open_reader(path: Path | str) -> sqlite_utils.Database:
    """A read-only connection for dashboards and commands; never blocks the writer."""
    conn = connect_reader(path)
    version = _current_version(conn)
    if version != SCHEMA_VERSION:
        raise StoreError(f"database {path} has schema version {version}, expected {SCHEMA_VERSION}")
    return sqlite_utils.Database(conn)
