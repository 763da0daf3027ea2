"""Events: inserted once per event_id, with one outbox row per destination in the same transaction.

A destination that does not take the event (`NewEvent.kept_out`: filtered by its keys, or skipped by its
payload rules) gets its row in that state with the reason, never `pending`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from msgspec import Struct

from shopify_bridge.decide.decisions import NewEvent
from shopify_bridge.store.db import Sql
from shopify_bridge.store.outbox import ERROR_MAX_CHARS
from shopify_bridge.timeutil import iso


class EventSummary(Struct, frozen=True):
    """What a log line may say of an event: never its payload (it holds customer data)."""

    seq: int
    event_name: str
    event_id: str
    order_name: str | None


class Events:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def create(self, event: NewEvent, now: datetime) -> int | None:
        """Insert `event` and its pending deliveries; its seq, or None when its event_id exists already."""
        at = iso(now)
        with self.sql.transaction():
            row = self.sql.returning(
                "INSERT INTO events (shop, event_id, event_name, order_id, refund_id, timestamp, created_at, payload, "
                "facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop, event_id) DO NOTHING RETURNING seq",
                (event.shop, event.event_id, event.event_name, event.order_id, event.refund_id, event.timestamp, at,
                 event.payload, event.facts),
            )
            if row is None:
                return None
            seq = int(row[0])
            rows: list[tuple[int, str, str, str | None, str | None, str, str | None]] = []
            for destination in event.destinations:
                why = event.kept_out_of(destination)
                if why is None:
                    rows.append((seq, destination, "pending", None, None, at, at))
                else:
                    rows.append((seq, destination, why.state, why.reason, why.detail[:ERROR_MAX_CHARS], at, None))
            self.sql.run_many(
                "INSERT INTO deliveries (event_seq, destination, state, reason, last_error, created_at, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return seq

    def summaries(self, seqs: Sequence[int]) -> list[EventSummary]:
        """The events `seqs` (those that exist), in the order asked, each with its order's name."""
        found: list[EventSummary] = []
        for seq in seqs:
            row = self.sql.one(
                "SELECT e.event_name, e.event_id, o.name FROM events e "
                "LEFT JOIN orders o ON o.shop = e.shop AND o.order_id = e.order_id WHERE e.seq = ?",
                (seq,),
            )
            if row is not None:
                found.append(EventSummary(seq, str(row[0]), str(row[1]), row[2]))
        return found
