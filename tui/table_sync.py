"""Keep a DataTable in step with fresh rows without rebuilding it every tick.

A refresh that changes nothing must cost (almost) nothing on the UI thread, and the operator's
cursor must stay on the same row while new rows arrive above it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable, Static, Tab

Cell = str | Text
Row = tuple[str, Sequence[Cell]]  # (row key, cells in column order)


def _same(a: Cell, b: Cell) -> bool:
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.spans == b.spans and a.style == b.style
    return a == b


def selected_key(table: DataTable[Cell]) -> str | None:
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return None if row_key.value is None else str(row_key.value)


def sync_rows(table: DataTable[Cell], rows: Sequence[Row], *, keep_cursor: bool = True) -> None:
    """Make the table show `rows`, touching only what changed; the cursor stays on its row's key
    (unless `keep_cursor` is false: a table following its newest rows puts it back on the first)."""
    keys = [key for key, _ in rows]
    current = [str(row.key.value) for row in table.ordered_rows]
    keep = selected_key(table) if keep_cursor else None
    wanted = set(keys)
    survivors = [key for key in current if key in wanted]
    if keys[: len(survivors)] == survivors:
        # The common shapes of a tick: nothing moved, rows left from anywhere (released holds),
        # rows arrived at the end (new holds). No rebuild: unchanged cells are not even re-rendered.
        for key in current:
            if key not in wanted:
                table.remove_row(key)
        columns = list(table.columns)
        for key, cells in rows[: len(survivors)]:
            for column, cell in zip(columns, cells, strict=False):
                if not _same(table.get_cell(key, column), cell):
                    table.update_cell(key, column, cell)
        for key, cells in rows[len(survivors) :]:
            table.add_row(*cells, key=key)
    else:
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
    if keep is not None and keep in wanted and table.cursor_row != keys.index(keep):
        table.move_cursor(row=keys.index(keep), animate=False, scroll=True)
    elif not keep_cursor and rows and table.cursor_row != 0:
        table.move_cursor(row=0, animate=False, scroll=True)


def update_static(widget: Static, content: Cell) -> None:
    """Static.update re-lays out the screen even for the same text; skip it when nothing changed."""
    current = widget.content
    if isinstance(current, (str, Text)) and type(current) is type(content) and _same(current, content):
        return
    widget.update(content)


def update_label(tab: Tab, label: str) -> None:
    if tab.label.plain != label:
        tab.label = label


def update_label_text(label: Static, text: str) -> None:
    """A title of ours (constant words and counts): updated only when it changed."""
    update_static(label, text)
