"""What an operator may change by hand: release a hold now, replay events. Needs the writing store."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads_events import EventLogReads, EventQuery
from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso


class Operator:
    def __init__(self, conn: sqlite3.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def release_now(self, shop: str, order_id: str, now: datetime) -> bool:
        """Make a held order due at `now` (its source releases it on its next cycle); False when not held."""
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE orders SET release_at = ? WHERE shop = ? AND order_id = ? AND status = 'held'",
                (iso(now), shop, order_id),
            )
        return cur.rowcount > 0

    def replay(self, query: EventQuery, now: datetime, destination: str | None = None) -> int:
        """Put the deliveries `query` picks back to pending, attempts restarted; returns how many.

        With `query.dead` only the dead deliveries, otherwise every delivery of the chosen events (to
        `destination` when given). Same payload, same event_id; refunds still wait for their Placed Order.
        """
        count = 0
        with transaction(self.conn):
            for name, seqs in EventLogReads(self.conn).replay_targets(query, destination).items():
                count += self.outbox.requeue(name, seqs, now)
        return count
