"""The bridge service: one async object that headless `run`, the TUI and the demo all drive.

`Bridge.run(stop)` runs one loop per source (poll, release due holds, settle waiting refunds;
the next poll is scheduled only after the last one finished) and one delivery loop per
destination, until `stop` is set. `Bridge.run_cycle()` does one cycle of everything and reports
per source what it did (`run --once` prints it); `run_once()` returns the most severe exit code
over all sources. A failing source is marked failed with its reason and retried with backoff
while the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from structlog.contextvars import bind_contextvars, bound_contextvars

from shopify_bridge import exit_codes
from shopify_bridge.config import Config, Source
from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.deliver.destinations.base import Destination
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import Deliverer, RetryPolicy
from shopify_bridge.errors import AuthError, BridgeError
from shopify_bridge.observe.backfill_progress import BackfillProgress, StoredProgress
from shopify_bridge.observe.log import get_logger
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.retry import Backoff
from shopify_bridge.service.backfill import Backfill
from shopify_bridge.service.backfill_job import BackfillStopped
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, RECENT_ORDERS_DAYS, granted_scopes, missing_scopes
from shopify_bridge.store import Store, StoreError
from shopify_bridge.store.writer_heartbeat import record_heartbeat
from shopify_bridge.timeutil import Clock, system_clock

log = get_logger(component="bridge")

FAILED_SOURCE_RETRY = Backoff(base=5.0, cap=300.0, jitter=False)
HEARTBEAT_SECONDS = 5.0  # how often `run` tells `tui --attach` it is alive


def source_context(config: Config, source: Source) -> SourceContext:
    table = {**DEFAULT_CHANNEL_TABLE, **(config.channel_types or {})}
    everywhere = tuple(d.name for d in config.destinations)
    names = tuple(source.destinations) if source.destinations is not None else everywhere
    return SourceContext(
        shop=source.shop_domain,
        name=source.name,
        currency=source.currency,
        channel_table=table,
        rules=ExclusionRules(
            channels=tuple(source.exclude.channels),
            tags=tuple(source.exclude.tags),
            test_orders=source.exclude.test_orders,
            cancelled=source.exclude.cancelled,
        ),
        upsell_delay_seconds=source.upsell_delay_seconds if source.upsell_delay else None,
        destinations=names,
        forward_history=source.forward_history,
    )


def client_for(
    source: Source,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    timeout_seconds: float = 30.0,
    max_temporary_retries: int | None = None,
) -> ShopifyClient:
    """The Shopify client of one source: its own token, pinned version and rate-limit bucket."""
    return ShopifyClient(
        source_name=source.name,
        shop_domain=source.shop_domain,
        token=source.access_token.get_secret_value(),
        api_version=source.api_version,
        api_url=source.api_url,
        timeout_seconds=timeout_seconds,
        max_temporary_retries=max_temporary_retries,
        clock=clock,
        sleep=sleep,
    )


def build_destinations(config: Config) -> tuple[list[Destination], dict[str, RetryPolicy]]:
    destinations: list[Destination] = []
    policies: dict[str, RetryPolicy] = {}
    for spec in config.destinations:
        if spec.type == "jsonl":
            destinations.append(JsonlDestination(spec.name, spec.path))
        elif spec.type == "http":
            from shopify_bridge.deliver.destinations.http import HttpDestination

            destinations.append(HttpDestination.from_config(spec))
            policies[spec.name] = RetryPolicy(
                max_attempts=spec.max_attempts, max_age=timedelta(hours=spec.max_age_hours)
            )
        else:  # refused by `check`/`run` before a Bridge exists (Config.not_supported_yet)
            raise BridgeError(f"not supported yet: destination type {spec.type!r}", exit_code=exit_codes.CONFIG)
    return destinations, policies


@dataclass
class SourceStatus:
    name: str
    shop: str
    state: str = "idle"
    reason: str | None = None
    exit_code: int = 0
    failures: int = 0
    last_events: int = 0
    last_seen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    paused: bool = False  # by the operator (`pause_source`): the loop polls and releases nothing meanwhile


@dataclass(frozen=True)
class SourceCycle:
    """What one source's cycle in `run_cycle` did (the `run --once` summary line)."""

    source: str
    exit_code: int
    seen: int  # orders the poll read from Shopify
    created: int  # events created (new orders, released holds, settled refunds)
    delivered: int  # deliveries of this source's events completed by this cycle
    held: int  # orders of this source in an upsell hold afterwards
    reason: str | None = None  # why the source failed, when it did


_last_logged: dict[str, float] = {}


def _log_progress(progress: BackfillProgress) -> None:
    """Headless default: one structured line per phase change, else at most every 5 s per source."""
    key = f"{progress.source}:{progress.phase}"
    now = time.monotonic()
    if progress.phase in ("running", "downloading", "staging", "ingesting") and now - _last_logged.get(key, 0.0) < 5.0:
        return
    _last_logged[key] = now
    log.info(
        "backfill progress",
        source=progress.source,
        phase=progress.phase,
        window=progress.window,
        done=progress.done,
        total=progress.total,
    )


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
        self.on_progress = on_progress or _log_progress
        self.metrics = metrics or BridgeObserver()
        self.store = Store.open_writer(config.database, synchronous=config.synchronous)
        self.db = self.store.db  # the connection's sqlite_utils face, for callers that still use it
        self.stored_progress = StoredProgress(self.store.sources.set_progress, monotonic)
        self._stop: asyncio.Event | None = None
        destinations, policies = build_destinations(config)
        destinations = [self.metrics.observe_destination(d) for d in destinations]
        self.deliverer = Deliverer(self.store.outbox, destinations, clock, policies)
        self.status = {s.name: SourceStatus(s.name, s.shop_domain) for s in config.sources}
        self._wake = {s.shop_domain: asyncio.Event() for s in config.sources}

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
        return client_for(source, clock=self.monotonic, sleep=self.sleep)

    def _events_created(self, seqs: list[int]) -> None:
        if seqs:
            self.deliverer.wake.set()
            self.on_change()

    async def _source_cycle(self, source: Source, client: ShopifyClient) -> int:
        """One poll + release + refund settle for one source; returns its exit code."""
        status = self.status[source.name]
        poller = SourcePoller(source_context(self.config, source), client, self.store, self.clock, self._events_created)
        try:
            if status.state in ("idle", "failed"):
                info = await poller.refresh_shop_info()
                self._require_history_scope(source, info)
            if source.start_date is not None and self.store.sources.backfill_due(source.shop_domain):
                status.state = "backfilling"
                poller.set_state("backfilling")
                self.on_change()
                await self._backfill(source, client, poller)
            status.state = "polling"
            stats = await poller.cycle()
        except BackfillStopped as stopped:
            log.info("backfill paused for the stop; the next start resumes it", source=source.name)
            status.reason = str(stopped)
            return exit_codes.OK
        except BridgeError as exc:
            status.state, status.reason, status.exit_code = "failed", str(exc), exc.exit_code
            status.failures += 1
            poller.set_state("failed", str(exc))
            log.error("source failed", source=source.name, error=str(exc), exit_code=exc.exit_code)
            self.metrics.poll_finished(source.name, exc.exit_code)
            self.on_change()
            return exc.exit_code
        status.state, status.reason, status.exit_code, status.failures = "polling", None, 0, 0
        status.last_events = len(stats.events_created)
        status.last_seen = stats.orders_seen
        poller.set_state("polling", ok=True)
        self._record_bucket(source, client)
        log.debug("poll done", source=source.name, orders=stats.orders_seen, events=len(stats.events_created))
        self.metrics.poll_finished(source.name, exit_codes.OK)
        self.on_change()
        return exit_codes.OK

    def _record_bucket(self, source: Source, client: ShopifyClient) -> None:
        bucket = client.bucket
        self.store.sources.record_bucket(
            source.shop_domain, bucket.maximum, bucket.level(self.monotonic()), bucket.restore_rate
        )

    def _require_history_scope(self, source: Source, info: dict[str, Any]) -> None:
        if ALL_ORDERS_SCOPE in missing_scopes(granted_scopes(info), source.start_date, self.clock().date()):
            raise AuthError(
                f"{source.name}: start_date {source.start_date} is more than {RECENT_ORDERS_DAYS} days back and the "
                f"token lacks the scope {ALL_ORDERS_SCOPE}"
            )

    async def _backfill(self, source: Source, client: ShopifyClient, poller: SourcePoller) -> None:
        timezone = self.store.sources.timezone(source.shop_domain)
        tz = ZoneInfo(timezone) if timezone else UTC
        assert source.start_date is not None
        start = datetime.combine(source.start_date, datetime.min.time(), tzinfo=tz)
        database = Path(self.config.database)
        backfill = Backfill(
            poller.ctx,
            client,
            self.store,
            clock=self.clock,
            sleep=self.sleep,
            data_dir=database.parent / f"{database.stem}-bulk",
            progress=lambda progress: self._backfill_progress(source.shop_domain, progress),
            stop=self._stop,
        )
        await backfill.run(start)

    def _backfill_progress(self, shop: str, progress: BackfillProgress) -> None:
        self.metrics.backfill_progress(progress)
        self.on_progress(progress)
        if self.stored_progress(shop, progress):
            self.on_change()

    async def run_once(self) -> int:
        """One cycle of every source, then deliver what is pending; the most severe exit code."""
        return exit_codes.most_severe(cycle.exit_code for cycle in await self.run_cycle())

    async def run_cycle(self) -> list[SourceCycle]:
        """One cycle of every source, then deliver what is pending; what each source's cycle did."""
        reads = self.store.reads.event_log
        delivered_before = {s.shop_domain: reads.delivered_count(s.shop_domain) for s in self.config.sources}
        codes: dict[str, int] = {}
        await self.deliverer.open()
        try:
            for source in self.config.sources:
                with bound_contextvars(source=source.name):
                    async with self._client(source) as client:
                        codes[source.name] = await self._source_cycle(source, client)
            await self.deliverer.deliver_once()
        finally:
            await self.deliverer.close()
        cycles = []
        for source in self.config.sources:
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
            while not stop.is_set():
                wake = self._wake[source.shop_domain]
                wake.clear()  # before the cycle: a wake during it (release now, pause) is not lost
                wait: float | None = None  # paused: until resumed or stopped
                if self.status[source.name].paused:
                    # Written here too: a cycle that was in flight when the pause came wrote its own state.
                    self.store.operator.show_source_paused(source.shop_domain, True)
                else:
                    code = await self._source_cycle(source, client)
                    failures = self.status[source.name].failures
                    if code == exit_codes.OK:
                        wait = float(source.poll_interval_seconds)
                    else:
                        wait = FAILED_SOURCE_RETRY.delay(failures)
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
                await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop  # a backfill checks it between its steps
        await self.deliverer.open()
        try:
            await asyncio.gather(
                *(self._source_loop(source, stop) for source in self.config.sources),
                self.deliverer.run(stop),
                self._heartbeat(stop),
            )
        finally:
            await self.deliverer.close()

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Tell dashboards in other processes (`tui --attach`) that this writer is alive: pid and time."""
        while not stop.is_set():
            try:
                record_heartbeat(self.store.conn, os.getpid(), self.clock())
            except StoreError as exc:  # a missed beat shows as a stale writer; it must not stop the bridge
                log.warning("heartbeat not written", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)

    def close(self) -> None:
        self.store.close()
