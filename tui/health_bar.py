"""The health line at the top of every view: sources ok / failed, holds pending, outbox backlog, dead
letters, events per minute with a sparkline of the last hour; attached, whether the writer is alive."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from tui.format import SOURCE_STATE_WORDS, per_minute, sparkline
from tui.models import Snapshot
from tui.table_sync import update_static
from tui.writer_status import WriterStatus

SEPARATOR = (" │ ", "dim")


def health_line(snapshot: Snapshot) -> Text:
    states = Counter(SOURCE_STATE_WORDS.get(s.state, s.state) for s in snapshot.sources)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(f"● {states.pop('ok', 0)} ok", style="green")
    failed = states.pop("failed", 0)
    text.append(f" ✖ {failed} failed", style="bold red" if failed else "dim")
    for state, count in sorted(states.items()):
        text.append(f" · {count} {state}", style="yellow")
    text.append(*SEPARATOR)
    text.append(f"holds {snapshot.holds_total}", style="bold" if snapshot.holds_total else "dim")
    text.append(*SEPARATOR)
    text.append(f"backlog {snapshot.backlog:,}", style="yellow" if snapshot.backlog else "dim")
    text.append(*SEPARATOR)
    text.append(f"dead {snapshot.dead:,}", style="bold red" if snapshot.dead else "dim")
    text.append(*SEPARATOR)
    text.append(f"{per_minute(snapshot.events_per_minute)} ev/min ")
    text.append(sparkline(snapshot.events_per_minute), style="cyan")
    return text


class HealthBar(Static):
    """One line of health; attached, a second one about the writer (red and STALE when it is gone)."""

    def show(self, snapshot: Snapshot | None, writer: WriterStatus | None, now: datetime) -> None:
        line = health_line(snapshot) if snapshot is not None else Text("reading the store…", style="dim")
        if writer is not None:
            line.append("\n")
            line.append(writer.line(now))
        self.set_class(writer is not None and writer.stale, "stale")
        update_static(self, line)
