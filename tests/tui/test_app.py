"""Pilot tests: the overview, each view, and every key of the dashboard, driven like an operator would."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from rich.syntax import Syntax
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, DataTable, Select, Static

from tests.tui.conftest import FixedClock, RecordingActions, settle, until
from tests.tui.store_builder import NOW, OUTLET, SHOP, StoreBuilder, placed_payload
from tui.app import READ_ONLY_NOTICE, DashboardApp
from tui.confirm import ConfirmScreen
from tui.event_detail import EventDetailScreen
from tui.health_bar import HealthBar
from tui.help_screen import HelpScreen
from tui.messages import SnapshotLoaded
from tui.order_detail import OrderDetailScreen
from tui.source_detail import SourceDetailScreen

MakeApp = Callable[..., DashboardApp]
Demo = tuple[Path, dict[str, int]]
SIZE = (120, 40)


def cells(app: DashboardApp, table_id: str, column: int) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [str(getattr(cell, "plain", cell)) for cell in table.get_column_at(column)]


def rendered(widget: Static) -> str:
    """The text a Static shows, whatever renderable it holds (a Rich table too)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def view(app: DashboardApp) -> str | None:
    return app.query_one(ContentSwitcher).current


async def test_the_first_screen_shows_health_sources_holds_and_recent_events(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert view(app) == "overview"
        health = str(app.query_one("#health", Static).render())
        for part in ("1 ok", "1 failed", "holds 2", "backlog 2", "dead 1", "ev/min"):
            assert part in health, part
        assert cells(app, "#sources-table", 0) == ["Convergestore Store Backend", "Outlet Store"]
        assert cells(app, "#sources-table", 1) == ["ok", "failed: 401 Unauthorized: check the access token"]
        assert cells(app, "#sources-table", 2) == ["15 s ago", "3 h ago"]
        assert cells(app, "#sources-table", 3) == ["1,990 / 2,000", "—"]
        assert cells(app, "#sources-table", 4) == ["20 s", "3 h 1 min"]  # cursor lag
        assert cells(app, "#holds-table", 0) == ["#1003", "#1004"]  # soonest first
        assert cells(app, "#holds-table", 4) == ["04:12", "09:00"]
        assert cells(app, "#recent-table", 1) == ["#1001", "#1002", "#1001", "#2001"]  # newest first
        assert cells(app, "#recent-table", 3)[0] == "converge dead · events-file delivered"


async def test_hold_countdown_follows_the_clock_and_marks_edits(make_app: MakeApp) -> None:
    clock = FixedClock()
    app = make_app(RecordingActions(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert cells(app, "#holds-table", 5) == ["", "✎ 2 versions"]
        assert cells(app, "#holds-table", 3) == ["3", "4"]
        clock.advance(200)
        app._tick_countdowns()  # the 1 s ticker, without waiting a second
        assert cells(app, "#holds-table", 4) == ["00:52", "05:40"]
        clock.advance(60)
        app._tick_countdowns()
        assert cells(app, "#holds-table", 4)[0] == "due"


async def test_a_countdown_tick_while_the_app_closes_is_harmless(make_app: MakeApp) -> None:
    """The 1 s ticker may fire while the app shuts down and its widgets are being removed: seen as a
    NoMatches at the end of a test now and then. The tick then finds no holds table and does nothing."""
    app = make_app(RecordingActions(), FixedClock())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.query_one("#holds-table").remove()
        app._tick_countdowns()
        assert not app.query("#holds-table")


async def test_a_refresh_landing_while_the_app_closes_is_harmless(make_app: MakeApp) -> None:
    """A snapshot read before the shut-down may arrive after its widgets went: it is dropped, while a
    view that lost a widget with the dashboard still up stays an error."""
    app = make_app(RecordingActions(), FixedClock())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        loaded = SnapshotLoaded(app.snapshot, None)
        await app.query_one("#sources-table").remove()  # shown at every refresh
        with pytest.raises(NoMatches):
            app.on_snapshot_loaded(loaded)  # the dashboard is up: a missing view is a bug
        await app.query_one(HealthBar).remove()
        app.on_snapshot_loaded(loaded)  # closing: nothing to show, nothing raised


async def test_recent_events_follow_new_rows_unless_the_operator_moved_away(
    make_app: MakeApp, demo_store: Demo
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#recent-table", DataTable)
        builder = StoreBuilder(demo_store[0])
        builder.event(SHOP, "5803", placed_payload("5803", "#1003", "49.00"), created_at=NOW - timedelta(minutes=1))
        builder.conn.commit()
        app.request_refresh()
        await settle(app, pilot)
        assert cells(app, "#recent-table", 1)[0] == "#1003"
        assert table.cursor_row == 0  # following: on the newest
        table.focus()
        await pilot.press("down", "down")  # the operator looks at an older one: #1002
        builder.event(SHOP, "5804", placed_payload("5804", "#1004", "75.50"), created_at=NOW)
        builder.conn.commit()
        builder.close()
        app.request_refresh()
        await settle(app, pilot)
        assert cells(app, "#recent-table", 1)[:2] == ["#1004", "#1003"]
        assert cells(app, "#recent-table", 1)[table.cursor_row] == "#1002"  # stays on its row


async def test_number_keys_switch_views_and_focus_their_list(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key, name, focused in (
            ("2", "events", "events-table"),
            ("3", "dead", "dead-table"),
            ("4", "problems", "exclusions-table"),
            ("1", "overview", "sources-table"),
        ):
            await pilot.press(key)
            await until(pilot, lambda: view(app) == name)  # noqa: B023 (awaited here, in this turn)
            assert view(app) == name
            assert app.focused is not None and app.focused.id == focused


async def test_question_mark_and_f1_open_a_help_of_every_key(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert isinstance(app.screen, HelpScreen)
            shown = rendered(app.screen.query_one("#help-keys", Static))
            for words in ("Release now", "Replay dead", "Pause", "Details", "Older", "Filter", "Quit", "ctrl+p"):
                assert words in shown, words
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
            assert not isinstance(app.screen, HelpScreen)


async def test_release_asks_first_and_only_yes_releases(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#holds-table").focus()
        await pilot.press("down", "x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        assert "#1004" in app.screen.question.plain
        await pilot.press("n")
        await settle(app, pilot)
        assert actions.released == []
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5804")]
        assert "Release requested for #1004" in app.notices


async def test_enter_on_a_hold_shows_what_explain_shows_and_can_release(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#holds-table").focus()
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert app.screen.explanation is not None and app.screen.explanation.order["name"] == "#1004"
        assert cells(app, "#order-items", 0) == ["Hoodie", "Socks"]
        assert cells(app, "#order-versions", 0) == ["1", "2"]
        assert cells(app, "#order-versions", 4) == ["75.50", "75.50"]
        await pilot.press("x", "enter")  # enter confirms too
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5804")]
        assert not isinstance(app.screen, OrderDetailScreen)


async def test_enter_on_an_order_with_events_lists_them_with_their_deliveries(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        from tui.messages import OrderDetailRequested

        app.post_message(OrderDetailRequested(SHOP, "5801"))
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert cells(app, "#order-events", 0) == ["Placed Order", "Received Refund"]
        assert "converge dead (HTTP 400: bad request)" in cells(app, "#order-events", 3)[1]


async def test_events_view_filters_pages_and_focuses_the_filter_bar(make_app: MakeApp) -> None:
    app = make_app(events_page=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        assert cells(app, "#events-table", 1) == ["#1001", "#1002"]
        await pilot.press("o")
        await settle(app, pilot)
        assert cells(app, "#events-table", 1) == ["#1001", "#2001"]
        assert "older than" in str(app.query_one("#events-status", Static).render())
        await pilot.press("l")
        await settle(app, pilot)
        assert cells(app, "#events-table", 1) == ["#1001", "#1002"]
        assert cells(app, "#recent-table", 1) == ["#1001", "#1002"]  # the overview is not paged with it
        await pilot.press("f")
        assert app.focused is not None and app.focused.id == "filter-source"


async def test_filter_narrows_the_events_view_but_not_the_overview(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        app.query_one("#filter-state", Select).value = "dead"
        await settle(app, pilot)
        assert cells(app, "#events-table", 1) == ["#1001"]
        assert len(cells(app, "#recent-table", 1)) == 4
        app.query_one("#filter-state", Select).clear()
        app.query_one("#filter-source", Select).value = OUTLET
        await settle(app, pilot)
        assert cells(app, "#events-table", 1) == ["#2001"]
        app.query_one("#filter-event", Select).value = "Received Refund"
        await settle(app, pilot)
        assert cells(app, "#events-table", 1) == []
        assert "nothing matches" in str(app.query_one("#events-status", Static).render())
        await app.run_action("clear_event_filters")
        await settle(app, pilot)
        assert len(cells(app, "#events-table", 1)) == 4


async def test_event_detail_shows_the_exact_payload_and_replays_one_destination(
    make_app: MakeApp, demo_store: Demo
) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.query_one("#recent-table").focus()
        await pilot.press("down", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EventDetailScreen)
        assert screen.detail.payload == placed_payload("5802", "#1002", "10.10")
        shown = screen.query_one("#payload", Static).content
        assert isinstance(shown, Syntax) and '"total_price": 10.10' in shown.code
        assert cells(app, "#detail-deliveries", 1) == ["retrying ×3", "delivered"]
        await pilot.press("w")  # raw: byte for byte what was sent
        raw = screen.query_one("#payload", Static).content
        assert isinstance(raw, Syntax) and raw.code == placed_payload("5802", "#1002", "10.10")
        await pilot.press("p", "y")  # the highlighted (first) destination only, after yes
        await settle(app, pilot)
        assert actions.replayed == [(demo_store[1]["retrying"], "converge")]
        await pilot.press("escape")
        assert not isinstance(app.screen, EventDetailScreen)


async def test_replay_from_a_list_sends_to_every_destination_of_the_event(make_app: MakeApp, demo_store: Demo) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "p", "y")
        await settle(app, pilot)
        refund = demo_store[1]["refund"]
        assert actions.replayed == [(refund, "converge"), (refund, "events-file")]


async def test_dead_letters_list_replays_only_the_dead_destination(make_app: MakeApp, demo_store: Demo) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        assert cells(app, "#dead-table", 3) == ["converge"]
        assert cells(app, "#dead-table", 5) == ["HTTP 400: bad request"]
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert actions.replayed == [(demo_store[1]["refund"], "converge")]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, EventDetailScreen)


async def test_enter_on_an_exclusion_opens_the_order(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert "excluded by channel = pos" in str(app.screen.query(".detail-subtitle").first().render())


async def test_s_pauses_and_resumes_a_source_after_confirmation(make_app: MakeApp, demo_store: Demo) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s", "y")
        await settle(app, pilot)
        assert actions.paused == [(SHOP, True)]
        conn = sqlite3.connect(demo_store[0])
        conn.execute(
            "UPDATE sources SET state = 'paused', state_reason = 'paused by the operator' WHERE shop = ?", (SHOP,)
        )
        conn.commit()
        conn.close()
        app.request_refresh()
        await settle(app, pilot)
        assert cells(app, "#sources-table", 1)[0] == "paused"
        assert "1 paused" in str(app.query_one("#health", Static).render())
        await pilot.press("s")
        await until(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen.question.plain.startswith("Resume")
        )
        assert isinstance(app.screen, ConfirmScreen) and app.screen.question.plain.startswith("Resume")
        await pilot.press("y")
        await settle(app, pilot)
        assert actions.paused == [(SHOP, True), (SHOP, False)]


async def test_enter_on_a_source_shows_its_whole_reason(make_app: MakeApp) -> None:
    app = make_app(RecordingActions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, SourceDetailScreen))
        assert isinstance(app.screen, SourceDetailScreen)
        assert "401 Unauthorized: check the access token" in rendered(app.screen.query_one("#source-facts", Static))


async def test_r_reads_again_and_q_quits(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.refresh_count
        await pilot.press("r")
        await settle(app, pilot)
        assert app.refresh_count == before + 1
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
        assert not app.is_running


async def test_command_palette_lists_and_runs_the_actions(make_app: MakeApp) -> None:
    actions = RecordingActions()
    app = make_app(actions)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"release")
        await pilot.pause(0.05)  # the palette searches on a timer; this only yields to it
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "5803")]


async def test_attach_disables_the_writing_keys_with_the_reason(make_app: MakeApp) -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert READ_ONLY_NOTICE in str(app.query_one("#read-only-banner", Static).render())
        app.query_one("#holds-table").focus()
        await pilot.pause()
        assert app.active_bindings["x"].enabled is False  # shown greyed out in the footer
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await app.run_action("replay_selected")  # the palette path still asks, and is told why not
        await settle(app, pilot)
        assert app.notices == [READ_ONLY_NOTICE]


async def test_attach_shows_a_live_writer_and_marks_a_dead_one_stale(make_app: MakeApp, demo_store: Demo) -> None:
    from shopify_bridge.store.db import SqliteSql
    from shopify_bridge.store.writer_heartbeat import record_heartbeat

    conn = sqlite3.connect(demo_store[0], isolation_level=None)
    record_heartbeat(SqliteSql(conn), 4242, NOW - timedelta(seconds=3))
    conn.close()
    alive = {4242: True}
    app = make_app(None, running=lambda pid: alive.get(pid, False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        health = str(app.query_one("#health", Static).render())
        assert "writer alive · pid 4242 · last heartbeat 3 s ago" in health
        assert not app.screen.has_class("-stale")
        alive[4242] = False
        app.request_refresh()
        await settle(app, pilot)
        health = str(app.query_one("#health", Static).render())
        assert "STALE · writer not running (pid 4242 gone)" in health
        assert app.screen.has_class("-stale") and app.query_one("#health").has_class("stale")


async def test_refreshes_requested_during_a_refresh_are_merged_into_one(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.refresh_count
        for _ in range(5):
            app.request_refresh()
        await settle(app, pilot)
        assert app.refresh_count == before + 2  # the one running, then one for all the others


async def test_new_holds_appear_on_refresh_soonest_first(make_app: MakeApp, demo_store: Demo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        builder = StoreBuilder(demo_store[0])
        builder.order(SHOP, "5807", "#1007", status="held", release_at=NOW + timedelta(minutes=1))
        builder.close()
        app.request_refresh()
        await settle(app, pilot)
        assert cells(app, "#holds-table", 0) == ["#1007", "#1003", "#1004"]


async def test_columns_fit_the_content_and_are_laid_out_again_on_resize(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#sources-table", DataTable)
        wide = {str(key.value): column.width for key, column in table.columns.items()}
        assert wide["bucket"] == len("1,990 / 2,000")  # the widest value, not the first one
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        narrow = {str(key.value): column.width for key, column in table.columns.items()}
        assert narrow["state"] < wide["state"] and narrow["bucket"] == wide["bucket"]
        assert sum(narrow.values()) + 2 * len(narrow) <= 80 - 1  # no sideways scrolling
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: {str(key.value): column.width for key, column in table.columns.items()} == wide)
        assert {str(key.value): column.width for key, column in table.columns.items()} == wide


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
        app.query_one("#holds-table").focus()
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert app.is_running
        assert any("order is gone" in notice for notice in app.notices)
        await pilot.press("4")
        assert "dashboard" in cells(app, "#errors-table", 2)


async def test_a_backfilling_source_shows_its_percentage(make_app: MakeApp, demo_store: Demo) -> None:
    conn = sqlite3.connect(demo_store[0])
    line_text = "backfill 2026-01-01..2026-05-01: storing orders 4,500/10,000 (45 %)"
    conn.execute("UPDATE sources SET state = 'backfilling', progress = ? WHERE shop = ?", (line_text, SHOP))
    conn.commit()
    conn.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert cells(app, "#sources-table", 1)[0] == "backfilling 45 %"
        await pilot.press("enter")
        await until(pilot, lambda: line_text in rendered(app.screen.query_one("#source-facts", Static)))
        assert line_text in rendered(app.screen.query_one("#source-facts", Static))
