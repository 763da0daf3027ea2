"""Two bridges on one PostgreSQL store: each polls its share of the shops, every event goes out once,
and a bridge that stops hands its shop to the other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store

pytestmark = pytest.mark.e2e

SHOPS = ("store-a.myshopify.com", "store-b.myshopify.com")


def shared_config(tmp_path: Path, database: str, urls: list[str]) -> Config:
    raw = {
        "database": database,
        "sources": [
            {"name": f"Store {n}", "store": shop.split(".")[0], "access_token": "${TOKEN}", "api_url": url,
             "poll_interval_seconds": 0.05}
            for n, (shop, url) in enumerate(zip(SHOPS, urls, strict=True))
        ],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
    }
    return config_from_toml(raw, {"TOKEN": "shpat_shared"}, file=tmp_path / "shopify-bridge.toml")


async def until(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.05)):  # bounded wait, not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_two_bridges_share_the_shops_send_each_event_once_and_hand_over_on_stop(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPIFY_BRIDGE_LEASE_SECONDS", "3")  # renewed every second: the test takes seconds
    async with (
        SimulatorServer(token="shpat_shared", orders=0, search_lag_seconds=0, shop_domain=SHOPS[0]) as a,
        SimulatorServer(token="shpat_shared", orders=0, search_lag_seconds=0, shop_domain=SHOPS[1]) as b,
    ):
        config = shared_config(tmp_path, postgres_url, [a.url, b.url])
        first, second = Bridge(config), Bridge(config)
        stops = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(first.run(stops[0]))]
        await until(lambda: len(first.leases.held) == 2 if first.leases else False, "the first bridge took both")
        tasks.append(asyncio.create_task(second.run(stops[1])))
        watch = Store.open_reader(postgres_url)
        events = tmp_path / "events.jsonl"

        def owners() -> dict[str, str]:
            return {lease.shop: lease.owner for lease in watch.leases.all()}

        def lines() -> list[tuple[str, str]]:
            """(shop, event_id) per line: both simulators number their orders alike."""
            sent = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
            return [(event["properties"]["store"], event["event_id"]) for event in sent]

        try:
            await until(lambda: set(owners().values()) == {first.store.owner, second.store.owner},
                        "one shop each")
            # Ready for systemd although the other shop is never polled here: it is the other bridge's.
            await until(second.liveness.ready.is_set, "the second bridge ready")
            a.state.create_order(sourceName="web", test=False, tags=[])
            b.state.create_order(sourceName="web", test=False, tags=[])
            await until(lambda: len(lines()) == 2, "both events delivered")

            handed = next(shop for shop, owner in owners().items() if owner == first.store.owner)
            stops[0].set()
            await asyncio.wait_for(tasks[0], timeout=10)  # a graceful stop gives the lease back
            await until(lambda: owners() == dict.fromkeys(SHOPS, second.store.owner), "the handover")
            (a if handed == SHOPS[0] else b).state.create_order(sourceName="web", test=False, tags=[])
            await until(lambda: len(lines()) == 3, "the third event, from the shop handed over")
            await asyncio.sleep(0.3)  # a double would arrive in this time: none does
            assert len(lines()) == len(set(lines())) == 3
            assert watch.sql.one("SELECT COUNT(*) FROM events") == (3,)
        finally:
            for stop in stops:
                stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
            watch.close()
            first.close()
            second.close()
