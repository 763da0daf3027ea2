"""Benchmark: http delivery through the outbox vs. the same requests without bookkeeping.

Fills a temporary store with N events + pending deliveries for one http destination, starts a
loopback receiver in a separate process (so it does not compete with the client for the event
loop) that answers 200, then:

1. plain: the same payloads POSTed with one aiohttp session at the same concurrency, no store;
2. outbox: `Deliverer.deliver_once()` + `HttpDestination`, every outcome committed to SQLite.

Prints events/s for both, the share of the outbox run that is bookkeeping, and where the
bookkeeping time goes (Outbox.due, the dead-refund sweep, the commit of the delivered marks).

    .venv/bin/python bench/delivery.py [--events 50000] [--concurrency 16] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from shopify_bridge.deliver.destinations.http import DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, HttpDestination
from shopify_bridge.deliver.loop import Deliverer
from shopify_bridge.store import Store
from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso, system_clock

SHOP = "bench.myshopify.com"
DESTINATION = "bench-http"
TIMED_OUTBOX_CALLS = ("due", "bury_refunds_of_dead_orders", "mark_delivered")
T = TypeVar("T")


def _serve(pipe: Connection) -> None:
    """The receiver process: answers every POST with 200 until its parent goes away."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text='{"ok":true}', content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        pipe.send(int(runner.addresses[0][1]))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # blocks until the parent says stop
        await runner.cleanup()

    asyncio.run(main())


def sample_payload(number: int) -> str:
    """A Placed Order of realistic size (about 1.3 KB)."""
    order_id = str(5_800_000_000_000 + number)
    items = [
        {"product_id": str(7000 + i), "variant_id": str(9000 + i), "sku": f"SKU-{i}", "name": f"Item {i}",
         "vendor": "Acme", "price": 19.95, "quantity": 1 + i, "currency": "CAD"}
        for i in range(3)
    ]
    properties = {"id": order_id, "order_name": f"#{1000 + number}", "total_price": 129.85, "total_tax": 8.5,
                  "total_discount": 0, "total_shipping": 10, "currency": "CAD", "$sales_channel_type": "web",
                  "source_name": "web", "tags": ["vip"], "store": SHOP, "items": items,
                  "$email": f"buyer{number}@example.com", "$first_name": "Ann", "$last_name": "Lee"}
    return json.dumps({
        "event_name": "Placed Order", "event_id": order_id, "timestamp": "2026-05-01T10:00:00+00:00",
        "properties": properties, "profile_properties": {"$email": f"buyer{number}@example.com"},
        "aliases": [f"urn:email:buyer{number}@example.com"],
    }, separators=(",", ":"))


def fill_store(path: Path, events: int) -> tuple[Store, list[bytes]]:
    store = Store.open_writer(path)
    conn = store.conn
    now = iso(datetime.now(UTC))
    payloads = [sample_payload(n) for n in range(events)]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO events (seq, shop, event_id, event_name, order_id, timestamp, created_at, payload) "
            "VALUES (?, ?, ?, 'Placed Order', ?, ?, ?, ?)",
            ((n + 1, SHOP, str(5_800_000_000_000 + n), str(5_800_000_000_000 + n), now, now, payload)
             for n, payload in enumerate(payloads)),
        )
        conn.executemany(
            "INSERT INTO deliveries (event_seq, destination, state, next_attempt_at, created_at) "
            "VALUES (?, ?, 'pending', ?, ?)",
            ((n + 1, DESTINATION, now, now) for n in range(events)),
        )
    return store, [payload.encode() for payload in payloads]


async def plain_posts(url: str, payloads: list[bytes], concurrency: int) -> float:
    """The floor: the same requests with one pooled session, no outbox, no store."""
    gate = asyncio.Semaphore(concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def post(body: bytes) -> None:
            async with gate, session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"receiver answered {answer.status}")

        started = time.perf_counter()
        await asyncio.gather(*(post(body) for body in payloads))
        return time.perf_counter() - started


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def wrap(self, label: str, function: Callable[..., T]) -> Callable[..., T]:
        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed


async def outbox_run(store: Store, url: str, concurrency: int, batch_size: int) -> tuple[float, Timings]:
    """Everything through the Deliverer; the outbox methods are timed where the loop calls them."""
    timings = Timings()
    outbox = store.outbox
    for name in TIMED_OUTBOX_CALLS:  # instance attributes shadow the methods for this run only
        setattr(outbox, name, timings.wrap(name, getattr(outbox, name)))
    destination = HttpDestination(DESTINATION, url, concurrency=concurrency, batch_size=batch_size)
    deliverer = Deliverer(outbox, [destination], system_clock)
    await deliverer.open()
    try:
        started = time.perf_counter()
        stats = await deliverer.deliver_once()
        elapsed = time.perf_counter() - started
    finally:
        await deliverer.close()
        for name in TIMED_OUTBOX_CALLS:
            delattr(outbox, name)
    delivered = store.conn.execute(
        "SELECT COUNT(*) FROM deliveries WHERE destination = ? AND state = 'delivered'", (DESTINATION,)
    ).fetchone()[0]
    if delivered != stats.delivered or stats.retried or stats.dead:
        raise RuntimeError(f"bench run lost events: {stats}, {delivered} marked delivered")
    return elapsed, timings


def report(events: int, plains: list[float], full: float, timings: Timings) -> None:
    # Loopback timings on a shared machine wobble; the faster plain run is the floor to compare with.
    plain = min(plains)
    bookkeeping = max(0.0, full - plain)
    rate = events / full
    print(f"events                       {events:>10,}")
    print(f"plain posts (no store)       {plain:>9.2f} s  {events / plain:>9,.0f} events/s"
          f"  (runs: {', '.join(f'{p:.2f} s' for p in plains)})")
    print(f"Deliverer + HttpDestination  {full:>9.2f} s  {rate:>9,.0f} events/s (all state committed)")
    print(f"outbox / plain time ratio    {full / plain:>10.2f}")
    print(f"bookkeeping share of the run {bookkeeping / full:>10.1%}   (target < 30 %; by time difference)")
    inside = sum(timings.seconds.values())
    print(f"time inside outbox calls     {inside / full:>10.1%}   (measured directly; steadier)")
    print(f"sustained rate target        {'met' if rate >= 2000 else 'MISSED':>10}   (>= 2,000 events/s)")
    print("time inside outbox calls (counted in the Deliverer run):")
    for label, seconds in sorted(timings.seconds.items(), key=lambda kv: -kv[1]):
        calls = timings.calls[label]
        print(f"  {label:<30} {seconds:>7.2f} s  {calls:>5} calls  {seconds / calls * 1000:>8.2f} ms/call"
              f"  {seconds / full:>6.1%} of run")


async def bench(port: int, args: argparse.Namespace) -> None:
    url = f"http://127.0.0.1:{port}/hook"
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as folder:
        store, payloads = fill_store(Path(folder) / "bench.db", args.events)
        await plain_posts(url, payloads[:1000], args.concurrency)  # warm-up: connections, caches
        before = await plain_posts(url, payloads, args.concurrency)
        full, timings = await outbox_run(store, url, args.concurrency, args.batch_size)
        after = await plain_posts(url, payloads, args.concurrency)
        store.close()
    report(args.events, [before, after], full, timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args()
    # fork: the receiver starts before any event loop exists here, and needs nothing but aiohttp.
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    receiver = context.Process(target=_serve, args=(theirs,), daemon=True)
    receiver.start()
    try:
        port = ours.recv()
        asyncio.run(bench(port, args))
    finally:
        ours.send("stop")
        receiver.join(timeout=5)
        if receiver.is_alive():
            receiver.terminate()


if __name__ == "__main__":
    main()
