"""SIGTERM/SIGINT: the bridge finishes what is in flight (transaction, deliveries), then `run` returns."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest

from shopify_bridge.cli.signals import install_stop_signals
from shopify_bridge.deliver.destinations.base import DeliveryResult, Outgoing
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store.schema import open_reader
from tests.ops.scrape import T0, TOKEN, no_wait, ops_config, wait_until

pytestmark = pytest.mark.e2e


class GatedDestination:
    """Holds every send until the test opens the gate: a delivery that is in flight for as long as we like."""

    name = "events-file"
    batch_size = 100

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.sent: list[str] = []

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        self.entered.set()
        await self.gate.wait()
        self.sent += [item.event_id for item in items]
        return [DeliveryResult("delivered") for _ in items]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_lets_the_delivery_in_flight_finish_then_run_returns(
    tmp_path: Path, signum: signal.Signals
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=2, orders=2, clock=clock, search_lag_seconds=0) as sim:
        config = ops_config(tmp_path, sim.url, upsell_seconds=0)
        bridge = Bridge(config, clock=clock, sleep=no_wait)
        destination = GatedDestination()
        bridge.deliverer.destinations = [destination]
        stop = asyncio.Event()
        install_stop_signals(stop)
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler, None):
            pytest.skip("the event loop could not take over the signal here")
        task = asyncio.create_task(bridge.run(stop))
        try:
            clock.advance(1)
            order = sim.state.create_order(sourceName="web", test=False, tags=[])

            async def in_flight() -> bool:
                return destination.entered.is_set()

            await wait_until(in_flight, "the Placed Order to be in flight")
            os.kill(os.getpid(), signum)

            async def stopping() -> bool:
                return stop.is_set()

            await wait_until(stopping, "the signal to set the stop event")
            await asyncio.sleep(0.05)
            assert not task.done()                              # run waits for the delivery in flight
            destination.gate.set()
            await asyncio.wait_for(task, timeout=5)
        finally:
            destination.gate.set()
            stop.set()
            await asyncio.wait_for(task, timeout=5)
            bridge.close()

    assert destination.sent == [order["legacyResourceId"]]
    conn = open_reader(config.database).conn
    states = conn.execute("SELECT state FROM deliveries").fetchall()
    conn.close()
    assert states == [("delivered",)]                           # marked delivered before the process would exit
