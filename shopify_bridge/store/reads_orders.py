"""Reads about orders for commands: one order's whole story (`explain`), what reconcile counts, and
the store's totals (the demo's running summary)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import orjson

from shopify_bridge.timeutil import parse_ts, shopify_ts


class OrderRecord(TypedDict):
    """An `orders` row (in column order) and the name of its source."""

    shop: str
    order_id: str
    gid: str
    name: str
    processed_at: str
    updated_at: str
    first_seen_at: str
    total: str | None
    status: str  # new | held | released | excluded | history | gone
    release_at: str | None
    released_at: str | None
    built_version: int | None
    exclusion_rule: str | None
    exclusion_value: str | None
    placed_event_seq: int | None
    source_name: str | None


_ORDER_COLUMNS = tuple(name for name in OrderRecord.__annotations__ if name != "source_name")


class StoredVersion(TypedDict):
    version: int
    updated_at: str
    fetched_at: str
    origin: str  # poll | sweep | resync | read | bulk
    doc: dict[str, Any]  # the normalized order document


class RefundRecord(TypedDict):
    refund_id: str
    timestamp: str | None
    status: str


class DeliveryRecord(TypedDict):
    destination: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    next_attempt_at: str | None


class OrderEvent(TypedDict):
    event_id: str
    event_name: str
    created_at: str
    payload: Any  # the event as sent (parsed JSON)
    deliveries: list[DeliveryRecord]


@dataclass(frozen=True)
class OrderOutcome:
    """One order as reconcile counts it: its status and how its Placed Order's deliveries stand."""

    order_id: str
    name: str
    processed_at: datetime
    status: str
    deliveries: int
    delivered: int
    dead: int


@dataclass(frozen=True)
class SourceConnection:
    """When a source first connected (None: never yet) and its shop's timezone (None: not read yet)."""

    first_connected_at: datetime | None
    timezone: str | None


@dataclass(frozen=True)
class StoreTotals:
    orders_by_status: dict[str, int]
    events_by_name: dict[str, int]
    delivered: int


_OUTCOMES_SQL = """
SELECT o.order_id, o.name, o.processed_at, o.status,
       (SELECT COUNT(*) FROM deliveries d WHERE d.event_seq = o.placed_event_seq),
       (SELECT COUNT(*) FROM deliveries d WHERE d.event_seq = o.placed_event_seq AND d.state = 'delivered'),
       (SELECT COUNT(*) FROM deliveries d WHERE d.event_seq = o.placed_event_seq AND d.state = 'dead')
FROM orders o WHERE o.shop = ? AND o.processed_at >= ?
"""


class OrderReads:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _dicts(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def orders_matching(self, *, order_id: str, name: str, gid: str) -> list[OrderRecord]:
        """Every stored order (any source) with this numeric id, name or gid."""
        columns = ", ".join(f"o.{c}" for c in _ORDER_COLUMNS)
        rows = self._dicts(
            f"SELECT {columns}, s.name AS source_name FROM orders o LEFT JOIN sources s ON s.shop = o.shop "
            "WHERE o.order_id = ? OR o.name = ? OR o.gid = ?",
            (order_id, name, gid),
        )
        return [OrderRecord(**row) for row in rows]  # type: ignore[typeddict-item]

    def versions(self, shop: str, order_id: str) -> list[StoredVersion]:
        rows = self.conn.execute(
            "SELECT version, updated_at, fetched_at, origin, doc FROM order_versions "
            "WHERE shop = ? AND order_id = ? ORDER BY version",
            (shop, order_id),
        ).fetchall()
        return [
            StoredVersion(version=int(v), updated_at=u, fetched_at=f, origin=o, doc=orjson.loads(doc))
            for v, u, f, o, doc in rows
        ]

    def refunds(self, shop: str, order_id: str) -> list[RefundRecord]:
        rows = self.conn.execute(
            "SELECT refund_id, timestamp, status FROM refunds WHERE shop = ? AND order_id = ? ORDER BY refund_id",
            (shop, order_id),
        ).fetchall()
        return [RefundRecord(refund_id=r, timestamp=t, status=s) for r, t, s in rows]

    def events(self, shop: str, order_id: str) -> list[OrderEvent]:
        """The order's events (Placed Order, refunds) in creation order, each with its deliveries."""
        rows = self.conn.execute(
            "SELECT seq, event_id, event_name, created_at, payload FROM events "
            "WHERE shop = ? AND order_id = ? ORDER BY seq",
            (shop, order_id),
        ).fetchall()
        out = []
        for seq, event_id, name, created_at, payload in rows:
            deliveries = self._dicts(
                "SELECT destination, state, attempts, last_status, last_error, delivered_at, next_attempt_at "
                "FROM deliveries WHERE event_seq = ? ORDER BY destination",
                (seq,),
            )
            out.append(
                OrderEvent(
                    event_id=event_id, event_name=name, created_at=created_at, payload=orjson.loads(payload),
                    deliveries=[DeliveryRecord(**d) for d in deliveries],  # type: ignore[typeddict-item]
                )
            )
        return out

    def outcomes(self, shop: str, since: datetime) -> list[OrderOutcome]:
        """The shop's orders processed since `since`, with the state of their Placed Order's deliveries."""
        # processed_at is stored as Shopify sends it ("…Z"): the bound is written the same way.
        rows = self.conn.execute(_OUTCOMES_SQL, (shop, shopify_ts(since))).fetchall()
        return [
            OrderOutcome(str(oid), str(name), parse_ts(processed), str(status), int(total), int(done), int(dead))
            for oid, name, processed, status, total, done, dead in rows
        ]

    def source_connection(self, shop: str) -> SourceConnection | None:
        """None when the source is not in the store at all."""
        row = self.conn.execute("SELECT first_connected_at, timezone FROM sources WHERE shop = ?", (shop,)).fetchone()
        if row is None:
            return None
        return SourceConnection(parse_ts(row[0]) if row[0] else None, row[1])

    def totals(self) -> StoreTotals:
        by_status = self.conn.execute("SELECT status, COUNT(*) FROM orders GROUP BY status")
        by_name = self.conn.execute("SELECT event_name, COUNT(*) FROM events GROUP BY event_name")
        statuses = {str(status): int(n) for status, n in by_status}
        names = {str(name): int(n) for name, n in by_name}
        (delivered,) = self.conn.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'").fetchone()
        return StoreTotals(statuses, names, int(delivered))
