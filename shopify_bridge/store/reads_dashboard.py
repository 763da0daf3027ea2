"""The dashboard's reads: one refresh tick's snapshot (sources, holds, events, exclusions, errors)
and the detail views, as the rows of `dashboard_rows`. Paged and indexed: a tick at 100,000 events and
1,000 holds stays within tens of milliseconds.

Read-only. The caller (the TUI's data layer, on a worker thread) decides when to read;
`change_counter()` tells whether anything was committed since the last read, and `consistent()`
makes the reads of one tick one snapshot even while the bridge is writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson

from shopify_bridge.store import dashboard_convert as convert
from shopify_bridge.store.dashboard_health import events_per_minute
from shopify_bridge.store.dashboard_rows import (
    Delivery,
    ErrorRow,
    EventDetail,
    EventFilter,
    EventRow,
    ExclusionRow,
    HoldRow,
    OrderDetail,
    OrderVersion,
    Snapshot,
    SourceRow,
)
from shopify_bridge.store.dialect import Dialect
from shopify_bridge.store.sql import Sql
from shopify_bridge.store.writer_heartbeat import read_heartbeat
from shopify_bridge.timeutil import parse_ts, shopify_ts

# Per display state: the condition on a deliveries row, used together with the
# (destination, state, event_seq) index so a state filter never scans all events.
_STATE_CONDITIONS = {
    "delivered": "state = 'delivered'",
    "dead": "state = 'dead'",
    "pending": "state = 'pending' AND attempts = 0",
    "retrying": "state = 'pending' AND attempts > 0",
    "filtered": "state = 'filtered'",
    "skipped": "state = 'skipped'",
}

# A skip-scan over the deliveries index: one probe per destination instead of a full scan.
_DESTINATIONS_SQL = """
WITH RECURSIVE d(name) AS (
  SELECT MIN(destination) FROM deliveries
  UNION ALL
  SELECT (SELECT MIN(destination) FROM deliveries WHERE destination > d.name) FROM d WHERE d.name IS NOT NULL
)
SELECT name FROM d WHERE name IS NOT NULL
"""


def _event_columns(dialect: Dialect) -> str:
    """An event row for the tables: its keys, and the name, money and currency read from its payload."""
    price, refunded = (dialect.json_raw("e.payload", "properties", key) for key in ("total_price", "total_refunded"))
    total = f"COALESCE({price}, {refunded})"
    return (
        "e.seq, e.shop, e.event_id, e.event_name, e.order_id, e.created_at, "
        f"{dialect.json_text('e.payload', 'properties', 'order_name')}, {total}, "
        f"{dialect.json_text('e.payload', 'properties', 'currency')}"
    )


_HOLDS_SQL = """
SELECT o.shop, o.order_id, o.name, o.total, o.release_at, s.currency,
  (SELECT COUNT(*) FROM order_versions v WHERE v.shop = o.shop AND v.order_id = o.order_id),
  (SELECT MAX(version) FROM order_versions v WHERE v.shop = o.shop AND v.order_id = o.order_id)
FROM orders o LEFT JOIN sources s ON s.shop = o.shop
WHERE o.status = 'held'
ORDER BY o.release_at, o.shop, o.order_id
LIMIT ?
"""

MAX_STATE_BATCH = 20_000  # deliveries read per destination and round by a state filter

_DELIVERY_COLUMNS = (
    "event_seq, destination, state, attempts, last_status, last_error, next_attempt_at, delivered_at, reason"
)


class DashboardReads:
    """The dashboard's queries on one read-only connection; not thread-safe (the caller holds a lock)."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._event_columns = _event_columns(sql.dialect)
        # Item counts by (shop, order id, version): versions are immutable, so each doc is parsed once.
        self._item_counts: dict[tuple[str, str, int], int] = {}

    def change_counter(self) -> int:
        """A number that moves when another connection commits (SQLite's `PRAGMA data_version`;
        PostgreSQL's WAL position, which may also move without a commit: one needless re-read)."""
        return self.sql.change_counter()

    @contextmanager
    def consistent(self) -> Iterator[None]:
        """Every read inside sees one snapshot of the store; nested use joins the outer one."""
        with self.sql.snapshot():
            yield

    def snapshot(
        self,
        now: datetime,
        event_filter: EventFilter,
        *,
        events_limit: int = 200,
        holds_limit: int = 1000,
        exclusions_limit: int = 200,
        errors_limit: int = 100,
        dead_limit: int = 200,
    ) -> Snapshot:
        """Everything one refresh tick shows, from one consistent read."""
        with self.consistent():
            destinations = tuple(str(r[0]) for r in self.sql.all(_DESTINATIONS_SQL))
            (holds_total,) = self.sql.one("SELECT COUNT(*) FROM orders WHERE status = 'held'") or (0,)
            events = self._events(destinations, event_filter, events_limit)
            return Snapshot(
                sources=self._sources(now, destinations),
                holds=self._holds(holds_limit),
                events=events,
                recent_events=events
                if event_filter == EventFilter()
                else self._events(destinations, EventFilter(), events_limit),
                exclusions=self._exclusions(exclusions_limit),
                errors=self._errors(errors_limit),
                destinations=destinations,
                event_filter=event_filter,
                dead_letters=self._events(destinations, EventFilter(state="dead"), dead_limit),
                holds_total=int(holds_total),
                events_per_minute=events_per_minute(self.sql, now),
                heartbeat=read_heartbeat(self.sql),
            )

    def _sources(self, now: datetime, destinations: Sequence[str]) -> tuple[SourceRow, ...]:
        pending: dict[str, int] = {}
        dead: dict[str, int] = {}
        for destination in destinations:
            backlog = self.sql.all(
                "SELECT e.shop, d.state, COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq "
                "WHERE d.destination = ? AND d.state IN ('pending', 'in_flight', 'dead') "
                "GROUP BY e.shop, d.state",
                (destination,),
            )
            for shop, state, count in backlog:
                bucket = dead if state == "dead" else pending
                bucket[shop] = bucket.get(shop, 0) + int(count)
        out = []
        rows = self.sql.all(
            "SELECT shop, name, state, state_reason, last_poll_ok_at, cursor, bucket_available, bucket_max, "
            "timezone, progress, last_poll_at FROM sources ORDER BY name, shop"
        )
        for shop, name, state, reason, last_ok, cursor, available, maximum, timezone, progress, last in rows:
            # Today's orders in the shop's own day, as reconcile counts them; processed_at is stored as
            # Shopify sends it ("…Z"), so the bound is written the same way for a plain text range on
            # the (shop, processed_at) index.
            since = shopify_ts(convert.day_start(now, timezone))
            (today,) = self.sql.one(
                "SELECT COUNT(*) FROM orders WHERE shop = ? AND processed_at >= ?", (shop, since)
            ) or (0,)
            out.append(
                SourceRow(
                    shop=shop,
                    name=name,
                    state=state,
                    state_reason=reason,
                    last_poll_ok_at=convert.ts(last_ok),
                    cursor=cursor,
                    orders_today=int(today),
                    bucket_available=available,
                    bucket_max=maximum,
                    pending_deliveries=pending.get(shop, 0),
                    dead_deliveries=dead.get(shop, 0),
                    progress=progress if state == "backfilling" else None,
                    last_poll_at=convert.ts(last),
                )
            )
        return tuple(out)

    def _holds(self, limit: int) -> tuple[HoldRow, ...]:
        out = []
        for shop, order_id, name, total, release_at, currency, versions, newest in self.sql.all(
            _HOLDS_SQL, (limit,)
        ):
            out.append(
                HoldRow(
                    shop=shop,
                    order_id=order_id,
                    name=name,
                    total=convert.money(total),
                    currency=currency,
                    item_count=self._item_count(shop, order_id, newest),
                    release_at=convert.ts(release_at),
                    versions=int(versions),
                )
            )
        return tuple(out)

    def _item_count(self, shop: str, order_id: str, version: int | None) -> int:
        if version is None:
            return 0
        key = (shop, order_id, int(version))
        if key not in self._item_counts:
            row = self.sql.one(
                "SELECT doc FROM order_versions WHERE shop = ? AND order_id = ? AND version = ?", key
            )
            self._item_counts[key] = convert.item_count(orjson.loads(row[0])) if row else 0
        return self._item_counts[key]

    def _events(self, destinations: Sequence[str], flt: EventFilter, limit: int) -> tuple[EventRow, ...]:
        if flt.state is not None:
            rows = self._events_in_state(destinations, flt, limit)
        else:
            # Newest first along the primary key, stopping at the page: bounded by one pass over
            # events even when nothing matches.
            where, params = self._event_conditions(flt)
            if flt.before_seq is not None:
                where.append("e.seq < ?")
                params.append(flt.before_seq)
            sql = f"SELECT {self._event_columns} FROM events e"
            sql += (" WHERE " + " AND ".join(where)) if where else ""
            rows = list(self.sql.all(sql + " ORDER BY e.seq DESC LIMIT ?", [*params, limit]))
        return self._with_deliveries(rows)

    def _event_conditions(self, flt: EventFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if flt.shop is not None:
            # Keeps SQLite off events_order (shop, order_id): walking the primary key newest-first
            # and stopping at the page is far cheaper than sorting a shop's events.
            where.append(f"{self.sql.dialect.no_index('e.shop')} = ?")
            params.append(flt.shop)
        if flt.event_name is not None:
            where.append("e.event_name = ?")
            params.append(flt.event_name)
        return where, params

    def _events_in_state(self, destinations: Sequence[str], flt: EventFilter, limit: int) -> list[Sequence[Any]]:
        """A state: walk the deliveries index per destination, newest first, until `limit` events that
        also match the other filters (source, event name).

        Rare states (dead, retrying) are found without touching the other deliveries at all, whatever
        else is filtered; walking all events instead would probe the deliveries of every one of them.
        """
        condition = _STATE_CONDITIONS[flt.state or ""]
        where, params = self._event_conditions(flt)
        also = "".join(f" AND {clause}" for clause in where)
        upper = flt.before_seq if flt.before_seq is not None else 2**62
        batch = max(limit, 100)
        found: list[Sequence[Any]] = []
        while len(found) < limit:
            streams = [
                [
                    r[0]
                    for r in self.sql.all(
                        f"SELECT event_seq FROM deliveries WHERE destination = ? AND {condition} "
                        "AND event_seq < ? ORDER BY event_seq DESC LIMIT ?",
                        (destination, upper, batch),
                    )
                ]
                for destination in destinations
            ]
            full = [stream[-1] for stream in streams if len(stream) == batch]
            # Below the highest last seq of a full stream, that stream may still hold unseen seqs.
            floor = max(full) if full else -1
            seqs = sorted({seq for stream in streams for seq in stream if seq >= floor}, reverse=True)
            if seqs:
                # One parameter instead of one per seq: no limit on SQLite's host parameters.
                dialect = self.sql.dialect
                found.extend(
                    self.sql.all(
                        f"SELECT {self._event_columns} FROM {dialect.id_table()} JOIN events e "
                        f"ON e.seq = j.value{also} ORDER BY e.seq DESC",
                        (dialect.id_list(seqs), *params),
                    )
                )
            if not full:
                break
            upper = floor
            batch = min(batch * 4, MAX_STATE_BATCH)
        return found[:limit]

    def _with_deliveries(self, rows: Sequence[Sequence[Any]]) -> tuple[EventRow, ...]:
        by_seq: dict[int, list[Delivery]] = {int(r[0]): [] for r in rows}
        if by_seq:
            marks = ",".join("?" * len(by_seq))
            for d in self.sql.all(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE event_seq IN ({marks}) ORDER BY destination",
                list(by_seq),
            ):
                by_seq[int(d[0])].append(convert.delivery(d))
        return tuple(
            EventRow(
                seq=int(r[0]),
                shop=r[1],
                event_id=r[2],
                event_name=r[3],
                order_id=r[4],
                created_at=parse_ts(r[5]),
                order_name=r[6],
                total=convert.money(r[7]),
                currency=r[8],
                deliveries=tuple(by_seq[int(r[0])]),
            )
            for r in rows
        )

    def _exclusions(self, limit: int) -> tuple[ExclusionRow, ...]:
        rows = self.sql.all(
            "SELECT shop, order_id, name, exclusion_rule, exclusion_value, processed_at FROM orders "
            "WHERE status = 'excluded' ORDER BY processed_at DESC, order_id DESC LIMIT ?",
            (limit,),
        )
        return tuple(
            ExclusionRow(shop=s, order_id=o, name=n, rule=r, value=v, processed_at=convert.ts(p))
            for s, o, n, r, v, p in rows
        )

    def _errors(self, limit: int) -> tuple[ErrorRow, ...]:
        rows = self.sql.all("SELECT at, shop, kind, message FROM errors ORDER BY seq DESC LIMIT ?", (limit,))
        return tuple(ErrorRow(at=convert.ts(a), shop=s, kind=k, message=m) for a, s, k, m in rows)

    # -- detail views -------------------------------------------------------------------------

    def event_detail(self, seq: int) -> EventDetail | None:
        with self.consistent():
            row = self.sql.one(f"SELECT {self._event_columns} FROM events e WHERE e.seq = ?", (seq,))
            if row is None:
                return None
            (event,) = self._with_deliveries([row])
            timestamp, payload = self.sql.one("SELECT timestamp, payload FROM events WHERE seq = ?", (seq,)) or ("", "")
            return EventDetail(event=event, timestamp=timestamp, payload=payload)

    def order_detail(self, shop: str, order_id: str) -> OrderDetail | None:
        with self.consistent():
            row = self.sql.one(
                "SELECT o.name, o.status, o.total, o.release_at, s.currency FROM orders o "
                "LEFT JOIN sources s ON s.shop = o.shop WHERE o.shop = ? AND o.order_id = ?",
                (shop, order_id),
            )
            if row is None:
                return None
            versions = self.sql.all(
                "SELECT version, updated_at, fetched_at, origin, doc FROM order_versions "
                "WHERE shop = ? AND order_id = ? ORDER BY version",
                (shop, order_id),
            )
        doc: dict[str, Any] = orjson.loads(versions[-1][4]) if versions else {}
        return OrderDetail(
            shop=shop,
            order_id=order_id,
            name=row[0],
            status=row[1],
            total=convert.money(row[2]),
            currency=row[4],
            release_at=convert.ts(row[3]),
            items=tuple(convert.line_item(item) for item in doc.get("lineItems") or []),
            versions=tuple(OrderVersion(int(v[0]), v[1], v[2], v[3]) for v in versions),
        )
