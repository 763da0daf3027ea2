"""One source in full: its state and the whole reason, the running backfill, polls, bucket and cursor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from tui.format import age, bucket, cursor_lag, full_time, redact, source_state
from tui.messages import PauseRequested
from tui.models import SourceRow
from tui.text import literal


def source_facts(source: SourceRow, now: datetime) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    rows: list[tuple[str, Text]] = [
        ("shop", literal(source.shop)),
        ("state", source_state(source.state, None, source.progress)),
        ("reason", literal(redact(source.state_reason or "—"), wrap=True)),  # the whole reason, wrapped
        ("backfill", literal(source.progress or "—", wrap=True)),
        ("last poll", Text(f"{age(source.last_poll_at, now)} ({full_time(source.last_poll_at)})")),
        ("last good poll", Text(f"{age(source.last_poll_ok_at, now)} ({full_time(source.last_poll_ok_at)})")),
        ("cost bucket", Text(bucket(source.bucket_available, source.bucket_max))),
        ("cursor", literal(source.cursor or "—").append(f" (lag {cursor_lag(source.cursor, now)})")),
        ("orders today", Text(str(source.orders_today))),
        ("backlog / dead", Text(f"{source.pending_deliveries:,} / {source.dead_deliveries:,}")),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


class SourceDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("s", "pause", "Pause/resume"),
    ]

    def __init__(self, source: SourceRow, now: datetime, *, read_only: bool) -> None:
        super().__init__()
        self.source = source
        self.now = now
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Vertical(id="source-detail", classes="detail"):
            yield Label(literal(self.source.name, "bold"), classes="detail-title")
            yield Static(source_facts(self.source, self.now), id="source-facts")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "pause" and self.read_only else True

    def action_pause(self) -> None:
        self.post_message(PauseRequested(self.source.shop, self.source.name, pause=not self.source.paused))
        self.dismiss()
