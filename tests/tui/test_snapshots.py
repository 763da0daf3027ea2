"""SVG snapshots of the dashboard (pytest-textual-snapshot) at 120×40, 100×30 and 80×24, on a fixed clock
and fixed data: the demo with holds and events, a failed source, an empty database, attach with a
dead writer, and the detail, dead-letter and help screens. Plus: no secret and no markup reaches the screen.

`pytest tests/tui/test_snapshots.py --snapshot-update` rewrites the references under `__snapshots__/`;
a mismatch writes `snapshot_report.html` with both renderings side by side.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from shopify_bridge.store.db import SqliteSql
from shopify_bridge.store.writer_heartbeat import record_heartbeat
from tests.tui.conftest import FixedClock, RecordingActions, settle
from tests.tui.store_builder import FAKE_TOKEN, NOW, SHOP, StoreBuilder
from tui.app import DashboardApp

SIZES = [(120, 40), (100, 30), (80, 24)]
SIZE_IDS = ["120x40", "100x30", "80x24"]
SnapCompare = Callable[..., bool]


def dashboard(path: Path, *, attached: bool = False, writer_running: bool = True) -> DashboardApp:
    app = DashboardApp(
        path,
        actions=None if attached else RecordingActions(),
        clock=FixedClock(),
        refresh_seconds=3600,
        running=lambda pid: writer_running,
    )
    app.animation_level = "none"
    return app


def settled(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, DashboardApp)
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        await pilot.wait_for_scheduled_animations()

    return run_before


def failed_source_store(path: Path) -> None:
    b = StoreBuilder(path)
    b.source(
        SHOP,
        "Convergestore Store Backend",
        state="failed",
        state_reason=f"HTTP 401 Unauthorized: [Invalid API key or access token] (X-Shopify-Access-Token: {FAKE_TOKEN})",
        last_poll_ok_at="2026-05-01T09:00:00+00:00",
        last_poll_at="2026-05-01T11:59:55+00:00",
        cursor="2026-05-01T08:59:00+00:00",
    )
    b.error(NOW - timedelta(seconds=5), SHOP, "source", "poll failed: HTTP 401 [Invalid API key or access token]")
    b.close()


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_overview_with_holds_and_events(snap_compare: SnapCompare, demo_store: Any, size: tuple[int, int]) -> None:
    assert snap_compare(dashboard(demo_store[0]), terminal_size=size, run_before=settled())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_overview_with_a_failed_source(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    failed_source_store(tmp_path / "bridge.db")
    assert snap_compare(dashboard(tmp_path / "bridge.db"), terminal_size=size, run_before=settled())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_overview_of_an_empty_database(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    StoreBuilder(tmp_path / "bridge.db").close()
    assert snap_compare(dashboard(tmp_path / "bridge.db"), terminal_size=size, run_before=settled())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_attached_with_a_dead_writer(snap_compare: SnapCompare, demo_store: Any, size: tuple[int, int]) -> None:
    builder = StoreBuilder(demo_store[0])
    record_heartbeat(SqliteSql(builder.conn), 4242, NOW - timedelta(minutes=5))
    builder.close()
    app = dashboard(demo_store[0], attached=True, writer_running=False)
    assert snap_compare(app, terminal_size=size, run_before=settled())


@pytest.mark.parametrize(
    "keys",
    [("2",), ("3",), ("4",), ("tab", "down", "enter"), ("tab", "tab", "enter"), ("question_mark",), ("tab", "x")],
    ids=["all-events", "dead-letters", "problems", "order-detail", "event-detail", "help", "confirm-release"],
)
def test_views_at_80x24(snap_compare: SnapCompare, demo_store: Any, keys: tuple[str, ...]) -> None:
    assert snap_compare(dashboard(demo_store[0]), terminal_size=(80, 24), run_before=settled(*keys))


async def test_no_secret_reaches_the_screen(demo_store: Any) -> None:
    # Wide enough that nothing is cut off: the redaction, not the column width, must hide the token.
    app = dashboard(demo_store[0])
    screens = []
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        for key in ("1", "2", "3", "4"):
            await pilot.press(key)
            await settle(app, pilot)
            screens.append(html.unescape(app.export_screenshot()).replace("\xa0", " "))
    assert any("X-Shopify-Access-Token: ***" in screen for screen in screens)  # the error is shown, not its token
    for screen in screens:
        assert FAKE_TOKEN not in screen
        assert not re.search(r"shp(at|ca|pa|ss)_[0-9a-f]{6}", screen)
    assert all(FAKE_TOKEN not in notice for notice in app.notices)
