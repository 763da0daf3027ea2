"""State changes: each one is visible at once by id, after the lag in search, and keeps totals consistent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from shopify_bridge.shopify.queries import READ_ORDER
from shopify_bridge.simulator import ManualClock, SimulatorServer, SimulatorState
from shopify_bridge.simulator.changes import ChangeRefused
from shopify_bridge.simulator.refunds import RefundRefused
from shopify_bridge.simulator.shop import ManualClockRequired
from tests.simulator.conftest import PLAIN_ORDER, START, Caller

PLAIN = {**PLAIN_ORDER, "taxesIncluded": False}  # said outright: the tax tests turn it on


def amount(bag: dict[str, Any], side: str = "shopMoney") -> str:
    return str(bag[side]["amount"])


@pytest.fixture
def state(clock: ManualClock) -> SimulatorState:
    return SimulatorState(token="t", seed=1, orders=0, clock=clock)


def test_a_created_order_is_processed_now_unless_told_otherwise(
    state: SimulatorState, clock: ManualClock
) -> None:
    clock.advance(0.75)  # one-second resolution: 12:00:00.75 is written as 12:00:00
    order = state.create_order()
    assert order["processedAt"] == order["createdAt"] == order["updatedAt"] == "2026-07-01T12:00:00Z"
    imported = state.create_order(processedAt="2026-06-01T08:00:00Z")
    assert (
        imported["processedAt"] == "2026-06-01T08:00:00Z" and imported["createdAt"] == "2026-07-01T12:00:00Z"
    )


def test_a_given_source_shapes_the_random_rest(state: SimulatorState) -> None:
    for _ in range(10):
        web, pos = state.create_order(sourceName="web"), state.create_order(sourceName="pos")
        assert web["checkoutToken"] and web["app"]["name"] == "Online Store" and web["retailLocation"] is None
        assert pos["checkoutToken"] is None and pos["retailLocation"] and pos["shippingAddress"] is None


def test_given_fields_set_the_totals(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN)
    assert [
        amount(order[k])
        for k in (
            "totalPriceSet",
            "currentTotalPriceSet",
            "subtotalPriceSet",
            "totalShippingPriceSet",
            "totalTaxSet",
        )
    ] == ["25.0", "25.0", "20.0", "5.0", "0.0"]
    taxed = state.create_order(**{**PLAIN, "taxRate": "0.13"})
    assert (amount(taxed["totalTaxSet"]), amount(taxed["totalPriceSet"])) == ("2.6", "27.6")
    included = state.create_order(**{**PLAIN, "taxRate": "0.13", "taxesIncluded": True})
    assert (amount(included["totalTaxSet"]), amount(included["totalPriceSet"])) == ("2.3", "25.0")
    discounted = state.create_order(**{**PLAIN, "discountCodes": ["SAVE5"]})
    assert (amount(discounted["totalDiscountsSet"]), amount(discounted["totalPriceSet"])) == ("5.0", "20.0")
    assert discounted["discountCodes"] == ["SAVE5"]


def test_a_multi_currency_order_carries_both_sides_like_the_capture(state: SimulatorState) -> None:
    order = state.create_order(
        **{
            **PLAIN,
            "lineItems": [{"title": "Hat", "price": "8", "quantity": 1}],
            "shipping": "0",
            "taxRate": "0.125",
            "presentmentCurrency": "USD",
            "rate": "1.5",
        }
    )
    assert order["totalPriceSet"] == {
        "shopMoney": {"amount": "13.5", "currencyCode": "CAD"},
        "presentmentMoney": {"amount": "9.0", "currencyCode": "USD"},
    }
    assert (order["currencyCode"], order["presentmentCurrencyCode"]) == ("CAD", "USD")


def test_a_post_purchase_edit_adds_a_line_and_raises_the_totals(
    state: SimulatorState, clock: ManualClock
) -> None:
    order = state.create_order(**PLAIN)
    clock.advance(65)
    edited = state.add_line_item(order["id"], {"title": "Wax", "price": "7.5", "quantity": 1})
    new_ids = {line["id"] for line in edited["lineItems"]} - {line["id"] for line in order["lineItems"]}
    assert len(new_ids) == 1 and edited["edited"] is True
    assert (amount(edited["totalPriceSet"]), amount(edited["currentTotalPriceSet"])) == ("32.5", "32.5")
    assert edited["updatedAt"] == "2026-07-01T12:01:05Z"
    assert amount(edited["totalOutstandingSet"]) == "0.0", "an accepted upsell is paid"
    assert edited["originalTotalPriceSet"] == order["totalPriceSet"]


def test_tags_cancel_and_delete(state: SimulatorState, clock: ManualClock) -> None:
    order = state.create_order(**PLAIN)
    clock.advance(1)
    assert state.add_tag(order["id"], "Exclude")["tags"] == ["Exclude"]
    clock.advance(1)
    cancelled = state.cancel(order["id"], "FRAUD")
    assert (cancelled["cancelledAt"], cancelled["cancelReason"]) == ("2026-07-01T12:00:02Z", "FRAUD")
    assert cancelled["updatedAt"] == "2026-07-01T12:00:02Z"
    clock.advance(5)
    again = state.cancel(order["id"])
    assert again["updatedAt"] == cancelled["updatedAt"], "cancelling twice changes nothing"
    state.delete(order["id"])
    with pytest.raises(KeyError):
        state.order(order["id"])


def test_a_partial_refund_lowers_current_quantities_and_totals(
    state: SimulatorState, clock: ManualClock
) -> None:
    order = state.create_order(**PLAIN)
    line = order["lineItems"][0]
    clock.advance(30)
    refund = state.refund(
        order["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}], note="too big"
    )
    after = state.order(order["id"])
    assert after["lineItems"][0]["currentQuantity"] == 1 and after["lineItems"][0]["quantity"] == 2
    assert after["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert (amount(after["totalRefundedSet"]), amount(after["currentTotalPriceSet"])) == ("10.0", "15.0")
    assert amount(after["totalPriceSet"]) == "25.0", "totalPriceSet is before returns"
    assert [r["id"] for r in after["refunds"]] == [refund["id"]]
    assert refund["refundLineItems"][0]["restockType"] == "RETURN" and refund["note"] == "too big"
    assert after["updatedAt"] == "2026-07-01T12:00:30Z"


def test_a_full_refund_with_shipping_makes_the_order_refunded(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN)
    refund = state.refund_all(order["id"])
    after = state.order(order["id"])
    assert after["displayFinancialStatus"] == "REFUNDED"
    assert amount(after["currentTotalPriceSet"]) == "0.0" and amount(after["totalRefundedSet"]) == "25.0"
    assert amount(refund["refundShippingLines"][0]["subtotalAmountSet"]) == "5.0"
    assert amount(after["totalRefundedShippingSet"]) == "5.0"


def test_a_pending_refund_moves_no_money_until_settled(state: SimulatorState, clock: ManualClock) -> None:
    order = state.create_order(**PLAIN)
    line = order["lineItems"][0]
    refund = state.refund(order["id"], [{"lineItemId": line["id"], "quantity": 2}], status="PENDING")
    [transaction] = refund["transactions"]
    assert (transaction["kind"], transaction["status"], transaction["processedAt"]) == (
        "REFUND",
        "PENDING",
        None,
    )
    assert amount(refund["totalRefundedSet"]) == "0.0"
    assert state.order(order["id"])["displayFinancialStatus"] == "PAID"
    clock.advance(120)
    settled = state.settle_refund(refund["id"])
    assert (
        settled["transactions"][0]["status"] == "SUCCESS" and settled["updatedAt"] == "2026-07-01T12:02:00Z"
    )
    after = state.order(order["id"])
    assert (
        after["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
        and after["updatedAt"] == "2026-07-01T12:02:00Z"
    )
    with pytest.raises(ChangeRefused):
        state.settle_refund(refund["id"])


def test_refunds_shopify_would_refuse_are_refused(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN)
    line = order["lineItems"][0]["id"]
    with pytest.raises(RefundRefused, match="left to refund"):
        state.refund(order["id"], [{"lineItemId": line, "quantity": 3}])
    with pytest.raises(RefundRefused, match="exceeds"):
        state.refund(order["id"], amount="26")
    with pytest.raises(RefundRefused, match="not on order"):
        state.refund(order["id"], [{"lineItemId": "gid://shopify/LineItem/1", "quantity": 1}])
    unpaid = state.create_order(**{**PLAIN, "financialStatus": "PENDING"})
    restock_only = state.refund(unpaid["id"], [{"lineItemId": unpaid["lineItems"][0]["id"], "quantity": 1}])
    assert restock_only["transactions"] == [], "nothing was paid, so nothing is given back"
    assert state.order(unpaid["id"])["lineItems"][0]["currentQuantity"] == 1
    zero = state.refund(
        order["id"], [{"lineItemId": line, "quantity": 1, "restockType": "NO_RESTOCK"}], amount="0"
    )
    assert zero["transactions"] == [] and amount(zero["totalRefundedSet"]) == "0.0"


def test_two_changes_in_one_second_share_updated_at_but_not_content(
    state: SimulatorState, clock: ManualClock
) -> None:
    order = state.create_order(**PLAIN)
    clock.advance(0.2)
    first = state.add_tag(order["id"], "a")
    clock.advance(0.2)
    second = state.add_tag(order["id"], "b")
    assert first["updatedAt"] == second["updatedAt"] == order["updatedAt"]
    assert first["tags"] != second["tags"]


def test_only_a_manual_clock_can_be_advanced(clock: ManualClock) -> None:
    state = SimulatorState(token="t", orders=0, clock=clock)
    assert state.advance(10) == START + timedelta(seconds=10)
    with pytest.raises(ManualClockRequired):
        SimulatorState(token="t", orders=0).advance(1)


async def test_changes_reach_the_search_after_the_lag_and_reads_at_once(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    clock.advance(3600)
    since = "updated_at:>='2026-07-01T12:30:00Z'"
    poll = (
        "query($q: String!) { orders(first: 50, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } } }"
    )
    created = sim.state.create_order(**PLAIN)
    assert (await caller.data(READ_ORDER, id=created["id"]))["order"]["id"] == created["id"]
    assert (await caller.data(poll, q=since))["orders"]["nodes"] == []
    clock.advance(2)
    assert [n["id"] for n in (await caller.data(poll, q=since))["orders"]["nodes"]] == [created["id"]]
    sim.state.delete(created["id"])
    assert (await caller.data(READ_ORDER, id=created["id"]))["order"] is None
    assert (await caller.data(poll, q=since))["orders"]["nodes"] == [], "a deleted order is never served"


def test_money_never_goes_through_float(state: SimulatorState) -> None:
    order = state.create_order(
        **{**PLAIN, "lineItems": [{"title": "Dime", "price": "0.1", "quantity": 3}], "shipping": "0.2"}
    )
    assert Decimal(amount(order["totalPriceSet"])) == Decimal("0.5")
