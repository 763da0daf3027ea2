"""The sources API: one row per shop, its position, state and backfill bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime

from shopify_bridge.store import Store
from shopify_bridge.store.sources import BackfillState, PollNote
from tests.backend_sql import row_version

SHOP = "demo.myshopify.com"
T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def state(**changes: object) -> BackfillState:
    base: BackfillState = {"status": "running", "start": "2026-04-01T00:00:00+00:00",
                           "snapshot": "2026-05-01T10:00:00+00:00", "windows": [], "op_id": None,
                           "retries": 0, "orders": 3}
    return {**base, **changes}  # type: ignore[typeddict-item]


def test_ensure_creates_the_row_once_and_follows_the_configured_name(store: Store) -> None:
    assert store.sources.ensure(SHOP, "Demo") == store.sources.ensure(SHOP, "Renamed")
    assert store.sql.all("SELECT shop, name FROM sources") == [(SHOP, "Renamed")]
    version = row_version(store, "sources")
    position = store.sources.ensure(SHOP, "Renamed")
    assert (position.first_connected_at, position.cursor) == (None, None)
    assert row_version(store, "sources") == version  # an unchanged name writes nothing (no fsync per poll)


def test_first_connection_and_cursor_are_what_the_next_poll_starts_from(store: Store) -> None:
    store.sources.ensure(SHOP, "Demo")
    with store.transaction():
        store.sources.set_first_connected(SHOP, "2026-05-01T10:00:00+00:00")
        store.sources.advance_cursor(SHOP, T0)
    position = store.sources.ensure(SHOP, "Demo")
    assert position.first_connected_at == store.sources.first_connected_at(SHOP) == "2026-05-01T10:00:00+00:00"
    assert position.cursor == "2026-05-01T10:00:00+00:00"


def test_a_failure_keeps_the_last_good_poll_and_records_its_reason(store: Store) -> None:
    store.sources.ensure(SHOP, "Demo")
    store.sources.set_state(SHOP, "polling", None, T0, ok=True)
    later = T0.replace(minute=5)
    store.sources.set_state(SHOP, "failed", "401 Unauthorized", later)
    row = store.sql.one("SELECT state, state_reason, last_poll_at, last_poll_ok_at FROM sources")
    assert row == ("failed", "401 Unauthorized", "2026-05-01T10:05:00+00:00", "2026-05-01T10:00:00+00:00")
    assert store.sql.all("SELECT shop, kind, message FROM errors") == [
        (SHOP, "source", "401 Unauthorized")]


def test_shop_facts_bucket_and_progress_are_kept_per_source(store: Store) -> None:
    store.sources.ensure(SHOP, "Demo")
    store.sources.set_shop_info(SHOP, "Demo Shop", "CAD", "America/Toronto")
    store.sources.record_polls([PollNote(SHOP, bucket=(2000.0, 1500.0, 100.0))])
    store.sources.set_progress(SHOP, "backfill w: storing orders 1/2 (50 %)")
    assert store.sources.timezone(SHOP) == "America/Toronto"
    row = store.sql.one("SELECT shop_name, currency, bucket_available, progress FROM sources")
    assert row == ("Demo Shop", "CAD", 1500.0, "backfill w: storing orders 1/2 (50 %)")
    store.sources.set_progress(SHOP, None)
    assert store.sql.one("SELECT progress FROM sources")[0] is None


def test_backfill_state_round_trips_and_completion_hands_over_at_the_snapshot(store: Store) -> None:
    store.sources.ensure(SHOP, "Demo")
    assert store.sources.backfill_state(SHOP) is None and store.sources.backfill_due(SHOP)
    store.sources.save_backfill_state(SHOP, state(op_id="gid://shopify/BulkOperation/1"))
    assert store.sources.backfill_state(SHOP) == state(op_id="gid://shopify/BulkOperation/1")
    store.sources.complete_backfill(SHOP, state(), "2026-05-01T10:00:00+00:00")
    assert not store.sources.backfill_due(SHOP)
    row = store.sql.one("SELECT first_connected_at, cursor FROM sources")
    assert row == ("2026-05-01T10:00:00+00:00", "2026-05-01T10:00:00+00:00")


def test_completing_a_backfill_keeps_the_position_of_a_source_polled_before(store: Store) -> None:
    store.sources.ensure(SHOP, "Demo")
    store.sources.set_first_connected(SHOP, "2026-03-01T00:00:00+00:00")
    store.sources.advance_cursor(SHOP, T0.replace(hour=12))
    store.sources.complete_backfill(SHOP, state(), "2026-05-01T10:00:00+00:00")
    row = store.sql.one("SELECT first_connected_at, cursor, backfill_state FROM sources")
    assert row[:2] == ("2026-03-01T00:00:00+00:00", "2026-05-01T12:00:00+00:00")
    assert '"status":"complete"' in row[2]
