"""Scale bench: N sources in one bridge process — detection latency and the bridge's CPU.

The simulator serves every shop (`SimulatorFleet`, one path prefix per shop) in a process of its own, and
that process also creates the orders (a steady rate spread over random shops), so the bridge's process does
nothing but the bridge: its CPU time (`time.process_time`, all its threads) over the measured span is the
bridge's alone. The bridge is the real `Bridge.run` (one loop per source, the headless logging to a file,
every source's token registered with the redactor), on a fresh SQLite file or a fresh PostgreSQL schema.

After a warm-up (every source connected, first polls and sweeps done), orders are created for `--minutes`;
each order's detection latency is the bridge's `first_seen_at` minus the moment the simulator created it.
Prints p50/p95/max detection, the bridge's CPU as % of one core and per source, and CPU ms per poll step.

Simulator options: `orders=0` (no history), constant search lag `--lag` (default 2 s: the simulator's
default `search_lag_seconds`; `--lag drawn` keeps its default drawn lag with a 15-minute tail, which
measures Shopify's index, not the bridge), the default competing app (80 % of the restore rate).

    .venv/bin/python bench/scale.py --sources 1000 [--backend sqlite|postgresql] [--minutes 3] \
        [--warmup 60] [--rate 2] [--interval 15] [--lag 2|drawn] [--profile FILE]

PostgreSQL: the server URL from SHOPIFY_BRIDGE_TEST_POSTGRES; the bench uses a schema of its own, dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def serve(conn: Connection, shops: int, lag: str, interval_rate: float) -> None:
    """The simulator process: the fleet, then on "go" orders at `rate` per second until "stop"; sends back
    (shop, legacy id, created epoch seconds) of each."""
    from shopify_bridge.simulator.fleet import SimulatorFleet

    async def main() -> None:
        options: dict[str, Any] = {"orders": 0}
        if lag != "drawn":
            options["search_lag_seconds"] = float(lag)
        fleet = SimulatorFleet(shops, **options)
        async with fleet:
            names = list(fleet.shops)
            conn.send([(n, fleet.url(n), fleet.token(n)) for n in names])
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)  # "go"
            stopping = loop.run_in_executor(None, conn.recv)  # "stop"
            made: list[tuple[str, str, float]] = []
            rng = random.Random(7)
            began = time.monotonic()
            while not stopping.done():
                due = int((time.monotonic() - began) * interval_rate) - len(made)
                for _ in range(due):
                    name = rng.choice(names)
                    doc = fleet.shops[name].create_order(sourceName="web", test=False, financialStatus="PAID")
                    made.append((f"{name}.myshopify.com", str(doc["legacyResourceId"]), time.time()))
                await asyncio.sleep(0.05)
            conn.send(made)
            await loop.run_in_executor(None, conn.recv)  # "exit"

    asyncio.run(main())


def fresh_database(backend: str, workdir: Path) -> tuple[str | Path, Any]:
    """The config's `database` and how to drop it afterwards."""
    if backend == "sqlite":
        return workdir / "bridge.db", lambda: None
    import psycopg

    server = os.environ.get("SHOPIFY_BRIDGE_TEST_POSTGRES", "").strip()
    if not server:
        raise SystemExit("set SHOPIFY_BRIDGE_TEST_POSTGRES to a PostgreSQL server URL")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    joiner = "&" if "?" in server else "?"
    return f"{server}{joiner}options=-csearch_path%3D{schema}", drop


def first_seen(database: str | Path) -> dict[tuple[str, str], float]:
    """(shop, order id) -> when the bridge first stored it (epoch seconds)."""
    query = "SELECT shop, order_id, first_seen_at FROM orders"
    if isinstance(database, Path):
        with contextlib.closing(sqlite3.connect(database)) as conn:
            rows = conn.execute(query).fetchall()
    else:
        import psycopg

        with psycopg.connect(database) as pg:
            rows = pg.execute(query).fetchall()
    return {(shop, order_id): datetime.fromisoformat(at).timestamp() for shop, order_id, at in rows}


async def run_bridge(config: Any, conn: Connection, args: argparse.Namespace) -> dict[str, Any]:
    from shopify_bridge.service.bridge import Bridge

    bridge = Bridge(config)
    steps: Counter[str] = Counter()
    finished = bridge.metrics.poll_finished

    def counted(source: str, code: int) -> None:
        steps["all"] += 1
        finished(source, code)

    bridge.metrics.poll_finished = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    loop = asyncio.get_running_loop()
    try:
        await asyncio.sleep(args.warmup)
        profiler = cProfile.Profile() if args.profile else None
        cpu0, wall0, steps0 = time.process_time(), time.monotonic(), steps["all"]
        conn.send("go")
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(args.minutes * 60)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        cpu, wall, polled = time.process_time() - cpu0, time.monotonic() - wall0, steps["all"] - steps0
        conn.send("stop")
        made = await loop.run_in_executor(None, conn.recv)
        await asyncio.sleep(args.interval + 20)  # the last orders' polls
    finally:
        stop.set()
        await task
        bridge.close()
    return {"cpu": cpu, "wall": wall, "steps": polled, "made": made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second over all shops")
    parser.add_argument("--interval", type=float, default=15.0, help="poll_interval_seconds")
    parser.add_argument("--lag", default="2", help="constant search lag in seconds, or 'drawn'")
    parser.add_argument("--profile", help="write a cProfile of the measured span here (slows the bridge)")
    args = parser.parse_args()

    from shopify_bridge.config.model import Config
    from shopify_bridge.observe.log import configure_logging

    parent, child = multiprocessing.Pipe()
    simulator = multiprocessing.Process(target=serve, args=(child, args.sources, args.lag, args.rate), daemon=True)
    simulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database, drop = fresh_database(args.backend, workdir)
        try:
            shops = parent.recv()
            config = Config.model_validate({
                "database": database,
                "synchronous": "full",
                "sources": [
                    {"name": name, "store": f"{name}.myshopify.com", "access_token": token, "api_url": url,
                     "poll_interval_seconds": args.interval}
                    for name, url, token in shops
                ],
            })
            log_file = (workdir / "bridge.log").open("w")
            configure_logging(json_logs=True, stream=log_file, secrets=[token for _, _, token in shops])
            result = asyncio.run(run_bridge(config, parent, args))
            seen = first_seen(database)
        finally:
            parent.send("exit")
            simulator.join(timeout=10)
            if simulator.is_alive():
                simulator.terminate()
            drop()
    report(args, result, seen)


def report(args: argparse.Namespace, result: dict[str, Any], seen: dict[tuple[str, str], float]) -> None:
    made = result["made"]
    latencies = sorted(seen[(shop, oid)] - created for shop, oid, created in made if (shop, oid) in seen)
    missing = len(made) - len(latencies)
    core = 100 * result["cpu"] / result["wall"]
    per_step_ms = 1000 * result["cpu"] / max(1, result["steps"])
    p = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    print(f"sources={args.sources} backend={args.backend} interval={args.interval}s lag={args.lag} "
          f"rate={args.rate}/s measured={result['wall']:.0f}s")
    print(f"  orders created {len(made)}, detected {len(latencies)}, not detected {missing}")
    if latencies:
        print(f"  detection p50 {p[49]:.1f} s  p95 {p[94]:.1f} s  max {latencies[-1]:.1f} s")
    print(f"  bridge CPU {core:.1f} % of one core, {1000 * result['cpu'] / result['wall'] / args.sources:.3f} "
          f"ms/s per source; {result['steps']} poll steps, {per_step_ms:.2f} ms CPU per step")


if __name__ == "__main__":
    main()
