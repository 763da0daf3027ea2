"""One source's polling, sweeping and hold release: the I/O around `ingest`.

The bridge drives a `SourcePoller` in bounded steps (`step`): release the holds that are due, then read
a few listing pages of the current poll window (`window_read`; a new window once the last one is read
and the poll interval has passed) or, when no poll is due, of the sweep. `cycle` does the same work
whole, for `run --once` and the tests. A window's cursor moves only when all of it was read
(`decide.windows`), so a failure at any point loses nothing: the window is read again.

Holds never wait behind a read: every request of the poll, the sweep or a refund re-read goes through
`release_first.ReleaseFirst`, which releases what is due first. A release re-reads its orders by id in
batches (`nodes(ids:)`) and builds their Placed Orders from that — never asking anything else: each held
order's `$is_new_customer` is looked up while it waits, with points the shop's bucket can spare
(`held_lookups`, `service.new_customers`), and one still unknown at its release is omitted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct, field

from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.decide.windows import (
    PollSettings,
    Window,
    overlap,
    poll_window,
    sweep_due,
    sweep_floor,
    sweep_window,
)
from shopify_bridge.observe.log import get_logger
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.service import ingest, new_customers, order_reader, refund_settler
from shopify_bridge.service.held_lookups import CLOCK_TOLERANCE, HeldLookups
from shopify_bridge.service.poll_notes import ImmediateNotes
from shopify_bridge.service.release_first import ReleaseFirst
from shopify_bridge.service.window_read import ReadStats, WindowRead, read_pages
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.shopify.scopes import granted_scopes
from shopify_bridge.store import Store
from shopify_bridge.store.sources import SourcePosition
from shopify_bridge.timeutil import Clock, iso, parse_ts

Sleep = Callable[[float], Awaitable[None]]


class CursorNotes(Protocol):
    def advanced(self, shop: str, cursor: datetime) -> None: ...


log = get_logger(component="poller")


class PollStats(Struct):
    pages: int = 0
    orders_seen: int = 0
    events_created: list[int] = field(default_factory=list)
    released: int = 0
    recovered: int = 0
    poll_done: bool = False

    def add(self, read: ReadStats) -> None:
        self.pages += read.pages
        self.orders_seen += read.listed
        self.events_created += read.events_created
        self.recovered += read.recovered


class SourcePoller:
    def __init__(
        self,
        ctx: SourceContext,
        client: Executes,
        store: Store,
        clock: Clock,
        on_events: Callable[[list[int]], None] | None = None,
        *,
        settings: PollSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        observer: BridgeObserver | None = None,
        notes: CursorNotes | None = None,
    ) -> None:
        """`client` is Shopify; when it offers `price` and `wait_estimate` (a `ShopifyClient`), a request
        that would make a hold late waits for it (through `sleep`) instead. Holds and sweeps are timed by
        `clock`, the pause between two polls by `monotonic` (as a sleep is). `notes` takes the cursor of a
        window read with nothing to write (the bridge's `PollNotes` writes those in batches; by default
        it is written at once)."""
        self.ctx = ctx
        self.shopify = client
        self.client: Executes = ReleaseFirst(client, self)
        self.store = store
        self.conn = store.conn  # for the read-side callers and tests that still take a connection
        self.clock = clock
        self.settings = settings or PollSettings()
        self.sleep = sleep
        self.monotonic = monotonic
        self.observer = observer or BridgeObserver()
        self._notify = on_events or (lambda seqs: None)
        self._collectors: list[list[int]] = []
        self._releasing = False
        self._poll: WindowRead | None = None
        self._sweep: WindowRead | None = None
        self._next_poll_at: float | None = None  # on `monotonic`
        self.notes: CursorNotes = notes or ImmediateNotes(store)
        self.lookups = HeldLookups(ctx, self.client, client, store, monotonic, self.observer)
        # The source's row once it has polled: only this poller moves its cursor then (a quiet window's
        # cursor reaches the store later, through `notes`), so it is not read again at every step.
        self._position: SourcePosition | None = None

    def on_events(self, seqs: list[int]) -> None:
        """One info line per event created (never the payload: it holds customer data), then notify."""
        for event in self.store.events.summaries(seqs):
            log.info("event created", source=self.ctx.name, event_name=event.event_name, event_id=event.event_id,
                     order=event.order_name)
        for collector in self._collectors:
            collector.extend(seqs)
        self._notify(seqs)

    @contextmanager
    def collecting_events(self) -> Iterator[list[int]]:
        """Every event announced while inside, whatever created it (a `resync` reports them all)."""
        collected: list[int] = []
        self._collectors.append(collected)
        try:
            yield collected
        finally:
            self._collectors.remove(collected)

    # -- source row ---------------------------------------------------------------------------
    def source_row(self) -> SourcePosition:
        """Where polling stands: read from the store (creating the row) until the source has polled,
        then kept here and moved by the polls themselves."""
        if self._position is not None:
            return self._position
        position = self.store.sources.ensure(self.ctx.shop, self.ctx.name)
        if position.cursor is not None and position.first_connected_at is not None:
            self._position = position
        return position

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

    async def read_orders(self, gids: list[str]) -> list[OrderDoc | None]:
        """These orders read by id in one request, each completed; None for one that no longer exists."""
        data = await self.client.execute(queries.READ_ORDERS, {"ids": gids})
        nodes: list[dict[str, Any] | None] = data.get("nodes") or []
        present = [node for node in nodes if node]
        docs = iter(await order_reader.complete_page(self.client, self.store, self.ctx.shop, present, self.clock()))
        return [next(docs) if node else None for node in nodes]

    # -- taking orders in ---------------------------------------------------------------------
    async def ingest_docs(
        self,
        docs: list[OrderDoc],
        *,
        origin: str,
        first_connected: str,
        within: Callable[[], None] | None = None,
    ) -> dict[str, list[int]]:
        """Take fetched documents in, in one transaction with `within` (what the read commits with them);
        the events created, per order id (announced once). An order released as it is taken in gets its
        `$is_new_customer` from the store, or from Shopify when the bucket has the points to spare now."""
        now = self.clock()
        lookups = await self.lookups.now(
            [doc for doc in docs if ingest.needs_new_customer_lookup(self.store, self.ctx, doc, first_connected, now)]
        )
        created: dict[str, list[int]] = {}
        with self.store.transaction():
            for doc in docs:
                created[legacy_id(doc["id"])] = ingest.ingest_order(
                    self.store,
                    self.ctx,
                    doc,
                    origin=origin,
                    now=now,
                    first_connected_at=first_connected,
                    is_new_customer=lookups.get(doc["id"]),
                )
            if self.source_row().first_connected_at is None:
                self.store.sources.set_first_connected(self.ctx.shop, first_connected)
            if within is not None:
                within()
        page_events = [seq for seqs in created.values() for seq in seqs]
        if page_events:
            self.on_events(page_events)  # committed: announce these events once
        return created

    # -- holds --------------------------------------------------------------------------------
    @property
    def releasing(self) -> bool:
        """A release is under way (its own requests go straight out)."""
        return self._releasing

    async def release_due(self) -> list[int]:
        """Release held orders whose time has come, from fresh reads by id, a batch at a time."""
        if self._releasing:
            return []
        self._releasing = True
        try:
            return await self._release_due()
        finally:
            self._releasing = False

    async def _release_due(self) -> list[int]:
        due_by = self.clock()
        first_connected = self.source_row().first_connected_at or iso(due_by)
        created: list[int] = []
        while held := self.store.orders.due_holds(self.ctx.shop, due_by, limit=queries.READ_BATCH):
            docs = await self.read_orders([order.gid for order in held])
            for order, doc in zip(held, docs, strict=True):
                if doc is None:
                    ingest.mark_gone(self.store, self.ctx, order.order_id, self.clock())
                    log.info("held order no longer exists; no event", source=self.ctx.name, order_id=order.order_id)
                    continue
                new_customer, known = new_customers.at_release(self.store, self.ctx, doc)
                if not known:
                    self.lookups.released_unknown(doc)
                created += ingest.release_order(
                    self.store, self.ctx, doc, now=self.clock(), first_connected_at=first_connected,
                    is_new_customer=new_customer,
                )
        if created:
            self.on_events(created)
        return created

    async def settle_waiting_refunds(self) -> list[int]:
        """Read again the waiting refunds whose time has come; settle what they say."""
        return await refund_settler.settle_waiting_refunds(
            self.ctx, self.client, self.store, self.clock, self.on_events
        )

    # -- cycles -------------------------------------------------------------------------------
    async def cycle(self) -> PollStats:
        """One whole cycle: release what is due, read the whole poll window, settle waiting refunds, sweep
        when one is due, release what fell due meanwhile."""
        stats = PollStats()
        stats.events_created += await self.release_due()
        self._poll = self._poll or self._start_poll()
        stats.add(await read_pages(self, self._poll, None))
        stats.events_created += await self._finish(self._poll)
        self._sweep = self._sweep or self._start_sweep()
        if self._sweep is not None:
            stats.add(await read_pages(self, self._sweep, None))
            stats.events_created += await self._finish(self._sweep)
        await self.lookups.look_up()
        stats.events_created += await self.release_due()
        return stats

    async def step(self) -> PollStats:
        """A bounded piece of the same work: release what is due, then at most `pages_per_step` listing pages
        of the poll window (when a poll is due or under way), else of the sweep (when one is due)."""
        stats = PollStats()
        stats.events_created += await self.release_due()
        if self._poll is None and (
            self._next_poll_at is None or self.monotonic() >= self._next_poll_at - CLOCK_TOLERANCE
        ):
            self._poll = self._start_poll()
        if self._poll is None and self._sweep is None:
            self._sweep = self._start_sweep()
        read = self._poll or self._sweep
        if read is not None:
            stats.add(await read_pages(self, read, self.settings.pages_per_step))
            stats.events_created += await self._finish(read)
        await self.lookups.look_up()
        return stats

    def seconds_to_next_step(self) -> float:
        """How long until `step` has work: 0 while a read is under way, else until the next poll, hold or
        sweep is due."""
        if self._poll is not None or self._sweep is not None:
            return 0.0
        now = self.clock()
        waits = [0.0 if self._next_poll_at is None else self._next_poll_at - self.monotonic()]
        if (due := self.store.orders.next_release_at(self.ctx.shop)) is not None:
            waits.append((due - now).total_seconds())
        if self.source_row().cursor is not None:  # a source sweeps once it has polled
            swept_at = self.store.sources.poll_memory(self.ctx.shop).swept_at
            waits.append(0.0 if swept_at is None else (swept_at + self.settings.sweep_interval - now).total_seconds())
        if (lookup := self.lookups.wait()) is not None:
            waits.append(lookup)
        wait = min(waits)
        return wait if wait >= CLOCK_TOLERANCE else 0.0

    def abandon_reads(self) -> None:
        """After a failure (or a lease lost): the windows under way are read again from their start next
        time, from the cursor in the store."""
        self._poll = self._sweep = None
        self._position = None

    async def _finish(self, read: WindowRead) -> list[int]:
        """A read that reached its end: schedule the next and settle waiting refunds after a poll."""
        if not read.done:
            return []
        if read is self._sweep:
            self._sweep = None
            log.info("sweep done", source=self.ctx.name, listed=read.stats.listed, read=read.stats.read,
                     recovered=read.stats.recovered)
            return []
        self._poll = None
        self._next_poll_at = self.monotonic() + self.settings.poll_interval.total_seconds()
        return await self.settle_waiting_refunds()

    def _start_poll(self) -> WindowRead:
        """The next poll window: from an overlap before the cursor (sized by recent lags) to now − settle."""
        now = self.clock()
        source = self.source_row()
        first_connected = source.first_connected_at or iso(now)
        cursor = parse_ts(source.cursor) if source.cursor else None
        memory = self.store.sources.poll_memory(self.ctx.shop)
        window = poll_window(cursor or parse_ts(first_connected), now, overlap(memory.lags, now))
        shop = self.ctx.shop

        def advance() -> None:
            if self.store.sql.in_transaction:
                # With the window's last orders: known here once committed, so read back next time.
                self.store.sources.advance_cursor(shop, window.end)
                self._position = None
            else:  # nothing to write with it: the store learns it with the other sources' notes
                self.notes.advanced(shop, window.end)
                self._position = SourcePosition(first_connected, iso(window.end))

        return WindowRead("poll", window, first_connected, cursor, on_done=advance)

    def _start_sweep(self) -> WindowRead | None:
        """The sweep, when one is due and the source has polled before; else None."""
        now = self.clock()
        source = self.source_row()
        memory = self.store.sources.poll_memory(self.ctx.shop)
        if source.cursor is None or source.first_connected_at is None:
            return None
        if not sweep_due(memory.swept_at, now, self.settings.sweep_interval):
            return None
        cursor = parse_ts(source.cursor)
        backfill = self.store.sources.backfill_state(self.ctx.shop)
        snapshot = parse_ts(backfill["snapshot"]) if backfill and backfill.get("status") == "complete" else None
        window = sweep_window(now, self.settings.sweep_window, cursor, overlap(memory.lags, now),
                              sweep_floor(parse_ts(source.first_connected_at), snapshot))
        shop = self.ctx.shop
        if window.start >= window.end:  # connected just now: nothing the polls could have missed yet
            self.store.sources.set_swept(shop, now)
            return None

        def swept() -> None:
            self.store.sources.set_swept(shop, now)

        return WindowRead("sweep", window, source.first_connected_at, cursor, on_done=swept)

    def resync_read(self, since: datetime) -> WindowRead:
        """A read of every order updated since `since` (an operator's `resync`); the source has polled."""
        now = self.clock()
        source = self.source_row()
        assert source.first_connected_at is not None
        cursor = parse_ts(source.cursor) if source.cursor else None
        return WindowRead("resync", Window(since, now.replace(microsecond=0)), source.first_connected_at, cursor)
