"""`resync`: re-read every order of a source updated since a moment, for an operator who suspects a gap.

The source's window from `since` to now is listed like a poll's, but every listed order is read in full
(by id, in batches) and ingested: a version the store lacks is stored, a new order is held or released
by the usual rules (new by `processedAt` against the first connection, so a late one is still forwarded),
holds that are due are released and waiting refunds re-read. Events are created through the store, which
never creates an `event_id` twice, so a resync of what the bridge already has creates nothing. The cursor
is left alone: the polls go on from where they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.service.window_read import OrderFound, read_pages
from shopify_bridge.store.events import EventSummary


@dataclass
class ResyncedOrder:
    found: OrderFound
    status: str | None


@dataclass
class ResyncReport:
    source: str
    since: datetime
    until: datetime
    listed: int = 0
    orders: list[ResyncedOrder] = field(default_factory=list)
    """Orders new to the store, or with a version it did not have, and their status now."""
    events: list[EventSummary] = field(default_factory=list)
    """Every event the resync created (Placed Orders of new or released orders, Received Refunds)."""


async def resync(poller: SourcePoller, since: datetime) -> ResyncReport | None:
    """Re-read the source's orders updated since `since`; None when it never connected (nothing to do)."""
    if poller.source_row().first_connected_at is None:
        return None
    read = poller.resync_read(since)
    with poller.collecting_events() as created:
        stats = await read_pages(poller, read, None)
        await poller.release_due()
        await poller.settle_waiting_refunds()
    report = ResyncReport(poller.ctx.name, read.window.start, read.window.end, listed=stats.listed)
    for found in stats.found:
        report.orders.append(ResyncedOrder(found, poller.store.orders.status(poller.ctx.shop, found.order_id)))
    report.events = poller.store.events.summaries(created)
    return report
