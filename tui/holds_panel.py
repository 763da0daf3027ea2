"""Holds: orders waiting out the post-purchase upsell window, with a live countdown to release."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.format import countdown, money
from tui.messages import OrderDetailRequested, ReleaseRequested
from tui.models import HoldRow
from tui.table_sync import Cell, Row, selected_key, sync_rows, update_static

COLUMNS = (
    ("order", "Order"),
    ("source", "Source"),
    ("total", "Total"),
    ("items", "Items"),
    ("release", "Release"),
    ("edited", "Edited"),
)


TICK_MARGIN = 5  # rows beyond the viewport whose countdown still moves, for smooth scrolling


def hold_key(hold: HoldRow) -> str:
    return f"{hold.shop}|{hold.order_id}"


class HoldsPanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "release", "Release now"),
        Binding("enter", "details", "Details"),
    ]

    def __init__(self, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self._holds: dict[str, HoldRow] = {}
        self._source_names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield DataTable[Cell](id="holds-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="holds-summary")

    def on_mount(self) -> None:
        table = self.query_one("#holds-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)

    def _cells(self, hold: HoldRow, now: datetime) -> list[Cell]:
        return [
            hold.name,
            self._source_names.get(hold.shop, hold.shop),
            money(hold.total, hold.currency),
            str(hold.item_count),
            countdown(hold.release_at, now),
            Text(f"✎ {hold.versions} versions", style="magenta") if hold.edited else Text(""),
        ]

    def show(self, holds: tuple[HoldRow, ...], source_names: dict[str, str], now: datetime) -> None:
        self._source_names = source_names
        self._holds = {hold_key(h): h for h in holds}
        rows: list[Row] = [(hold_key(h), self._cells(h, now)) for h in holds]
        sync_rows(self.query_one("#holds-table", DataTable), rows)
        edited = sum(1 for h in holds if h.edited)
        summary = f"{len(holds)} held" + (f" · {edited} edited during hold" if edited else "")
        summary += " · enter: details"
        update_static(self.query_one("#holds-summary", Static), Text(summary, style="dim"))

    def tick(self, now: datetime) -> None:
        """Move the countdowns on without touching the store.

        Only rows in (or near) the viewport are rewritten: with a thousand holds, rewriting all
        of them every second would cost more than the whole store read. Rows scrolled into
        view are at most one tick stale.
        """
        table = self.query_one("#holds-table", DataTable)
        first = max(0, int(table.scroll_y) - TICK_MARGIN)
        last = int(table.scroll_y) + table.size.height + TICK_MARGIN
        for row in table.ordered_rows[first:last]:
            hold = self._holds.get(str(row.key.value))
            if hold is not None:
                table.update_cell(row.key, "release", countdown(hold.release_at, now))

    def selected(self) -> HoldRow | None:
        key = selected_key(self.query_one("#holds-table", DataTable))
        return self._holds.get(key) if key else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "release" and self.read_only:
            return None  # shown in the footer, greyed out: attach mode cannot release
        return True

    def action_release(self) -> None:
        hold = self.selected()
        if hold is not None:
            self.post_message(ReleaseRequested(hold.shop, hold.order_id, hold.name))

    def action_details(self) -> None:
        hold = self.selected()
        if hold is not None:
            self.post_message(OrderDetailRequested(hold.shop, hold.order_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()
