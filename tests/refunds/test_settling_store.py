"""A store from before settling states: its waiting refunds are read at once after the upgrade."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from shopify_bridge.store import Store
from shopify_bridge.store.schema import MIGRATIONS

SHOP = "a.myshopify.com"


def test_a_waiting_refund_of_a_version_2_store_is_due_at_once_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1])
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '2')")
    conn.execute("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status) "
                 "VALUES (?, '1', 'gid://shopify/Order/1', '#1', 'x', 'x', 'x', 'released')", (SHOP,))
    for refund_id, status in (("7", "waiting"), ("8", "evented")):
        conn.execute("INSERT INTO refunds (shop, refund_id, order_id, gid, status) VALUES (?, ?, '1', ?, ?)",
                     (SHOP, refund_id, f"gid://shopify/Refund/{refund_id}", status))
    conn.commit()
    conn.close()
    store = Store.open_writer(path)
    try:
        [due] = store.refunds.due(SHOP, datetime(2026, 5, 1, tzinfo=UTC), 10)
        assert (due.refund_id, due.recorded.status, due.recorded.waits_for) == ("7", "waiting", None)
    finally:
        store.close()
