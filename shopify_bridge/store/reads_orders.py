"""Reads about orders for commands: one order's whole story (`explain`), what reconcile counts, and
the store's totals (the demo's running summary)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import orjson

from shopify_bridge.store.sql import Sql
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
    origin: str  # poll | read | bulk
    doc: dict[str, Any]  # the normalized order document


class RefundRecord(TypedDict):
    refund_id: str
    timestamp: str | None
    status: str  # waiting | evented | zero_amount_refund | refund_unsettled | excluded | history
    waits_for: str | None  # while waiting: placed_order | details | pending
    waiting_since: str | None
    read_attempts: int  # reads that found it still waiting
    next_read_at: str | None


class DeliveryRecord(TypedDict):
    destination: str
    state: str  # pending | in_flight | delivered | dead | filtered | skipped
    reason: str | None  # filtered: the key that matched; skipped: the payload rule
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


class StoredEvent(TypedDict):
    """An event's exact stored JSON and order facts, for rebuilding its destination payloads (`explain`)."""

    event_id: str
    payload: str
    facts: str | None


@dataclass(frozen=True)
class OrderOutcome:
    """One order as reconcile counts it: its status and how its Placed Order's deliveries stand."""

    order_id: str
    name: str
    processed_at: datetime
    status: str
    deliveries: int
    delivered: int  # done with: delivered, or kept out by the destination (filtered, skipped)
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
       (SELECT COUNT(*) FROM deliveries d WHERE d.event_seq = o.placed_event_seq
          AND d.state IN ('delivered', 'filtered', 'skipped')),
       (SELECT COUNT(*) FROM deliveries d WHERE d.event_seq = o.placed_event_seq AND d.state = 'dead')
FROM orders o WHERE o.shop = ? AND o.processed_at >= ?
"""


class OrderReads:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def _dicts(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        return self.sql.dicts(sql, params)

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
        rows = self.sql.all(
            "SELECT version, updated_at, fetched_at, origin, doc FROM order_versions "
            "WHERE shop = ? AND order_id = ? ORDER BY version",
            (shop, order_id),
        )
        return [
            StoredVersion(version=int(v), updated_at=u, fetched_at=f, origin=o, doc=orjson.loads(doc))
            for v, u, f, o, doc in rows
        ]

    def refunds(self, shop: str, order_id: str) -> list[RefundRecord]:
        """The order's refunds, each with its settling state while it waits."""
        rows = self._dicts(
            "SELECT refund_id, timestamp, status, waits_for, waiting_since, read_attempts, next_read_at "
            "FROM refunds WHERE shop = ? AND order_id = ? ORDER BY refund_id",
            (shop, order_id),
        )
        return [RefundRecord(**{**row, "read_attempts": int(row["read_attempts"] or 0)}) for row in rows]  # type: ignore[typeddict-item]

    def events(self, shop: str, order_id: str) -> list[OrderEvent]:
        """The order's events (Placed Order, refunds) in creation order, each with its deliveries."""
        rows = self.sql.all(
            "SELECT seq, event_id, event_name, created_at, payload FROM events "
            "WHERE shop = ? AND order_id = ? ORDER BY seq",
            (shop, order_id),
        )
        out = []
        for seq, event_id, name, created_at, payload in rows:
            deliveries = self._dicts(
                "SELECT destination, state, reason, attempts, last_status, last_error, delivered_at, next_attempt_at "
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

    def stored_events(self, shop: str, order_id: str) -> list[StoredEvent]:
        """The order's events as stored (exact JSON text, order facts), in creation order."""
        rows = self.sql.all(
            "SELECT event_id, payload, facts FROM events WHERE shop = ? AND order_id = ? ORDER BY seq",
            (shop, order_id),
        )
        return [StoredEvent(event_id=str(e), payload=str(p), facts=f) for e, p, f in rows]

    def outcomes(self, shop: str, since: datetime) -> list[OrderOutcome]:
        """The shop's orders processed since `since`, with the state of their Placed Order's deliveries."""
        # processed_at is stored as Shopify sends it ("…Z"): the bound is written the same way.
        rows = self.sql.all(_OUTCOMES_SQL, (shop, shopify_ts(since)))
        return [
            OrderOutcome(str(oid), str(name), parse_ts(processed), str(status), int(total), int(done), int(dead))
            for oid, name, processed, status, total, done, dead in rows
        ]

    def source_connection(self, shop: str) -> SourceConnection | None:
        """None when the source is not in the store at all."""
        row = self.sql.one("SELECT first_connected_at, timezone FROM sources WHERE shop = ?", (shop,))
        if row is None:
            return None
        return SourceConnection(parse_ts(row[0]) if row[0] else None, row[1])

    def totals(self) -> StoreTotals:
        by_status = self.sql.all("SELECT status, COUNT(*) FROM orders GROUP BY status")
        by_name = self.sql.all("SELECT event_name, COUNT(*) FROM events GROUP BY event_name")
        statuses = {str(status): int(n) for status, n in by_status}
        names = {str(name): int(n) for name, n in by_name}
        (delivered,) = self.sql.one("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'") or (0,)
        return StoreTotals(statuses, names, int(delivered))

    def held_count(self, shop: str) -> int:
        """Orders of the shop waiting in an upsell hold."""
        (count,) = self.sql.one("SELECT COUNT(*) FROM orders WHERE shop = ? AND status = 'held'", (shop,)) or (0,)
        return int(count)

    def highest_numbers(self) -> tuple[int, int]:
        """The highest numeric order id and the highest order number (`#1041` -> 1041) stored; 0 when none."""
        highest_id, highest_number = 0, 0
        for order_id, name in self.sql.all("SELECT order_id, name FROM orders"):
            if str(order_id).isdigit():
                highest_id = max(highest_id, int(order_id))
            digits = str(name).lstrip("#")
            if digits.isdigit():
                highest_number = max(highest_number, int(digits))
        return highest_id, highest_number
