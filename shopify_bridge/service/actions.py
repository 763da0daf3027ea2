"""Operator actions on a running bridge (used by the dashboard): release a hold now, replay an event.

Both only change rows in the store through the bridge's own writer connection and wake the
loop that acts on them, so the dashboard never writes behind the bridge's back.
"""

from __future__ import annotations

from typing import Any

from shopify_bridge.deliver.outbox import requeue
from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso


class BridgeActions:
    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge

    async def release_now(self, shop: str, order_id: str) -> None:
        """Make a held order due now; its source releases it (re-read by id) on the next cycle."""
        conn = self.bridge.db.conn
        with transaction(conn):
            conn.execute(
                "UPDATE orders SET release_at = ? WHERE shop = ? AND order_id = ? AND status = 'held'",
                (iso(self.bridge.clock()), shop, order_id),
            )
        self.bridge.wake_source(shop)

    async def replay(self, event_seq: int, destination: str) -> None:
        requeue(self.bridge.db.conn, destination, [event_seq], self.bridge.clock())
        self.bridge.deliverer.wake.set()
