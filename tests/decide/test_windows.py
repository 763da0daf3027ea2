"""The window rules without a database: which `updated_at` ranges a source reads, and how much again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopify_bridge.decide.windows import (
    LAG_PERIOD,
    MAX_OVERLAP_SECONDS,
    MIN_OVERLAP_SECONDS,
    SETTLE_SECONDS,
    LagMemory,
    StoredStamp,
    Window,
    lag_seconds,
    needs_full_read,
    overlap,
    poll_window,
    sweep_due,
    sweep_floor,
    sweep_window,
)

T0 = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def test_a_window_reads_both_bounds_in_shopifys_search_syntax() -> None:
    window = Window(T0, T0 + seconds(90))
    assert window.query() == "updated_at:>='2026-07-01T12:00:00Z' updated_at:<='2026-07-01T12:01:30Z'"


def test_the_overlap_is_twice_the_largest_recent_lag_between_one_and_fifteen_minutes() -> None:
    assert overlap(LagMemory(), T0) == seconds(MIN_OVERLAP_SECONDS)
    assert overlap(LagMemory().observe([10], T0), T0) == seconds(60)  # 20 s: the floor
    assert overlap(LagMemory().observe([45, 12], T0), T0) == seconds(90)
    assert overlap(LagMemory().observe([600], T0), T0) == seconds(MAX_OVERLAP_SECONDS)


def test_a_lag_is_remembered_for_one_to_two_periods_then_forgotten() -> None:
    memory = LagMemory().observe([300], T0)
    assert memory.largest(T0 + LAG_PERIOD - seconds(1)) == 300
    assert memory.largest(T0 + LAG_PERIOD + seconds(1)) == 300  # the previous period still counts
    assert memory.largest(T0 + 2 * LAG_PERIOD) == 0
    later = memory.observe([20], T0 + LAG_PERIOD + seconds(5))
    assert (later.current, later.previous) == (20, 300)
    assert later.largest(T0 + 2 * LAG_PERIOD + seconds(5)) == 20
    assert memory.observe([100], T0 + seconds(1)) == memory  # a smaller lag changes nothing


def test_a_poll_window_starts_an_overlap_before_the_cursor_and_ends_settled() -> None:
    now = T0 + seconds(15.7)
    window = poll_window(T0, now, seconds(60))
    assert window == Window(T0 - seconds(60), T0 + seconds(15 - SETTLE_SECONDS))  # whole seconds
    assert window.end.microsecond == 0
    # A clock that went back never un-reads: the window still ends at the cursor.
    assert poll_window(T0, T0 - seconds(30), seconds(60)).end == T0


def test_the_sweep_reads_back_its_span_but_not_before_the_first_connection_nor_what_polls_still_cover() -> None:
    day, minute = timedelta(hours=24), seconds(60)
    cursor = T0 + timedelta(days=3)
    now = cursor + seconds(20)
    assert sweep_window(now, day, cursor, minute, T0) == Window(now - day, cursor - minute)
    young = sweep_window(T0 + seconds(600), day, T0 + seconds(590), minute, T0)
    assert young == Window(T0, T0 + seconds(530))
    empty = sweep_window(T0 + seconds(30), day, T0 + seconds(28), minute, T0)
    assert empty.start == empty.end  # connected just now: nothing the polls have passed yet


def test_after_a_backfill_the_sweep_reaches_back_before_its_snapshot() -> None:
    assert sweep_floor(T0, None) == T0
    assert sweep_floor(T0, T0) == T0 - seconds(MAX_OVERLAP_SECONDS)
    assert sweep_floor(T0, T0 + timedelta(days=1)) == T0, "polled before the backfill: polls covered since then"


def test_a_sweep_is_due_first_and_then_every_interval() -> None:
    interval = timedelta(minutes=30)
    assert sweep_due(None, T0, interval)
    assert not sweep_due(T0, T0 + interval - seconds(1), interval)
    assert sweep_due(T0, T0 + interval, interval)


def test_an_order_is_read_in_full_only_when_the_store_may_lack_its_version() -> None:
    stored = StoredStamp(updated_at=T0, fetched_at=T0 + seconds(30), version=2)
    assert needs_full_read(T0, None)
    assert needs_full_read(T0 + seconds(1), stored)
    assert not needs_full_read(T0, stored)
    assert not needs_full_read(T0 - seconds(5), stored)  # the index shows an older version
    # Read within the same second it was written: a sibling version may share that updatedAt.
    hasty = StoredStamp(updated_at=T0, fetched_at=T0 + seconds(0.4), version=1)
    assert needs_full_read(T0, hasty)


def test_a_lag_counts_only_for_an_updated_at_an_earlier_window_had_covered() -> None:
    cursor = T0 + seconds(100)
    assert lag_seconds(T0, T0 + seconds(250.2), cursor) == 251
    assert lag_seconds(cursor + seconds(1), cursor + seconds(20), cursor) is None  # no window covered it yet
    assert lag_seconds(T0, T0 + seconds(250), None) is None  # the first poll: nothing was covered
