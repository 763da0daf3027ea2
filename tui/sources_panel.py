"""Sources: one row per connected store — state (ok, failed and why, backfilling %, paused), the last
good poll, the cost bucket and how far the cursor is behind now."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tui.fit_table import ColumnSpec, FitTable
from tui.format import age, bucket, cursor_lag, source_state
from tui.messages import PauseRequested, SourceDetailRequested
from tui.models import SourceRow
from tui.table_sync import Cell, Row
from tui.text import literal

COLUMNS = (
    ColumnSpec("source", "Source", min_width=10, give=3),
    ColumnSpec("state", "State", min_width=14, give=2),
    ColumnSpec("polled", "Last good poll", min_width=8, give=1),
    ColumnSpec("bucket", "Cost bucket", min_width=5, give=1),
    ColumnSpec("lag", "Cursor lag"),
)


def source_cells(source: SourceRow, now: datetime) -> list[Cell]:
    return [
        literal(source.name, "bold"),
        source_state(source.state, source.state_reason, source.progress),
        Text(age(source.last_poll_ok_at, now), no_wrap=True, overflow="ellipsis"),
        Text(bucket(source.bucket_available, source.bucket_max), no_wrap=True, overflow="ellipsis"),
        Text(cursor_lag(source.cursor, now)),
    ]


class SourcesTable(FitTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "Details"),
        Binding("s", "pause", "Pause"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.sources: dict[str, SourceRow] = {}

    def show_sources(self, sources: tuple[SourceRow, ...], now: datetime) -> None:
        self.sources = {s.shop: s for s in sources}
        rows: list[Row] = [(s.shop, source_cells(s, now)) for s in sources]
        self.show(rows)

    def selected_source(self) -> SourceRow | None:
        key = self.selected()
        return self.sources.get(key) if key else None

    def action_details(self) -> None:
        source = self.selected_source()
        if source is not None:
            self.post_message(SourceDetailRequested(source))

    def action_pause(self) -> None:
        source = self.selected_source()
        if source is not None:
            self.post_message(PauseRequested(source.shop, source.name, pause=not source.paused))

    def on_data_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_details()
