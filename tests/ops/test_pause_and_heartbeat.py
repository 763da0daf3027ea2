"""The bridge's side of two dashboard features: a paused source polls nothing until resumed, and the
writer's heartbeat (pid and time) lands in the store for `tui --attach`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from shopify_bridge.service.actions import BridgeActions
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.store.db import SqliteSql
from shopify_bridge.store.schema import open_reader
from shopify_bridge.store.writer_heartbeat import read_heartbeat
from tests.ops.scrape import T0, no_wait, ops_config


async def _until(condition: Any, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_a_paused_source_polls_nothing_until_resumed_and_the_store_says_so(tmp_path: Path) -> None:
    config = ops_config(tmp_path, "http://127.0.0.1:9/unused")
    bridge = Bridge(config, clock=lambda: T0, sleep=no_wait)
    shop = config.sources[0].shop_domain
    bridge.store.conn.execute("INSERT INTO sources (shop, name, state) VALUES (?, 'S', 'polling')", (shop,))
    cycles: list[str] = []

    async def cycle(source: Any, client: Any) -> int:
        cycles.append(source.shop_domain)
        bridge.store.conn.execute("UPDATE sources SET state = 'polling' WHERE shop = ?", (shop,))
        return 0

    bridge._source_cycle = cycle  # type: ignore[method-assign]
    stop = asyncio.Event()
    run = asyncio.create_task(bridge.run(stop))
    actions = BridgeActions(bridge)
    reader = SqliteSql(open_reader(config.database).conn)
    state = lambda: reader.one("SELECT state, state_reason FROM sources")  # noqa: E731
    try:
        await _until(lambda: len(cycles) == 1, "the first cycle")
        await actions.set_source_paused(shop, True)
        await _until(lambda: state() == ("paused", "paused by the operator"), "the paused state")
        bridge.wake_source(shop)  # a release now, say: still no poll while paused
        await asyncio.sleep(0.05)
        assert len(cycles) == 1
        await actions.set_source_paused(shop, False)
        await _until(lambda: len(cycles) == 2, "a poll at once after resuming")
        assert state()[0] == "polling"
        heartbeat = read_heartbeat(reader)
        assert heartbeat is not None and (heartbeat.pid, heartbeat.at) == (os.getpid(), T0)
    finally:
        stop.set()
        await asyncio.wait_for(run, 10)
        reader.close()
        bridge.close()
