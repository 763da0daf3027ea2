"""End to end: the simulator (over HTTP) and the bridge, on one manual clock.

Orders, a post-purchase edit during the hold, excluded channels, a refund; the exact events in the
JSONL file; then a restart that duplicates nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "shpat_e2e_canary_5f1d"


def make_config(tmp_path: Path, url: str, database: Path | str = "bridge.db", **source: Any) -> Config:
    raw = {
        "database": str(database),
        "sources": [
            {
                "name": "Sim Store",
                "store": "sim-snowboards",
                "access_token": "${TOKEN}",
                "api_url": url,
                "upsell_delay": True,
                "upsell_delay_seconds": 600,
                "exclude": {"channels": ["pos"], "tags": ["Exclude"]},
                **source,
            }
        ],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
    }
    return config_from_toml(raw, {"TOKEN": TOKEN}, file=tmp_path / "shopify-bridge.toml")


def read_events(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def cycle(config: Config, clock: ManualClock, advance: float = 0) -> int:
    if advance:
        clock.advance(advance)
    bridge = Bridge(config, clock=clock)
    try:
        return await bridge.run_once()
    finally:
        bridge.close()


async def test_orders_edit_exclusions_refund_and_restart(tmp_path: Path, database: Path | str) -> None:
    """The bridge's whole path, restarted between cycles: on SQLite, and on PostgreSQL (where each
    `run --once` also takes the shop's lease and gives it back)."""
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=3, orders=6, clock=clock, search_lag_seconds=2.0) as sim:
        config = make_config(tmp_path, sim.url, database)
        assert await cycle(config, clock) == 0  # first connection: seeded orders are history
        assert read_events(tmp_path) == []

        web = sim.state.create_order(sourceName="web", test=False, tags=[], financialStatus="PAID")
        pos = sim.state.create_order(sourceName="pos", test=False)
        test_order = sim.state.create_order(sourceName="web", test=True)
        assert await cycle(config, clock, advance=5) == 0  # past the search lag: all three held
        assert read_events(tmp_path) == []

        clock.advance(7 * 60)
        upsell = sim.state.add_line_item(web["id"])  # minute 7 of the 10-minute hold
        assert await cycle(config, clock, advance=5) == 0
        assert read_events(tmp_path) == []

        assert await cycle(config, clock, advance=3 * 60) == 0  # release time
        [placed] = read_events(tmp_path)
        final = sim.state.order(web["id"])
        assert placed["event_name"] == "Placed Order"
        assert placed["event_id"] == final["legacyResourceId"]
        assert placed["timestamp"] == final["processedAt"].replace("Z", "+00:00")
        props = placed["properties"]
        assert props["order_name"] == final["name"]
        assert Decimal(str(props["total_price"])) == Decimal(final["currentTotalPriceSet"]["shopMoney"]["amount"])
        assert len(props["items"]) == len(final["lineItems"]) == len(upsell["lineItems"])
        assert props["store"] == "sim-snowboards.myshopify.com"

        line = final["lineItems"][0]
        refund = sim.state.refund(web["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}])
        assert await cycle(config, clock, advance=5) == 0
        placed_again, received = read_events(tmp_path)
        assert placed_again == placed
        assert received["event_name"] == "Received Refund"
        assert received["event_id"] == f"{final['legacyResourceId']}-refund-{refund['legacyResourceId']}"
        assert received["properties"]["order_id"] == final["legacyResourceId"]

        # The excluded orders are recorded with their rule and never produced an event.
        reader = Store.open_reader(config.database)
        conn = reader.sql
        rules = dict(conn.all("SELECT order_id, exclusion_rule FROM orders WHERE status = 'excluded'"))
        assert rules == {pos["legacyResourceId"]: "channel", test_order["legacyResourceId"]: "test_order"}

        bucket_max, available = conn.one("SELECT bucket_max, bucket_available FROM sources") or (0, 0)
        assert bucket_max == 2000 and 0 < available <= 2000  # Shopify's bucket as last reported

        # Restart twice, re-polling the same window: nothing is created or sent again.
        for _ in range(2):
            assert await cycle(config, clock, advance=1) == 0
        assert read_events(tmp_path) == [placed, received]
        assert conn.one("SELECT COUNT(*) FROM events") == (2,)
        assert reader.leases.all() == []  # each run --once gave its lease back

        # Reconcile against the simulator's own ordersCount: every order accounted for.
        from shopify_bridge.service.reconcile import reconcile_source
        from shopify_bridge.shopify.client import ShopifyClient

        connection = reader.reads.orders.source_connection("sim-snowboards.myshopify.com")
        assert connection is not None and connection.first_connected_at is not None
        first = connection.first_connected_at
        async with ShopifyClient(
            source_name="Sim Store",
            shop_domain="sim-snowboards.myshopify.com",
            token=TOKEN,
            api_version="2026-07",
            api_url=sim.url,
        ) as client:
            days = await reconcile_source(
                client, reader, "sim-snowboards.myshopify.com", "America/Toronto", first, clock()
            )
            assert days and all(day.ok for day in days), days
            assert sum(day.accounted for day in days) == 3
            sim.state.create_order(sourceName="web")  # an order the bridge has not seen yet
            clock.advance(5)
            days = await reconcile_source(
                client, reader, "sim-snowboards.myshopify.com", "America/Toronto", first, clock()
            )
            assert [len(day.missing) for day in days if not day.ok] == [1]
        reader.close()


async def test_a_bad_token_fails_the_source_with_exit_77_and_keeps_the_store(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token="shpat_the_real_one", seed=1, orders=2, clock=clock) as sim:
        config = make_config(tmp_path, sim.url)
        assert await cycle(config, clock) == 77
        from shopify_bridge.store.schema import open_reader

        conn = open_reader(config.database).conn
        state, reason = conn.execute("SELECT state, state_reason FROM sources").fetchone()
        assert state == "failed" and "token rejected for Sim Store" in reason
        assert TOKEN not in reason
