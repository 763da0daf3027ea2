"""The poller's decisions on a fake clock: history, holds, upsell edits, exclusions, refunds, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.store import Store
from tests.fakes import FakeClock, FakeShopify, make_order, money

T0 = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)
SHOP = "demo.myshopify.com"


def context(delay: int | None = 600, **rules: Any) -> SourceContext:
    return SourceContext(
        shop=SHOP,
        name="Demo",
        channel_table=DEFAULT_CHANNEL_TABLE,
        rules=ExclusionRules(**{"channels": ("pos",), "tags": ("Exclude",), **rules}),
        upsell_delay_seconds=delay,
        destinations=("events-file",),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def shopify(clock: FakeClock) -> FakeShopify:
    return FakeShopify(clock)


def poller_for(database: Path | str, shopify: FakeShopify, clock: FakeClock, ctx: SourceContext) -> SourcePoller:
    """A poller on `database` (an SQLite file, a PostgreSQL URL, or a folder to put `bridge.db` in)."""
    if isinstance(database, Path) and database.is_dir():
        database = database / "bridge.db"
    store = Store.open_writer(database)
    return SourcePoller(ctx, shopify, store, clock)


def events(poller: SourcePoller) -> list[dict[str, Any]]:
    rows = poller.store.sql.all("SELECT payload FROM events ORDER BY seq")
    return [json.loads(r[0]) for r in rows]


def status(poller: SourcePoller, number: int) -> str:
    row = poller.store.sql.one("SELECT status FROM orders WHERE order_id = ?", (str(5800000000000 + number),))
    return str(row[0])


async def test_orders_before_first_connection_are_history_and_never_forwarded(database, shopify, clock) -> None:
    shopify.put(make_order(1, T0.replace(hour=9, minute=59, second=30)))
    clock.advance(1)
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    assert status(poller, 1) == "history"
    assert events(poller) == []


async def test_upsell_edit_during_hold_is_in_the_placed_order(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()  # first connection at T0
    clock.advance(5)
    order = shopify.put(make_order(2, clock()))
    await poller.cycle()
    assert status(poller, 2) == "held"
    clock.advance(7 * 60)  # minute 7: the upsell app adds an item
    extra = dict(
        order["lineItems"][0],
        id="gid://shopify/LineItem/99000000000000",
        title="Wax",
        sku="WAX",
        quantity=1,
        currentQuantity=1,
        originalUnitPriceSet=money("5.0"),
    )
    shopify.edit(
        order["id"],
        lineItems=[*order["lineItems"], extra],
        edited=True,
        currentTotalPriceSet=money("25.0"),
        totalPriceSet=money("25.0"),
    )
    await poller.cycle()
    assert status(poller, 2) == "held" and events(poller) == []
    clock.advance(3 * 60)  # minute 10: release
    await poller.cycle()
    [placed] = events(poller)
    assert placed["event_name"] == "Placed Order"
    assert placed["properties"]["total_price"] == 25.0
    assert [item["sku"] for item in placed["properties"]["items"]] == ["SB-1", "WAX"]
    # The release re-read the order by id (the search index lags).
    assert ("BridgeReadOrder", {"id": order["id"]}) in shopify.calls


async def test_edit_after_release_is_stored_but_never_resent(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(3, clock()))
    await poller.cycle()
    clock.advance(60)
    shopify.edit(order["id"], currentTotalPriceSet=money("30.0"), edited=True)
    await poller.cycle()
    assert len(events(poller)) == 1
    versions = poller.store.sql.one(
        "SELECT COUNT(*) FROM order_versions WHERE order_id = ?", (order["legacyResourceId"],)
    )[0]
    assert versions == 2


async def test_tag_added_during_hold_excludes_the_order(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(4, clock()))
    await poller.cycle()
    clock.advance(120)
    shopify.edit(order["id"], tags=["exclude"])  # case-insensitive
    clock.advance(600)
    await poller.cycle()
    assert status(poller, 4) == "excluded"
    rule = poller.store.sql.one(
        "SELECT exclusion_rule, exclusion_value FROM orders WHERE order_id = ?", (order["legacyResourceId"],)
    )
    assert tuple(rule) == ("tag", "Exclude")
    assert events(poller) == []


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"sourceName": "pos"}, "channel"),
        ({"test": True}, "test_order"),
        ({"tags": ["Exclude"]}, "tag"),
        ({"cancelledAt": "2026-05-01T10:00:10Z"}, "cancelled"),
    ],
)
async def test_excluded_orders_never_produce_events(database, shopify, clock, overrides, rule) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    shopify.put(make_order(5, clock(), **overrides))
    await poller.cycle()
    assert status(poller, 5) == "excluded"
    assert poller.store.sql.one("SELECT exclusion_rule FROM orders")[0] == rule
    assert events(poller) == []


async def test_restart_inside_the_hold_releases_once_at_the_right_time(database, shopify, clock) -> None:
    ctx = context()
    poller = poller_for(database, shopify, clock, ctx)
    await poller.cycle()
    clock.advance(5)
    shopify.put(make_order(6, clock()))
    await poller.cycle()
    poller.store.close()  # "crash"
    clock.advance(300)
    restarted = poller_for(database, shopify, clock, ctx)
    await restarted.cycle()
    assert status(restarted, 6) == "held"  # pending holds keep their time
    clock.advance(400)
    await restarted.cycle()
    await restarted.cycle()
    assert len(events(restarted)) == 1


async def test_order_first_seen_after_its_release_time_is_released_at_once(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()
    clock.advance(5)
    order = make_order(7, clock())
    clock.advance(700)  # Shopify's index lagged past the window
    shopify.put(order)
    await poller.cycle()
    assert status(poller, 7) == "released" and len(events(poller)) == 1


async def test_held_order_deleted_before_release_produces_nothing(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(8, clock()))
    await poller.cycle()
    del shopify.orders[order["id"]]
    clock.advance(700)
    await poller.cycle()
    assert status(poller, 8) == "gone" and events(poller) == []


def _refund(order: dict[str, Any], refund_no: int, amount: str, status: str = "SUCCESS") -> tuple[dict, dict]:
    gid = f"gid://shopify/Refund/{refund_no}"
    summary = {
        "id": gid,
        "legacyResourceId": str(refund_no),
        "createdAt": order["updatedAt"],
        "processedAt": order["updatedAt"],
        "updatedAt": order["updatedAt"],
        "note": None,
        "totalRefundedSet": money(amount),
    }
    detail = {
        **summary,
        "refundLineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/RefundLineItem/1",
                    "quantity": 1,
                    "restockType": "RETURN",
                    "priceSet": money("10.0"),
                    "subtotalSet": money("10.0"),
                    "lineItem": {
                        k: order["lineItems"][0][k]
                        for k in ("id", "title", "name", "variantTitle", "sku", "product", "variant")
                    },
                }
            ],
        },
        "transactions": {
            "nodes": [
                {
                    "id": "gid://shopify/OrderTransaction/1",
                    "kind": "REFUND",
                    "status": status,
                    "processedAt": None,
                    "amountSet": money(amount),
                }
            ]
        },
        "refundShippingLines": {"nodes": []},
    }
    return summary, detail


async def test_refund_after_release_waits_for_success_then_is_forwarded_once(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(9, clock()))
    await poller.cycle()
    clock.advance(60)
    shopify.put(order)
    summary, detail = _refund(order, 77, "10.0", status="PENDING")
    shopify.refund_details[summary["id"]] = detail
    shopify.edit(order["id"], refunds=[summary])
    await poller.cycle()
    assert [e["event_name"] for e in events(poller)] == ["Placed Order"]
    detail["transactions"]["nodes"][0]["status"] = "SUCCESS"       # settled, the order untouched
    clock.advance(30)
    await poller.cycle()
    assert len(events(poller)) == 1                                   # its next read is a minute after the last
    clock.advance(30)
    await poller.cycle()
    names = [e["event_name"] for e in events(poller)]
    assert names == ["Placed Order", "Received Refund"]
    assert events(poller)[1]["event_id"] == f"{order['legacyResourceId']}-refund-77"


async def test_refund_during_hold_waits_for_the_placed_order(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context())
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(10, clock()))
    await poller.cycle()
    clock.advance(60)
    summary, detail = _refund(order, 78, "10.0")
    shopify.refund_details[summary["id"]] = detail
    shopify.edit(order["id"], refunds=[summary])
    await poller.cycle()
    assert events(poller) == []
    clock.advance(600)
    await poller.cycle()
    placed, refund = events(poller)
    assert (placed["event_name"], refund["event_name"]) == ("Placed Order", "Received Refund")
    # q(line) counts the refunded unit back in: the Placed Order is the order before refunds.
    assert placed["properties"]["items"][0]["quantity"] == 2


async def test_refunds_of_excluded_orders_are_excluded(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    order = shopify.put(make_order(11, clock(), sourceName="pos"))
    await poller.cycle()
    clock.advance(60)
    summary, detail = _refund(order, 79, "10.0")
    shopify.refund_details[summary["id"]] = detail
    shopify.edit(order["id"], refunds=[summary])
    await poller.cycle()
    assert events(poller) == []
    assert poller.store.sql.one("SELECT status FROM refunds")[0] == "excluded"


async def test_repolling_the_same_window_creates_nothing_twice(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    for n in range(25):  # several pages
        shopify.put(make_order(100 + n, clock()))
    await poller.cycle()
    await poller.cycle()
    poller.store.sql.run("UPDATE sources SET cursor = NULL")  # force a full re-scan
    await poller.cycle()
    assert len(events(poller)) == 25
    assert poller.store.sql.one("SELECT COUNT(*) FROM order_versions")[0] == 25


async def test_each_event_is_announced_once_across_pages(database, shopify, clock) -> None:
    announced: list[int] = []
    poller = poller_for(database, shopify, clock, context(delay=None))
    poller._notify = announced.extend
    await poller.cycle()
    clock.advance(5)
    for n in range(25):                                      # three pages of ten
        shopify.put(make_order(200 + n, clock()))
    await poller.cycle()
    assert sorted(announced) == list(range(1, 26))


async def test_a_refund_of_an_excluded_history_order_is_excluded_too(database, shopify, clock) -> None:
    order = shopify.put(make_order(300, T0.replace(hour=9), sourceName="pos"))   # before the first connection
    clock.advance(1)
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    row = poller.store.sql.one("SELECT status, exclusion_rule FROM orders")
    assert tuple(row) == ("history", "channel")
    clock.advance(60)
    shopify.put(order)                                       # the refund is made now, after the connection
    summary, detail = _refund(order, 81, "10.0")
    shopify.refund_details[summary["id"]] = detail
    shopify.edit(order["id"], refunds=[summary])
    await poller.cycle()
    assert events(poller) == []
    assert poller.store.sql.one("SELECT status FROM refunds")[0] == "excluded"


async def test_a_refund_of_a_forwardable_history_order_goes_on_its_own(database, shopify, clock) -> None:
    order = shopify.put(make_order(301, T0.replace(hour=9)))
    clock.advance(1)
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(60)
    shopify.put(order)                                       # the refund is made now, after the connection
    summary, detail = _refund(order, 82, "10.0")
    shopify.refund_details[summary["id"]] = detail
    shopify.edit(order["id"], refunds=[summary])
    await poller.cycle()
    assert [e["event_name"] for e in events(poller)] == ["Received Refund"]


async def test_the_cursor_moves_with_each_page(database, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    for n in range(15):                                      # two pages
        clock.advance(1)
        shopify.put(make_order(400 + n, clock()))
    real_execute = shopify.execute

    async def die_on_second_page(document, variables=None):  # type: ignore[no-untyped-def]
        if "BridgePollOrders" in document and variables.get("after"):
            raise RuntimeError("killed mid-poll")
        return await real_execute(document, variables)

    shopify.execute = die_on_second_page  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await poller.cycle()
    cursor = poller.store.sql.one("SELECT cursor FROM sources")[0]
    assert cursor > "2026-05-01T10:00:05"                    # the first page's progress is kept
    shopify.execute = real_execute  # type: ignore[method-assign]
    await poller.cycle()
    assert len(events(poller)) == 15
