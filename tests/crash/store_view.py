"""Read-only views of what the bridge left behind: its store (SQLite or PostgreSQL) and its JSONL file.

All are read without the bridge's own code (plain `sqlite3` in `mode=ro`, plain `psycopg`, plain line
splitting), so that a bug in the bridge's readers cannot hide a bug in its writers. Any of them may be
read while bridge processes run, or after one was killed at any instant.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StoreView:
    first_connected_at: str | None = None
    last_poll_ok_at: str | None = None
    events: dict[str, tuple[str, str]] = field(default_factory=dict)
    """event_id -> (event_name, payload) of the events table."""
    event_id_rows: int = 0
    """Rows in `events`: more than len(events) means one event_id was created twice."""
    order_status: dict[str, str] = field(default_factory=dict)
    refund_status: dict[str, str] = field(default_factory=dict)
    delivery_state: dict[tuple[str, str], str] = field(default_factory=dict)
    """(event_id, destination) -> pending | in_flight | delivered | dead."""
    claimed_by: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(event_id, destination) -> the worker (host:pid:token) that claimed it, for the rows in flight."""

    def in_flight(self, pid: int | None = None) -> set[tuple[str, str]]:
        """The deliveries in flight (of the process `pid` only, when given)."""
        return {key for key, state in self.delivery_state.items() if state == "in_flight"
                and (pid is None or f":{pid}:" in (self.claimed_by.get(key) or ""))}

    def payloads(self, destination: str, state: str) -> list[tuple[str, bytes]]:
        """(event_id, payload) of the deliveries to `destination` in `state`, in sending order (event seq)."""
        return [(event_id, payload.encode()) for event_id, (_, payload) in self.events.items()
                if self.delivery_state.get((event_id, destination)) == state]

    def undelivered(self) -> list[tuple[str, str, str]]:
        return sorted((e, d, s) for (e, d), s in self.delivery_state.items() if s != "delivered")


def _has_schema(conn: sqlite3.Connection) -> bool:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"sources", "orders", "refunds", "events", "deliveries"} <= names


def read_store(database: Path | str) -> StoreView:
    """The store as committed now (an SQLite file or a PostgreSQL URL); empty when none was created yet."""
    if isinstance(database, str):
        return _read_postgres(database)
    view = StoreView()
    if not database.exists():
        return view
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        # One read transaction: every table seen at the same commit.
        conn.execute("BEGIN")
        if not _has_schema(conn):
            return view
        _read(conn, view)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return view


def _read_postgres(url: str) -> StoreView:
    import psycopg

    view = StoreView()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot of every table
        names = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        if {"sources", "orders", "refunds", "events", "deliveries"} <= names:
            _read(conn, view)
        conn.execute("COMMIT")
    return view


def _read(conn: Any, view: StoreView) -> None:
    """Fill `view` from a connection of either driver (the statements take no parameters)."""
    row = conn.execute("SELECT first_connected_at, last_poll_ok_at FROM sources LIMIT 1").fetchone()
    view.first_connected_at, view.last_poll_ok_at = row if row else (None, None)
    events = conn.execute("SELECT event_id, event_name, payload FROM events ORDER BY seq")
    view.events = {event_id: (name, payload) for event_id, name, payload in events}
    view.event_id_rows = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    view.order_status = dict(conn.execute("SELECT order_id, status FROM orders").fetchall())
    view.refund_status = dict(conn.execute("SELECT refund_id, status FROM refunds").fetchall())
    rows = conn.execute(
        "SELECT e.event_id, d.destination, d.state, d.claimed_by FROM deliveries d "
        "JOIN events e ON e.seq = d.event_seq"
    ).fetchall()
    view.delivery_state = {(event_id, dest): state for event_id, dest, state, _ in rows}
    view.claimed_by = {(event_id, dest): owner for event_id, dest, state, owner in rows if state == "in_flight"}


@dataclass(frozen=True)
class TornLine:
    offset: int
    length: int
    last: bool
    head: str


@dataclass
class JsonlScan:
    copies: Counter[str] = field(default_factory=Counter)
    lines: dict[str, list[str]] = field(default_factory=dict)
    """event_id -> every complete line carrying it (to compare with the stored payload)."""
    torn: list[TornLine] = field(default_factory=list)
    size: int = 0

    @property
    def torn_inside(self) -> list[TornLine]:
        """Torn lines followed by more data: a line-by-line consumer loses them, and what they swallowed."""
        return [t for t in self.torn if not t.last]


def scan_jsonl(path: Path) -> JsonlScan:
    scan = JsonlScan()
    if not path.exists():
        return scan
    data = path.read_bytes()
    scan.size = len(data)
    offset = 0
    for raw in data.split(b"\n"):
        end = offset + len(raw)
        if raw:
            last = end >= len(data)  # no newline after it: the file ends inside this line
            event_id = _event_id(raw) if not last else None
            if event_id is None:
                scan.torn.append(TornLine(offset, len(raw), last, raw[:80].decode("utf-8", errors="replace")))
            else:
                scan.copies[event_id] += 1
                scan.lines.setdefault(event_id, []).append(raw.decode())
        offset = end + 1
    return scan


def _event_id(raw: bytes) -> str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None
