"""`$is_new_customer` while polling the simulator: one lookup at most per order, cached per customer,
hostile emails searched as themselves, and never `true` without read_all_orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shopify_bridge.simulator.clock import wire_time
from tests.refunds.rig import Rig, paid_order


def lookups(rig: Rig) -> list[int]:
    """The `$is_new_customer` requests: how many orders each asked about (several go in one request)."""
    return [int(name.removeprefix("BridgeEarlierOrders")) for name in rig.client.sent
            if name.startswith("BridgeEarlierOrders")]


def is_new(rig: Rig) -> dict[str, Any]:
    return {e["properties"]["order_name"]: e["properties"].get("$is_new_customer", "omitted")
            for e in rig.events("Placed Order")}


async def test_a_guest_email_with_an_apostrophe_is_searched_as_itself(rig: Rig) -> None:
    earlier_at = wire_time(rig.clock() - timedelta(days=3))
    paid_order(rig.shop, customer=None, email="o'brien@example.com", processedAt=earlier_at)
    await rig.cycle(advance=3600)              # first connection: the earlier order is outside the window
    returning = paid_order(rig.shop, customer=None, email="O'Brien@example.com")
    other = paid_order(rig.shop, customer=None, email="o'brien\\x@example.com")
    await rig.cycle(advance=5)
    assert is_new(rig) == {returning["name"]: False, other["name"]: True}
    assert lookups(rig) == [2]                 # both orders of the page in one request


async def test_a_customer_is_asked_about_once_and_their_next_orders_are_settled_locally(rig: Rig) -> None:
    await rig.cycle()
    customer = {"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com"}
    first = paid_order(rig.shop, customer=customer)
    rig.clock.advance(2)
    person_id = first["customer"]["id"]
    second = paid_order(rig.shop, customerId=person_id)
    await rig.cycle(advance=5)                                           # both in one page
    rig.clock.advance(3600)
    third = paid_order(rig.shop, customerId=person_id)
    await rig.cycle(advance=5)
    assert is_new(rig) == {first["name"]: True, second["name"]: False, third["name"]: False}
    assert lookups(rig) == [1]


async def test_without_read_all_orders_a_first_order_omits_the_property(rig_60_days: Rig) -> None:
    rig = rig_60_days
    await rig.cycle()
    seen_before = paid_order(rig.shop, customer=None, email="known@example.com")
    rig.clock.advance(60)
    again = paid_order(rig.shop, customer=None, email="known@example.com")
    first = paid_order(rig.shop, customer=None, email="first@example.com")
    await rig.cycle(advance=5)
    assert is_new(rig) == {seen_before["name"]: "omitted", again["name"]: False, first["name"]: "omitted"}
