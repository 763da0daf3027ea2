"""Refunds and money as Shopify sends them: several transactions of any status, nulls, voids, currencies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from shopify_bridge.shopify.queries import READ_REFUNDS
from shopify_bridge.simulator import ManualClock, SimulatorOptions, SimulatorServer
from shopify_bridge.simulator.changes import ChangeRefused
from shopify_bridge.simulator.money import wire_amount
from shopify_bridge.simulator.refunds import RefundRefused
from shopify_bridge.simulator.shop import SimulatorState
from tests.simulator.conftest import PLAIN_ORDER, Caller

REFUND_PAGE = """
query($id: ID!, $after: String) { node(id: $id) { ... on Refund {
  refundLineItems(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { id quantity } }
} } }
"""


@pytest.fixture
def state(clock: ManualClock) -> SimulatorState:
    return SimulatorState(token="t", orders=0, clock=clock, search_lag_seconds=0)


def shop_amount(bag: dict[str, Any]) -> str:
    return str(bag["shopMoney"]["amount"])


def test_a_refund_may_carry_several_transactions_of_any_status(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN_ORDER)  # 25.0 paid
    refund = state.refund(
        order["id"],
        transactions=[
            {"kind": "REFUND", "status": "FAILURE", "amount": "3"},
            {"kind": "REFUND", "status": "PENDING", "amount": "5"},
            {"kind": "REFUND", "status": "SUCCESS", "amount": "10"},
            {"kind": "REFUND", "status": "ERROR", "amount": "2"},
        ],
    )
    assert [(t["kind"], t["status"]) for t in refund["transactions"]] == [
        ("REFUND", "FAILURE"),
        ("REFUND", "PENDING"),
        ("REFUND", "SUCCESS"),
        ("REFUND", "ERROR"),
    ]
    assert shop_amount(refund["totalRefundedSet"]) == "10.0"  # only money that moved
    settled = state.settle_refund(refund["id"], "SUCCESS")
    assert shop_amount(settled["totalRefundedSet"]) == "15.0"
    assert state.order(order["id"])["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    with pytest.raises(ChangeRefused):
        state.settle_refund(refund["id"], "SUCCESS")  # nothing pending any more


def test_a_pending_refund_can_settle_to_failure_and_moves_nothing(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN_ORDER)
    refund = state.refund(order["id"], transactions=[{"status": "PENDING", "amount": "25"}])
    failed = state.settle_refund(refund["id"], "FAILURE")
    assert [t["status"] for t in failed["transactions"]] == ["FAILURE"]
    assert shop_amount(failed["totalRefundedSet"]) == "0.0"
    assert state.order(order["id"])["displayFinancialStatus"] == "PAID"


def test_unknown_kinds_statuses_and_too_much_money_are_refused(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN_ORDER)
    with pytest.raises(RefundRefused, match="kind"):
        state.refund(order["id"], transactions=[{"kind": "GIFT", "amount": "1"}])
    with pytest.raises(RefundRefused, match="status"):
        state.refund(order["id"], transactions=[{"status": "MAYBE", "amount": "1"}])
    with pytest.raises(RefundRefused, match="exceeds"):
        state.refund(order["id"], transactions=[{"amount": "20"}, {"status": "PENDING", "amount": "6"}])


def test_a_restock_only_refund_has_no_transactions_and_no_money(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN_ORDER)
    line = order["lineItems"][0]
    refund = state.refund(
        order["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}], transactions=[]
    )
    assert refund["transactions"] == [] and shop_amount(refund["totalRefundedSet"]) == "0.0"
    assert state.order(order["id"])["lineItems"][0]["currentQuantity"] == 1


def test_a_refund_may_come_without_created_at(state: SimulatorState) -> None:
    order = state.create_order(**PLAIN_ORDER)
    refund = state.refund(order["id"], amount="5", created_at_null=True)
    assert refund["createdAt"] is None and refund["updatedAt"]


def test_split_refunds_spread_the_money_over_several_transactions(clock: ManualClock) -> None:
    options = SimulatorOptions(orders=0, refund_split=3, seed=4)
    state = SimulatorState(token="t", options=options, clock=clock)
    counts = set()
    for _ in range(12):
        order = state.create_order(**PLAIN_ORDER)
        refund = state.refund_all(order["id"])
        amounts = [Decimal(t["amountSet"]["shopMoney"]["amount"]) for t in refund["transactions"]]
        assert sum(amounts) == Decimal("25") and all(a > 0 for a in amounts)
        assert shop_amount(refund["totalRefundedSet"]) == "25.0"
        counts.add(len(amounts))
    assert counts == {1, 2, 3}


def test_cancelling_a_paid_order_refunds_it_and_an_authorised_one_is_voided(state: SimulatorState) -> None:
    paid = state.create_order(**PLAIN_ORDER)
    cancelled = state.cancel(paid["id"])
    [refund] = cancelled["refunds"]
    assert [(t["kind"], t["status"]) for t in refund["transactions"]] == [("REFUND", "SUCCESS")]
    assert shop_amount(refund["totalRefundedSet"]) == "25.0"
    assert {r["restockType"] for r in refund["refundLineItems"]} == {"CANCEL"}
    assert cancelled["displayFinancialStatus"] == "REFUNDED"
    authorised = state.create_order(**{**PLAIN_ORDER, "financialStatus": "AUTHORIZED"})
    voided = state.cancel(authorised["id"])
    [void] = voided["refunds"]
    assert [(t["kind"], t["status"]) for t in void["transactions"]] == [("VOID", "SUCCESS")]
    assert voided["displayFinancialStatus"] == "VOIDED"
    assert shop_amount(void["totalRefundedSet"]) == "0.0"


async def test_refund_line_items_are_paged_with_real_page_info(clock: ManualClock) -> None:
    async with SimulatorServer(token="shpat_t", orders=0, clock=clock, search_lag_seconds=0) as sim:
        lines = [{"title": f"Part {n}", "price": "1", "quantity": 1} for n in range(300)]
        order = sim.state.create_order(**{**PLAIN_ORDER, "lineItems": lines})
        refund = sim.state.refund_all(order["id"])
        async with aiohttp.ClientSession() as session:
            caller = Caller(session, sim)
            first = (await caller.data(REFUND_PAGE, id=refund["id"]))["node"]["refundLineItems"]
            assert len(first["nodes"]) == 250 and first["pageInfo"]["hasNextPage"] is True
            rest = (await caller.data(REFUND_PAGE, id=refund["id"], after=first["pageInfo"]["endCursor"]))
            page = rest["node"]["refundLineItems"]
            assert len(page["nodes"]) == 50 and page["pageInfo"]["hasNextPage"] is False
            ids = {n["id"] for n in first["nodes"]} | {n["id"] for n in page["nodes"]}
            assert len(ids) == 300
            [read] = (await caller.data(READ_REFUNDS, ids=[refund["id"]]))["nodes"]
            assert read["refundLineItems"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("value", "unit", "wire"),
    [
        ("15", "0.01", "15.0"),
        ("13.50", "0.01", "13.5"),
        ("2629.95", "0.01", "2629.95"),
        ("0", "0.01", "0.0"),
        ("1500", "1", "1500.0"),
        ("1499.6", "1", "1500.0"),
        ("12.345", "0.001", "12.345"),
        ("12.3", "0.001", "12.3"),
    ],
)
def test_amounts_have_the_fewest_decimals(value: str, unit: str, wire: str) -> None:
    assert wire_amount(Decimal(value), Decimal(unit)) == wire


def test_zero_and_three_decimal_shops_and_a_foreign_presentment_currency(clock: ManualClock) -> None:
    yen = SimulatorState(token="t", orders=0, clock=clock, shop_currency="JPY")
    order = yen.create_order(
        lineItems=[{"title": "Board", "price": "10.5", "quantity": 2}],
        shipping="0",
        taxRate="0",
        presentmentCurrency="USD",
        rate="150.3",
        financialStatus="PAID",
    )
    total = order["totalPriceSet"]
    assert total["shopMoney"] == {"amount": "3156.0", "currencyCode": "JPY"}
    assert total["presentmentMoney"] == {"amount": "21.0", "currencyCode": "USD"}
    dinar = SimulatorState(token="t", orders=0, clock=clock, shop_currency="KWD", presentment_currencies=())
    priced = dinar.create_order(
        lineItems=[{"title": "Board", "price": "12.345", "quantity": 1}], shipping="0.5", taxRate="0"
    )
    assert priced["totalPriceSet"]["shopMoney"] == {"amount": "12.845", "currencyCode": "KWD"}
    generated = SimulatorState(token="t", orders=20, clock=clock, shop_currency="KRW", presentment_currencies=("USD",))
    amounts = [o["totalPriceSet"]["shopMoney"]["amount"] for o in generated.orders()]
    assert all(a.endswith(".0") for a in amounts)
    assert {o["presentmentCurrencyCode"] for o in generated.orders()} == {"KRW", "USD"}
    with pytest.raises(ValueError, match="currency code"):
        SimulatorState(token="t", orders=0, clock=clock, shop_currency="yen")
