"""Which `updated_at` windows a source reads, and how much of them it reads again (pure rules).

Shopify's search index lags behind `updatedAt` — seconds usually, minutes sometimes, and not in
`updatedAt` order (notes §2.3; PRODUCT.md "Never miss an order"). So:

- a poll reads a closed window `updated_at:>=A updated_at:<=B`, B = now − SETTLE_SECONDS, and the
  cursor moves to B only once the whole window was read;
- the next window starts an overlap before the cursor: twice the largest lag measured recently, at
  least 60 s, at most 15 min. A lag is measured per order as the first poll that saw its `updatedAt`
  minus that `updatedAt`, when an earlier window already covered that `updatedAt` (an order that no
  window could have seen yet says nothing about the index);
- the sweep re-reads a wider window (the last `sweep_window_hours`, up to where the next poll window
  starts) every `sweep_interval_minutes`; what it finds newer than the store was missed by the polls. After
  a backfill it reaches back before the snapshot too, which the bulk operation read from the same index.

A listed order is read in full only when the store has nothing as new: `updatedAt` has one-second
resolution, so a stored version read within SETTLE_SECONDS of its own `updatedAt` may have a sibling
written later in that same second, and is read again while it is listed with that `updatedAt`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from msgspec import Struct
from msgspec.structs import replace

from shopify_bridge.timeutil import shopify_ts

SETTLE_SECONDS = 2  # one-second `updatedAt` resolution, plus a second of clock difference with Shopify
MIN_OVERLAP_SECONDS = 60
MAX_OVERLAP_SECONDS = 15 * 60
LAG_PERIOD = timedelta(hours=1)  # a lag is "recent" for one to two of these periods
DEFAULT_SWEEP_INTERVAL_MINUTES = 30
DEFAULT_SWEEP_WINDOW_HOURS = 24


class Window(Struct, frozen=True):
    """`updated_at` from `start` to `end`, both included (Shopify's `>`/`<` behave like `>=`/`<=`)."""

    start: datetime
    end: datetime

    def query(self) -> str:
        return f"updated_at:>='{shopify_ts(self.start)}' updated_at:<='{shopify_ts(self.end)}'"


class PollSettings(Struct, frozen=True):
    """How often one source polls and sweeps, and how much it reads before it lets other work go first."""

    poll_interval: timedelta = timedelta(seconds=15)
    sweep_interval: timedelta = timedelta(minutes=DEFAULT_SWEEP_INTERVAL_MINUTES)
    sweep_window: timedelta = timedelta(hours=DEFAULT_SWEEP_WINDOW_HOURS)
    pages_per_step: int = 4
    """Listing pages (up to 250 orders each) one step of the bridge's loop reads."""


class LagMemory(Struct, frozen=True):
    """The largest lag measured in the current period (which began at `since`) and in the one before."""

    current: int = 0
    previous: int = 0
    since: datetime | None = None

    def rolled(self, now: datetime) -> LagMemory:
        """This memory as of `now`: periods that ended are shifted out."""
        if self.since is None:
            return LagMemory(0, 0, now)
        periods = int((now - self.since) / LAG_PERIOD)
        if periods <= 0:
            return self
        return LagMemory(0, self.current if periods == 1 else 0, self.since + periods * LAG_PERIOD)

    def largest(self, now: datetime) -> int:
        """The largest recent lag in seconds (0 when none was measured)."""
        memory = self.rolled(now)
        return max(memory.current, memory.previous)

    def observe(self, lags: Iterable[int], now: datetime) -> LagMemory:
        """This memory with the lags measured at `now` remembered."""
        memory = self.rolled(now)
        worst = max(lags, default=0)
        return replace(memory, current=worst) if worst > memory.current else memory


def overlap(memory: LagMemory, now: datetime) -> timedelta:
    """How far before the cursor the next window starts: clamp(2 × largest recent lag, 60 s, 15 min)."""
    seconds = min(MAX_OVERLAP_SECONDS, max(MIN_OVERLAP_SECONDS, 2 * memory.largest(now)))
    return timedelta(seconds=seconds)


def settled_until(now: datetime) -> datetime:
    """The end of a window read at `now`: whole seconds, SETTLE_SECONDS back."""
    return (now - timedelta(seconds=SETTLE_SECONDS)).replace(microsecond=0)


def poll_window(cursor: datetime, now: datetime, overlap_by: timedelta) -> Window:
    """The next poll window after `cursor` (the source's first connection before its first poll).

    Its end never falls before the cursor: a clock that went back re-reads, it never un-reads."""
    return Window(cursor - overlap_by, max(cursor, settled_until(now)))


def sweep_window(
    now: datetime, span: timedelta, cursor: datetime, overlap_by: timedelta, floor: datetime
) -> Window:
    """The sweep's window: the last `span`, but nothing from before `floor` (the first connection, or a
    little before a backfill's snapshot: `sweep_floor`; older history is the backfill's) and nothing the
    next poll window still covers (its overlap before the cursor, and on): what the sweep finds there, the
    polls have passed for good."""
    end = min(cursor - overlap_by, settled_until(now))
    return Window(min(end, max(now - span, floor)), end)


def sweep_floor(first_connected: datetime, backfill_snapshot: datetime | None) -> datetime:
    """How far back the sweep may read: the first connection, or after a backfill MAX_OVERLAP_SECONDS before
    its snapshot. The bulk operation searched the same lagging index, so an order updated shortly before the
    snapshot and not yet searchable then is in neither its result nor any poll window (they start an overlap
    before the snapshot); only the sweep can still find it."""
    if backfill_snapshot is None:
        return first_connected
    return min(first_connected, backfill_snapshot - timedelta(seconds=MAX_OVERLAP_SECONDS))


def sweep_due(swept_at: datetime | None, now: datetime, interval: timedelta) -> bool:
    return swept_at is None or now - swept_at >= interval


class StoredStamp(Struct, frozen=True):
    """What the store holds of one order: its newest version's `updatedAt`, when it was read, its number."""

    updated_at: datetime
    fetched_at: datetime
    version: int


def needs_full_read(listed: datetime, stored: StoredStamp | None) -> bool:
    """Whether an order listed with `updatedAt` = `listed` may hold a version the store does not have."""
    if stored is None or listed > stored.updated_at:
        return True
    same_second = listed == stored.updated_at
    return same_second and stored.fetched_at < stored.updated_at + timedelta(seconds=SETTLE_SECONDS)


def lag_seconds(updated_at: datetime, seen_at: datetime, covered_until: datetime | None) -> int | None:
    """The lag that seeing this `updatedAt` first at `seen_at` shows, or None when no earlier window had
    covered `updated_at` (`covered_until`: the cursor before this read; None before the first poll)."""
    if covered_until is None or updated_at > covered_until:
        return None
    return max(0, math.ceil((seen_at - updated_at).total_seconds()))
