"""Local storage failures stop the running bridge with exit 74 and one line; nothing committed is lost, and
what was not committed is done at the next start."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import StorageFailure
from tests.ops.scrape import T0, TOKEN, WAIT_SECONDS, bridge_task, no_wait, ops_config, wait_until
from tests.threaded_simulator import threaded_simulator, write_config

pytestmark = pytest.mark.e2e


def delivered_ids(tmp_path: Path) -> list[str]:
    path = tmp_path / "events.jsonl"
    return [json.loads(line)["event_id"] for line in path.read_text().splitlines()] if path.exists() else []


async def test_a_full_disk_stops_run_with_74_and_the_next_start_loses_nothing(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=3, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = ops_config(tmp_path, sim.url, upsell_seconds=0)
        bridge = Bridge(config, clock=clock, sleep=no_wait)
        async with bridge_task(bridge) as run:
            clock.advance(1)
            first = sim.state.create_order(sourceName="web", test=False, tags=[])

            async def first_delivered() -> bool:
                return delivered_ids(tmp_path) == [first["legacyResourceId"]]

            await wait_until(first_delivered, "the first order's event in the file")
            # The disk fills up: SQLite may not grow the database by a single page any more.
            (pages,) = bridge.store.conn.execute("PRAGMA page_count").fetchone()
            bridge.store.conn.execute(f"PRAGMA max_page_count = {pages}")
            later = [sim.state.create_order(sourceName="web", test=False, tags=["x" * 2000]) for _ in range(20)]
            with pytest.raises(StorageFailure) as failed:
                await asyncio.wait_for(run, WAIT_SECONDS)
        assert failed.value.exit_code == exit_codes.IOERR
        assert "the disk is full" in str(failed.value) and "nothing committed is lost" in str(failed.value)

        restarted = Bridge(config, clock=clock, sleep=no_wait)         # space again: a new connection, no limit
        try:
            assert await restarted.run_once() == exit_codes.OK
        finally:
            restarted.close()
    expected = {first["legacyResourceId"], *(order["legacyResourceId"] for order in later)}
    assert set(delivered_ids(tmp_path)) == expected                    # every order, the ones placed meanwhile too


async def test_run_ends_with_74_when_its_database_file_is_removed(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=3, orders=1, clock=clock, search_lag_seconds=0) as sim:
        config = ops_config(tmp_path, sim.url, upsell_seconds=0)
        bridge = Bridge(config, clock=clock, sleep=no_wait)
        async with bridge_task(bridge) as run:
            async def polled() -> bool:
                return bridge.status[config.sources[0].name].state == "polling"

            await wait_until(polled, "a first successful poll")
            Path(config.database).unlink()                              # `rm bridge.db` while it runs
            with pytest.raises(StorageFailure, match="was removed while running"):
                await asyncio.wait_for(run, WAIT_SECONDS)


def test_run_once_after_the_database_vanished_exits_74_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with threaded_simulator(token=TOKEN, orders=1, search_lag_seconds=0) as simulator:
        config = str(write_config(tmp_path, simulator.url, source_name="Vanishing", store="sim-snowboards"))
        assert main(["--config", config, "run", "--once"]) == exit_codes.OK
        (tmp_path / "bridge.db").unlink()
        capsys.readouterr()
        assert main(["--config", config, "run", "--once"]) == exit_codes.IOERR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "sim-snowboards.myshopify.com (connected since" in lines[0], lines
    assert not (tmp_path / "bridge.db").exists()
