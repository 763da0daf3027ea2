"""Dead letters: every delivery that gave up, one row per event and destination, newest first, with
the destination's last answer; `p` sends that one again (after a confirmation)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tui.fit_table import ColumnSpec, FitTable
from tui.format import clock_time, redact
from tui.messages import EventDetailRequested, ReplayRequested
from tui.models import EventRow
from tui.table_sync import Row
from tui.text import literal

COLUMNS = (
    ColumnSpec("time", "Time"),
    ColumnSpec("order", "Order", min_width=5, give=1),
    ColumnSpec("event", "Event", min_width=6, give=2),
    ColumnSpec("destination", "Destination", min_width=6, give=2),
    ColumnSpec("attempts", "Tries"),
    ColumnSpec("error", "Last answer", min_width=10, give=3),
)


class DeadLettersTable(FitTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "details", "Details"),
        Binding("p", "replay", "Replay dead"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.letters: dict[str, tuple[EventRow, str]] = {}

    def show_dead(self, events: tuple[EventRow, ...], now: datetime) -> None:
        self.letters = {}
        rows: list[Row] = []
        for event in events:
            for delivery in event.deliveries:
                if delivery.state != "dead":
                    continue
                key = f"{event.seq}|{delivery.destination}"
                self.letters[key] = (event, delivery.destination)
                answer = delivery.last_error or (f"HTTP {delivery.last_status}" if delivery.last_status else "—")
                rows.append(
                    (
                        key,
                        [
                            Text(clock_time(event.created_at, now)),
                            literal(event.order_name or event.order_id, "bold"),
                            Text(event.event_name),
                            literal(delivery.destination),
                            Text(str(delivery.attempts)),
                            literal(redact(answer), "red"),
                        ],
                    )
                )
        self.show(rows)

    def action_details(self) -> None:
        key = self.selected()
        if key in self.letters:
            self.post_message(EventDetailRequested(self.letters[key][0].seq))

    def action_replay(self) -> None:
        key = self.selected()
        if key in self.letters:
            event, destination = self.letters[key]
            self.post_message(ReplayRequested(event.seq, (destination,), event.order_name or event.event_id))

    def on_data_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_details()
