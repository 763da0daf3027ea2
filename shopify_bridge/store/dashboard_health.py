"""The dashboard's health line: how many events the bridge created per minute over the last hour.

`events.created_at` has no index, but it grows with `seq` (the one writer stamps each event as it
inserts it), so the first event of the hour is found by a binary search on the primary key and only
that hour's rows are counted: a tick costs the same at 100 events as at 10 million.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso, parse_ts

MINUTES = 60


def _first_seq_since(sql: Sql, since: str) -> int | None:
    """The smallest seq created at or after `since` (an `iso` string), assuming created_at grows with seq."""
    # Two queries: SQLite answers a lone MIN or MAX from the key, but both at once with a full scan.
    (low,) = sql.one("SELECT MIN(seq) FROM events") or (None,)
    if low is None:
        return None
    (high,) = sql.one("SELECT MAX(seq) FROM events") or (low,)
    high += 1
    while low < high:
        middle = (low + high) // 2
        row = sql.one("SELECT seq, created_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", (middle,))
        if row is None or row[1] >= since:
            high = middle
        else:
            low = int(row[0]) + 1
    return int(low)


def events_per_minute(sql: Sql, now: datetime) -> tuple[int, ...]:
    """Events created in each of the last 60 minutes, oldest first; the last one is the minute `now` is in."""
    this_minute = now.replace(second=0, microsecond=0)
    start = this_minute - timedelta(minutes=MINUTES - 1)
    counts = [0] * MINUTES
    first = _first_seq_since(sql, iso(start))
    if first is None:
        return tuple(counts)
    rows = sql.all(
        "SELECT substr(created_at, 1, 16), COUNT(*) FROM events WHERE seq >= ? AND created_at >= ? GROUP BY 1",
        (first, iso(start)),
    )
    for minute, count in rows:
        index = int((parse_ts(f"{minute}:00+00:00") - start).total_seconds() // 60)
        if 0 <= index < MINUTES:
            counts[index] += int(count)
    return tuple(counts)
