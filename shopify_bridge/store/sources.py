"""The sources table: identity, first connection, cursor, state, shop facts, bucket, backfill state and progress.

Also the `errors` table, which records why a source failed. Every write here is one transaction of its
own unless the caller already opened one (`Store.transaction()`): the poller commits a page's orders,
events and the cursor advance together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict, cast

import orjson
from msgspec import Struct

from shopify_bridge.decide.windows import LagMemory
from shopify_bridge.store.db import Sql
from shopify_bridge.timeutil import iso, parse_ts


class SourcePosition(Struct):
    """Where incremental polling of a source stands: both None before its first successful poll."""

    first_connected_at: str | None
    cursor: str | None  # high-water mark on updated_at


class PollMemory(Struct, frozen=True):
    """What polling learned and keeps across restarts: recent search-index lags and the last sweep."""

    lags: LagMemory
    swept_at: datetime | None


class PollNote(Struct, frozen=True):
    """What one source's polls since the last batch leave in its row: the last good poll (state `polling`)
    with its bucket's (max, available, restore rate), and the end of the last window read with nothing
    to write (a quiet poll's cursor). Either may be None."""

    shop: str
    polled_at: datetime | None = None
    bucket: tuple[float, float, float] | None = None
    cursor: datetime | None = None


class BackfillState(TypedDict):
    """The bulk backfill's bookkeeping, written before each next step so that a restart resumes it."""

    status: str  # running | complete
    start: str
    snapshot: str  # the moment the backfill began: history before it, polling from it
    windows: list[list[str]]  # [start, end) ranges still to do, first one in progress
    op_id: str | None  # the bulk operation running for the first window
    retries: int
    orders: int


class Sources:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # -- identity and position ----------------------------------------------------------------
    def ensure(self, shop: str, name: str) -> SourcePosition:
        """The source's row, created on first use; its name follows the config's."""
        with self.sql.transaction():
            # An unchanged name writes nothing: this runs several times per poll cycle, and a commit that
            # changed no page costs no fsync.
            self.sql.run(
                "INSERT INTO sources (shop, name) VALUES (?, ?) "
                "ON CONFLICT (shop) DO UPDATE SET name = excluded.name WHERE sources.name <> excluded.name",
                (shop, name),
            )
            row = self.sql.one("SELECT first_connected_at, cursor FROM sources WHERE shop = ?", (shop,))
        assert row is not None
        return SourcePosition(row[0], row[1])

    def first_connected_at(self, shop: str) -> str | None:
        row = self.sql.one("SELECT first_connected_at FROM sources WHERE shop = ?", (shop,))
        return str(row[0]) if row and row[0] else None

    def set_first_connected(self, shop: str, at: str) -> None:
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET first_connected_at = ? WHERE shop = ?", (at, shop))

    def advance_cursor(self, shop: str, cursor: datetime) -> None:
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET cursor = ? WHERE shop = ?", (iso(cursor), shop))

    def record_polls(self, notes: Sequence[PollNote]) -> None:
        """Many sources' poll notes in one transaction (one commit for all the quiet polls of a few seconds).

        A cursor only ever moves forward here: a note may be written after the source's own transaction
        (or another process holding its lease now) moved it further."""
        polled = [(iso(n.polled_at), iso(n.polled_at), n.shop) for n in notes if n.polled_at is not None]
        buckets = [(*n.bucket, n.shop) for n in notes if n.bucket is not None]
        cursors = [(iso(n.cursor), n.shop, iso(n.cursor)) for n in notes if n.cursor is not None]
        with self.sql.transaction():
            self.sql.run_many(
                "UPDATE sources SET state = 'polling', state_reason = NULL, last_poll_at = ?, last_poll_ok_at = ? "
                "WHERE shop = ?",
                polled,
            )
            self.sql.run_many(
                "UPDATE sources SET bucket_max = ?, bucket_available = ?, bucket_restore = ? WHERE shop = ?", buckets
            )
            self.sql.run_many(
                "UPDATE sources SET cursor = ? WHERE shop = ? AND (cursor IS NULL OR cursor < ?)", cursors
            )

    # -- what polling learned --------------------------------------------------------------------
    def poll_memory(self, shop: str) -> PollMemory:
        row = self.sql.one(
            "SELECT lag_seconds, lag_previous_seconds, lag_since, swept_at FROM sources WHERE shop = ?", (shop,)
        )
        if row is None:
            return PollMemory(LagMemory(), None)
        current, previous, since, swept = row
        lags = LagMemory(int(current or 0), int(previous or 0), parse_ts(since) if since else None)
        return PollMemory(lags, parse_ts(swept) if swept else None)

    def remember_lags(self, shop: str, lags: LagMemory) -> None:
        """Store the lag memory (inside the caller's transaction: the page whose orders showed those lags)."""
        with self.sql.transaction():
            self.sql.run(
                "UPDATE sources SET lag_seconds = ?, lag_previous_seconds = ?, lag_since = ? WHERE shop = ?",
                (lags.current, lags.previous, iso(lags.since) if lags.since else None, shop),
            )

    def set_swept(self, shop: str, at: datetime) -> None:
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET swept_at = ? WHERE shop = ?", (iso(at), shop))

    # -- state and facts ----------------------------------------------------------------------
    def set_state(self, shop: str, state: str, reason: str | None, now: datetime, *, ok: bool = False) -> None:
        """The source's state after a cycle; a failure's reason is also kept in `errors`."""
        at = iso(now)
        with self.sql.transaction():
            self.sql.run(
                "UPDATE sources SET state = ?, state_reason = ?, last_poll_at = ?, "
                "last_poll_ok_at = COALESCE(?, last_poll_ok_at) WHERE shop = ?",
                (state, reason, at, at if ok else None, shop),
            )
            if reason and state == "failed":
                self.sql.run(
                    "INSERT INTO errors (at, shop, kind, message) VALUES (?, ?, 'source', ?)", (at, shop, reason)
                )

    def set_shop_info(self, shop: str, shop_name: str | None, currency: str | None, timezone: str | None) -> None:
        with self.sql.transaction():
            self.sql.run(
                "UPDATE sources SET shop_name = ?, currency = ?, timezone = ? WHERE shop = ?",
                (shop_name, currency, timezone, shop),
            )

    def set_scopes(self, shop: str, scopes: set[str]) -> None:
        """The access scopes the source's token was granted, as Shopify last said."""
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET access_scopes = ? WHERE shop = ?", (" ".join(sorted(scopes)), shop))

    def scopes(self, shop: str) -> set[str] | None:
        """The granted scopes last read; None when never read."""
        row = self.sql.one("SELECT access_scopes FROM sources WHERE shop = ?", (shop,))
        return None if row is None or row[0] is None else set(str(row[0]).split())

    def timezone(self, shop: str) -> str | None:
        row = self.sql.one("SELECT timezone FROM sources WHERE shop = ?", (shop,))
        return str(row[0]) if row and row[0] else None

    def set_progress(self, shop: str, line: str | None) -> None:
        """The running backfill's progress in one line for dashboards; None when there is none."""
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET progress = ? WHERE shop = ?", (line, shop))

    # -- backfill -----------------------------------------------------------------------------
    def backfill_state(self, shop: str) -> BackfillState | None:
        row = self.sql.one("SELECT backfill_state FROM sources WHERE shop = ?", (shop,))
        return cast(BackfillState, orjson.loads(row[0])) if row and row[0] else None

    def save_backfill_state(self, shop: str, state: BackfillState) -> None:
        with self.sql.transaction():
            self.sql.run("UPDATE sources SET backfill_state = ? WHERE shop = ?", (orjson.dumps(state).decode(), shop))

    def backfill_due(self, shop: str) -> bool:
        state = self.backfill_state(shop)
        return state is None or state.get("status") != "complete"

    def complete_backfill(self, shop: str, state: BackfillState, first_connected_at: str) -> None:
        """Mark the backfill complete and hand polling over at its snapshot, in one commit.

        A source polled before keeps its first connection and cursor.
        """
        state["status"] = "complete"
        with self.sql.transaction():
            self.sql.run(
                "UPDATE sources SET first_connected_at = COALESCE(first_connected_at, ?), "
                "cursor = COALESCE(cursor, ?), backfill_state = ? WHERE shop = ?",
                (first_connected_at, state["snapshot"], orjson.dumps(state).decode(), shop),
            )
