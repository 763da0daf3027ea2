"""Events: what the bridge forwarded, newest first, with each destination's delivery state."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Select, Static

from tui.format import clock_time, delivery_cell, money
from tui.messages import EventDetailRequested, EventFilterChanged, ReplayRequested
from tui.models import DELIVERY_STATES, EVENT_NAMES, EventFilter, EventRow
from tui.table_sync import Cell, Row, selected_key, sync_rows, update_static

COLUMNS = (
    ("time", "Time"),
    ("event", "Event"),
    ("order", "Order"),
    ("total", "Total"),
    ("deliveries", "Deliveries"),
)


class EventsPanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "Details"),
        Binding("p", "replay", "Replay"),
        Binding("f", "focus_filters", "Filter"),
        Binding("o", "older", "Older"),
        Binding("l", "latest", "Latest"),
    ]

    def __init__(self, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self._events: dict[str, EventRow] = {}
        self._filter = EventFilter()
        self._shop_options: tuple[tuple[str, str], ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(id="event-filters"):
            yield Select[str]((), prompt="Any source", id="filter-source")
            yield Select[str](((n, n) for n in EVENT_NAMES), prompt="Any event", id="filter-event")
            yield Select[str](((s, s) for s in DELIVERY_STATES), prompt="Any state", id="filter-state")
        yield DataTable[Cell](id="events-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="events-status")

    def on_mount(self) -> None:
        table = self.query_one("#events-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)

    @property
    def event_filter(self) -> EventFilter:
        return self._filter

    def show(self, events: tuple[EventRow, ...], shops: tuple[tuple[str, str], ...], now: datetime) -> None:
        if shops != self._shop_options:
            self._shop_options = shops
            source = self.query_one("#filter-source", Select)
            keep = source.value
            source.set_options((name, shop) for shop, name in shops)
            if isinstance(keep, str) and any(shop == keep for shop, _ in shops):
                source.value = keep
        self._events = {str(e.seq): e for e in events}
        rows: list[Row] = [
            (
                str(e.seq),
                [
                    clock_time(e.created_at, now),
                    e.event_name,
                    e.order_name or e.order_id,
                    money(e.total, e.currency),
                    delivery_cell(e.deliveries),
                ],
            )
            for e in events
        ]
        sync_rows(self.query_one("#events-table", DataTable), rows)
        page = "newest" if self._filter.before_seq is None else f"older than #{self._filter.before_seq}"
        status = Text(f"{len(events)} events · {page} · enter: details", style="dim")
        if not events and self._filter != EventFilter():
            status.append(" · nothing matches the filter", style="yellow")
        update_static(self.query_one("#events-status", Static), status)

    def selected(self) -> EventRow | None:
        key = selected_key(self.query_one("#events-table", DataTable))
        return self._events.get(key) if key else None

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
        field = {"filter-source": "shop", "filter-event": "event_name", "filter-state": "state"}[
            event.select.id or ""
        ]
        # A new filter starts again from the newest events (before_seq is dropped).
        self.set_filter(dataclasses.replace(self._filter, before_seq=None, **{field: value}))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay" and self.read_only:
            return None
        return True

    def action_details(self) -> None:
        event = self.selected()
        if event is not None:
            self.post_message(EventDetailRequested(event.seq))

    def action_replay(self) -> None:
        event = self.selected()
        if event is not None:
            destinations = tuple(d.destination for d in event.deliveries)
            self.post_message(ReplayRequested(event.seq, destinations, event.order_name or event.event_id))

    def action_focus_filters(self) -> None:
        self.query_one("#filter-source", Select).focus()

    def action_older(self) -> None:
        if self._events:
            oldest = min(e.seq for e in self._events.values())
            self.set_filter(dataclasses.replace(self._filter, before_seq=oldest))

    def action_latest(self) -> None:
        self.set_filter(dataclasses.replace(self._filter, before_seq=None))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()
