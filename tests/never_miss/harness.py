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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.simulator.options import SimulatorOptions
from tests.crash.traffic import ShopTraffic
from tests.never_miss.rig import Rig, rig

TICK_SECONDS = 15.0
# Faults the client retries (and, repeated more often than it retries, fail a poll in the middle).
FAULTS = ("http_500", "http_503", "http_429", "reset", "throttled")


@dataclass
class Scenario:
    seed: int = 0
    minutes: float = 60.0
    """How long the shop's traffic lasts (virtual time)."""
    changes_per_minute: float = 3.0
    fault_probability: float = 0.05
    """Chance per tick of a fault on the next requests (some repeated past the client's retries)."""
    upsell_delay: int | None = 600
    latency: float = 0.25
    """Seconds each request to Shopify takes."""
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
    """Seconds between each hold's time and its release (holds seen before their time)."""


async def run_scenario(
    scenario: Scenario, workdir: Path | None = None, database: Path | str | None = None
) -> Outcome:
    """Run `scenario`; the store is `database` (an SQLite file or a PostgreSQL URL), else a file in `workdir`."""
    with tempfile.TemporaryDirectory(prefix="never-miss-") as scratch:
        return await _run(scenario, workdir or Path(scratch), database)


async def _run(scenario: Scenario, workdir: Path, database: Path | str | None) -> Outcome:
    rng = random.Random(scenario.seed)
    options = scenario.options.with_changes(seed=scenario.seed)
    async with rig(options, workdir, upsell_delay=scenario.upsell_delay, latency=scenario.latency,
                   database=database) as bridge:
        traffic = ShopTraffic(bridge.sim.state, scenario.seed, rush_probability=0.02, rush_size=30)
        faults = 0
        await bridge.run_for(TICK_SECONDS)  # the first connection, before the shop changes
        end = bridge.clock() + timedelta(minutes=scenario.minutes)
        while bridge.clock() < end:
            for _ in range(_poisson(rng, scenario.changes_per_minute * TICK_SECONDS / 60)):
                traffic.step()
            if rng.random() < scenario.fault_probability:
                faults += 1
                bridge.sim.state.inject(rng.choice(FAULTS), count=rng.choice((1, 2, 5, 8)), after=rng.randint(0, 6))
            await bridge.run_for(TICK_SECONDS)
            await bridge.deliverer.deliver_once()
        bridge.sim.state.faults.clear()
        settled = bridge.clock() + timedelta(minutes=scenario.settle_minutes)
        while bridge.clock() < settled:
            await bridge.run_for(TICK_SECONDS * 4)
            await bridge.deliverer.deliver_once()
        return _outcome(scenario, bridge, traffic, faults)


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def hold_lateness(bridge: Rig) -> list[float]:
    """Seconds from each hold's time to its release, for holds seen before their time (an order first seen
    after it is released at once: that is detection, not a hold's lateness)."""
    rows = bridge.store.sql.all(
        "SELECT release_at, released_at, first_seen_at FROM orders WHERE release_at IS NOT NULL "
        "AND released_at IS NOT NULL"
    )
    return [
        (datetime.fromisoformat(released) - datetime.fromisoformat(due)).total_seconds()
        for due, released, seen in rows
        if seen < due
    ]


def _outcome(scenario: Scenario, bridge: Rig, traffic: ShopTraffic, faults: int) -> Outcome:
    sql = bridge.store.sql  # portable: the same queries on SQLite and PostgreSQL
    columns = ("status", "exclusion_rule", "processed_at")
    orders: dict[str, dict[str, Any]] = {}
    for planned in traffic.orders.values():
        found = sql.one(f"SELECT {', '.join(columns)} FROM orders WHERE order_id = ?", (planned.order_id,))
        orders[planned.order_id] = {
            "name": planned.name, "kind": planned.kind, "racy": planned.racy,
            "row": None if found is None else dict(zip(columns, found, strict=True)),
        }
    events = [(str(a), str(b)) for a, b in sql.all("SELECT event_id, event_name FROM events ORDER BY seq")]
    path = bridge.workdir / "events.jsonl"
    delivered = [json.loads(line)["event_id"] for line in path.read_text().splitlines()] if path.exists() else []
    first = sql.one("SELECT first_connected_at FROM sources")[0]
    usage = bridge.client.usage
    return Outcome(scenario, orders, events, delivered, str(first), len(bridge.recovered.lags), bridge.failures,
                   faults, usage.requests, usage.throttled, usage.points_actual, hold_lateness(bridge))


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
