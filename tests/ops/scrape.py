"""Helpers for the ops tests: a bridge wired to the simulator with metrics, scrapes, bounded waits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.observe.health import ObservabilityServer, serving
from shopify_bridge.observe.metrics import BridgeMetrics
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "shpat_ops_canary_7c2e9a"
SOURCE = "Ops Store Backend"
POLL_SECONDS = 0.05
WAIT_SECONDS = 8.0


def ops_config(
    tmp_path: Path, api_url: str, *, upsell_seconds: int = 30, broken_destination: bool = False,
    database: Path | str = "bridge.db",
) -> Config:
    """Like `demo.demo_config`: one simulated store, upsell hold, POS/tag exclusions, a JSONL file."""
    destinations: list[dict[str, Any]] = [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}]
    if broken_destination:
        (tmp_path / "not-a-file").mkdir()
        destinations.append({"name": "broken-file", "type": "jsonl", "path": "not-a-file"})
    raw = {
        "database": str(database),
        "sources": [{
            "name": SOURCE, "store": "sim-snowboards", "access_token": "${TOKEN}", "api_url": api_url,
            "upsell_delay": upsell_seconds > 0, "upsell_delay_seconds": upsell_seconds,
            "poll_interval_seconds": POLL_SECONDS, "exclude": {"channels": ["pos"], "tags": ["Exclude"]},
        }],
        "destinations": destinations,
    }
    return config_from_toml(raw, {"TOKEN": TOKEN}, file=tmp_path / "shopify-bridge.toml")


async def no_wait(seconds: float) -> None:
    """The bridge's retry sleeps, without the seconds (time is the manual clock's business)."""
    await asyncio.sleep(0)


@dataclass
class Running:
    sim: SimulatorServer
    clock: ManualClock
    config: Config
    bridge: Bridge
    metrics: BridgeMetrics
    server: ObservabilityServer
    http: aiohttp.ClientSession

    async def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        async with self.http.get(f"{self.server.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def value(self, name: str, **labels: str) -> float:
        return (await self.scrape()).get((name, frozenset(labels.items())), 0.0)

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.server.url}/healthz") as response:
            return response.status, json.loads(await response.text())

    async def wait_for(self, name: str, at_least: float, **labels: str) -> float:
        async def reached() -> bool:
            return await self.value(name, **labels) >= at_least

        await wait_until(reached, f"{name}{labels} >= {at_least}")
        return await self.value(name, **labels)


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll `condition` with tiny yields until it holds; fail naming `what` after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running_bridge(tmp_path: Path, **options: Any) -> AsyncIterator[Running]:
    """Simulator + bridge (its `run` loop) + /metrics and /healthz on a free port, on one manual clock."""
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=5, orders=3, clock=clock, search_lag_seconds=0) as sim:
        config = ops_config(tmp_path, sim.url, **options)
        metrics = BridgeMetrics(config, clock=clock)
        bridge = Bridge(config, clock=clock, sleep=no_wait, metrics=metrics)
        stop = asyncio.Event()
        try:
            async with serving(bridge, metrics, port=0) as server, aiohttp.ClientSession() as http:
                task = asyncio.create_task(bridge.run(stop))
                try:
                    yield Running(sim, clock, config, bridge, metrics, server, http)
                finally:
                    stop.set()
                    bridge.wake_source(config.sources[0].shop_domain)
                    await asyncio.wait_for(task, timeout=WAIT_SECONDS)
        finally:
            bridge.close()


@asynccontextmanager
async def bridge_task(bridge: Bridge) -> AsyncIterator[asyncio.Task[None]]:
    """`bridge.run(stop)` as a task for the block; stopped (its outcome left to the block) and closed after it."""
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        yield task
    finally:
        stop.set()
        if not task.done():
            await asyncio.wait_for(task, WAIT_SECONDS)
        bridge.close()
