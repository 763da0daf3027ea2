"""Refunds: their status per shop and refund id, the details read, and the event each one produced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from shopify_bridge.decide.decisions import RefundStep
from shopify_bridge.store.db import Sql


class Refunds:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def statuses(self, shop: str, refund_ids: Sequence[str]) -> dict[str, str]:
        """The recorded status of each of `refund_ids` that is recorded."""
        if not refund_ids:
            return {}
        marks = ", ".join("?" * len(refund_ids))
        rows = self.sql.all(
            f"SELECT refund_id, status FROM refunds WHERE shop = ? AND refund_id IN ({marks})", (shop, *refund_ids)
        )
        return {str(refund_id): str(status) for refund_id, status in rows}

    def settled_details(self, shop: str, order_id: str) -> dict[str, dict[str, Any]]:
        """Refund details already read, keyed by refund gid, for refunds whose money is settled (not waiting):
        a waiting refund's details are read again, the others' never change."""
        rows = self.sql.all(
            "SELECT gid, detail FROM refunds WHERE shop = ? AND order_id = ? AND detail IS NOT NULL "
            "AND status <> 'waiting'",
            (shop, order_id),
        )
        return {str(gid): orjson.loads(detail) for gid, detail in rows}

    def record(self, shop: str, order_id: str, step: RefundStep, event_seq: int | None) -> None:
        """Write one refund's step: recorded when first seen, else its new details and status."""
        if step.first_seen:
            self.sql.run(
                "INSERT INTO refunds (shop, refund_id, order_id, gid, timestamp, status, detail, event_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (shop, step.refund_id, order_id, step.gid, step.timestamp, step.status, step.detail, event_seq),
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
