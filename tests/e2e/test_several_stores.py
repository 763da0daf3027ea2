"""Several stores side by side: own tokens and cursors; a failing one never stops the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shopify_bridge.config import config_from_toml
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.server import SimulatorServer
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


async def test_a_store_with_a_bad_token_does_not_stop_the_other(tmp_path: Path) -> None:
    async with (
        SimulatorServer(
            token="shpat_a_secret", orders=0, search_lag_seconds=0, shop_domain="store-a.myshopify.com"
        ) as a,
        SimulatorServer(
            token="shpat_b_right", orders=0, search_lag_seconds=0, shop_domain="store-b.myshopify.com"
        ) as b,
    ):
        config = two_store_config(tmp_path, a.url, b.url)
        bridge = Bridge(config)
        try:
            assert await bridge.run_once() == 77  # the most severe code over all sources
            a.state.create_order(sourceName="web", test=False, tags=[])
            await asyncio.sleep(0.01)
            assert await bridge.run_once() == 77
        finally:
            bridge.close()
        conn = open_reader(config.database).conn
        states = dict(conn.execute("SELECT name, state FROM sources").fetchall())
        assert states == {"Store A": "polling", "Store B": "failed"}
        assert conn.execute("SELECT COUNT(*) FROM events WHERE shop = 'store-a.myshopify.com'").fetchone()[0] == 1


async def test_run_loop_polls_delivers_and_stops_gracefully(tmp_path: Path) -> None:
    async with (
        SimulatorServer(
            token="shpat_a_secret", orders=0, search_lag_seconds=0, shop_domain="store-a.myshopify.com"
        ) as a,
        SimulatorServer(
            token="shpat_b_wrong", orders=0, search_lag_seconds=0, shop_domain="store-b.myshopify.com"
        ) as b,
    ):
        config = two_store_config(tmp_path, a.url, b.url, poll=0.05)
        bridge = Bridge(config)
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await asyncio.sleep(0.2)
            a.state.create_order(sourceName="web", test=False, tags=[])
            b.state.create_order(sourceName="web", test=False, tags=[])
            events = tmp_path / "events.jsonl"
            for _ in range(200):  # bounded wait, not a timing assertion
                if events.exists() and events.read_text().count("\n") == 2:
                    break
                await asyncio.sleep(0.05)
            assert events.read_text().count("\n") == 2
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            bridge.close()


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
            await asyncio.sleep(0.3)
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
