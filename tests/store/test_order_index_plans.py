"""The searches by status and by Placed Order go through the narrow indexes of schema step 8, never a scan
of every order: a store of a million history orders answers the dashboard and the hold timer at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopify_bridge.store import Store

SHOP = "a.myshopify.com"

SEARCHES = {
    "due holds": ("SELECT order_id, gid FROM orders WHERE shop = ? AND status = 'held' AND release_at <= ? "
                  "ORDER BY release_at", (SHOP, "2026-05-01T00:00:00Z"), "orders_held"),
    "next release": ("SELECT MIN(release_at) FROM orders WHERE shop = ? AND status = 'held'", (SHOP,), "orders_held"),
    "held per shop": ("SELECT shop, COUNT(*) FROM orders WHERE status = 'held' GROUP BY shop", (), "orders_held"),
    "excluded, newest first": ("SELECT shop, order_id FROM orders WHERE status = 'excluded' "
                               "ORDER BY processed_at DESC, order_id DESC LIMIT ?", (200,), "orders_excluded"),
    "by Placed Order": ("SELECT order_id FROM orders WHERE placed_event_seq = ?", (7,), "orders_placed"),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_the_search_uses_its_narrow_index(tmp_path: Path, name: str) -> None:
    sql, params, index = SEARCHES[name]
    store = Store.open_writer(tmp_path / "bridge.db")
    try:
        plan = " | ".join(str(row[-1]) for row in store.sql.all(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        store.close()
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
    assert "SCAN orders" not in plan.replace(f"SCAN orders USING INDEX {index}", "").replace(
        f"SCAN orders USING COVERING INDEX {index}", ""), plan


def test_history_and_released_orders_stay_out_of_the_narrow_indexes(tmp_path: Path) -> None:
    """Only held rows are in `orders_held`, only rows with a Placed Order in `orders_placed`: ANALYZE counts
    each index's entries (the first number of its `sqlite_stat1` row)."""
    store = Store.open_writer(tmp_path / "bridge.db")
    try:
        with store.sql.transaction():
            for order_id, status, placed in [("1", "held", None), ("2", "history", None), ("3", "released", 9),
                                             ("4", "held", None), ("5", "history", None), ("6", "excluded", None)]:
                store.sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, "
                              "status, release_at, placed_event_seq) VALUES (?, ?, 'g', 'n', 't', 't', 't', ?, ?, ?)",
                              (SHOP, order_id, status, datetime(2026, 5, 1, tzinfo=UTC).isoformat(), placed))
        store.sql.run("ANALYZE")
        entries = {str(idx): int(str(stat).split()[0]) for idx, stat in store.sql.all(
            "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'orders'")}
    finally:
        store.close()
    assert entries["orders_held"] == 2
    assert entries["orders_excluded"] == 1
    assert entries["orders_placed"] == 1
    assert entries["orders_name"] == 6  # the full indexes hold every order
