"""Backfill progress events, and their one-line form kept in the store for dashboards.

One stream of `BackfillProgress` events feeds the terminal bar (`progress`), the headless log lines and
the metrics (`bridge`), and `StoredProgress`, which keeps the latest event of each source as a line in
`sources.progress`: a dashboard in another process (`tui --attach`) reads it there like everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

PHASE_WORDS = {
    "running": "Shopify is preparing the result",
    "downloading": "downloading",
    "staging": "reading the result",
    "ingesting": "storing orders",
    "done": "complete",
}


class BackfillProgress(Struct):
    """One progress event: the same stream feeds the terminal bar, JSON logs and the TUI."""

    source: str
    phase: str  # running | downloading | staging | ingesting | done
    window: str
    done: int = 0  # objects so far (running), bytes (downloading), lines (staging), orders (ingesting)
    total: int | None = None  # objectCount is unknown while running; fileSize while downloading

    def line(self) -> str:
        """The event in one line: `backfill 2026-01-01..2026-11-29: storing orders 4,500/10,000 (45 %)`."""
        unit = " bytes" if self.phase == "downloading" else ""
        counts = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "") + unit
        share = f" ({min(100, 100 * self.done // self.total)} %)" if self.total else ""
        return f"backfill {self.window}: {PHASE_WORDS.get(self.phase, self.phase)} {counts}{share}"


ProgressCallback = Callable[[BackfillProgress], None]


class StoredProgress:
    """Writes each source's latest progress line to `sources.progress`: at most once per `interval` seconds
    per source, and always when the phase changes; cleared when the backfill is done."""

    def __init__(
        self, write: Callable[[str, str | None], None], monotonic: Callable[[], float], interval: float = 1.0
    ) -> None:
        """`write(shop, line)` keeps the line (None: no backfill running), e.g. `Sources.set_progress`."""
        self.write, self.monotonic, self.interval = write, monotonic, interval
        self._last: dict[str, tuple[str, float]] = {}

    def __call__(self, shop: str, progress: BackfillProgress) -> bool:
        """Record `progress` of the source `shop`; whether the store was written."""
        now = self.monotonic()
        last = self._last.get(shop)
        if last is not None and last[0] == progress.phase and now - last[1] < self.interval:
            return False
        self._last[shop] = (progress.phase, now)
        self.write(shop, None if progress.phase == "done" else progress.line())
        return True
