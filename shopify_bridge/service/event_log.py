"""`events` and `replay`: the outbox as operators see it, and re-sending with the same event_id."""

from __future__ import annotations

from datetime import datetime

from shopify_bridge.store import Store
from shopify_bridge.store.reads_events import EventQuery, LoggedEvent

__all__ = ["EventQuery", "LoggedEvent", "list_events", "replay"]


def list_events(store: Store, query: EventQuery) -> list[LoggedEvent]:
    """The chosen events, newest first, with their delivery state per destination."""
    return store.reads.event_log.events(query)


def replay(store: Store, query: EventQuery, now: datetime, destination: str | None = None) -> int:
    """Put the chosen deliveries back to pending, attempts restarted; returns how many. Same payload,
    same event_id.

    With `--dead`, only the dead deliveries are re-sent; otherwise every delivery of the chosen
    events (to `destination` when given) is sent again. Refunds keep waiting for their Placed
    Order as usual, so replaying both re-sends them in order.
    """
    return store.operator.replay(query, now, destination)
