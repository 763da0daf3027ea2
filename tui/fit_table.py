"""A DataTable whose columns fit their content and the terminal, re-laid out on every resize.

Textual's own auto-width columns only ever grow to the first values they were given (a bucket of
"1981/2", a cursor of "2026-1"), and a narrow terminal scrolls sideways instead of cutting. Here every
show measures the cells, and when the columns do not fit, the ones marked to give way (a reason, a list
of destinations) are cut first, each cell ending in `…`: readable at 80 columns, nothing overlapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from tui.table_sync import Cell, Row, selected_key, sync_rows

SCROLLBAR = 1  # the vertical scrollbar's width (dashboard.tcss), kept free so that no row scrolls sideways
WRITE_ACTIONS = frozenset({"release", "replay", "pause"})  # greyed out when attached (no writer to ask)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    min_width: int = 3  # the narrowest it may be cut to
    give: int = 0  # 0: never cut (times, counts); the highest gives way first


def fit_widths(natural: Sequence[int], specs: Sequence[ColumnSpec], available: int) -> list[int]:
    """Column widths: `natural` when they fit in `available`, else cut the most giving columns first
    (the widest of them each time) down to their minimum, then the others."""
    widths = list(natural)
    over = sum(widths) - available
    for level in sorted({spec.give for spec in specs}, reverse=True):
        while over > 0:
            candidates = [
                i for i, spec in enumerate(specs) if widths[i] > spec.min_width and (spec.give == level or level == 0)
            ]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            over -= 1
    return widths


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class FitTable(DataTable[Cell]):
    """Rows by key (`show`), columns fitted to content and width; `follow`: stay on the newest (first) row."""

    DEFAULT_CSS = """
    FitTable { overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    def __init__(self, columns: Sequence[ColumnSpec], *, follow: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.specs = tuple(columns)
        self.follow = follow
        self._natural = [cell_len(spec.label) for spec in self.specs]

    def on_mount(self) -> None:
        for spec in self.specs:
            self.add_column(spec.label, key=spec.key, width=cell_len(spec.label))

    def show(self, rows: Sequence[Row]) -> None:
        # Following: while the cursor is on the newest row, new rows arriving above keep it there.
        following = self.follow and (self.row_count == 0 or self.cursor_row == 0)
        sync_rows(self, rows, keep_cursor=not following)
        natural = [cell_len(spec.label) for spec in self.specs]
        for _, cells in rows:
            for index, cell in enumerate(cells[: len(natural)]):
                width = _width(cell)
                if width > natural[index]:
                    natural[index] = width
        self._natural = natural
        self.refit()

    def selected(self) -> str | None:
        return selected_key(self)

    def refit(self) -> None:
        padding = 2 * self.cell_padding * len(self.specs)
        available = max(0, self.size.width - SCROLLBAR - padding)
        changed = False
        for spec, width in zip(self.specs, fit_widths(self._natural, self.specs, available), strict=True):
            column = self.columns[spec.key]  # type: ignore[index]  # column keys compare equal to their str
            if column.width != width or column.auto_width:
                column.width, column.auto_width = width, False
                changed = True
        if changed:
            # Column widths changed under the table: its cached cell renders and size are now wrong.
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.refit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and getattr(self.app, "read_only", False):
            return None  # shown in the footer, greyed out: the banner says why
        return True
