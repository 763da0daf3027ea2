"""The bridge service: one async object that headless `run`, the TUI and the demo all drive.

`Bridge.run(stop)` runs one loop per source and one delivery loop per destination, until `stop` is
set. A source's loop drives its `SourcePoller` in bounded steps (release due holds, then a few pages
of the poll window or the sweep) and sleeps only until its next poll, hold or sweep is due; the next
poll starts `poll_interval_seconds` after the last one finished. `Bridge.run_cycle()` does one whole
cycle of everything and reports per source what it did (`run --once` prints it); `run_once()` returns
the most severe exit code over all sources. A failing source is marked failed with its reason and
retried with backoff while the others go on.

On a PostgreSQL store shared by several processes, a source loop polls only while this process
holds the shop's lease (`LeaseKeeper`); the delivery loops claim their rows, so every process drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from structlog.contextvars import bind_contextvars, bound_contextvars

from shopify_bridge import exit_codes
from shopify_bridge.config import Config, Source
from shopify_bridge.deliver.loop import Deliverer
from shopify_bridge.deliver.routing import Router
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.backfill_progress import BackfillProgress, StoredProgress
from shopify_bridge.observe.log import get_logger
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.service.alerting import BridgeAlerts
from shopify_bridge.service.backfill import Backfill
from shopify_bridge.service.backfill_job import BackfillStopped
from shopify_bridge.service.backfill_start import ProgressLog, backfill_start, require_history_scope
from shopify_bridge.service.clients import client_for
from shopify_bridge.service.lease_keeper import LeaseKeeper, LeaseTiming
from shopify_bridge.service.poll_notes import PollNotes
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.service.source_status import SourceCycle, SourceStatus
from shopify_bridge.service.store_outage import StoreOutage
from shopify_bridge.service.supervision import Liveness, all_failed_authentication, retry_delay, run_until_stopped
from shopify_bridge.service.wiring import build_destinations, poll_settings, source_context
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.transport import Connector, shared_connector
from shopify_bridge.store import StorageFailure, Store, StoreError
from shopify_bridge.store.sql import StoreUnavailable
from shopify_bridge.store.writer_heartbeat import record_heartbeat
from shopify_bridge.timeutil import Clock, system_clock

log = get_logger(component="bridge")

HEARTBEAT_SECONDS = 5.0  # how often `run` tells `tui --attach` it is alive


class Bridge:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[], None] | None = None,
        on_progress: Callable[[BackfillProgress], None] | None = None,
        metrics: BridgeObserver | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.on_change = on_change or (lambda: None)
        self.on_progress = on_progress or ProgressLog(monotonic)
        self.metrics = metrics or BridgeObserver()
        timing = LeaseTiming.from_env()  # a bad value stops us before anything is opened
        # SQLite: the writer lock and the file's identity; PostgreSQL: leases instead (`self.leases`).
        self.store = Store.open_writer(config.database, synchronous=config.synchronous, exclusive=True)
        self.stored_progress = StoredProgress(self.store.sources.set_progress, monotonic)
        self._stop: asyncio.Event | None = None
        self.liveness = Liveness(tuple(s.name for s in config.sources), monotonic)
        self.store_problem: str | None = None  # why the last heartbeat could not be written (health reads it)
        # A PostgreSQL server out of reach: logged once, retried, given up on after a bound (exit 75).
        self.outage = StoreOutage(monotonic, on_restored=self._after_outage)
        self.store.sql.on_outage = self.outage.changed
        self.router = Router(config.destinations)
        self.alerts = BridgeAlerts.for_config(config, self.store.alerts, clock, sleep)
        try:
            destinations, policies = build_destinations(config, clock)
        except BaseException:
            self.store.close()  # lets the writer lock go
            raise
        destinations = [self.metrics.observe_destination(d) for d in destinations]
        self.status = {s.name: SourceStatus(s.name, s.shop_domain) for s in config.sources}
        self.notes = PollNotes(self.store)  # the quiet polls' writes, one transaction every heartbeat
        # One connection pool for every source: idle connections kept from one poll to the next, and a
        # bound on sockets and requests in flight (each source's own loop sends one request at a time).
        self._connector: Connector | None = None
        self._wake = {s.shop_domain: asyncio.Event() for s in config.sources}
        # Several processes on one PostgreSQL store: a lease per shop (SQLite has one writer, no leases).
        self.leases = (
            LeaseKeeper(self.store, [s.shop_domain for s in config.sources], clock, on_gained=self.wake_source,
                        timing=timing)
            if self.store.shared else None
        )
        self.deliverer = Deliverer(
            self.store.outbox, destinations, clock, policies, router=self.router, on_dead=self.alerts.dead_letter,
            may_claim=self.leases.alive if self.leases else None,
        )

    def _after_outage(self) -> None:
        """The database is back: every loop that backed off tries again now instead of after its backoff."""
        self.store_problem = None
        for event in self._wake.values():
            event.set()
        self.deliverer.wake.set()

    def wake_source(self, shop: str) -> None:
        """Run that source's next cycle now instead of after its poll interval."""
        event = self._wake.get(shop)
        if event is not None:
            event.set()

    def pause_source(self, shop: str, paused: bool) -> bool:
        """Pause (or resume) one source's loop after its cycle in flight; False when no source has that shop."""
        for status in self.status.values():
            if status.shop == shop:
                status.paused = paused
                self.wake_source(shop)
                return True
        return False

    def _client(self, source: Source) -> ShopifyClient:
        if self._connector is None or self._connector.closed:
            self._connector = shared_connector()  # made in the running loop; closed when `run` ends
        return client_for(source, clock=self.monotonic, sleep=self.sleep, connector=self._connector)

    async def _close_connector(self) -> None:
        connector, self._connector = self._connector, None
        if connector is not None:
            await connector.close()

    def _events_created(self, seqs: list[int]) -> None:
        if seqs:
            self.deliverer.wake.set()
            self.on_change()

    def _poller(self, source: Source, client: ShopifyClient) -> SourcePoller:
        return SourcePoller(
            source_context(self.config, source, self.router), client, self.store, self.clock, self._events_created,
            settings=poll_settings(source), sleep=self.sleep, monotonic=self.monotonic, observer=self.metrics,
            notes=self.notes,
        )

    async def _source_cycle(self, source: Source, client: ShopifyClient, poller: SourcePoller, *,
                            whole: bool) -> int:
        """One step of one source (`whole`: a whole cycle — poll, release, refund settle, sweep when due);
        returns its exit code."""
        status = self.status[source.name]
        # The database file removed or replaced: StorageFailure, the process stops. The witness of the
        # connected sources (every source's row) is brought up to date when this cycle connects the source,
        # and by the heartbeat: not at every step of every source.
        connecting = poller.source_row().first_connected_at is None
        self.store.check_identity(witness=connecting)
        self.liveness.cycle_started(source.name)
        try:
            if status.state in ("idle", "failed"):
                info = await poller.refresh_shop_info()
                require_history_scope(source, info, self.clock().date())
            if source.start_date is not None and self.store.sources.backfill_due(source.shop_domain):
                status.state = "backfilling"
                self.notes.state_written(source.shop_domain)
                poller.set_state("backfilling")
                self.on_change()
                await self._backfill(source, client, poller)
            status.state = "polling"
            stats = await (poller.cycle() if whole else poller.step())
        except BackfillStopped as stopped:
            log.info("backfill paused for the stop; the next start resumes it", source=source.name)
            status.reason = str(stopped)
            return exit_codes.OK
        except StorageFailure:
            raise  # not this source's failure: the process stops (exit 74)
        except StoreUnavailable as exc:
            # Not this source's failure either, and temporary: logged once for the whole store (StoreOutage),
            # retried with backoff; what the cycle had not committed died with the connection.
            poller.abandon_reads()
            status.state, status.reason, status.exit_code = "failed", str(exc), exc.exit_code
            status.failures += 1
            self.metrics.poll_finished(source.name, exc.exit_code)
            self.on_change()
            return exc.exit_code
        except BridgeError as exc:
            poller.abandon_reads()
            status.state, status.reason, status.exit_code = "failed", str(exc), exc.exit_code
            status.failures += 1
            self.notes.state_written(source.shop_domain)
            poller.set_state("failed", str(exc))
            log.error("source failed", source=source.name, error=str(exc), exit_code=exc.exit_code)
            self.alerts.source_failed(source.name, str(exc))
            self.metrics.poll_finished(source.name, exc.exit_code)
            self.on_change()
            return exc.exit_code
        finally:
            self.liveness.cycle_ended(source.name)
        if connecting and poller.source_row().first_connected_at is not None:
            self.store.check_identity()  # connected now: the witness names it (else the heartbeat does)
        status.state, status.reason, status.exit_code, status.failures = "polling", None, 0, 0
        self.alerts.source_ok(source.name)
        status.last_events = len(stats.events_created)
        status.last_seen = stats.orders_seen
        bucket = client.bucket
        level = bucket.level(self.monotonic())
        self.notes.polled(source.shop_domain, self.clock(), (bucket.maximum, level, bucket.restore_rate))
        log.debug("poll step done", source=source.name, pages=stats.pages, orders=stats.orders_seen,
                  events=len(stats.events_created))
        self.metrics.poll_finished(source.name, exit_codes.OK)
        self.on_change()
        return exit_codes.OK

    async def _backfill(self, source: Source, client: ShopifyClient, poller: SourcePoller) -> None:
        start = backfill_start(source, self.store.sources.timezone(source.shop_domain))
        backfill = Backfill(
            poller.ctx,
            client,
            self.store,
            clock=self.clock,
            sleep=self.sleep,
            data_dir=self.config.local_path("-bulk"),
            progress=lambda progress: self._backfill_progress(source.shop_domain, progress),
            stop=self._stop,
        )
        await backfill.run(start)

    def _backfill_progress(self, shop: str, progress: BackfillProgress) -> None:
        self.metrics.backfill_progress(progress)
        self.liveness.progressed(progress.source)
        self.on_progress(progress)
        if self.stored_progress(shop, progress):
            self.on_change()

    def polled_sources(self) -> dict[str, datetime]:
        """Source name -> since when this process polls it (the sources whose lease it holds)."""
        if self.leases is None:
            return {}
        return {s.name: self.leases.gained_at.get(s.shop_domain, self.clock())
                for s in self.config.sources if self.leases.holds(s.shop_domain)}

    def _polls(self, shop: str) -> bool:
        """This process polls `shop` now (always, but for a shop another process holds the lease of)."""
        return self.leases is None or self.leases.holds(shop)

    async def run_once(self) -> int:
        """One cycle of every source (whose lease this process gets), then deliver what is pending;
        the most severe exit code."""
        return exit_codes.most_severe(cycle.exit_code for cycle in await self.run_cycle())

    async def run_cycle(self) -> list[SourceCycle]:
        """One cycle of every source (whose lease this process gets), then deliver what is pending; what
        each source's cycle did."""
        reads = self.store.reads.event_log
        delivered_before = {s.shop_domain: reads.delivered_count(s.shop_domain) for s in self.config.sources}
        codes: dict[str, int] = {}
        if self.leases is not None:
            self.leases.tick()
        await self.deliverer.open()
        try:
            for source in self.config.sources:
                if not self._polls(source.shop_domain):
                    log.info("another process polls this source (it holds the lease)", source=source.name)
                    continue
                with bound_contextvars(source=source.name):
                    async with self._client(source) as client:
                        poller = self._poller(source, client)
                        codes[source.name] = await self._source_cycle(source, client, poller, whole=True)
            self.notes.flush()
            await self.deliverer.deliver_once()
            await self.alerts.flush()
        finally:
            await self._close_connector()
            await self.deliverer.close()
            if self.leases is not None:
                self.leases.retire()
        cycles = []
        for source in self.config.sources:
            if source.name not in codes:
                cycles.append(SourceCycle(source.name, exit_codes.OK, 0, 0, 0, 0, elsewhere=True))
                continue
            status, ok = self.status[source.name], codes[source.name] == exit_codes.OK
            cycles.append(SourceCycle(
                source=source.name,
                exit_code=codes[source.name],
                seen=status.last_seen if ok else 0,
                created=status.last_events if ok else 0,
                delivered=reads.delivered_count(source.shop_domain) - delivered_before[source.shop_domain],
                held=self.store.reads.orders.held_count(source.shop_domain),
                reason=None if ok else status.reason,
            ))
        return cycles

    async def _source_loop(self, source: Source, stop: asyncio.Event) -> None:
        # Each loop is its own task: every log line of it (the libraries' too) names the source.
        bind_contextvars(source=source.name)
        async with self._client(source) as client:
            poller = self._poller(source, client)
            while not stop.is_set():
                wake = self._wake[source.shop_domain]
                wake.clear()  # before the cycle: a wake during it (release now, pause) is not lost
                wait: float | None = None  # paused: until resumed or stopped
                if self.status[source.name].paused:
                    # Written here too: a cycle that was in flight when the pause came wrote its own state.
                    with contextlib.suppress(StoreUnavailable):  # shown when the database is back
                        self.notes.state_written(source.shop_domain)
                        self.store.operator.show_source_paused(source.shop_domain, True)
                elif self.leases is not None and not self._confirmed_lease(source.shop_domain):
                    wait = self.leases.timing.renew  # another process polls it; we are woken when we take it
                    poller.abandon_reads()  # its cursor moves meanwhile: a window under way is stale
                    self.liveness.cycle_ended(source.name)  # nothing of ours to wait for (systemd's READY)
                else:
                    code = await self._leased_cycle(source, client, poller)
                    # Asked only after a failure: a source that just polled well is not "every source failed".
                    verdict = None if code == exit_codes.OK else all_failed_authentication(
                        {n: (s.exit_code, s.reason) for n, s in self.status.items()}
                    )
                    if verdict is not None:
                        raise verdict  # every token revoked: `run` exits 77 instead of retrying forever
                    failures = self.status[source.name].failures
                    wait = poller.seconds_to_next_step() if code == exit_codes.OK else retry_delay(code, failures)
                    self.status[source.name].next_attempt_in = wait
                if wait == 0.0:
                    await asyncio.sleep(0)  # more to read now: let the other sources and deliveries run first
                    continue
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
                await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    def _confirmed_lease(self, shop: str) -> bool:
        """We hold `shop`'s lease, renewed on the connection we have now: a lease renewed on a connection
        that was lost since is confirmed (renewed, or found taken by another process) before we poll."""
        assert self.leases is not None
        if not self.leases.confirmed:
            self.leases.safe_tick()
        return self.leases.holds(shop)

    async def _leased_cycle(self, source: Source, client: ShopifyClient, poller: SourcePoller) -> int:
        if self.leases is None:
            return await self._source_cycle(source, client, poller, whole=False)
        with self.leases.working(source.shop_domain):
            return await self._source_cycle(source, client, poller, whole=False)

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop  # a backfill checks it between its steps
        loops = [self._source_loop(source, stop) for source in self.config.sources]
        if self.leases is not None:
            self.leases.tick()  # registered as a live worker before claiming anything, and our first shops
            loops.append(self.leases.run(stop))
        await self.deliverer.open()
        try:
            # Ends within 2 s of `stop` whatever the loops are doing; a loop's fatal error ends them all.
            await run_until_stopped(
                stop, [*loops, self.deliverer.run(stop), self._heartbeat(stop), self.alerts.run(stop)]
            )
        finally:
            with contextlib.suppress(StoreError):  # the database gone: the next start re-reads those windows
                self.notes.flush()
            await self._close_connector()
            await self.deliverer.close()
            if self.leases is not None:
                self.leases.retire()

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Tell dashboards in other processes (`tui --attach`) that this writer is alive: pid and time."""
        while not stop.is_set():
            try:
                self.store.check_identity()  # also while every source waits (a long backoff, a pause)
                record_heartbeat(self.store.sql, os.getpid(), self.clock())
                self.notes.flush()
                self.store_problem = None
            except StorageFailure:
                raise
            except StoreUnavailable as exc:  # logged once by `outage`; retried at the next beat
                self.store_problem = self.outage.problem or str(exc)
            except StoreError as exc:  # a missed beat shows as a stale writer; it must not stop the bridge
                self.store_problem = str(exc)
                log.warning("heartbeat not written", error=str(exc))
            self.outage.check()  # down for longer than the bound: `run` ends with 75
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)

    def close(self) -> None:
        self.store.close()
