"""What quiet polls would write, kept in memory and written for every source at once.

A thousand sources polled every 15 s are 67 polls a second, nearly all of them quiet (nothing changed). Each
used to commit its cursor, its state and its bucket on its own: three commits per poll, an fsync each on
SQLite, run on the event loop that every source shares. Instead a quiet poll leaves a note here (its time,
its bucket, its window's end) and the bridge writes all the notes in one transaction every few seconds
(`flush`). A poll that takes an order in still commits its cursor with the order, as before.

Nothing is lost by the delay: a cursor written late only makes the next start re-read a little more (the
window's end is where everything before it was read), and state and bucket are what dashboards show.
A change of state is still written at once: a source's first good poll (after the start or after a state
written elsewhere), and a state written elsewhere (it failed, it backfills, it is paused) drops the pending
poll note first, so that an older "polling" never overwrites it.
"""

from __future__ import annotations

from datetime import datetime

from shopify_bridge.store import Store
from shopify_bridge.store.sources import PollNote


class ImmediateNotes:
    """Notes written as they come (one source polled alone: `run --once` per source, tests)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def advanced(self, shop: str, cursor: datetime) -> None:
        self.store.sources.record_polls([PollNote(shop, cursor=cursor)])


class PollNotes:
    """Every source's pending note; `flush` writes them in one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[str, PollNote] = {}
        self._polling: set[str] = set()  # sources whose row says `polling` already

    def __len__(self) -> int:
        return len(self._pending)

    def polled(self, shop: str, at: datetime, bucket: tuple[float, float, float]) -> None:
        """A good poll of `shop` at `at` (state `polling`), its bucket as it was then: written at once when
        the source was not shown polling yet, else with the next batch."""
        note = self._pending.get(shop, PollNote(shop))
        self._pending[shop] = PollNote(shop, at, bucket, note.cursor)
        if shop not in self._polling:
            self.store.sources.record_polls([self._pending.pop(shop)])
            self._polling.add(shop)

    def advanced(self, shop: str, cursor: datetime) -> None:
        """A window of `shop` read to `cursor` with nothing to write."""
        note = self._pending.get(shop, PollNote(shop))
        self._pending[shop] = PollNote(shop, note.polled_at, note.bucket, cursor)

    def state_written(self, shop: str) -> None:
        """`shop`'s state is being written now: its pending poll state must not overwrite it (its cursor stays),
        and its next good poll is written at once."""
        self._polling.discard(shop)
        note = self._pending.get(shop)
        if note is not None:
            self._pending[shop] = PollNote(shop, cursor=note.cursor)

    def flush(self) -> int:
        """Write every pending note in one transaction; how many. On failure they stay pending."""
        if not self._pending:
            return 0
        self.store.sources.record_polls(list(self._pending.values()))
        count, self._pending = len(self._pending), {}
        return count
