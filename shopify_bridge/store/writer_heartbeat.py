"""The writer's heartbeat: the bridge's pid and the time, in `meta`, so that a dashboard in another
process (`tui --attach`) can tell a live writer from a store nobody is updating any more.

One row, `meta.writer_heartbeat`, JSON `{"pid": 1234, "at": "2026-05-01T12:00:00+00:00"}`, rewritten every
few seconds by the bridge (`Bridge.run`); read by `reads_dashboard.DashboardReads.heartbeat`.
"""

from __future__ import annotations

import json
from datetime import datetime

from msgspec import Struct

from shopify_bridge.store.sql import Sql, StoreError
from shopify_bridge.timeutil import iso, parse_ts

HEARTBEAT_KEY = "writer_heartbeat"


# Here rather than with the dashboard's rows, which the bridge itself never needs to import.
class Heartbeat(Struct, frozen=True):
    """What the writing bridge last said about itself (`meta.writer_heartbeat`): its pid and when."""

    pid: int
    at: datetime


def record_heartbeat(sql: Sql, pid: int, now: datetime) -> None:
    """Write the beat; a database error comes back as StoreError (the caller logs it and goes on)."""
    value = json.dumps({"pid": pid, "at": iso(now)})
    try:
        with sql.transaction():
            sql.run(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (HEARTBEAT_KEY, value),
            )
    except StoreError:
        raise  # already ours, as a server out of reach (StoreUnavailable) is
    except sql.errors as exc:
        raise StoreError(f"heartbeat not written: {exc}") from exc


def read_heartbeat(sql: Sql) -> Heartbeat | None:
    """The last heartbeat, or None when no bridge ever wrote one (or it cannot be read)."""
    row = sql.one("SELECT value FROM meta WHERE key = ?", (HEARTBEAT_KEY,))
    if row is None:
        return None
    try:
        data = json.loads(row[0])
        return Heartbeat(pid=int(data["pid"]), at=parse_ts(str(data["at"])))
    except (ValueError, KeyError, TypeError):
        return None
