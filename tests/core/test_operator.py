"""Operator actions through the store: release a hold now, and the dashboard's actions on a bridge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from shopify_bridge.service.actions import BridgeActions
from shopify_bridge.store import Store

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SHOP = "s.myshopify.com"


def _store(database: Path | str) -> Store:
    store = Store.open_writer(database)
    with store.transaction():
        for order_id, status in (("1", "held"), ("2", "released")):
            store.sql.run(
                "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
                "release_at) VALUES (?, ?, ?, ?, 't', 't', 't', ?, '2026-05-01T13:00:00+00:00')",
                (SHOP, order_id, f"gid://shopify/Order/{order_id}", f"#{order_id}", status),
            )
        store.sql.run(
            "INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload) "
            "VALUES (?, 'e1', 'Placed Order', '2', 't', 't', '{}')",
            (SHOP,),
        )
        store.sql.run(
            "INSERT INTO deliveries (event_seq, destination, state, attempts, created_at, last_error) "
            "VALUES (1, 'hook', 'dead', 12, 't', 'HTTP 500')"
        )
    return store


def _release_at(store: Store, order_id: str) -> str:
    return str(store.sql.one("SELECT release_at FROM orders WHERE order_id = ?", (order_id,))[0])


def test_release_now_makes_only_a_held_order_due(database: Path | str) -> None:
    store = _store(database)
    assert store.operator.release_now(SHOP, "1", NOW) is True
    assert _release_at(store, "1") == "2026-05-01T12:00:00+00:00"
    assert store.operator.release_now(SHOP, "2", NOW) is False  # released already: left alone
    assert _release_at(store, "2") == "2026-05-01T13:00:00+00:00"
    assert store.operator.release_now(SHOP, "404", NOW) is False


def test_bridge_actions_change_the_store_and_wake_the_loops(database: Path | str) -> None:
    store = _store(database)
    woken: list[str] = []
    wake = asyncio.Event()
    bridge = SimpleNamespace(
        store=store, clock=lambda: NOW, wake_source=woken.append, deliverer=SimpleNamespace(wake=wake)
    )
    actions = BridgeActions(bridge)
    asyncio.run(actions.release_now(SHOP, "1"))
    assert (_release_at(store, "1"), woken) == ("2026-05-01T12:00:00+00:00", [SHOP])
    asyncio.run(actions.replay(1, "hook"))
    row = store.sql.one("SELECT state, attempts, last_error, next_attempt_at FROM deliveries")
    assert row == ("pending", 0, None, "2026-05-01T12:00:00+00:00")
    assert wake.is_set()
