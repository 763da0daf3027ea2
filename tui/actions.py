"""The write side of the dashboard: a small interface the app is constructed with.

The dashboard only reads the store. Anything that changes state (releasing a hold early,
re-sending an event, pausing a source) is asked of whoever embeds the dashboard: the in-process bridge implements
this protocol against the core; `tui --attach` passes `None`, which shows the actions disabled.
Both methods are coroutines because they run on the bridge's event loop, which the app shares.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class DashboardActions(Protocol):
    async def release_now(self, shop: str, order_id: str) -> None:
        """Release a held order now instead of at its deadline (re-read, build, forward)."""

    async def replay(self, event_seq: int, destination: str) -> None:
        """Queue the event with store seq `event_seq` for delivery to `destination` again."""

    async def set_source_paused(self, shop: str, paused: bool) -> None:
        """Pause the source's polling (and hold releases) until resumed; or resume it at once."""
