"""Reading one `updated_at` window of a source: list what changed, read that in full, take it in.

A window is listed in `updatedAt` order as `id updatedAt` only (`queries.LIST_ORDERS`, 250 a page); of
each page, the orders that may hold a version the store lacks (`decide.windows.needs_full_read`; all of
them for `resync`) are read by id in batches (`queries.READ_ORDERS`, Shopify's database, never lagged)
and ingested, each batch in one transaction. The read's last batch also commits what finishing the
window means — the poll's cursor advance, the sweep's time — so the cursor never passes an order that
was not read, and a failure anywhere leaves a window to be read again, losing nothing.

While it reads, it measures the search index's lag on the orders it sees first (`decide.windows.lag_seconds`)
and keeps the largest in the store with the batch; a sweep counts what it recovered — orders the polls
had passed without seeing — with one log line each and the `order_recovered` metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Literal, Protocol

from msgspec import Struct, field

from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.decide.windows import StoredStamp, Window, lag_seconds, needs_full_read
from shopify_bridge.observe.log import get_logger
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store
from shopify_bridge.store.sources import SourcePosition
from shopify_bridge.timeutil import Clock, parse_ts

log = get_logger(component="poller")


class SourcePoller(Protocol):
    """What a read needs of the source's poller (`service.poller.SourcePoller`)."""

    ctx: SourceContext
    client: Executes
    store: Store
    clock: Clock
    observer: BridgeObserver

    async def read_orders(self, gids: list[str]) -> list[OrderDoc | None]: ...

    def source_row(self) -> SourcePosition: ...

    async def ingest_docs(
        self, docs: list[OrderDoc], *, origin: str, first_connected: str, within: Callable[[], None] | None = None
    ) -> dict[str, list[int]]: ...

ReadKind = Literal["poll", "sweep", "resync"]


class OrderFound(Struct):
    """An order a read took in that the store lacked: new to it, or with a version it did not have."""

    order_id: str
    name: str
    new_order: bool
    lag_seconds: int | None
    """Seen this late after its `updatedAt`, when an earlier window had covered that `updatedAt`."""
    events: list[int] = field(default_factory=list)


class ReadStats(Struct):
    pages: int = 0
    listed: int = 0
    read: int = 0
    events_created: list[int] = field(default_factory=list)
    found: list[OrderFound] = field(default_factory=list)
    recovered: int = 0


class WindowRead(Struct):
    """One window being read, page by page (`after`: Shopify's cursor of the next listing page)."""

    kind: ReadKind
    window: Window
    first_connected: str
    covered_until: datetime | None
    """The poll cursor before this read began: an order seen first with an `updatedAt` at or before it
    lagged (the window that covered it did not see it), and a sweep that finds one recovered it."""
    on_done: Callable[[], None] = lambda: None
    """What finishing the window commits, with its last batch (the cursor advance, the sweep's time)."""
    after: str | None = None
    done: bool = False
    stats: ReadStats = field(default_factory=ReadStats)

    @property
    def reads_everything(self) -> bool:
        """`resync` reads every listed order in full; the others only what the store may lack."""
        return self.kind == "resync"


async def read_pages(poller: SourcePoller, read: WindowRead, max_pages: int | None) -> ReadStats:
    """Read up to `max_pages` listing pages of `read` (None: to its end); what this call did."""
    before = ReadStats()
    pages = 0
    while not read.done and (max_pages is None or pages < max_pages):
        data = await poller.client.execute(queries.LIST_ORDERS, {"query": read.window.query(), "after": read.after})
        orders = data.get("orders") or {}
        listed = {legacy_id(node["id"]): node for node in orders.get("nodes") or []}
        info = orders.get("pageInfo") or {}
        last_page = not info.get("hasNextPage")
        stamps = poller.store.orders.stamps(poller.ctx.shop, list(listed))
        wanted = [
            order_id for order_id, node in listed.items()
            if read.reads_everything or needs_full_read(parse_ts(node["updatedAt"]), stamps.get(order_id))
        ]
        batches = [wanted[i : i + queries.READ_BATCH] for i in range(0, len(wanted), queries.READ_BATCH)] or [[]]
        for number, batch in enumerate(batches):
            finishing = last_page and number == len(batches) - 1
            await _read_batch(poller, read, batch, listed, stamps, finishing, before)
        read.after = info.get("endCursor")
        read.done = last_page
        pages += 1
        before.pages += 1
        before.listed += len(listed)
    _add(read.stats, before)
    return before


async def _read_batch(
    poller: SourcePoller,
    read: WindowRead,
    batch: list[str],
    listed: dict[str, dict[str, str]],
    stamps: dict[str, StoredStamp],
    finishing: bool,
    stats: ReadStats,
) -> None:
    docs = await poller.read_orders([listed[order_id]["id"] for order_id in batch]) if batch else []
    seen_at = poller.clock()
    listed_at = {order_id: parse_ts(listed[order_id]["updatedAt"]) for order_id in batch}
    lags = {  # what seeing an `updatedAt` for the first time shows of the index's lag
        order_id: lag
        for order_id in batch
        if (stored := stamps.get(order_id)) is None or listed_at[order_id] > stored.updated_at
        if (lag := lag_seconds(listed_at[order_id], seen_at, read.covered_until)) is not None
    }

    def within() -> None:
        if lags:
            memory = poller.store.sources.poll_memory(poller.ctx.shop).lags.observe(lags.values(), seen_at)
            poller.store.sources.remember_lags(poller.ctx.shop, memory)
        if finishing:
            read.on_done()

    present = [doc for doc in docs if doc is not None]
    if not present and not lags and poller.source_row().first_connected_at is not None:
        # Nothing to write (a quiet poll): no transaction; finishing moves the poller's cursor (`on_done`).
        if finishing:
            read.on_done()
        return
    events = await poller.ingest_docs(present, origin=read.kind, first_connected=read.first_connected,
                                      within=within)
    after = poller.store.orders.stamps(poller.ctx.shop, batch)
    found: list[OrderFound] = []
    for order_id, doc in zip(batch, docs, strict=True):
        old, new = stamps.get(order_id), after.get(order_id)
        if doc is None or new is None or (old is not None and new.version == old.version):
            continue  # deleted since it was listed, or nothing the store did not have
        late = lag_seconds(listed_at[order_id], seen_at, read.covered_until)
        found.append(OrderFound(order_id, doc["name"], old is None, late, events.get(order_id, [])))
    for created in events.values():
        stats.events_created += created
    stats.read += len(present)
    stats.found += found
    if read.kind == "sweep":
        _report_recovered(poller, found, stats)


def _report_recovered(poller: SourcePoller, found: Iterable[OrderFound], stats: ReadStats) -> None:
    """One log line and one count per order the sweep found that the polls had passed without seeing."""
    for item in found:
        if item.lag_seconds is None:
            continue  # changed after the polls' cursor: theirs to read, not a miss
        stats.recovered += 1
        log.warning("order recovered by the sweep", source=poller.ctx.name, order=item.name,
                    order_id=item.order_id, lag_seconds=item.lag_seconds, new_order=item.new_order)
        poller.observer.order_recovered(poller.ctx.name, item.lag_seconds)


def _add(total: ReadStats, part: ReadStats) -> None:
    total.pages += part.pages
    total.listed += part.listed
    total.read += part.read
    total.events_created += part.events_created
    total.found += part.found
    total.recovered += part.recovered
