"""A store from before settling states: its waiting refunds are read at once after the upgrade, first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopify_bridge.decide.decisions import RefundStep
from shopify_bridge.decide.settling import Wait
from shopify_bridge.store import Store
from tests.backend_sql import schema_at

SHOP = "a.myshopify.com"
NOW = datetime(2026, 5, 1, tzinfo=UTC)
BEFORE_SETTLING = 4  # the schema version of the last shopify-bridge without settling states


def old_store(database: Path | str) -> None:
    """A released order with a waiting and an evented refund, recorded before settling states existed."""
    with schema_at(database, BEFORE_SETTLING) as sql:
        sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status) "
                "VALUES (?, '1', 'gid://shopify/Order/1', '#1', 'x', 'x', 'x', 'released')", (SHOP,))
        for refund_id, status in (("7", "waiting"), ("8", "evented")):
            sql.run("INSERT INTO refunds (shop, refund_id, order_id, gid, status) VALUES (?, ?, '1', ?, ?)",
                    (SHOP, refund_id, f"gid://shopify/Refund/{refund_id}", status))


def test_a_waiting_refund_of_a_store_from_before_settling_is_due_at_once(database: Path | str) -> None:
    old_store(database)
    store = Store.open_writer(database)
    try:
        [due] = store.refunds.due(SHOP, NOW, 10)
        assert (due.refund_id, due.recorded.status, due.recorded.waits_for) == ("7", "waiting", None)
    finally:
        store.close()


def test_refunds_recorded_before_settling_states_are_read_before_overdue_ones(database: Path | str) -> None:
    """No next read (recorded by an older bridge) counts as the most overdue, on either engine."""
    old_store(database)
    store = Store.open_writer(database)
    try:
        wait = Wait("pending", "2026-04-30T00:00:00+00:00", 3, NOW - timedelta(hours=1))
        step = RefundStep("6", "gid://shopify/Refund/6", None, None, first_seen=True, status="waiting",
                          status_changed=False, wait=wait)
        with store.transaction():
            store.refunds.record(SHOP, "1", step, None)
        assert [due.refund_id for due in store.refunds.due(SHOP, NOW, 1)] == ["7"]
        assert [due.refund_id for due in store.refunds.due(SHOP, NOW, 10)] == ["7", "6"]
    finally:
        store.close()
