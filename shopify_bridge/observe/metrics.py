"""Prometheus metrics of a running bridge: what it did (hook counters) and what the store holds (scrape time).

The bridge reports to a `BridgeObserver` (`observer`); the base class does nothing, so a bridge without
`--metrics-port` pays nothing (it does not even import this module). `BridgeMetrics` turns those reports
into counters, gauges and a histogram on its own registry (never the process-global one: two bridges in
one test process must not share series), and adds `StoreCollector`, which reads the store at scrape time through the
store's `StoreScraper` (a read-only connection of its own; indexed queries only, and the totals of the
append-only tables grow by what was added since the previous scrape).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shopify_bridge import __version__, exit_codes
from shopify_bridge.deliver.destinations.base import DeliveryResult, Destination, Outgoing
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.store.reads_metrics import StoreScrape, StoreScraper
from shopify_bridge.timeutil import Clock, system_clock

if TYPE_CHECKING:
    from shopify_bridge.config import Config
    from shopify_bridge.observe.backfill_progress import BackfillProgress

PREFIX = "shopify_bridge"
POLL_OUTCOMES: dict[int, str] = {
    exit_codes.OK: "ok",
    exit_codes.TEMPFAIL: "temporary",
    exit_codes.UNAVAILABLE: "unavailable",
    exit_codes.NOPERM: "auth",
    exit_codes.CONFIG: "config",
}
"""Exit code of a source cycle -> the `outcome` label of `shopify_bridge_polls_total` (else "error")."""

DELIVERY_OUTCOMES = ("delivered", "retry", "dead", "skipped")
OUTSTANDING_STATES = ("pending", "in_flight", "dead")
# A bulk operation runs for seconds (small shops) to hours (years of orders).
BULK_BUCKETS = (5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, float("inf"))


class CountingDestination:
    """A destination that counts the outcome of every item it sends."""

    def __init__(self, inner: Destination, attempts: Counter) -> None:
        self.inner = inner
        self.name = inner.name
        self.batch_size = inner.batch_size
        self._attempts = attempts

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        results = await self.inner.send(items)
        for result in results:
            self._attempts.labels(self.name, result.outcome).inc()
        return results


class BridgeMetrics(BridgeObserver):
    """The bridge's metrics registry, fed by its hooks and by the store; also what `/healthz` reads."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.started_at = clock()
        self.last_success: dict[str, datetime] = {}
        """Per source name: when its last cycle succeeded."""
        self.last_alive: dict[str, datetime] = {}
        """Per source name: its last successful cycle or backfill progress (what health judges)."""
        # `*_created` series would double the series count and say nothing a restart-aware rate() needs.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The process's own health (memory, CPU, open files, GC, Python version): the library's collectors, which
        # only read /proc and the interpreter, so the same instances serve this registry as the global one.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(collector)
        self.polls = Counter(f"{PREFIX}_polls", "Source cycles (poll, release, refund settle) by outcome.",
                             ["source", "outcome"], registry=r)
        self.last_success_time = Gauge(f"{PREFIX}_last_successful_poll_timestamp_seconds",
                                       "Unix time of the source's last successful cycle.", ["source"], registry=r)
        self.source_up = Gauge(f"{PREFIX}_source_up", "1 when the source's last cycle succeeded, else 0.",
                               ["source"], registry=r)
        self.source_failed = Gauge(f"{PREFIX}_source_failed",
                                   "1 while the source is failed (its last cycle failed; see polls_total for why).",
                                   ["source"], registry=r)
        self.delivery_attempts = Counter(f"{PREFIX}_delivery_attempts",
                                         "Items sent to a destination, by outcome (retry: will be sent again).",
                                         ["destination", "outcome"], registry=r)
        self.bulk_seconds = Histogram(f"{PREFIX}_bulk_operation_duration_seconds",
                                      "Time from starting a backfill bulk operation to its result being ready.",
                                      ["source"], buckets=BULK_BUCKETS, registry=r)
        self.recovered = Counter(f"{PREFIX}_orders_recovered",
                                 "Order versions the sweep found that the polls had missed (search-index lag).",
                                 ["source"], registry=r)
        self.recovered_lag = Gauge(f"{PREFIX}_recovered_order_lag_seconds",
                                   "How late after its updatedAt the sweep's last recovered order was found.",
                                   ["source"], registry=r)
        self.new_customer_unknowns = Counter(
            f"{PREFIX}_new_customer_unknown",
            "Placed Orders sent without $is_new_customer: not looked up by their release (no API points to spare).",
            ["source"], registry=r)
        info = Gauge(f"{PREFIX}_build_info", "Always 1; the version in a label.", ["version"], registry=r)
        info.labels(__version__).set(1)
        for source in config.sources:
            self.polls.labels(source.name, "ok")
            self.recovered.labels(source.name)
            self.source_up.labels(source.name).set(0)
            self.source_failed.labels(source.name).set(0)
        for destination in config.destinations:
            for outcome in DELIVERY_OUTCOMES:
                self.delivery_attempts.labels(destination.name, outcome)
        self.store = StoreCollector(
            config.database,
            {s.shop_domain: s.name for s in config.sources},
            [d.name for d in config.destinations],
            clock,
        )
        r.register(self.store)
        self._bulk_started: dict[tuple[str, str], float] = {}

    # -- hooks ----------------------------------------------------------------------------------
    def poll_finished(self, source: str, exit_code: int) -> None:
        self.polls.labels(source, POLL_OUTCOMES.get(exit_code, "error")).inc()
        ok = exit_code == exit_codes.OK
        self.source_up.labels(source).set(1 if ok else 0)
        self.source_failed.labels(source).set(0 if ok else 1)
        if ok:
            now = self.clock()
            self.last_success[source] = self.last_alive[source] = now
            self.last_success_time.labels(source).set(now.timestamp())

    def backfill_progress(self, progress: BackfillProgress) -> None:
        self.last_alive[progress.source] = self.clock()
        key = (progress.source, progress.window)
        if progress.phase == "running":
            self._bulk_started.setdefault(key, self.monotonic())
        elif progress.phase == "downloading" and key in self._bulk_started:
            # The operation's result is ready once its download starts: that is Shopify's share.
            self.bulk_seconds.labels(progress.source).observe(self.monotonic() - self._bulk_started.pop(key))
        elif progress.phase == "done":
            # Windows that completed empty (no download) leave their start behind; forget them.
            for stale in [k for k in self._bulk_started if k[0] == progress.source]:
                del self._bulk_started[stale]

    def order_recovered(self, source: str, lag_seconds: float) -> None:
        self.recovered.labels(source).inc()
        self.recovered_lag.labels(source).set(lag_seconds)

    def new_customer_unknown(self, source: str) -> None:
        self.new_customer_unknowns.labels(source).inc()

    def observe_destination(self, destination: Destination) -> Destination:
        return CountingDestination(destination, self.delivery_attempts)

    # -- exposition -----------------------------------------------------------------------------
    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (reads the store: call it off the event loop)."""
        return generate_latest(self.registry)

    def close(self) -> None:
        self.store.close()


class StoreCollector(Collector):
    """Gauges and totals computed from the store at scrape time (`StoreScraper`, its own read-only connection)."""

    def __init__(
        self, database: Path | str, source_names: dict[str, str], destinations: list[str], clock: Clock
    ) -> None:
        self.database = database
        self.source_names = source_names
        self.destinations = destinations
        self.clock = clock
        self._lock = threading.Lock()
        self._scraper = StoreScraper(database)

    def describe(self) -> Iterator[Metric]:
        # Names only (no store access): lets the registry refuse a clashing metric at registration.
        yield from StoreFamilies().all()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            scrape = self._scraper.scrape(self.destinations, OUTSTANDING_STATES)
        if scrape is None:
            return  # no store yet, or unreadable this time: the scrape goes without its store part
        yield from self._families(scrape).all()

    def close(self) -> None:
        self._scraper.close()

    def _source(self, shop: str) -> str:
        return self.source_names.get(shop, shop)

    def _families(self, scrape: StoreScrape) -> StoreFamilies:
        f = StoreFamilies()
        for (shop,), count in sorted(scrape.orders.items()):
            f.orders.add_metric([self._source(shop)], count)
        for (shop,), count in sorted(scrape.versions.items()):
            f.versions.add_metric([self._source(shop)], count)
        for (shop, name), count in sorted(scrape.events.items()):
            f.events.add_metric([self._source(shop), name], count)
        for shop, name in self.source_names.items():
            f.holds.add_metric([name], scrape.held.get(shop, 0))
            f.backlog.add_metric([name], sum(scrape.by_shop.get((shop, s), 0) for s in ("pending", "in_flight")))
            f.source_dead.add_metric([name], scrape.by_shop.get((shop, "dead"), 0))
        now = self.clock()
        for destination in self.destinations:
            for state in OUTSTANDING_STATES:
                count = scrape.deliveries[(destination, state)]
                f.deliveries.add_metric([destination, state], count)
                if state == "dead":
                    f.dead_letters.add_metric([destination], count)
            first = scrape.oldest_pending[destination]
            f.oldest_pending.add_metric([destination], max(0.0, (now - first).total_seconds()) if first else 0.0)
        for shop, level, size in scrape.buckets:
            f.available.add_metric([self._source(shop)], level)
            f.maximum.add_metric([self._source(shop)], size)
        return f


def _gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))


def _total(name: str, documentation: str, *labels: str) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))


@dataclass
class StoreFamilies:
    """The metric families one scrape reads from the store (empty until filled)."""

    orders: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "orders_stored", "Orders in the store, any status.", "source"))
    versions: CounterMetricFamily = field(default_factory=lambda: _total(
        "order_versions_stored", "Order versions in the store.", "source"))
    events: CounterMetricFamily = field(default_factory=lambda: _total(
        "events_created", "Events in the store, by name.", "source", "event_name"))
    holds: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "holds_pending", "Orders held for the upsell delay.", "source"))
    deliveries: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "deliveries", "Outstanding deliveries by state (pending, in_flight, dead).", "destination", "state"))
    dead_letters: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "dead_letters", "Deliveries that went dead (replay re-sends them).", "destination"))
    backlog: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "outbox_backlog", "Deliveries of the source's events still to send (pending or in flight).", "source"))
    source_dead: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "source_dead_letters", "Dead deliveries of the source's events (replay re-sends them).", "source"))
    oldest_pending: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "oldest_pending_delivery_age_seconds", "Age of the oldest pending delivery (0 when none).", "destination"))
    available: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "throttle_available_points", "Shopify's cost bucket level as of the source's last cycle.", "source"))
    maximum: GaugeMetricFamily = field(default_factory=lambda: _gauge(
        "throttle_maximum_points", "Shopify's cost bucket size.", "source"))

    def all(self) -> list[Metric]:
        return [getattr(self, item.name) for item in fields(self)]
