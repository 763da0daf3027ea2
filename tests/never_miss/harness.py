"""The never-miss harness: a seeded shop that changes at random, lags at random and fails at random, polled by
the real poller on one virtual clock, then checked order by order.

The simulator (search lag drawn per change, up to 15 minutes, out of `updatedAt` order; a competing app; faults
on any request, sometimes more than the client retries) runs on a `ManualClock`. The bridge's side — the real
`ShopifyClient`, `SourcePoller` and a JSONL `Deliverer` — runs on the same clock: every wait (pacing, retry
backoff, the gap until the next poll, hold or sweep) advances it instead of sleeping. The shop's traffic is
`tests.crash.traffic.ShopTraffic` (new web/POS/test/tagged orders, upsells, refunds, cancellations, late tags).

When the traffic stops, the bridge runs on (no faults) for longer than the largest lag plus a sweep interval;
then `violations()` holds every order the traffic created to the contract: exactly one of a delivered Placed
Order, a recorded exclusion or history, and no `event_id` created or delivered twice.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.decide.windows import PollSettings
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import Deliverer
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.metrics import BridgeObserver
from shopify_bridge.retry import Backoff
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.options import SimulatorOptions
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store
from tests.crash.traffic import EXCLUDE_TAG, ShopTraffic

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
TOKEN = "shpat_never_miss_canary"
SOURCE = "Never Miss"
TICK_SECONDS = 15.0
# Faults the client retries (and, repeated more often than it retries, fail a poll in the middle).
FAULTS = ("http_500", "http_503", "http_429", "reset", "throttled")
RETRY = Backoff(base=5.0, cap=120.0, jitter=False)


@dataclass
class Scenario:
    seed: int = 0
    minutes: float = 60.0
    """How long the shop's traffic lasts (virtual time)."""
    changes_per_minute: float = 3.0
    fault_probability: float = 0.05
    """Chance per tick of a fault on the next requests (some repeated past the client's retries)."""
    upsell_delay: int | None = 600
    options: SimulatorOptions = field(default_factory=lambda: SimulatorOptions.harsh(orders=0))
    settle_minutes: float = 15 + 30 + 15
    """How long the bridge runs on after the traffic: the largest lag, a sweep interval, and some."""


@dataclass
class Outcome:
    scenario: Scenario
    orders: dict[str, dict[str, Any]]
    """Per order id the traffic created: its kind, racy flag and the store's row (None: never stored)."""
    events: list[tuple[str, str]]
    """(event_id, event_name) of every event in the store, in creation order."""
    delivered: list[str]
    """event_id of every line of the JSONL destination, in order."""
    first_connected_at: str
    recovered: int
    failures: int
    faults: int
    requests: int
    throttled: int
    points: float
    lateness: list[float] = field(default_factory=list)
    """Seconds between each released hold's time and its release."""


class _Recovered(BridgeObserver):
    def __init__(self) -> None:
        self.count = 0

    def order_recovered(self, source: str, lag_seconds: float) -> None:
        self.count += 1


def _context(upsell_delay: int | None) -> SourceContext:
    return SourceContext(
        shop="sim-snowboards.myshopify.com",
        name=SOURCE,
        channel_table=DEFAULT_CHANNEL_TABLE,
        rules=ExclusionRules(channels=("pos",), tags=(EXCLUDE_TAG,)),
        upsell_delay_seconds=upsell_delay,
        destinations=("events",),
    )


async def run_scenario(scenario: Scenario, workdir: Path | None = None) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="never-miss-") as scratch:
        return await _run(scenario, workdir or Path(scratch))


async def _run(scenario: Scenario, workdir: Path) -> Outcome:
    clock = ManualClock(T0)
    rng = random.Random(scenario.seed)
    options = scenario.options.with_changes(seed=scenario.seed)

    async def advance(seconds: float) -> None:
        clock.advance(max(0.0, seconds))

    def monotonic() -> float:
        return (clock() - T0).total_seconds()

    async with SimulatorServer(options=options, clock=clock, token=TOKEN) as sim:
        store = Store.open_writer(workdir / "bridge.db")
        observer = _Recovered()
        client = ShopifyClient(
            source_name=SOURCE, shop_domain="sim-snowboards.myshopify.com", token=TOKEN, api_version="2026-07",
            api_url=sim.url, clock=monotonic, sleep=advance, max_temporary_retries=3,
        )
        poller = SourcePoller(
            _context(scenario.upsell_delay), client, store, clock, sleep=advance, monotonic=monotonic,
            observer=observer, settings=PollSettings(poll_interval=timedelta(seconds=TICK_SECONDS)),
        )
        deliverer = Deliverer(store.outbox, [JsonlDestination("events", workdir / "events.jsonl")], clock)
        traffic = ShopTraffic(sim.state, scenario.seed, rush_probability=0.02, rush_size=30)
        driver = _Driver(poller, advance, clock)
        faults = 0
        async with client:
            await deliverer.open()
            try:
                await driver.run_for(TICK_SECONDS)  # the first connection, before the shop changes
                end = clock() + timedelta(minutes=scenario.minutes)
                while clock() < end:
                    for _ in range(_poisson(rng, scenario.changes_per_minute * TICK_SECONDS / 60)):
                        traffic.step()
                    if rng.random() < scenario.fault_probability:
                        faults += 1
                        sim.state.inject(rng.choice(FAULTS), count=rng.choice((1, 2, 5, 8)), after=rng.randint(0, 6))
                    await driver.run_for(TICK_SECONDS)
                    await deliverer.deliver_once()
                sim.state.faults.clear()
                settled = clock() + timedelta(minutes=scenario.settle_minutes)
                while clock() < settled:
                    await driver.run_for(TICK_SECONDS * 4)
                    await deliverer.deliver_once()
            finally:
                await deliverer.close()
        try:
            return _outcome(scenario, store, traffic, workdir, observer.count, driver.failures, faults, client)
        finally:
            store.close()


class _Driver:
    """The bridge's source loop on the virtual clock: steps, and waits that advance the clock."""

    def __init__(self, poller: SourcePoller, advance: Any, clock: ManualClock) -> None:
        self.poller = poller
        self.advance = advance
        self.clock = clock
        self.failures = 0
        self._streak = 0

    async def run_for(self, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        while self.clock() < until:
            try:
                await self.poller.step()
            except BridgeError:
                self.poller.abandon_reads()
                self.failures += 1
                self._streak += 1
                await self.advance(min(RETRY.delay(self._streak), (until - self.clock()).total_seconds()))
                continue
            self._streak = 0
            wait = self.poller.seconds_to_next_step()
            await self.advance(min(wait, (until - self.clock()).total_seconds()))


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _outcome(
    scenario: Scenario, store: Store, traffic: ShopTraffic, workdir: Path, recovered: int, failures: int,
    faults: int, client: ShopifyClient,
) -> Outcome:
    conn = store.conn
    columns = ("status", "exclusion_rule", "processed_at", "release_at", "released_at", "placed_event_seq")
    orders: dict[str, dict[str, Any]] = {}
    for planned in traffic.orders.values():
        row = conn.execute(f"SELECT {', '.join(columns)} FROM orders WHERE order_id = ?", (planned.order_id,))
        found = row.fetchone()
        orders[planned.order_id] = {
            "name": planned.name, "kind": planned.kind, "racy": planned.racy,
            "row": None if found is None else dict(zip(columns, found, strict=True)),
        }
    events = [(str(a), str(b)) for a, b in conn.execute("SELECT event_id, event_name FROM events ORDER BY seq")]
    path = workdir / "events.jsonl"
    delivered = [json.loads(line)["event_id"] for line in path.read_text().splitlines()] if path.exists() else []
    first = conn.execute("SELECT first_connected_at FROM sources").fetchone()[0]
    # Holds released when due (an order first seen after its time is released at once: not a hold's lateness).
    lateness = [
        late for due, released, seen in conn.execute(
            "SELECT release_at, released_at, first_seen_at FROM orders WHERE release_at IS NOT NULL "
            "AND released_at IS NOT NULL"
        )
        if seen < due and (late := (datetime.fromisoformat(released) - datetime.fromisoformat(due)).total_seconds())
        is not None
    ]
    usage = client.usage
    return Outcome(scenario, orders, events, delivered, str(first), recovered, failures, faults, usage.requests,
                   usage.throttled, usage.points_actual, lateness)


def violations(outcome: Outcome) -> list[str]:
    """Everything the outcome does against the contract (empty: nothing)."""
    found: list[str] = []
    placed = Counter(event_id for event_id, name in outcome.events if name == "Placed Order")
    created = Counter(event_id for event_id, _ in outcome.events)
    delivered = Counter(outcome.delivered)
    found += [f"event {event_id} created {n} times" for event_id, n in created.items() if n > 1]
    found += [f"event {event_id} delivered {n} times" for event_id, n in delivered.items() if n > 1]
    found += [f"event {event_id} never delivered" for event_id in created if event_id not in delivered]
    for order_id, order in outcome.orders.items():
        label = f"{order['name']} ({order_id}, {order['kind']})"
        row = order["row"]
        if row is None:
            found.append(f"{label}: never stored")
            continue
        status = row["status"]
        if status == "released":
            if placed[order_id] != 1:
                found.append(f"{label}: released with {placed[order_id]} Placed Orders")
        elif status == "excluded":
            if not row["exclusion_rule"]:
                found.append(f"{label}: excluded without a rule")
            if placed[order_id]:
                found.append(f"{label}: excluded but has a Placed Order")
        elif status == "history":
            if row["processed_at"] >= outcome.first_connected_at:
                found.append(f"{label}: history, yet processed after the first connection")
        else:
            found.append(f"{label}: still {status}")
        if order["kind"] in ("pos", "test", "tagged") and status == "released":
            found.append(f"{label}: forwarded although its kind is excluded")
        if order["kind"] == "web" and not order["racy"] and status != "released":
            found.append(f"{label}: a plain web order ended {status}")
    return found
