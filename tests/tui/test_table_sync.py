"""Refreshing a table must not rebuild it needlessly, and the cursor must stay on the operator's row."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.table_sync import Cell, Row, selected_key, sync_rows


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable[Cell](cursor_type="row")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("name", "state")


def rows(*names: str, state: str = "ok") -> list[Row]:
    return [(name, [name, Text(state)]) for name in names]


def keys(table: DataTable[Cell]) -> list[str]:
    return [str(row.key.value) for row in table.ordered_rows]


async def test_unchanged_rows_are_not_touched_and_changed_cells_are_updated_in_place() -> None:
    app = TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        sync_rows(table, rows("a", "b", "c"))
        first_b = table.rows["b"]  # type: ignore[index]
        sync_rows(table, rows("a", "b", "c", state="late"))
        assert table.rows["b"] is first_b  # type: ignore[index]  # same row object: no rebuild
        assert str(table.get_cell("b", table.ordered_columns[1].key)) == "late"


async def test_the_cursor_follows_its_row_when_rows_leave_arrive_or_reorder() -> None:
    app = TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        sync_rows(table, rows("a", "b", "c", "d"))
        table.move_cursor(row=2)
        assert selected_key(table) == "c"
        sync_rows(table, rows("b", "c", "d", "e"))  # "a" released above it, "e" arrived below
        assert keys(table) == ["b", "c", "d", "e"] and selected_key(table) == "c"
        sync_rows(table, rows("z", "b", "c", "d", "e"))  # a newer row on top: rebuilt
        assert keys(table) == ["z", "b", "c", "d", "e"] and selected_key(table) == "c"
        sync_rows(table, rows("z", "b", "d"))  # the operator's row is gone: the cursor stays in range
        assert keys(table) == ["z", "b", "d"] and selected_key(table) in {"z", "b", "d"}
