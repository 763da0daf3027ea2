"""The dashboard beside an in-process bridge: one loop, one stop, failures shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.tui.conftest import FixedClock
from tui.app import DashboardApp
from tui.runner import run_beside, run_dashboard


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
