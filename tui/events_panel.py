"""Events: what the bridge forwarded, newest first, with each destination's delivery state.

`EventsTable` follows new rows (while its cursor is on the newest) and is used twice: the overview's
recent events, and the Events view (`EventsPanel`) with its filter bar and paging through older events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static

from tui.fit_table import ColumnSpec, FitTable
from tui.format import clock_time, delivery_cell, money
from tui.messages import EventDetailRequested, EventFilterChanged, ReplayRequested
from tui.models import DELIVERY_STATES, EVENT_NAMES, EventFilter, EventRow
from tui.table_sync import Cell, Row, update_static
from tui.text import literal

RECENT_COLUMNS = (
    ColumnSpec("time", "Time"),
    ColumnSpec("order", "Order", min_width=5, give=1),
    ColumnSpec("event", "Event", min_width=6, give=2),
    ColumnSpec("deliveries", "Destinations", min_width=10, give=3),
)
ALL_COLUMNS = (
    ColumnSpec("time", "Time"),
    ColumnSpec("order", "Order", min_width=5, give=1),
    ColumnSpec("event", "Event", min_width=6, give=2),
    ColumnSpec("source", "Source", min_width=6, give=4),
    ColumnSpec("total", "Total", min_width=6, give=1),
    ColumnSpec("deliveries", "Destinations", min_width=14, give=3),
)


def event_cells(event: EventRow, names: dict[str, str], now: datetime, columns: Sequence[ColumnSpec]) -> list[Cell]:
    values: dict[str, Cell] = {
        "time": Text(clock_time(event.created_at, now)),
        "order": literal(event.order_name or event.order_id, "bold"),
        "event": Text(event.event_name, style="cyan" if event.event_name == "Received Refund" else ""),
        "source": literal(names.get(event.shop, event.shop)),
        "total": Text(money(event.total, event.currency), no_wrap=True, overflow="ellipsis"),
        "deliveries": delivery_cell(event.deliveries),
    }
    return [values[spec.key] for spec in columns]


class EventsTable(FitTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "Details"),
        Binding("p", "replay", "Replay"),
    ]

    def __init__(self, columns: Sequence[ColumnSpec] = RECENT_COLUMNS, *, id: str | None = None) -> None:
        super().__init__(columns, follow=True, id=id)
        self.events: dict[str, EventRow] = {}

    def show_events(self, events: tuple[EventRow, ...], names: dict[str, str], now: datetime) -> None:
        self.events = {str(e.seq): e for e in events}
        rows: list[Row] = [(str(e.seq), event_cells(e, names, now, self.specs)) for e in events]
        self.show(rows)

    def selected_event(self) -> EventRow | None:
        key = self.selected()
        return self.events.get(key) if key else None

    def action_details(self) -> None:
        event = self.selected_event()
        if event is not None:
            self.post_message(EventDetailRequested(event.seq))

    def action_replay(self) -> None:
        event = self.selected_event()
        if event is not None:
            destinations = tuple(d.destination for d in event.deliveries)
            self.post_message(ReplayRequested(event.seq, destinations, event.order_name or event.event_id))

    def on_data_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_details()


class EventsPanel(Vertical):
    """All events: a filter bar (source, event, delivery state), the table, and paging by `o` / `l`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_filters", "Filter"),
        Binding("o", "older", "Older"),
        Binding("l", "latest", "Latest"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._filter = EventFilter()
        self._shop_options: tuple[tuple[str, str], ...] = ()
        self._count = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="event-filters"):
            yield Select[str]((), prompt="Any source", id="filter-source")
            yield Select[str](((n, n) for n in EVENT_NAMES), prompt="Any event", id="filter-event")
            yield Select[str](((s, s) for s in DELIVERY_STATES), prompt="Any state", id="filter-state")
        yield EventsTable(ALL_COLUMNS, id="events-table")
        yield Static("", id="events-status")

    @property
    def event_filter(self) -> EventFilter:
        return self._filter

    @property
    def table(self) -> EventsTable:
        return self.query_one("#events-table", EventsTable)

    def show(self, events: tuple[EventRow, ...], shops: tuple[tuple[str, str], ...], now: datetime) -> None:
        if shops != self._shop_options:
            self._shop_options = shops
            source = self.query_one("#filter-source", Select)
            keep = source.value
            # Select options are Content, not markup: a source named "[red]" is shown as written.
            source.set_options((literal(name), shop) for shop, name in shops)
            if isinstance(keep, str) and any(shop == keep for shop, _ in shops):
                source.value = keep
        self.table.show_events(events, dict(shops), now)
        self._count = len(events)
        page = "newest" if self._filter.before_seq is None else f"older than #{self._filter.before_seq}"
        status = Text(f"{len(events)} events · {page} · enter: details · o: older · l: latest", style="dim")
        if not events and self._filter != EventFilter():
            status.append(" · nothing matches the filter", style="yellow")
        update_static(self.query_one("#events-status", Static), status)

    def set_filter(self, event_filter: EventFilter) -> None:
        if event_filter != self._filter:
            self._filter = event_filter
            self.post_message(EventFilterChanged(event_filter))

    def clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for select in self.query(Select):
                select.clear()
        self.set_filter(EventFilter())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = None if event.value is Select.NULL else str(event.value)
        field = {"filter-source": "shop", "filter-event": "event_name", "filter-state": "state"}[event.select.id or ""]
        # A new filter starts again from the newest events (before_seq is dropped).
        self.set_filter(dataclasses.replace(self._filter, before_seq=None, **{field: value}))

    def action_focus_filters(self) -> None:
        self.query_one("#filter-source", Select).focus()

    def action_older(self) -> None:
        if self.table.events:
            oldest = min(e.seq for e in self.table.events.values())
            self.set_filter(dataclasses.replace(self._filter, before_seq=oldest))

    def action_latest(self) -> None:
        self.set_filter(dataclasses.replace(self._filter, before_seq=None))
