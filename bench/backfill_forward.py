"""Benchmark: a `forward_history` backfill end to end, counting every request the bridge sends to Shopify.

Not a test: it prints figures. The built-in simulator generates a shop of N orders (about 8 % refunded, the
money of each refund split over up to 3 transactions) on a manual clock; one `run --once` of a source with
`start_date` before the first order and `forward_history = true` then backfills it: the bulk operation over
earlier orders (`$is_new_customer`), the orders bulk operation, the ingest with every Placed Order, the
poll cycle that reads the history refunds batched (`nodes(ids:)`; more cycles follow, 15 s apart, while
some are unread: a cycle reads at most 1,000), and the delivery to a JSONL file.

Prints the requests by kind, the requests per 1,000 orders (goal: the bulk operations' own requests plus
at most 1, never one per order or customer) and the time the run took (the simulator's seeding excluded).

    .venv/bin/python bench/backfill.py --forward-history                # 20,000 orders
    .venv/bin/python bench/backfill.py --forward-history --sizes 5000
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from shopify_bridge.config import config_from_toml
from shopify_bridge.service import bridge as bridge_module
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.shopify.client import ShopifyClient, operation_name
from shopify_bridge.simulator import bulk as simulator_bulk
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer

TOKEN = "shpat_bench_forward_history"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HISTORY_DAYS = 30
BULK_OPERATIONS = ("BridgeBulkRunQuery", "BridgeBulkOperation", "BridgeBulkCancel")


def _config(directory: Path, url: str) -> Any:
    start = (NOW - timedelta(days=HISTORY_DAYS + 1)).date().isoformat()
    raw = {
        "database": "bench.db",
        "sources": [{
            "name": "Bench", "store": "sim-snowboards", "access_token": "${TOKEN}", "api_url": url,
            "start_date": start, "forward_history": True, "upsell_delay": False,
            "exclude": {"test_orders": False, "cancelled": False},
        }],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
    }
    return config_from_toml(raw, {"TOKEN": TOKEN}, file=directory / "shopify-bridge.toml")


@contextmanager
def instrumented(sent: Counter[str], simulated: list[float]) -> Iterator[None]:
    """Count every request by operation; time the simulator's own bulk work (it builds a result file in the
    mutation's answer, where Shopify works in the background: minutes for 20,000 orders here, so the client
    gets a timeout long enough to wait for it instead of retrying)."""
    execute, run_bulk, make_client = ShopifyClient.execute, simulator_bulk.run_bulk_query, bridge_module.client_for

    async def counting(self: ShopifyClient, document: str, variables: dict[str, Any] | None = None) -> Any:
        sent[operation_name(document)] += 1
        return await execute(self, document, variables)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return run_bulk(*args, **kwargs)
        finally:
            simulated.append(time.perf_counter() - started)

    ShopifyClient.execute = counting  # type: ignore[method-assign]
    simulator_bulk.run_bulk_query = timed  # type: ignore[assignment]
    bridge_module.client_for = partial(make_client, timeout_seconds=3600)  # type: ignore[assignment]
    try:
        yield
    finally:
        ShopifyClient.execute = execute  # type: ignore[method-assign]
        simulator_bulk.run_bulk_query = run_bulk
        bridge_module.client_for = make_client


async def measure(orders: int) -> dict[str, Any]:
    """One forward_history `run --once` over a fresh simulated shop of `orders` orders."""
    sent: Counter[str] = Counter()
    simulated: list[float] = []
    with instrumented(sent, simulated):
        return await _run(orders, sent, simulated)


async def _run(orders: int, sent: Counter[str], simulated: list[float]) -> dict[str, Any]:
    clock = ManualClock(NOW)
    seeding = time.perf_counter()
    async with SimulatorServer(token=TOKEN, orders=orders, history_days=HISTORY_DAYS, seed=14, clock=clock,
                               search_lag_seconds=0) as sim:
        seeded = time.perf_counter() - seeding
        refunds = sum(len(o["refunds"]) for o in sim.state.orders())
        with tempfile.TemporaryDirectory(prefix="bench-forward-") as tmp:

            async def advance(seconds: float) -> None:  # the bridge's waits pass on the simulator's clock
                clock.advance(seconds)

            bridge = Bridge(_config(Path(tmp), sim.url), clock=clock, sleep=advance,
                            on_progress=lambda progress: None)
            try:
                started = time.perf_counter()
                code = await bridge.run_once()
                cycles = 1
                # A cycle reads at most MAX_REFUNDS_PER_CYCLE history refunds; the next ones take the rest.
                while code == 0 and _unread_refunds(bridge):
                    clock.advance(15)
                    code = await bridge.run_once()
                    cycles += 1
                took = time.perf_counter() - started
                events = Counter(str(name) for (name,) in bridge.store.sql.all("SELECT event_name FROM events"))
            finally:
                bridge.close()
    if code != 0:
        raise SystemExit(f"run --once exited {code}")
    return {"orders": orders, "refunds": refunds, "seeded_s": seeded, "run_s": took, "sent": sent,
            "operations": len(sim.state.bulk_operations), "events": events, "cycles": cycles,
            "simulator_bulk_s": sum(simulated)}


def _unread_refunds(bridge: Bridge) -> int:
    (count,) = bridge.store.sql.one("SELECT COUNT(*) FROM refunds WHERE status = 'waiting'") or (0,)
    return int(count)


def report(result: dict[str, Any]) -> None:
    sent: Counter[str] = result["sent"]
    orders = result["orders"]
    bulk = sum(sent[name] for name in BULK_OPERATIONS)
    other = sum(sent.values()) - bulk
    per = 1000 / orders
    print(f"forward_history backfill of {orders:,} orders ({result['refunds']:,} refunds); "
          f"events: {dict(result['events'])}")
    print(f"bulk operations: {result['operations']}, their requests (run + status polls): {bulk}")
    print("other requests: " + ", ".join(f"{name} {n}" for name, n in sorted(sent.items())
                                          if name not in BULK_OPERATIONS))
    print(f"requests per 1,000 orders: {bulk * per:.2f} for the bulk operations + {other * per:.2f} other "
          f"(goal: the bulk operations plus at most 1)")
    bridge_s = result["run_s"] - result["simulator_bulk_s"]
    print(f"time for {orders:,} orders: {bridge_s:.1f} s in the bridge over {result['cycles']} run --once "
          f"cycle(s): backfill, history refunds, delivery (plus {result['simulator_bulk_s']:.1f} s the simulator "
          f"spent building its bulk results, and {result['seeded_s']:.1f} s seeding the shop, not counted)")


def main(sizes: list[int]) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    for size in sizes:
        report(asyncio.run(measure(size)))
