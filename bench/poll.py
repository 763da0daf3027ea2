"""Polling bench: what never missing an order costs, how fast orders are seen, how late holds go out.

Drives the real client and poller against the simulator on one virtual clock (`tests/never_miss/rig.py`:
every wait advances the clock, each request takes `--latency` seconds of it), with steady traffic of new
web orders, and prints:

1. API points per 1,000 polled orders, by operation, against the minimum — one pass that lists each
   order once and reads it once in full with the same queries — at the simulator's defaults (search lag
   drawn per change up to 15 min, another app taking 80 % of the restore rate); and the THROTTLED share;
2. detection latency (an order's `updatedAt` to the bridge storing it) p50/p95 at a constant search lag
   of 0, 60 and 300 s;
3. hold lateness (a hold's time to its release) p50/p95/max at 5 orders/s with a 10-minute upsell delay.

    .venv/bin/python bench/poll.py [--minutes 60] [--latency 0.1] [--seed 1] [--only cost|detection|holds]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.client import ShopifyClient, operation_name
from shopify_bridge.simulator.options import SimulatorOptions
from tests.never_miss.harness import hold_lateness
from tests.never_miss.rig import API_VERSION, SHOP, SOURCE, T0, TOKEN, Rig, rig

STEP_SECONDS = 15.0


class Ledger:
    """Points and requests per operation, read off the client's usage around each call."""

    def __init__(self, client: ShopifyClient) -> None:
        self.points: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.client = client
        inner = client.execute

        async def execute(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            name = operation_name(document)
            before, sent = client.usage.points_actual, client.usage.requests
            try:
                return await inner(document, variables)
            finally:
                self.points[name] += client.usage.points_actual - before
                self.requests[name] += client.usage.requests - sent

        client.execute = execute  # type: ignore[method-assign]


async def steady_orders(bridge: Rig, per_second: float, minutes: float, after: Callable[[], Awaitable[None]]) -> int:
    """New plain web orders at `per_second`, the bridge running between them; how many were made."""
    made, owed = 0, 0.0
    end = bridge.clock() + timedelta(minutes=minutes)
    tick = min(STEP_SECONDS, 1.0 / per_second if per_second >= 1 else STEP_SECONDS)
    while bridge.clock() < end:
        owed += per_second * tick
        while owed >= 1:
            bridge.sim.state.create_order(sourceName="web", test=False, tags=[], financialStatus="PAID")
            made, owed = made + 1, owed - 1
        await bridge.run_for(tick)
        await after()
    return made


async def minimum_points(bridge: Rig) -> float:
    """What one clairvoyant pass costs: list every order once, read each in full once, same queries."""
    client = ShopifyClient(source_name=SOURCE, shop_domain=SHOP, token=TOKEN, api_version=API_VERSION,
                           api_url=bridge.sim.url, clock=bridge.monotonic, sleep=bridge.advance)
    window = f"updated_at:>='{T0:%Y-%m-%dT%H:%M:%SZ}'"
    async with client:
        ids: list[str] = []
        after = None
        while True:
            page = (await client.execute(queries.LIST_ORDERS, {"query": window, "after": after}))["orders"]
            ids += [node["id"] for node in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        for start in range(0, len(ids), queries.READ_BATCH):
            await client.execute(queries.READ_ORDERS, {"ids": ids[start : start + queries.READ_BATCH]})
    return client.usage.points_actual


async def bench_cost(args: argparse.Namespace, workdir: Path) -> None:
    options = SimulatorOptions(orders=0, seed=args.seed)  # the defaults: drawn lag, competing app
    async with rig(options, workdir / "cost", upsell_delay=None, latency=args.latency) as bridge:
        ledger = Ledger(bridge.client)
        await bridge.run_for(STEP_SECONDS)
        made = await steady_orders(bridge, 0.5, args.minutes, bridge.deliverer.deliver_once)
        await bridge.run_for(45 * 60)  # past the largest lag and a sweep: every order is in
        stored = bridge.store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        usage = bridge.client.usage
        known, placed = new_customer_known(bridge)
        minimum = await minimum_points(bridge)
    per = 1000 / made
    polling = ledger.points["BridgeListOrders"] + ledger.points["BridgeReadOrders"]
    print(f"\n1. cost — 0.5 new orders/s for {args.minutes:g} min, lag drawn per change (≤ 15 min), another app "
          f"taking 80 % of the restore rate; {made} orders made, {stored} stored")
    for name, points in ledger.points.most_common():
        print(f"   {name:<22} {points * per:>9.0f} points / 1,000 orders  ({ledger.requests[name]} requests)")
    print(f"   polling (list + full reads): {polling * per:.0f} points / 1,000 orders; minimum (each order listed "
          f"once, read once): {minimum * per:.0f}; ratio {polling / minimum:.2f}")
    print(f"   all requests: {usage.points_actual * per:.0f} points / 1,000 orders (the $is_new_customer lookups, "
          f"10 each, are the contract's, not polling's); $is_new_customer known for {known} of {placed} Placed "
          "Orders (a returning customer's is settled from the store)")
    print(f"   THROTTLED: {usage.throttled} of {usage.requests} requests ({100 * usage.throttled_share:.1f} %); "
          f"recovered by the sweep: {len(bridge.recovered.lags)}")


async def bench_detection(args: argparse.Namespace, workdir: Path) -> None:
    print(f"\n2. detection latency — updatedAt to stored, 0.2 new orders/s for {args.minutes:g} min, another app "
          "taking 80 % of the restore rate, no upsell delay")
    for lag in (0, 60, 300):
        options = SimulatorOptions(orders=0, seed=args.seed).with_changes(search_lag_seconds=lag)
        async with rig(options, workdir / f"lag{lag}", upsell_delay=None, latency=args.latency) as bridge:
            await bridge.run_for(STEP_SECONDS)
            await steady_orders(bridge, 0.2, args.minutes, bridge.deliverer.deliver_once)
            await bridge.run_for(45 * 60)
            rows = bridge.store.conn.execute("SELECT processed_at, first_seen_at FROM orders").fetchall()
            recovered = len(bridge.recovered.lags)
        placed = [(datetime.fromisoformat(a.replace("Z", "+00:00")), datetime.fromisoformat(b)) for a, b in rows]
        seen = sorted((b - a).total_seconds() for a, b in placed)
        # Until the first sweep (30 min after connecting) nothing has shown the polls a lag beyond their
        # 60 s starting overlap: what lags more waits for that sweep. After it, the overlap has learnt the lag.
        learnt = T0 + timedelta(minutes=31)
        later = sorted((b - a).total_seconds() for a, b in placed if a > learnt)
        print(f"   lag {lag:>3} s: p50 {percentile(seen, 50):>6.0f} s  p95 {percentile(seen, 95):>6.0f} s  "
              f"(orders placed after the first sweep: p50 {percentile(later, 50):.0f} s, p95 "
              f"{percentile(later, 95):.0f} s; {len(seen)} orders, {recovered} recovered by the sweep)")


async def bench_holds(args: argparse.Namespace, workdir: Path) -> None:
    minutes = min(args.minutes, 15.0)
    print(f"\n3. hold lateness — 5 new orders/s for {minutes:g} min, upsell delay 600 s, {args.latency:g} s a request")
    for share in (0.0, 0.8):
        options = SimulatorOptions(orders=0, seed=args.seed, competing_app_share=share)
        async with rig(options, workdir / f"holds{share}", upsell_delay=600, latency=args.latency) as bridge:
            await bridge.run_for(STEP_SECONDS)
            made = await steady_orders(bridge, 5.0, minutes, bridge.deliverer.deliver_once)
            await bridge.run_for(12 * 60)
            late = sorted(hold_lateness(bridge))
            usage = bridge.client.usage
            known, placed = new_customer_known(bridge)
        neighbour = "no other app" if share == 0 else f"another app taking {share:.0%} of the restore rate"
        print(f"   {neighbour}: {len(late)} of {made} holds released; p50 {percentile(late, 50):.0f} s, "
              f"p95 {percentile(late, 95):.0f} s, max {max(late, default=0):.0f} s; THROTTLED "
              f"{100 * usage.throttled_share:.1f} % of {usage.requests} requests; $is_new_customer known "
              f"for {known} of {placed} Placed Orders (looked up while held, with points to spare)")


def new_customer_known(bridge: Rig) -> tuple[int, int]:
    """Of the Placed Orders created, how many carry `$is_new_customer` (the rest omit it: not looked up in
    time), and how many there are."""
    placed = [json.loads(payload)["properties"] for (payload,) in bridge.store.sql.all(
        "SELECT payload FROM events WHERE event_name = 'Placed Order'")]
    return sum("$is_new_customer" in properties for properties in placed), len(placed)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


async def main(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    benches = {"cost": bench_cost, "detection": bench_detection, "holds": bench_holds}
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as scratch:
        for name, bench in benches.items():
            if args.only in (None, name):
                started = time.monotonic()
                (Path(scratch) / name).mkdir()
                for sub in ("cost", "lag0", "lag60", "lag300", "holds0.0", "holds0.8"):
                    (Path(scratch) / sub).mkdir(exist_ok=True)
                await bench(args, Path(scratch))
                print(f"   ({time.monotonic() - started:.0f} s of real time)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=60.0, help="traffic duration, virtual minutes")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds one request to Shopify takes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("cost", "detection", "holds"))
    asyncio.run(main(parser.parse_args()))
