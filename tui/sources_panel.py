"""Sources: one row per connected store — state, last good poll, cursor, today's orders, budget, backlog."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from shopify_bridge.timeutil import parse_ts
from tui.format import age, bucket, clock_time, source_state
from tui.models import SourceRow
from tui.table_sync import Cell, Row, selected_key, sync_rows, update_static

# Most telling first, so a 80-column terminal shows health without scrolling sideways.
COLUMNS = (
    ("source", "Source"),
    ("state", "State"),
    ("age", "Polled"),
    ("dead", "Dead"),
    ("pending", "Pending"),
    ("today", "Today"),
    ("bucket", "Bucket"),
    ("last_ok", "Last poll OK"),
    ("cursor", "Cursor"),
)


def _cursor(cursor: str | None) -> str:
    if not cursor:
        return "—"
    try:
        return parse_ts(cursor).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return cursor


def source_cells(source: SourceRow, now: datetime) -> list[Cell]:
    state = Text(source.state, style=source_state(source.state, None).style)
    if source.state_reason:
        state.append(" !", style="bold")
    return [
        source.name,
        state,
        age(source.last_poll_ok_at, now),
        Text(str(source.dead_deliveries), style="bold red" if source.dead_deliveries else "dim"),
        Text(str(source.pending_deliveries), style="yellow" if source.pending_deliveries else "dim"),
        str(source.orders_today),
        bucket(source.bucket_available, source.bucket_max),
        clock_time(source.last_poll_ok_at, now),
        _cursor(source.cursor),
    ]


class SourcesPanel(Vertical):
    """The sources table, and the full state line of the highlighted source under it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sources: dict[str, SourceRow] = {}

    def compose(self) -> ComposeResult:
        yield DataTable[Cell](id="sources-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="source-state-line")

    def on_mount(self) -> None:
        table = self.query_one("#sources-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)

    def show(self, sources: tuple[SourceRow, ...], now: datetime) -> None:
        self._sources = {s.shop: s for s in sources}
        rows: list[Row] = [(s.shop, source_cells(s, now)) for s in sources]
        table = self.query_one("#sources-table", DataTable)
        sync_rows(table, rows)
        self._describe(selected_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(None if event.row_key.value is None else str(event.row_key.value))

    def _describe(self, shop: str | None) -> None:
        line = self.query_one("#source-state-line", Static)
        source = self._sources.get(shop or "")
        if source is None:
            update_static(line, Text("No sources yet: the bridge has not polled a store.", style="dim"))
            return
        text = Text(f"{source.name} ({source.shop}) ", style="bold")
        text.append(source_state(source.state, source.state_reason))
        if source.progress:
            text.append(f" · {source.progress}", style="cyan")
        update_static(line, text)
