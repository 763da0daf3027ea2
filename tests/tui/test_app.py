"""Pilot tests: each panel and action of the dashboard, driven like an operator would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from rich.syntax import Syntax
from textual.widgets import DataTable, Select, Static

from tests.tui.conftest import FixedClock, RecordingActions, settle
from tests.tui.store_builder import NOW, OUTLET, SHOP, StoreBuilder, placed_payload
from tui.app import READ_ONLY_NOTICE, DashboardApp
from tui.event_detail import EventDetailScreen
from tui.order_detail import OrderDetailScreen

MakeApp = Callable[..., DashboardApp]
SIZE = (120, 40)


def cells(app: DashboardApp, table_id: str, column: int) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [str(getattr(cell, "plain", cell)) for cell in table.get_column_at(column)]


async def test_sources_panel_shows_each_store_and_the_state_of_the_highlighted_one(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert cells(app, "#sources-table", 0) == ["Convergestore Store Backend", "Outlet Store"]
        assert cells(app, "#sources-table", 2) == ["15s ago", "3h 00m ago"]
        assert cells(app, "#sources-table", 3) == ["1", "0"]  # dead deliveries
        assert cells(app, "#sources-table", 4) == ["1", "1"]  # pending (retrying counts)
        assert cells(app, "#sources-table", 5) == ["5", "1"]  # orders seen today
        assert cells(app, "#sources-table", 6) == ["1990/2000", "—"]
        await pilot.press("down")
        line = str(app.query_one("#source-state-line", Static).render())
        assert "Outlet Store" in line and "failed: 401 Unauthorized" in line


async def test_release_now_on_a_hold_calls_the_actions(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "down", "x")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5804")]
        assert "Release requested for #1004" in app.notices


async def test_hold_countdown_follows_the_clock_and_marks_edits(make_app: MakeApp) -> None:
    clock = FixedClock()
    app = make_app(RecordingActions(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        assert cells(app, "#holds-table", 4) == ["in 4m 12s", "in 9m 00s"]
        assert cells(app, "#holds-table", 5) == ["", "✎ 2 versions"]
        assert cells(app, "#holds-table", 3) == ["3", "4"]
        clock.advance(200)
        app._tick_countdowns()  # the 1 s ticker, without waiting a second
        assert cells(app, "#holds-table", 4) == ["in 52s", "in 5m 40s"]
        clock.advance(60)
        app._tick_countdowns()
        assert cells(app, "#holds-table", 4)[0] == "due now"


async def test_hold_details_show_items_and_can_release(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert cells(app, "#order-items", 0) == ["Hoodie", "Socks"]
        assert cells(app, "#order-versions", 0) == ["1", "2"]
        await pilot.press("x")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5804")]
        assert not isinstance(app.screen, OrderDetailScreen)


async def test_filter_narrows_the_events_table(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        assert cells(app, "#events-table", 2) == ["#1001", "#1002", "#1001", "#2001"]
        app.query_one("#filter-state", Select).value = "dead"
        await settle(app, pilot)
        assert cells(app, "#events-table", 2) == ["#1001"]
        assert cells(app, "#events-table", 1) == ["Received Refund"]
        app.query_one("#filter-state", Select).clear()
        app.query_one("#filter-source", Select).value = OUTLET
        await settle(app, pilot)
        assert cells(app, "#events-table", 2) == ["#2001"]
        app.query_one("#filter-event", Select).value = "Received Refund"
        await settle(app, pilot)
        assert cells(app, "#events-table", 2) == []
        assert "nothing matches" in str(app.query_one("#events-status", Static).render())
        await app.run_action("clear_event_filters")
        await settle(app, pilot)
        assert len(cells(app, "#events-table", 2)) == 4


async def test_older_and_latest_page_through_events(make_app: MakeApp) -> None:
    app = make_app(events_page=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        assert cells(app, "#events-table", 2) == ["#1001", "#1002"]
        await pilot.press("o")
        await settle(app, pilot)
        assert cells(app, "#events-table", 2) == ["#1001", "#2001"]
        assert "older than" in str(app.query_one("#events-status", Static).render())
        await pilot.press("l")
        await settle(app, pilot)
        assert cells(app, "#events-table", 2) == ["#1001", "#1002"]


async def test_event_detail_shows_the_exact_payload_and_replays_one_destination(
    make_app: MakeApp, demo_store: tuple[Path, dict[str, int]]
) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    seqs = demo_store[1]
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "down", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EventDetailScreen)
        assert screen.detail.payload == placed_payload("5802", "#1002", "10.10")
        shown = screen.query_one("#payload", Static).content
        assert isinstance(shown, Syntax) and shown.code == screen.payload_text
        assert '"total_price": 10.10' in shown.code and '"order_name": "#1002"' in shown.code
        assert cells(app, "#detail-deliveries", 1) == ["retrying ×3", "delivered"]
        await pilot.press("w")  # raw: byte for byte what was sent
        raw = screen.query_one("#payload", Static).content
        assert isinstance(raw, Syntax) and raw.code == placed_payload("5802", "#1002", "10.10")
        await pilot.press("p")  # the highlighted (first) destination only
        await settle(app, pilot)
        assert actions.replayed == [(seqs["retrying"], "converge")]
        await pilot.press("escape")
        assert not isinstance(app.screen, EventDetailScreen)


async def test_replay_from_the_list_sends_to_every_destination_of_the_event(
    make_app: MakeApp, demo_store: tuple[Path, dict[str, int]]
) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "p")
        await settle(app, pilot)
        refund = demo_store[1]["refund"]
        assert actions.replayed == [(refund, "converge"), (refund, "events-file")]


async def test_command_palette_runs_the_actions(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"release")
        await pilot.pause(0.05)  # the palette searches on a timer; this only yields to it
        await pilot.press("enter")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5803")]
        assert app.query_one("#tabs").active == "holds"  # type: ignore[attr-defined]


async def test_read_only_attach_disables_actions_with_a_notice(make_app: MakeApp) -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert READ_ONLY_NOTICE in str(app.query_one("#read-only-banner", Static).render())
        await pilot.press("2")
        holds = app.query_one("HoldsPanel")
        assert holds.check_action("release", ()) is None
        assert app.active_bindings["x"].enabled is False  # shown greyed out in the footer
        await pilot.press("x")
        await app.run_action("replay_selected")  # the palette path still asks, and is told no
        await settle(app, pilot)
        assert app.notices == [READ_ONLY_NOTICE]


async def test_refreshes_requested_during_a_refresh_are_merged_into_one(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.refresh_count
        for _ in range(5):
            app.request_refresh()
        await settle(app, pilot)
        assert app.refresh_count == before + 2  # the one running, then one for all the others


async def test_new_rows_appear_on_refresh(make_app: MakeApp, demo_store: tuple[Path, dict[str, int]]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        builder = StoreBuilder(demo_store[0])
        builder.order(SHOP, "5807", "#1007", status="held", release_at=NOW + timedelta(minutes=1))
        builder.close()
        app.request_refresh()
        await settle(app, pilot)
        await pilot.press("2")
        assert cells(app, "#holds-table", 0) == ["#1007", "#1003", "#1004"]


async def test_worker_failures_reach_the_errors_view_and_a_notice(tmp_path: Path) -> None:
    app = DashboardApp(tmp_path / "not-yet.db", clock=FixedClock(), refresh_seconds=3600)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert any("no database" in notice for notice in app.notices)
        assert [e.kind for e in app.dashboard_errors] == ["dashboard"]
        assert cells(app, "#errors-table", 2) == ["dashboard"]
        # Once the bridge has created the store, the next tick recovers by itself.
        StoreBuilder(tmp_path / "not-yet.db").close()
        app.request_refresh()
        await settle(app, pilot)
        assert app.snapshot is not None


async def test_failing_actions_are_reported_not_raised(make_app: MakeApp) -> None:
    class Refusing(RecordingActions):
        async def release_now(self, shop: str, order_id: str) -> None:
            raise RuntimeError("order is gone")

    app = make_app(Refusing())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "x")
        await settle(app, pilot)
        assert app.is_running
        assert any("order is gone" in notice for notice in app.notices)
        await pilot.press("4")
        assert "dashboard" in cells(app, "#errors-table", 2)


async def test_a_backfilling_source_shows_its_progress_line(make_app: MakeApp, demo_store: tuple[Path, object]) -> None:
    import sqlite3

    conn = sqlite3.connect(demo_store[0])
    line_text = "backfill 2026-01-01..2026-05-01: storing orders 4,500/10,000 (45 %)"
    conn.execute("UPDATE sources SET state = 'backfilling', progress = ? WHERE shop = ?", (line_text, SHOP))
    conn.execute("UPDATE sources SET progress = 'left over from a failed backfill' WHERE shop = ?", (OUTLET,))
    conn.commit()
    conn.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        line = str(app.query_one("#source-state-line", Static).render())
        assert "backfilling" in line and line_text in line
        await pilot.press("down")
        line = str(app.query_one("#source-state-line", Static).render())
        assert "failed" in line and "left over" not in line  # only a running backfill shows one
