"""Refunds: their status per shop and refund id, the details read, the event each one produced, and — while
one waits — its settling state: what it waits for, since when, how many reads found it waiting, the next."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from msgspec import Struct

from shopify_bridge.decide.decisions import RefundStep
from shopify_bridge.decide.settling import RecordedRefund
from shopify_bridge.store.db import Sql
from shopify_bridge.store.sql import in_chunks, marks
from shopify_bridge.timeutil import iso, parse_ts


class StoredRefund(Struct, frozen=True):
    refund_id: str
    gid: str
    status: str
    detail: dict[str, Any] | None  # the details last read (None: never read)
    waits_for: str | None
    next_read_at: datetime | None

    def read_later(self, now: datetime) -> bool:
        """A waiting refund with details whose next read has not come: its details are not asked again."""
        return (
            self.status == "waiting" and self.detail is not None and self.waits_for in ("details", "pending")
            and self.next_read_at is not None and self.next_read_at > now
        )


class DueRefund(Struct, frozen=True):
    """A waiting refund whose next read has come, with its order."""

    refund_id: str
    gid: str
    order_id: str
    recorded: RecordedRefund


class Refunds:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def recorded(self, shop: str, refund_ids: Sequence[str]) -> dict[str, RecordedRefund]:
        """What is recorded of each of `refund_ids` that is recorded."""
        if not refund_ids:
            return {}
        marks = ", ".join("?" * len(refund_ids))
        rows = self.sql.all(
            "SELECT refund_id, status, waits_for, waiting_since, read_attempts FROM refunds "
            f"WHERE shop = ? AND refund_id IN ({marks})",
            (shop, *refund_ids),
        )
        return {str(r): RecordedRefund(str(s), w, since, int(n or 0)) for r, s, w, since, n in rows}

    def of_order(self, shop: str, order_id: str) -> list[StoredRefund]:
        """The order's recorded refunds with the details last read of each."""
        return self.of_orders(shop, [order_id]).get(order_id, [])

    def of_orders(self, shop: str, order_ids: Sequence[str]) -> dict[str, list[StoredRefund]]:
        """`of_order` of several orders, read together; orders without a recorded refund are left out."""
        found: dict[str, list[StoredRefund]] = {}
        for ids in in_chunks(order_ids):
            rows = self.sql.all(
                "SELECT order_id, refund_id, gid, status, detail, waits_for, next_read_at FROM refunds "
                f"WHERE shop = ? AND order_id IN ({marks(len(ids))}) ORDER BY order_id, refund_id",
                (shop, *ids),
            )
            for order_id, r, gid, status, detail, waits_for, next_read in rows:
                found.setdefault(str(order_id), []).append(StoredRefund(
                    str(r), str(gid), str(status), orjson.loads(detail) if detail else None, waits_for,
                    parse_ts(next_read) if next_read else None,
                ))
        return found

    def due(self, shop: str, now: datetime, limit: int) -> list[DueRefund]:
        """Waiting refunds of decided orders of `shop` whose next read has come, the longest overdue first.
        A refund waiting for its Placed Order is not read on its own; one recorded before its settling state
        was (no `waits_for`) is due at once."""
        rows = self.sql.all(
            "SELECT r.refund_id, r.gid, r.order_id, r.status, r.waits_for, r.waiting_since, r.read_attempts "
            "FROM refunds r JOIN orders o ON o.shop = r.shop AND o.order_id = r.order_id "
            "WHERE r.shop = ? AND r.status = 'waiting' AND o.status IN ('released', 'history', 'gone') "
            "AND (r.waits_for IS NULL OR r.waits_for <> 'placed_order') "
            "AND (r.next_read_at IS NULL OR r.next_read_at <= ?) "
            "ORDER BY r.next_read_at NULLS FIRST, r.refund_id LIMIT ?",  # PostgreSQL sorts NULLs last otherwise
            (shop, iso(now), limit),
        )
        return [
            DueRefund(str(r), str(gid), str(order), RecordedRefund(str(s), w, since, int(n or 0)))
            for r, gid, order, s, w, since, n in rows
        ]

    def record(self, shop: str, order_id: str, step: RefundStep, event_seq: int | None) -> None:
        """Write one refund's step: recorded when first seen, else its new details, status and wait."""
        wait = step.wait
        settling = (
            (wait.waits_for, wait.since, wait.attempts, iso(wait.next_read_at) if wait.next_read_at else None)
            if wait is not None
            else (None, None, 0, None)
        )
        if step.first_seen:
            self.sql.run(
                "INSERT INTO refunds (shop, refund_id, order_id, gid, timestamp, status, detail, event_seq, "
                "waits_for, waiting_since, read_attempts, next_read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (shop, step.refund_id, order_id, step.gid, step.timestamp, step.status, step.detail, event_seq,
                 *settling),
            )
            return
        if step.detail is not None:
            self.sql.run(
                "UPDATE refunds SET detail = ?, timestamp = ? WHERE shop = ? AND refund_id = ?",
                (step.detail, step.timestamp, shop, step.refund_id),
            )
        if step.status_changed:
            self.sql.run(
                "UPDATE refunds SET status = ?, event_seq = ? WHERE shop = ? AND refund_id = ?",
                (step.status, event_seq, shop, step.refund_id),
            )
        if step.status_changed or wait is not None:
            self.sql.run(
                "UPDATE refunds SET waits_for = ?, waiting_since = ?, read_attempts = ?, next_read_at = ? "
                "WHERE shop = ? AND refund_id = ?",
                (*settling, shop, step.refund_id),
            )
