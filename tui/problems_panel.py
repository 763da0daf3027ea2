"""Exclusions (orders that will never produce an event, with the rule that matched) and recent errors."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from tui.format import clock_time, redact
from tui.models import ErrorRow, ExclusionRow
from tui.table_sync import Cell, Row, sync_rows

EXCLUSION_COLUMNS = (
    ("order", "Order"),
    ("source", "Source"),
    ("rule", "Rule"),
    ("value", "Value"),
    ("processed", "Processed"),
)
ERROR_COLUMNS = (("time", "Time"), ("source", "Source"), ("kind", "Kind"), ("message", "Message"))


class ProblemsPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Label("Exclusions", classes="section-title")
        yield DataTable[Cell](id="exclusions-table", cursor_type="row", zebra_stripes=True)
        yield Label("Recent errors", classes="section-title")
        yield DataTable[Cell](id="errors-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table_id, columns in (("#exclusions-table", EXCLUSION_COLUMNS), ("#errors-table", ERROR_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for key, label in columns:
                table.add_column(label, key=key)

    def show(
        self,
        exclusions: tuple[ExclusionRow, ...],
        errors: tuple[ErrorRow, ...],
        dashboard_errors: tuple[ErrorRow, ...],
        source_names: dict[str, str],
        now: datetime,
    ) -> None:
        excluded: list[Row] = [
            (
                f"{x.shop}|{x.order_id}",
                [
                    x.name,
                    source_names.get(x.shop, x.shop),
                    x.rule or "—",
                    x.value or "",
                    clock_time(x.processed_at, now),
                ],
            )
            for x in exclusions
        ]
        sync_rows(self.query_one("#exclusions-table", DataTable), excluded)
        # The dashboard's own failures (a worker that could not read the store) come first:
        # they explain why the rest of the screen may be stale.
        shown: list[Row] = []
        for index, error in enumerate((*dashboard_errors, *errors)):
            kind = Text(error.kind, style="bold red" if error.kind == "dashboard" else "red")
            source = source_names.get(error.shop, error.shop) if error.shop else "—"
            shown.append((str(index), [clock_time(error.at, now), source, kind, redact(error.message)]))
        sync_rows(self.query_one("#errors-table", DataTable), shown)
