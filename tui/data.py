"""The dashboard's only door to the store: the store's dashboard reads, shared between workers.

Every method runs on a Textual worker thread, never on the UI thread. One read-only store
(`Store.open_reader`) is opened lazily and shared behind a lock; each snapshot is one consistent
read, so the panels of one tick agree with each other even while the bridge is writing. A tick on
which nothing was committed (and the day has not turned) returns the previous snapshot unread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from shopify_bridge.errors import BridgeError
from shopify_bridge.service.explain import Explanation, explain
from shopify_bridge.store import Store
from shopify_bridge.store.reads_dashboard import DashboardReads
from shopify_bridge.store.sql import is_postgres_url
from tui.models import EventDetail, EventFilter, OrderDetail, Snapshot


class DashboardStore:
    """Read-only dashboard reads over the bridge's store; opened lazily, safe to share between workers."""

    def __init__(self, db_path: Path | str) -> None:
        # An SQLite file (a Path) or a PostgreSQL URL (a str), as the config's `database`.
        self.db_path: Path | str = db_path if is_postgres_url(db_path) else Path(db_path)
        self._store: Store | None = None
        self._lock = threading.Lock()
        # The store's change counter at the last read: it moves only when another connection commits.
        self._data_version = -1
        self._last: tuple[tuple[object, ...], Snapshot] | None = None

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._last = None  # a new connection counts changes afresh

    @contextmanager
    def _reading(self) -> Iterator[DashboardReads]:
        with self._lock:
            if self._store is None:
                self._store = Store.open_reader(self.db_path)
            reads = self._store.reads.dashboard
            # Read before the snapshot starts: a commit racing with this read bumps the counter
            # again, so the worst case is one needless re-read, never a stale snapshot kept.
            self._data_version = reads.change_counter()
            with reads.consistent():
                yield reads

    # -- one refresh tick -------------------------------------------------------------------

    def snapshot(
        self,
        now: datetime,
        event_filter: EventFilter,
        *,
        events_limit: int = 200,
        holds_limit: int = 1000,
        exclusions_limit: int = 200,
        errors_limit: int = 100,
    ) -> Snapshot:
        # Only the store and the clock's minute (the events-per-minute line moves on; the day boundary of
        # "orders today" falls on a minute in every timezone) change a snapshot.
        minute = now.replace(second=0, microsecond=0)
        limits = {
            "events_limit": events_limit,
            "holds_limit": holds_limit,
            "exclusions_limit": exclusions_limit,
            "errors_limit": errors_limit,
        }
        with self._reading() as reads:
            key = (self._data_version, minute, event_filter, *limits.values())
            if self._last is not None and self._last[0] == key:
                return self._last[1]  # nothing was committed since: a quiet tick reads nothing
            snapshot = reads.snapshot(now, event_filter, **limits)
        self._last = (key, snapshot)
        return snapshot

    # -- detail views -------------------------------------------------------------------------

    def event_detail(self, seq: int) -> EventDetail | None:
        with self._reading() as reads:
            return reads.event_detail(seq)

    def order_detail(self, shop: str, order_id: str) -> OrderDetail | None:
        with self._reading() as reads:
            return reads.order_detail(shop, order_id)

    def explain(self, shop: str, order_id: str) -> Explanation | None:
        """What `shopify-bridge explain` says about the order (None when it is not stored)."""
        with self._reading():
            assert self._store is not None
            try:
                return explain(self._store, order_id, source=shop)
            except BridgeError:
                return None
