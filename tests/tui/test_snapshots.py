"""SVG snapshots of every view at 80×24 and 120×40, on a fixed clock, and a check that no secret shows.

`UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py` writes the reference SVGs under
`tests/tui/snapshots/`; without it a missing reference fails. A mismatch leaves the new SVG in
the test's tmp dir for a look in a browser.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import RecordingActions, settle
from tests.tui.store_builder import FAKE_TOKEN
from tui.app import DashboardApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
TABS = ("sources", "holds", "events", "problems")
MakeApp = Callable[..., DashboardApp]


def normalized(svg: str) -> str:
    # Rich names CSS classes after a hash of the content ("terminal-123-r4"); keep them stable.
    return re.sub(r"terminal-\d+", "terminal", svg)


async def quiet(pilot: Pilot[None]) -> None:
    """Until the footer has caught up with the focus change (it recomposes one message later)."""
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def capture_views(app: DashboardApp, pilot: Pilot[None]) -> dict[str, str]:
    await settle(app, pilot)
    views = {}
    for tab in TABS:
        await app.run_action(f"show_tab('{tab}')")
        await quiet(pilot)
        views[tab] = normalized(app.export_screenshot(title="shopify-bridge"))
    await app.run_action("event_details")
    await settle(app, pilot)
    await quiet(pilot)
    views["event-detail"] = normalized(app.export_screenshot(title="shopify-bridge"))
    return views


def compare(views: dict[str, str], prefix: str, tmp_path: Path) -> None:
    problems = []
    for view, svg in views.items():
        reference = SNAPSHOTS / f"{prefix}-{view}.svg"
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            SNAPSHOTS.mkdir(exist_ok=True)
            reference.write_text(svg)
        elif not reference.exists():
            problems.append(f"{reference.name} is missing: run with UPDATE_SNAPSHOTS=1 to write it")
        elif reference.read_text() != svg:
            actual = tmp_path / reference.name
            actual.write_text(svg)
            problems.append(f"{reference.name} differs; new rendering in {actual}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_views_match_their_snapshots(make_app: MakeApp, size: tuple[int, int], tmp_path: Path) -> None:
    app = make_app(RecordingActions())
    async with app.run_test(size=size) as pilot:
        views = await capture_views(app, pilot)
    compare(views, f"{size[0]}x{size[1]}", tmp_path)


async def test_attach_mode_snapshot_shows_the_notice_and_disabled_keys(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.run_action("show_tab('holds')")
        await quiet(pilot)
        compare(
            {"holds": normalized(app.export_screenshot(title="shopify-bridge"))}, "attach-80x24", tmp_path
        )


async def test_snapshots_are_deterministic(make_app: MakeApp) -> None:
    renders = []
    for _ in range(2):
        app = make_app(RecordingActions())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            renders.append(normalized(app.export_screenshot(title="shopify-bridge")))
    assert renders[0] == renders[1]


async def test_no_secret_reaches_the_screen(make_app: MakeApp) -> None:
    # Wide enough that nothing is cut off: the redaction, not the column width, must hide the token.
    app = make_app(RecordingActions())
    async with app.run_test(size=(200, 50)) as pilot:
        views = await capture_views(app, pilot)
    screens = {view: html.unescape(svg).replace("\xa0", " ") for view, svg in views.items()}
    assert "X-Shopify-Access-Token: ***" in screens["problems"]  # the error is shown, its token is not
    for view, text in screens.items():
        assert FAKE_TOKEN not in text, view
        assert not re.search(r"shp(at|ca|pa|ss)_[0-9a-f]{6}", text), view
    assert all(FAKE_TOKEN not in notice for notice in app.notices)
