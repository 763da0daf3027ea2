"""The dashboard beside an in-process bridge: one loop, one stop, failures shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.tui.conftest import FixedClock
from tui.app import DashboardApp
from tui.runner import CANCEL_GRACE, STOP_GRACE, run_beside, run_dashboard


class FakeBridge:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.started = asyncio.Event()
        self.saw_stop = False
        self.fail = fail

    async def run(self, stop: asyncio.Event) -> None:
        self.started.set()
        if self.fail is not None:
            raise self.fail
        await stop.wait()
        self.saw_stop = True


async def test_a_stop_set_elsewhere_closes_the_dashboard_and_the_bridge(
    demo_store: tuple[Path, dict[str, int]],
) -> None:
    stop = asyncio.Event()
    bridge = FakeBridge()
    config = SimpleNamespace(database=demo_store[0])
    run = asyncio.create_task(
        run_dashboard(
            config, bridge=bridge, stop=stop, clock=FixedClock(), refresh_seconds=3600, headless=True
        )
    )
    await asyncio.wait_for(bridge.started.wait(), 5)
    stop.set()  # SIGTERM, or the demo's duration running out
    await asyncio.wait_for(run, 5)
    assert bridge.saw_stop


async def test_a_failing_bridge_is_reported_and_raised_once_the_dashboard_closes(
    demo_store: tuple[Path, dict[str, int]],
) -> None:
    stop = asyncio.Event()
    bridge = FakeBridge(fail=RuntimeError("database is locked"))
    app = DashboardApp(demo_store[0], clock=FixedClock(), refresh_seconds=3600)
    run = asyncio.create_task(run_beside(app, bridge=bridge, stop=stop, headless=True))
    await asyncio.wait_for(bridge.started.wait(), 5)
    for _ in range(200):  # tiny yields until the app is up and has shown what happened before it was
        if app.notices:
            break
        await asyncio.sleep(0.01)
    assert [e.message for e in app.dashboard_errors] == ["bridge stopped: database is locked"]
    assert app.notices == ["bridge stopped: database is locked"]
    stop.set()
    with pytest.raises(RuntimeError, match="database is locked"):
        await asyncio.wait_for(run, 5)


class SlowBridge(FakeBridge):
    """A bridge caught in slow work (a poll waiting out Shopify's timeout) that notices `stop` only after it."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = False

    async def run(self, stop: asyncio.Event) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()  # never set: only a cancellation ends this
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_quitting_does_not_wait_for_the_bridges_slow_work(demo_store: tuple[Path, dict[str, int]]) -> None:
    bridge = SlowBridge()
    app = DashboardApp(demo_store[0], clock=FixedClock(), refresh_seconds=3600)
    run = asyncio.create_task(run_beside(app, bridge=bridge, stop=asyncio.Event(), headless=True))
    await asyncio.wait_for(bridge.started.wait(), 5)
    for _ in range(200):
        if app.is_running and app.refresh_count:
            break
        await asyncio.sleep(0.01)
    await app.run_action("quit")  # what `q` runs
    await asyncio.wait_for(run, 5)  # before the fix: waited for the bridge, forever here
    assert bridge.cancelled  # after STOP_GRACE, not after the slow work
    assert STOP_GRACE + CANCEL_GRACE < 1.0  # the operator's screen is back within a second
