"""One source's incremental poll and hold release: the I/O around `ingest`.

A poll reads `orders` by `updated_at` from the high-water mark minus an overlap (Shopify's
search index lags and `>` behaves like `>=`), pages through with `sortKey: UPDATED_AT`, reads
what a page leaves out (more line items, refund details, the new-customer count), and only then
commits the page's versions, decisions, events and the cursor advance (to the page's newest
updatedAt) in one transaction. Re-reading an order already stored is harmless: a version is new
only when its content differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.observe.log import get_logger
from shopify_bridge.service import ingest, new_customers, order_reader, refund_settler
from shopify_bridge.shopify import queries, search
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.shopify.scopes import granted_scopes
from shopify_bridge.store import Store
from shopify_bridge.store.sources import SourcePosition
from shopify_bridge.timeutil import Clock, iso, parse_ts

OVERLAP_SECONDS = 60
log = get_logger(component="poller")


@dataclass
class PollStats:
    pages: int = 0
    orders_seen: int = 0
    events_created: list[int] = field(default_factory=list)
    released: int = 0


class SourcePoller:
    def __init__(
        self,
        ctx: SourceContext,
        client: Executes,
        store: Store,
        clock: Clock,
        on_events: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.store = store
        self.conn = store.conn  # for the read-side callers and tests that still take a connection
        self.clock = clock
        self._notify = on_events or (lambda seqs: None)

    def on_events(self, seqs: list[int]) -> None:
        """One info line per event created (never the payload: it holds customer data), then notify."""
        for event in self.store.events.summaries(seqs):
            log.info("event created", source=self.ctx.name, event_name=event.event_name, event_id=event.event_id,
                     order=event.order_name)
        self._notify(seqs)

    # -- source row ---------------------------------------------------------------------------
    def source_row(self) -> SourcePosition:
        return self.store.sources.ensure(self.ctx.shop, self.ctx.name)

    def set_state(self, state: str, reason: str | None = None, *, ok: bool = False) -> None:
        self.source_row()  # a source that failed before its first poll still gets its row and reason
        self.store.sources.set_state(self.ctx.shop, state, reason, self.clock(), ok=ok)

    async def refresh_shop_info(self) -> dict[str, Any]:
        data = await self.client.execute(queries.SHOP_INFO)
        shop = data.get("shop") or {}
        self.source_row()  # the first call for a new source creates its row
        self.store.sources.set_shop_info(self.ctx.shop, shop.get("name"), shop.get("currencyCode"),
                                         shop.get("ianaTimezone"))
        self.store.sources.set_scopes(self.ctx.shop, granted_scopes(data))
        return data

    # -- reads --------------------------------------------------------------------------------
    async def _complete(self, node: dict[str, Any]) -> OrderDoc:
        """A polled/read order node → a full normalized document (all line items, refund details)."""
        return await order_reader.complete(self.client, self.store, self.ctx.shop, node, self.clock())

    async def is_new_customer(self, doc: OrderDoc) -> bool | None:
        """True when Shopify has no earlier non-test order of this customer (guests: this email)."""
        return await new_customers.is_new_customer(self.client, self.store, self.ctx, doc)

    # -- cycle --------------------------------------------------------------------------------
    async def poll(self) -> PollStats:
        now = self.clock()
        source = self.source_row()
        first_connected = source.first_connected_at or iso(now)
        high_water = parse_ts(source.cursor or first_connected)
        since = high_water - timedelta(seconds=OVERLAP_SECONDS)
        wanted = search.date_term("updated_at", ">=", since)
        stats = PollStats()
        after: str | None = None
        newest = high_water
        while True:
            data = await self.client.execute(queries.POLL_ORDERS, {"query": wanted, "after": after})
            orders = data.get("orders") or {}
            nodes = orders.get("nodes") or []
            docs = await order_reader.complete_page(self.client, self.store, self.ctx.shop, nodes, now)
            lookups = {
                doc["id"]: await self.is_new_customer(doc)
                for doc in docs
                if ingest.needs_new_customer_lookup(self.store, self.ctx, doc, first_connected, now)
            }
            info = orders.get("pageInfo") or {}
            last_page = not info.get("hasNextPage")
            for doc in docs:
                newest = max(newest, parse_ts(doc["updatedAt"]))
            page_events: list[int] = []
            with self.store.transaction():
                for doc in docs:
                    page_events += ingest.ingest_order(
                        self.store,
                        self.ctx,
                        doc,
                        origin="poll",
                        now=now,
                        first_connected_at=first_connected,
                        is_new_customer=lookups.get(doc["id"]),
                    )
                if source.first_connected_at is None:
                    self.store.sources.set_first_connected(self.ctx.shop, first_connected)
                    source.first_connected_at = first_connected
                # Pages come sorted by updatedAt, so what follows this page is at or after `newest`:
                # moving the cursor with each page lets a process that keeps dying mid-poll progress.
                self.store.sources.advance_cursor(self.ctx.shop, newest)
            stats.pages += 1
            stats.orders_seen += len(docs)
            stats.events_created += page_events
            if page_events:
                self.on_events(page_events)  # committed: announce this page's events once
            if last_page:
                return stats
            after = info.get("endCursor")

    async def release_due(self) -> list[int]:
        """Release held orders whose time has come, each from a fresh read by id."""
        now = self.clock()
        source = self.source_row()
        first_connected = source.first_connected_at or iso(now)
        created: list[int] = []
        for held in self.store.orders.due_holds(self.ctx.shop, now):
            data = await self.client.execute(queries.READ_ORDER, {"id": held.gid})
            node = data.get("order")
            if node is None:
                ingest.mark_gone(self.store, self.ctx, held.order_id, now)
                log.info("held order no longer exists; no event", source=self.ctx.name, order_id=held.order_id)
                continue
            doc = await self._complete(node)
            new_customer = await self.is_new_customer(doc)
            created += ingest.release_order(
                self.store, self.ctx, doc, now=now, first_connected_at=first_connected, is_new_customer=new_customer
            )
        if created:
            self.on_events(created)
        return created

    async def settle_waiting_refunds(self) -> list[int]:
        """Read again the waiting refunds whose time has come; settle what they say."""
        return await refund_settler.settle_waiting_refunds(
            self.ctx, self.client, self.store, self.clock, self.on_events
        )

    async def cycle(self) -> PollStats:
        stats = await self.poll()
        stats.events_created += await self.release_due()
        stats.events_created += await self.settle_waiting_refunds()
        return stats
