"""One event in full: the exact JSON that went on the wire and every delivery attempt's outcome."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from tui.format import delivery_state, full_time, indent_json, money, redact
from tui.messages import ReplayRequested
from tui.models import EventDetail
from tui.table_sync import Cell, selected_key
from tui.text import joined, literal

DELIVERY_COLUMNS = (
    ("destination", "Destination"),
    ("state", "State"),
    ("attempts", "Attempts"),
    ("status", "Last status"),
    ("error", "Last error"),
    ("next", "Next attempt"),
    ("delivered", "Delivered"),
)


class EventDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("p", "replay", "Replay to this destination"),
        Binding("w", "toggle_raw", "Raw/indented"),
    ]

    def __init__(self, detail: EventDetail, *, read_only: bool) -> None:
        super().__init__()
        self.detail = detail
        self.read_only = read_only
        self.raw = False

    def compose(self) -> ComposeResult:
        event = self.detail.event
        with Vertical(id="event-detail", classes="detail"):
            title = joined(
                Text(event.event_name, style="bold"),
                literal(event.order_name or "", "bold"),
                f" ·  {money(event.total, event.currency)}  · ",
                literal(event.shop),
            )
            yield Label(title, classes="detail-title")
            yield Label(
                joined(
                    "event_id",
                    literal(event.event_id),
                    f"· seq {event.seq} · timestamp",
                    literal(self.detail.timestamp),
                    f"· created {full_time(event.created_at)}",
                ),
                classes="detail-subtitle",
            )
            yield DataTable[Cell](id="detail-deliveries", cursor_type="row")
            yield Label(self._payload_title(), id="payload-title", classes="section-title")
            with VerticalScroll(id="payload-scroll"):
                yield Static(self._payload(), id="payload")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#detail-deliveries", DataTable)
        for key, label in DELIVERY_COLUMNS:
            table.add_column(label, key=key)
        for delivery in self.detail.event.deliveries:
            table.add_row(
                literal(delivery.destination),
                delivery_state(delivery),
                Text(str(delivery.attempts)),
                Text(str(delivery.last_status) if delivery.last_status is not None else "—"),
                literal(redact(delivery.last_error) if delivery.last_error else "—"),
                Text(full_time(delivery.next_attempt_at)),
                Text(full_time(delivery.delivered_at)),
                key=delivery.destination,
            )
        table.focus()

    @property
    def payload_text(self) -> str:
        """The payload as shown: the stored bytes, or the same tokens indented."""
        return self.detail.payload if self.raw else indent_json(self.detail.payload)

    def _payload(self) -> Syntax:
        return Syntax(self.payload_text, "json", word_wrap=True, theme="ansi_dark", background_color="default")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay" and self.read_only:
            return None
        return True

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self.query_one("#payload", Static).update(self._payload())
        self.query_one("#payload-title", Label).update(self._payload_title())

    def _payload_title(self) -> str:
        # Indenting only adds whitespace between tokens; the values are the bytes that were sent.
        return "Payload (exact, as sent)" if self.raw else "Payload (exact, indented)"

    def action_replay(self) -> None:
        destination = selected_key(self.query_one("#detail-deliveries", DataTable))
        if destination is not None:
            event = self.detail.event
            self.post_message(ReplayRequested(event.seq, (destination,), event.order_name or event.event_id))
