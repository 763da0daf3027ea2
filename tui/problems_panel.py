"""Exclusions (orders that will never produce an event, with the rule that matched) and recent errors."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label

from tui.fit_table import ColumnSpec, FitTable
from tui.format import clock_time, redact
from tui.messages import OrderDetailRequested
from tui.models import ErrorRow, ExclusionRow
from tui.table_sync import Row
from tui.text import literal

EXCLUSION_COLUMNS = (
    ColumnSpec("order", "Order", min_width=5, give=1),
    ColumnSpec("source", "Source", min_width=6, give=2),
    ColumnSpec("rule", "Rule", min_width=4, give=1),
    ColumnSpec("value", "Value", min_width=5, give=3),
    ColumnSpec("processed", "Processed"),
)
ERROR_COLUMNS = (
    ColumnSpec("time", "Time"),
    ColumnSpec("source", "Source", min_width=6, give=2),
    ColumnSpec("kind", "Kind", min_width=4, give=1),
    ColumnSpec("message", "Message", min_width=10, give=3),
)


class ExclusionsTable(FitTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "details", "Details")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(EXCLUSION_COLUMNS, id=id)
        self.orders: dict[str, ExclusionRow] = {}

    def action_details(self) -> None:
        key = self.selected()
        if key in self.orders:
            self.post_message(OrderDetailRequested(self.orders[key].shop, self.orders[key].order_id))

    def on_data_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_details()


class ProblemsPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Label("Exclusions", classes="section-title")
        yield ExclusionsTable(id="exclusions-table")
        yield Label("Recent errors", classes="section-title")
        yield FitTable(ERROR_COLUMNS, id="errors-table")

    def show(
        self,
        exclusions: tuple[ExclusionRow, ...],
        errors: tuple[ErrorRow, ...],
        dashboard_errors: tuple[ErrorRow, ...],
        source_names: dict[str, str],
        now: datetime,
    ) -> None:
        table = self.query_one(ExclusionsTable)
        table.orders = {f"{x.shop}|{x.order_id}": x for x in exclusions}
        excluded: list[Row] = [
            (
                f"{x.shop}|{x.order_id}",
                [
                    literal(x.name, "bold"),
                    literal(source_names.get(x.shop, x.shop)),
                    literal(x.rule or "—"),
                    literal(x.value or ""),
                    Text(clock_time(x.processed_at, now)),
                ],
            )
            for x in exclusions
        ]
        table.show(excluded)
        # The dashboard's own failures (a worker that could not read the store) come first:
        # they explain why the rest of the screen may be stale.
        shown: list[Row] = []
        for index, error in enumerate((*dashboard_errors, *errors)):
            kind = literal(error.kind, "bold red" if error.kind == "dashboard" else "red")
            source = literal(source_names.get(error.shop, error.shop) if error.shop else "—")
            shown.append((str(index), [Text(clock_time(error.at, now)), source, kind, literal(redact(error.message))]))
        self.query_one("#errors-table", FitTable).show(shown)
