"""Pending holds: orders waiting out the post-purchase upsell window, soonest release first, with a
live `mm:ss` countdown."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tui.fit_table import ColumnSpec, FitTable
from tui.format import countdown, money
from tui.messages import OrderDetailRequested, ReleaseRequested
from tui.models import HoldRow
from tui.table_sync import Cell, Row
from tui.text import literal

COLUMNS = (
    ColumnSpec("order", "Order", min_width=5, give=1),
    ColumnSpec("source", "Source", min_width=6, give=2),
    ColumnSpec("total", "Total", min_width=6, give=1),
    ColumnSpec("items", "Items"),
    ColumnSpec("release", "Release in"),
    ColumnSpec("edited", "Edited", min_width=2, give=3),
)
TICK_MARGIN = 5  # rows beyond the viewport whose countdown still moves, for smooth scrolling


def hold_key(hold: HoldRow) -> str:
    return f"{hold.shop}|{hold.order_id}"


class HoldsTable(FitTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "Details"),
        Binding("x", "release", "Release now"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.holds: dict[str, HoldRow] = {}

    def _cells(self, hold: HoldRow, names: dict[str, str], now: datetime) -> list[Cell]:
        return [
            literal(hold.name, "bold"),
            literal(names.get(hold.shop, hold.shop)),
            Text(money(hold.total, hold.currency), no_wrap=True, overflow="ellipsis"),
            Text(str(hold.item_count)),
            countdown(hold.release_at, now),
            Text(f"✎ {hold.versions} versions", style="magenta", no_wrap=True, overflow="ellipsis")
            if hold.edited
            else Text(""),
        ]

    def show_holds(self, holds: tuple[HoldRow, ...], names: dict[str, str], now: datetime) -> None:
        self.holds = {hold_key(h): h for h in holds}
        rows: list[Row] = [(hold_key(h), self._cells(h, names, now)) for h in holds]
        self.show(rows)

    def tick(self, now: datetime) -> None:
        """Move the countdowns on without touching the store.

        Only rows in (or near) the viewport are rewritten: with a thousand holds, rewriting all of them
        every second would cost more than the whole store read. Rows scrolled into view are at most one
        tick stale.
        """
        first = max(0, int(self.scroll_y) - TICK_MARGIN)
        last = int(self.scroll_y) + self.size.height + TICK_MARGIN
        for row in self.ordered_rows[first:last]:
            hold = self.holds.get(str(row.key.value))
            if hold is not None:
                self.update_cell(row.key, "release", countdown(hold.release_at, now))

    def selected_hold(self) -> HoldRow | None:
        key = self.selected()
        return self.holds.get(key) if key else None

    def action_release(self) -> None:
        hold = self.selected_hold()
        if hold is not None:
            self.post_message(ReleaseRequested(hold.shop, hold.order_id, hold.name))

    def action_details(self) -> None:
        hold = self.selected_hold()
        if hold is not None:
            self.post_message(OrderDetailRequested(hold.shop, hold.order_id))

    def on_data_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_details()
