"""Backfill progress for people: a rich progress bar on a terminal, fed by BackfillProgress events.

Headless runs log the same events as structured lines instead (see `bridge._log_progress`), and
the dashboard reads the backfill state from the store, so all three views share one source.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from shopify_bridge.observe.backfill_progress import BackfillProgress


class TerminalProgress:
    """One bar per source and phase; bytes while downloading, orders/objects otherwise."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[source]}[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.download = Progress(
            TextColumn("[bold]{task.fields[source]}[/] downloading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.started = False

    def __call__(self, event: BackfillProgress) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        bar = self.download if event.phase == "downloading" else self.progress
        key = (event.source, event.phase)
        if key not in self.tasks:
            if bar is self.download and not self.download.live.is_started:
                self.download.start()
            description = {
                "running": "Shopify is preparing the bulk result (objects)",
                "staging": "reading the result (lines)",
                "ingesting": "storing orders",
                "done": "backfill complete",
            }.get(event.phase, event.phase)
            self.tasks[key] = bar.add_task(description, total=event.total, source=event.source)
        bar.update(self.tasks[key], completed=event.done, total=event.total)
        if event.phase == "done":
            self.stop()

    def stop(self) -> None:
        if self.started:
            self.progress.stop()
            self.started = False
        if self.download.live.is_started:
            self.download.stop()
