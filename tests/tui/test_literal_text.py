"""Text is data: strings from Shopify, destinations and the config are shown as written in the dashboard.

Rich markup (`[/bold]` crashed the tables, `[redacted]` vanished, `[link=…]` became a link) and
control characters (`\\x1b[31m` recolours the terminal, `\\r` overwrites, `\\x07` rings) in every field the
operator sees: source name and reason, order name, tags, item titles, exclusion value, error messages,
destination response bodies.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable

from tests.tui.conftest import FixedClock, RecordingActions, settle, until
from tests.tui.store_builder import NOW, SHOP, StoreBuilder, placed_payload
from tui.app import DashboardApp
from tui.event_detail import EventDetailScreen
from tui.order_detail import OrderDetailScreen
from tui.source_detail import SourceDetailScreen

MARKUP = "[/bold][red]x[link=https://evil.example]y[/link] [redacted]"
CONTROLS = "a\x1b[31mb\rc\x07d"
NASTY = MARKUP + CONTROLS
SHOWN = MARKUP + "a\\x1b[31mb\\rc\\x07d"  # how `literal` writes it out


def nasty_store(path: Path) -> None:
    b = StoreBuilder(path)
    b.source(SHOP, f"Store {NASTY}", state="failed", state_reason=f"HTTP 500 {NASTY}")
    b.order(
        SHOP,
        "9001",
        f"#9001{NASTY}",
        status="held",
        release_at=NOW + timedelta(minutes=3),
        versions=[[(f"Tee {NASTY}", 1, "10.00")]],
    )
    b.order(SHOP, "9002", f"#9002{NASTY}", status="excluded", rule="tag", value=NASTY)
    b.event(
        SHOP,
        "9001",
        placed_payload("9001", "#9001", "10.00"),
        deliveries={"converge": ("dead", 12)},
    )
    b.conn.execute("UPDATE deliveries SET last_error = ?", (f"HTTP 400: {NASTY}",))
    b.conn.execute(
        "UPDATE order_versions SET doc = json_set(doc, '$.tags', json(?)) WHERE order_id = '9001'",
        (json.dumps([NASTY, "vip"]),),
    )
    b.error(NOW, SHOP, "delivery", f"converge answered {NASTY}")
    b.close()


def column(app: DashboardApp, table_id: str, index: int) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [str(getattr(cell, "plain", cell)) for cell in table.get_column_at(index)]


def no_control_characters(app: DashboardApp) -> None:
    svg = app.export_screenshot()
    assert not any(ord(char) < 32 and char not in "\n\t" for char in svg)


MakeApp = Callable[..., DashboardApp]


async def test_every_field_is_shown_as_written(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    nasty_store(path)
    app = DashboardApp(path, actions=RecordingActions(), clock=FixedClock(), refresh_seconds=3600)
    app.animation_level = "none"
    async with app.run_test(size=(250, 50)) as pilot:
        await settle(app, pilot)
        assert column(app, "#sources-table", 0) == [f"Store {SHOWN}"]
        assert column(app, "#sources-table", 1) == [f"failed: HTTP 500 {SHOWN}"]
        assert column(app, "#holds-table", 0) == [f"#9001{SHOWN}"]
        assert column(app, "#holds-table", 1) == [f"Store {SHOWN}"]
        no_control_characters(app)
        await pilot.press("3")
        assert column(app, "#dead-table", 5) == [f"HTTP 400: {SHOWN}"]
        await pilot.press("4")
        assert column(app, "#exclusions-table", 0) == [f"#9002{SHOWN}"]
        assert column(app, "#exclusions-table", 3) == [SHOWN]
        assert column(app, "#errors-table", 3) == [f"converge answered {SHOWN}"]
        no_control_characters(app)
        await pilot.press("1", "tab", "enter")  # the hold, in full
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        assert column(app, "#order-items", 0) == [f"Tee {SHOWN}"]
        assert column(app, "#order-versions", 5) == [f"{SHOWN}, vip"]
        no_control_characters(app)
        await pilot.press("escape", "tab", "enter")  # the event, in full
        await settle(app, pilot)
        assert isinstance(app.screen, EventDetailScreen)
        assert column(app, "#detail-deliveries", 4) == [f"HTTP 400: {SHOWN}"]
        no_control_characters(app)
        await pilot.press("escape", "tab", "enter")  # the source, in full
        await settle(app, pilot)
        assert isinstance(app.screen, SourceDetailScreen)
        no_control_characters(app)


async def test_a_nasty_name_in_a_confirmation_and_a_notice_stays_literal(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    nasty_store(path)
    actions = RecordingActions()
    app = DashboardApp(path, actions=actions, clock=FixedClock(), refresh_seconds=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", "x")
        await until(pilot, lambda: SHOWN in app.screen.question.plain)
        assert SHOWN in app.screen.question.plain  # type: ignore[attr-defined]
        await pilot.press("y")
        await settle(app, pilot)
        assert actions.released == [(SHOP, "9001")]
        assert any(SHOWN in notice for notice in app.notices)  # notified with markup off, controls written out
        no_control_characters(app)


def test_the_fixture_really_holds_the_strings(tmp_path: Path) -> None:
    nasty_store(tmp_path / "bridge.db")
    conn = sqlite3.connect(tmp_path / "bridge.db")
    assert conn.execute("SELECT name FROM sources").fetchone()[0] == f"Store {NASTY}"
    conn.close()
