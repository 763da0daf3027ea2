"""Every log line written while a source is being worked on names that source, and only those lines do."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.observe.log import get_logger
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from tests.ops.scrape import SOURCE, T0, TOKEN, no_wait, ops_config, wait_until

pytestmark = pytest.mark.e2e


def records(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, stream.getvalue().splitlines()) if r["event"] == event]


def probe() -> None:
    """Stands for any line logged during a source cycle without naming the source (a library's, say)."""
    get_logger(component="probe").info("probe")
    logging.getLogger("some.library").warning("library line")


@pytest.mark.parametrize("mode", ["run_once", "run"])
async def test_lines_logged_during_a_source_cycle_carry_the_source(
    tmp_path: Path, log_stream: io.StringIO, mode: str
) -> None:
    clock = ManualClock(T0)
    # The shop's bucket refills on the manual clock only: no greedy neighbour to drain it.
    async with SimulatorServer(token=TOKEN, seed=4, orders=2, clock=clock, search_lag_seconds=0,
                               competing_app_share=0) as sim:
        config = ops_config(tmp_path, sim.url, upsell_seconds=0, broken_destination=True)
        bridge = Bridge(config, clock=clock, sleep=no_wait, on_change=probe)
        try:
            clock.advance(1)
            sim.state.create_order(sourceName="web", test=False, tags=[])
            if mode == "run_once":
                assert await bridge.run_once() == 0
            else:
                stop = asyncio.Event()
                task = asyncio.create_task(bridge.run(stop))

                async def retried() -> bool:
                    return bool(records(log_stream, "delivery retry"))

                await wait_until(retried, "a delivery retry to the broken destination")
                stop.set()
                await asyncio.wait_for(task, timeout=5)
        finally:
            bridge.close()
    probes, library = records(log_stream, "probe"), records(log_stream, "library line")
    assert probes and library
    assert all(line["source"] == SOURCE for line in probes + library)
    retries = records(log_stream, "delivery retry")
    assert retries and all("source" not in line and line["destination"] == "broken-file" for line in retries)
    probe()                                                            # after the cycles: no source any more
    assert "source" not in records(log_stream, "probe")[-1]
