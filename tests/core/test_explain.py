from __future__ import annotations

from pathlib import Path

import pytest

from shopify_bridge.service.explain import OrderNotFound, as_dict, explain
from shopify_bridge.store import Store
from tests.core.test_poller_holds import T0, context, poller_for
from tests.fakes import FakeClock, FakeShopify, make_order, money


async def test_explain_shows_versions_decision_and_payload_and_edit_after_release(database: Path | str) -> None:
    clock = FakeClock(T0)
    shopify = FakeShopify(clock)
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(1, clock()))
    await poller.cycle()
    clock.advance(60)
    shopify.edit(order["id"], currentTotalPriceSet=money("27.5"))
    await poller.cycle()
    for ref in ("#1001", "1001", order["legacyResourceId"], order["id"]):
        exp = explain(Store(poller.store.sql, writable=False), ref)
        assert exp.order["order_id"] == order["legacyResourceId"]
    data = as_dict(exp)
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["order"]["status"] == "released"
    assert data["events"][0]["payload"]["event_id"] == order["legacyResourceId"]
    assert data["events"][0]["deliveries"][0]["state"] == "pending"
    assert data["note"] == "edited after release: Δ total +7.5"


async def test_explain_unknown_order_is_one_clear_error(database: Path | str) -> None:
    clock = FakeClock(T0)
    poller = poller_for(database, FakeShopify(clock), clock, context())
    with pytest.raises(OrderNotFound, match="no stored order matches '#9999'"):
        explain(Store(poller.store.sql, writable=False), "#9999")
