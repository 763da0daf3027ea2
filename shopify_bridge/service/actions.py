"""Operator actions on a running bridge (used by the dashboard): release a hold now, replay an event,
pause or resume a source.

Both only change rows in the store through the bridge's own writer connection and wake the
loop that acts on them, so the dashboard never writes behind the bridge's back.
"""

from __future__ import annotations

from typing import Any

from shopify_bridge.store import Store


class BridgeActions:
    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge
        self.store: Store = bridge.store  # the bridge's own writer connection, not a second one

    async def release_now(self, shop: str, order_id: str) -> None:
        """Make a held order due now; its source releases it (re-read by id) on the next cycle."""
        self.store.operator.release_now(shop, order_id, self.bridge.clock())
        self.bridge.wake_source(shop)

    async def replay(self, event_seq: int, destination: str) -> None:
        """Send the event to `destination` again, with a fresh set of attempts (as `shopify-bridge replay`)."""
        self.store.outbox.requeue(destination, [event_seq], self.bridge.clock())
        self.bridge.deliverer.wake.set()

    async def set_source_paused(self, shop: str, paused: bool) -> None:
        """Pause a source (no poll, no release, until resumed or the bridge restarts), or resume it now."""
        if not self.bridge.pause_source(shop, paused):
            raise ValueError(f"no running source has the shop {shop}")
        self.store.operator.show_source_paused(shop, paused)
