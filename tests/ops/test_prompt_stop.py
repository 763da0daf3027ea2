"""SIGTERM ends `run` within 2 s with exit 0 whatever it is waiting for: a Shopify that never answers, or one
that says THROTTLED with an empty bucket (a wait of minutes), or a destination that never answers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from tests.ops.scrape import T0, WAIT_SECONDS, no_wait, ops_config
from tests.ops.scrape import TOKEN as OPS_TOKEN
from tests.ops.test_shutdown import GatedDestination

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
TOKEN = "shpat_stop_canary_4e1b"
STOP_WITHIN_SECONDS = 2.0


def throttled(request: web.Request) -> web.Response:
    """Shopify's THROTTLED answer with the bucket empty and a slow refill: the client must wait ~100 s."""
    cost = {"requestedQueryCost": 100, "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 0, "restoreRate": 1.0}}
    return web.json_response({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                              "extensions": {"cost": cost}})


@asynccontextmanager
async def slow_server(mode: str) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A fake Shopify (and destination) at the yielded URL; the event is set when the first request arrives."""
    arrived = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        arrived.set()
        if mode == "throttled":
            return throttled(request)
        await asyncio.sleep(3600)  # never answers
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", arrived
    finally:
        await runner.cleanup()


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        f'database = "bridge.db"\n\n[[sources]]\nname = "Slow"\nstore = "slow-shop"\n'
        f'access_token = "${{SHOPIFY_ACCESS_TOKEN}}"\napi_url = "{url}"\n'
    )
    return path


@pytest.mark.parametrize("mode", ["throttled", "no answer"])
async def test_sigterm_ends_run_within_2_s_whatever_it_waits_for(tmp_path: Path, mode: str) -> None:
    async with slow_server(mode) as (url, arrived):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shopify_bridge", "--config", str(write_config(tmp_path, url)), "run",
            cwd=REPO, env={**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.wait_for(arrived.wait(), timeout=30)
            await asyncio.sleep(0.3)                                   # well inside the wait now
            assert process.returncode is None
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
            took = time.monotonic() - sent
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    assert took < STOP_WITHIN_SECONDS, f"stopped {took:.2f} s after SIGTERM"


async def test_a_delivery_that_never_ends_is_cancelled_on_stop_and_sent_again_at_the_next_start(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=OPS_TOKEN, seed=2, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = ops_config(tmp_path, sim.url, upsell_seconds=0)
        bridge = Bridge(config, clock=clock, sleep=no_wait)
        destination = GatedDestination()                                  # its gate never opens
        bridge.deliverer.destinations = [destination]
        stop = asyncio.Event()
        run = asyncio.create_task(bridge.run(stop))
        try:
            clock.advance(1)
            order = sim.state.create_order(sourceName="web", test=False, tags=[])
            await asyncio.wait_for(destination.entered.wait(), WAIT_SECONDS)
            sent = time.monotonic()
            stop.set()
            await asyncio.wait_for(run, WAIT_SECONDS)
            assert time.monotonic() - sent < STOP_WITHIN_SECONDS
        finally:
            stop.set()
            bridge.close()

        restarted = Bridge(config, clock=clock, sleep=no_wait)            # the configured JSONL file this time
        try:
            await restarted.run_once()
        finally:
            restarted.close()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == [order["legacyResourceId"]]
