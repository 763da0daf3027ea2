"""Fixtures of the dashboard tests: a small store on disk, a fixed clock, a recording actions fake."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.worker import WorkerFailed, WorkerState

from tests.tui.store_builder import NOW, build_demo_store
from tui.app import DashboardApp


class FixedClock:
    """The dashboard's clock in tests: moves only when told to."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingActions:
    """A `DashboardActions` that records what the operator asked for."""

    def __init__(self) -> None:
        self.released: list[tuple[str, str]] = []
        self.replayed: list[tuple[int, str]] = []
        self.paused: list[tuple[str, bool]] = []

    async def release_now(self, shop: str, order_id: str) -> None:
        self.released.append((shop, order_id))

    async def replay(self, event_seq: int, destination: str) -> None:
        self.replayed.append((event_seq, destination))

    async def set_source_paused(self, shop: str, paused: bool) -> None:
        self.paused.append((shop, paused))


@pytest.fixture
def demo_store(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "bridge.db"
    return path, build_demo_store(path)


@pytest.fixture
def make_app(demo_store: tuple[Path, dict[str, int]]) -> Callable[..., DashboardApp]:
    def make(
        actions: RecordingActions | None = None,
        clock: FixedClock | None = None,
        events_page: int = 200,
        running: Callable[[int], bool] = lambda pid: True,
    ) -> DashboardApp:
        # A refresh period of an hour: tests drive every refresh themselves.
        app = DashboardApp(
            demo_store[0],
            actions=actions,
            clock=clock or FixedClock(),
            refresh_seconds=3600,
            events_page=events_page,
            running=running,
        )
        app.animation_level = "none"  # tab underlines would otherwise glide for 0.3 s per switch
        return app

    return make


async def until(pilot: Pilot[None], condition: Callable[[], object], *, turns: int = 200) -> None:
    """Give the app event-loop turns until `condition` holds (a pushed screen mounts a few turns after the
    key). Bounded by turns, not by time; the caller still asserts the condition."""
    for _ in range(turns):
        with contextlib.suppress(NoMatches):  # the widget it looks at may not be mounted yet
            if condition():
                return
        await pilot.pause()


async def settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    """Let workers finish and their messages land (again while one result starts another worker)."""
    for _ in range(5):
        with contextlib.suppress(WorkerFailed):  # failures are the app's to report; tests look there
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running or worker.state == WorkerState.PENDING for worker in app.workers):
            return
