"""reconcile balances after a mixed run and names the orders that fall through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import Deliverer
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.service.reconcile import reconcile_source
from shopify_bridge.store import Store
from tests.core.test_poller_holds import T0, context, poller_for
from tests.fakes import FakeClock, FakeShopify, make_order

SHOP = "demo.myshopify.com"


async def _mixed_run(tmp_path: Path, database: Path | str) -> tuple[FakeShopify, SourcePoller, FakeClock]:
    clock = FakeClock(T0)
    shopify = FakeShopify(clock)
    shopify.put(make_order(1, T0.replace(minute=0, second=0).replace(hour=9)))  # history
    clock.advance(1)
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()
    clock.advance(5)
    shopify.put(make_order(2, clock()))  # forwarded
    shopify.put(make_order(3, clock(), sourceName="pos"))  # excluded
    await poller.cycle()
    clock.advance(700)
    shopify.put(make_order(4, clock()))  # held
    await poller.cycle()
    deliverer = Deliverer(poller.store.outbox, [JsonlDestination("events-file", tmp_path / "e.jsonl")], clock)
    await deliverer.deliver_once()
    return shopify, poller, clock


async def test_reconcile_balances_after_a_mixed_run(tmp_path: Path, database: Path | str) -> None:
    shopify, poller, clock = await _mixed_run(tmp_path, database)
    since = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    [day] = await reconcile_source(shopify, Store(poller.store.sql, writable=False), SHOP, "UTC", since, clock())
    assert day.ok, day
    assert dict(day.local) == {"history": 1, "forwarded": 1, "excluded": 1, "held": 1}
    assert day.shopify == 4


async def test_reconcile_lists_an_order_that_falls_through(tmp_path: Path, database: Path | str) -> None:
    shopify, poller, clock = await _mixed_run(tmp_path, database)
    poller.store.sql.run("DELETE FROM orders WHERE order_id = ?", (str(5800000000000 + 2),))
    since = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    [day] = await reconcile_source(shopify, Store(poller.store.sql, writable=False), SHOP, "UTC", since, clock())
    assert not day.ok
    assert day.missing == ["#1002 (5800000000002)"]


async def test_days_follow_the_shop_timezone(tmp_path: Path, database: Path | str) -> None:
    shopify, poller, clock = await _mixed_run(tmp_path, database)
    since = datetime(2026, 4, 30, 0, 0, tzinfo=UTC)
    days = await reconcile_source(
        shopify,
        Store(poller.store.sql, writable=False),
        SHOP,
        "Pacific/Kiritimati",
        since,
        clock(),
    )
    # UTC+14: the history order (09:00 UTC) is 23:00 on 05-01 local; 10:00 UTC is 00:00 on 05-02 local.
    assert [(d.day.isoformat(), d.shopify) for d in days if d.shopify] == [
        ("2026-05-01", 1),
        ("2026-05-02", 3),
    ]
    assert all(d.ok for d in days)
