"""What a Prometheus scrape reads from the store, cheaply, on a read-only connection of its own.

Only indexed queries run per scrape. On SQLite the totals of the append-only tables (orders,
versions, events) grow by seq/rowid ranges: each scrape counts only what was added since the previous
one, so its cost follows the write rate, not the size of the store. On PostgreSQL several processes
commit at once and a seq can become visible after a higher one, so a high-water mark could skip rows
for good: there each scrape counts the tables whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shopify_bridge.store import postgres
from shopify_bridge.store.db import SqliteSql
from shopify_bridge.store.sql import Sql, StoreError, is_postgres_url
from shopify_bridge.timeutil import parse_ts

SCRAPE_BUSY_TIMEOUT_MS = 2000  # a scrape gives up rather than hang the /metrics request

# Per append-only table: labels..., count and the highest seq/rowid of the rows added after `?`.
_GROWTH_SQL = {
    "orders": "SELECT shop, COUNT(*), MAX(rowid) FROM orders WHERE rowid > ? GROUP BY shop",
    "versions": "SELECT shop, COUNT(*), MAX(seq) FROM order_versions WHERE seq > ? GROUP BY shop",
    "events": "SELECT shop, event_name, COUNT(*), MAX(seq) FROM events WHERE seq > ? GROUP BY shop, event_name",
}
# PostgreSQL: labels..., count, over the whole table.
_COUNT_SQL = {
    "orders": "SELECT shop, COUNT(*) FROM orders GROUP BY shop",
    "versions": "SELECT shop, COUNT(*) FROM order_versions GROUP BY shop",
    "events": "SELECT shop, event_name, COUNT(*) FROM events GROUP BY shop, event_name",
}


@dataclass(frozen=True)
class StoreScrape:
    """One scrape's view of the store (shops as stored; sources are named by the caller)."""

    orders: dict[tuple[str, ...], int]  # (shop,) -> orders stored
    versions: dict[tuple[str, ...], int]  # (shop,) -> versions stored
    events: dict[tuple[str, ...], int]  # (shop, event name) -> events stored
    held: dict[str, int]  # shop -> orders on hold
    deliveries: dict[tuple[str, str], int]  # (destination, state) -> deliveries, for the states asked
    oldest_pending: dict[str, datetime | None]  # destination -> creation of its oldest pending delivery
    by_shop: dict[tuple[str, str], int]  # (shop, state) -> outstanding deliveries of its events, for the states asked
    buckets: tuple[tuple[str, float, float], ...]  # (shop, available, maximum) where known


class StoreScraper:
    """Reads the store at scrape time; not thread-safe (the collector holds a lock)."""

    def __init__(self, database: Path | str) -> None:
        self.database = database
        self._sql: Sql | None = None
        # Append-only tables: running totals per label set, and the last seq/rowid counted.
        self._totals: dict[str, dict[tuple[str, ...], int]] = {table: {} for table in _GROWTH_SQL}
        self._counted: dict[str, int] = dict.fromkeys(_GROWTH_SQL, 0)

    def close(self) -> None:
        if self._sql is not None:
            self._sql.close()
            self._sql = None

    def scrape(self, destinations: Iterable[str], states: Iterable[str]) -> StoreScrape | None:
        """The store's numbers from one snapshot; None when there is no store yet or it cannot be read now
        (mid-migration, locked past the timeout): that scrape goes without them."""
        sql = self._connection()
        if sql is None:
            return None
        try:
            return self._read(sql, tuple(destinations), tuple(states))
        except sql.errors:
            self.close()
            return None

    def _connection(self) -> Sql | None:
        if self._sql is None:
            if is_postgres_url(self.database):
                try:
                    self._sql = postgres.connect(str(self.database), read_only=True)
                except StoreError:
                    return None
                return self._sql
            path = Path(self.database)
            if not path.exists():
                return None
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {SCRAPE_BUSY_TIMEOUT_MS}")
            self._sql = SqliteSql(conn)
        return self._sql

    def _read(self, sql: Sql, destinations: tuple[str, ...], states: tuple[str, ...]) -> StoreScrape:
        with sql.snapshot():  # one snapshot for every number of this scrape
            for table in _GROWTH_SQL:
                if sql.dialect.postgres:
                    self._count(sql, table)
                else:
                    self._grow(sql, table)
            held = {
                str(shop): int(n)
                for shop, n in sql.all("SELECT shop, COUNT(*) FROM orders WHERE status = 'held' GROUP BY shop")
            }
            deliveries: dict[tuple[str, str], int] = {}
            by_shop: dict[tuple[str, str], int] = {}
            oldest: dict[str, datetime | None] = {}
            for destination in destinations:
                for state in states:
                    # Indexed on (destination, state): the cost follows what is outstanding, not the table.
                    per_shop = sql.all(
                        "SELECT e.shop, COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq "
                        "WHERE d.destination = ? AND d.state = ? GROUP BY e.shop", (destination, state)
                    )
                    deliveries[(destination, state)] = sum(int(count) for _, count in per_shop)
                    for shop, count in per_shop:
                        by_shop[(str(shop), state)] = by_shop.get((str(shop), state), 0) + int(count)
                (first,) = sql.one(
                    "SELECT MIN(created_at) FROM deliveries WHERE destination = ? AND state = 'pending'",
                    (destination,),
                ) or (None,)
                oldest[destination] = parse_ts(first) if first else None
            buckets = tuple(
                (str(shop), float(level), float(size))
                for shop, level, size in sql.all(
                    "SELECT shop, bucket_available, bucket_max FROM sources WHERE bucket_max IS NOT NULL ORDER BY shop"
                )
            )
        return StoreScrape(
            orders=dict(self._totals["orders"]),
            versions=dict(self._totals["versions"]),
            events=dict(self._totals["events"]),
            held=held,
            deliveries=deliveries,
            oldest_pending=oldest,
            by_shop=by_shop,
            buckets=buckets,
        )

    def _count(self, sql: Sql, table: str) -> None:
        """The totals of `table` counted whole (PostgreSQL)."""
        self._totals[table] = {
            tuple(str(label) for label in labels): int(count) for *labels, count in sql.all(_COUNT_SQL[table])
        }

    def _grow(self, sql: Sql, table: str) -> None:
        """Add the rows appended since the last scrape to the running totals of `table` (SQLite)."""
        totals = self._totals[table]
        for *labels, count, last in sql.all(_GROWTH_SQL[table], (self._counted[table],)):
            key = tuple(str(label) for label in labels)
            totals[key] = totals.get(key, 0) + int(count)
            self._counted[table] = max(self._counted[table], int(last))
