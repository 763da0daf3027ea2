"""Benchmark: requests per second a simulator process answers for a cheap query, one shop and a fleet.

Starts the simulator in a separate process (so the client does not compete with it for the event loop),
then POSTs `{ shop { id } }` (1 point) with one aiohttp session at a fixed concurrency, a bounded number
of times: first to a single shop, then round-robin over the shops of a fleet (one path prefix per shop).
Prints requests/s and the median and 99th-percentile latency for each, plus the fleet's start-up time.

    .venv/bin/python bench/simulator.py [--requests 5000] [--concurrency 16] [--shops 1000] [--orders 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

import aiohttp

QUERY = {"query": "{ shop { id } }"}


def serve(conn: Connection, shops: int, orders: int) -> None:
    """The simulator process: a fleet of `shops` (a single shop when 1); sends (urls, tokens, start-up s)."""
    from shopify_bridge.simulator.fleet import SimulatorFleet

    async def main() -> None:
        began = time.perf_counter()
        # A shop far from throttling: the benchmark measures the server, not the bucket.
        fleet = SimulatorFleet(shops, orders=orders, search_lag_seconds=0, restore_rate=1_000_000, bucket_size=10**9)
        async with fleet:
            names = list(fleet.shops)
            conn.send(([fleet.url(n) for n in names], [fleet.token(n) for n in names], time.perf_counter() - began))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop

    asyncio.run(main())


async def hammer(urls: list[str], tokens: list[str], requests: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in counter:
            shop = n % len(urls)
            began = time.perf_counter()
            async with session.post(
                f"{urls[shop]}/admin/api/2026-07/graphql.json",
                json=QUERY,
                headers={"X-Shopify-Access-Token": tokens[shop]},
            ) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"unexpected status {response.status}")
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - began, latencies


def measure(label: str, shops: int, orders: int, requests: int, concurrency: int) -> None:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(child, shops, orders), daemon=True)
    process.start()
    try:
        urls, tokens, startup = parent.recv()
        asyncio.run(hammer(urls, tokens, min(200, requests), concurrency))  # warm-up
        elapsed, latencies = asyncio.run(hammer(urls, tokens, requests, concurrency))
    finally:
        parent.send("stop")
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
    ordered = sorted(latencies)
    print(
        f"{label:<22} {requests / elapsed:8.0f} requests/s   median {statistics.median(ordered) * 1000:6.2f} ms"
        f"   p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:6.2f} ms   start-up {startup:5.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=2, help="generated orders per shop")
    args = parser.parse_args()
    print(f"{args.requests} requests of {QUERY['query']!r}, concurrency {args.concurrency}")
    measure("one shop", 1, args.orders, args.requests, args.concurrency)
    measure(f"fleet of {args.shops} shops", args.shops, args.orders, args.requests, args.concurrency)


if __name__ == "__main__":
    main()
