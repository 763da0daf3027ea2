"""What an operator may change by hand: release a hold now, replay events, pause a source. Needs the writing store."""

from __future__ import annotations

from datetime import datetime

from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads_events import EventLogReads, EventQuery
from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso

PAUSED_REASON = "paused by the operator"


class Operator:
    def __init__(self, sql: Sql, outbox: Outbox) -> None:
        self.sql = sql
        self.outbox = outbox

    def release_now(self, shop: str, order_id: str, now: datetime) -> bool:
        """Make a held order due at `now` (its source releases it on its next cycle); False when not held."""
        with self.sql.transaction():
            changed = self.sql.run(
                "UPDATE orders SET release_at = ? WHERE shop = ? AND order_id = ? AND status = 'held'",
                (iso(now), shop, order_id),
            )
        return changed > 0

    def replay(self, query: EventQuery, now: datetime, destination: str | None = None) -> int:
        """Put the deliveries `query` picks back to pending, attempts restarted; returns how many.

        With `query.dead` only the dead deliveries, otherwise every delivery of the chosen events (to
        `destination` when given). Same payload, same event_id; refunds still wait for their Placed Order.
        """
        count = 0
        with self.sql.transaction():
            for name, seqs in EventLogReads(self.sql).replay_targets(query, destination).items():
                count += self.outbox.requeue(name, seqs, now)
        return count

    def show_source_paused(self, shop: str, paused: bool) -> bool:
        """Show a source as paused (state `paused`), or as waiting for its next poll again (`idle`).

        Only what dashboards read: the bridge's source loop is what honours the pause (`Bridge.pause_source`),
        and its next poll writes the source's real state over `idle`. False when the source is unknown.
        """
        with self.sql.transaction():
            if paused:
                changed = self.sql.run(
                    "UPDATE sources SET state = 'paused', state_reason = ? WHERE shop = ?", (PAUSED_REASON, shop)
                )
            else:
                changed = self.sql.run(
                    "UPDATE sources SET state = 'idle', state_reason = NULL WHERE shop = ? AND state = 'paused'",
                    (shop,),
                )
        return changed > 0
