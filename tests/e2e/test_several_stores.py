"""Several stores side by side: own tokens and cursors; a failing one never stops the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopify_bridge.config import config_from_toml
from shopify_bridge.decide.windows import SETTLE_SECONDS
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.simulator.shop import SimulatorState
from shopify_bridge.store.schema import open_reader


def two_store_config(tmp_path: Path, url_a: str, url_b: str, poll: float = 15):  # type: ignore[no-untyped-def]
    raw = {
        "database": "bridge.db",
        "sources": [
            {
                "name": "Store A",
                "store": "store-a",
                "access_token": "${TOKEN_A}",
                "api_url": url_a,
                "poll_interval_seconds": poll,
            },
            {
                "name": "Store B",
                "store": "store-b",
                "access_token": "${TOKEN_B}",
                "api_url": url_b,
                "poll_interval_seconds": poll,
            },
        ],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
    }
    env = {"TOKEN_A": "shpat_a_secret", "TOKEN_B": "shpat_b_wrong"}
    return config_from_toml(raw, env, file=tmp_path / "shopify-bridge.toml")


async def connected(bridge: Bridge, sources: int) -> None:
    """Until every source has made its first poll: the default shop's bucket starts drained by another app,
    so that takes a moment of real time."""
    for _ in range(400):  # bounded wait, not a timing assertion
        count = bridge.store.sql.one("SELECT COUNT(first_connected_at) FROM sources")[0]
        if count == sources:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the sources never connected")


async def test_a_store_with_a_bad_token_does_not_stop_the_other(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    async with (
        SimulatorServer(
            token="shpat_a_secret", orders=0, search_lag_seconds=0, shop_domain="store-a.myshopify.com", clock=clock,
            competing_app_share=0,  # the bucket refills on the manual clock only: no greedy neighbour
        ) as a,
        SimulatorServer(
            token="shpat_b_right", orders=0, search_lag_seconds=0, shop_domain="store-b.myshopify.com", clock=clock,
            competing_app_share=0,
        ) as b,
    ):
        config = two_store_config(tmp_path, a.url, b.url)
        bridge = Bridge(config, clock=clock)
        try:
            assert await bridge.run_once() == 77  # the most severe code over all sources
            a.state.create_order(sourceName="web", test=False, tags=[])
            clock.advance(SETTLE_SECONDS)  # the next poll window closes after it
            assert await bridge.run_once() == 77
        finally:
            bridge.close()
        conn = open_reader(config.database).conn
        states = dict(conn.execute("SELECT name, state FROM sources").fetchall())
        assert states == {"Store A": "polling", "Store B": "failed"}
        assert conn.execute("SELECT COUNT(*) FROM events WHERE shop = 'store-a.myshopify.com'").fetchone()[0] == 1


@asynccontextmanager
async def running_two_stores(
    tmp_path: Path, **options: Any
) -> AsyncIterator[tuple[Bridge, SimulatorState, SimulatorState]]:
    """Two shops, the bridge's run loop polling both every 0.05 s, until both have connected."""
    async with (
        SimulatorServer(
            token="shpat_a_secret", orders=0, search_lag_seconds=0, shop_domain="store-a.myshopify.com", **options
        ) as a,
        SimulatorServer(
            token="shpat_b_wrong", orders=0, search_lag_seconds=0, shop_domain="store-b.myshopify.com", **options
        ) as b,
    ):
        config = two_store_config(tmp_path, a.url, b.url, poll=0.05)
        bridge = Bridge(config)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await connected(bridge, 2)  # orders placed before a source's first poll are history
            yield bridge, a.state, b.state
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            bridge.close()


async def test_run_loop_polls_delivers_and_stops_gracefully(tmp_path: Path) -> None:
    async with running_two_stores(tmp_path) as (_, a, b):
        a.create_order(sourceName="web", test=False, tags=[])
        b.create_order(sourceName="web", test=False, tags=[])
        events = tmp_path / "events.jsonl"
        for _ in range(200):  # bounded wait, not a timing assertion
            if events.exists() and events.read_text().count("\n") == 2:
                break
            await asyncio.sleep(0.05)
        assert events.read_text().count("\n") == 2


async def test_live_mix_with_a_short_upsell_delay(tmp_path: Path) -> None:
    """Real time, real loops: the upsell lands in the Placed Order; POS and test orders are excluded."""
    async with SimulatorServer(token="shpat_a_secret", orders=0, search_lag_seconds=0.2,
                               shop_domain="store-a.myshopify.com") as a:
        raw = {
            "database": "bridge.db",
            "sources": [{"name": "Store A", "store": "store-a", "access_token": "${TOKEN_A}", "api_url": a.url,
                         "poll_interval_seconds": 0.1, "upsell_delay": True, "upsell_delay_seconds": 2,
                         "exclude": {"channels": ["pos"]}}],
            "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
        }
        config = config_from_toml(raw, {"TOKEN_A": "shpat_a_secret"}, file=tmp_path / "shopify-bridge.toml")
        bridge = Bridge(config)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await connected(bridge, 1)  # orders placed before the first poll are history
            web = a.state.create_order(sourceName="web", test=False, tags=[], financialStatus="PAID")
            web = a.state.add_line_item(web["id"])                  # accepted upsell, well inside the hold
            a.state.create_order(sourceName="pos", test=False, tags=[])
            a.state.create_order(sourceName="web", test=True, tags=[])
            conn = bridge.store.conn
            for _ in range(300):                                    # bounded wait for all three decisions
                decided = conn.execute("SELECT COUNT(*) FROM orders WHERE status IN ('released', 'excluded')")
                if decided.fetchone()[0] == 3 and (tmp_path / "events.jsonl").exists():
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            bridge.close()
        import json

        events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
        assert [e["event_id"] for e in events] == [web["legacyResourceId"]]
        assert len(events[0]["properties"]["items"]) == len(web["lineItems"])


async def test_a_store_that_never_answers_does_not_delay_the_other(tmp_path: Path) -> None:
    """Each source has its own loop: while one shop's request hangs, the other's orders still come in."""
    async with running_two_stores(tmp_path, competing_app_share=0) as (bridge, a, b):
        a.faults.add("timeout", operation="BridgeListOrders", seconds=300)  # A's next poll hangs
        for _ in range(200):  # bounded wait, not a timing assertion
            if not a.faults.pending():
                break
            await asyncio.sleep(0.05)
        assert not a.faults.pending(), "A's poll is hanging"
        a.create_order(sourceName="web", test=False, tags=[])
        for number in range(3):
            b.create_order(sourceName="web", test=False, tags=[])
            for _ in range(100):  # bounded (well within A's 30 s client timeout), not a timing assertion
                if bridge.store.sql.one("SELECT COUNT(*) FROM orders")[0] == number + 1:
                    break
                await asyncio.sleep(0.05)
        shops = [row[0] for row in bridge.store.sql.all("SELECT shop FROM orders")]
        assert shops == ["store-b.myshopify.com"] * 3
