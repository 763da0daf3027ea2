"""Seeded data: reproducible, shaped like the recordings, and arithmetically consistent."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from shopify_bridge.simulator import ManualClock, SimulatorState
from shopify_bridge.simulator.data import APP_SOURCE_ID
from tests.simulator.conftest import START

SIDES = ("shopMoney", "presentmentMoney")
SHOPIFY_DECIMAL = re.compile(r"^-?\d+\.(\d|\d[1-9])$")  # "15.0", "13.5", "2629.95" — never "15.00"


@pytest.fixture(scope="module")
def shop() -> list[dict[str, Any]]:
    return SimulatorState(token="t", seed=11, orders=250, clock=ManualClock(START)).orders()


def money(bag: dict[str, Any] | None, side: str) -> Decimal:
    return Decimal(bag[side]["amount"]) if bag else Decimal(0)


def bags(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        if set(value) == {"shopMoney", "presentmentMoney"}:
            found.append(value)
        for inner in value.values():
            found += bags(inner)
    elif isinstance(value, list):
        for inner in value:
            found += bags(inner)
    return found


def test_a_seed_reproduces_the_shop_and_another_seed_does_not() -> None:
    def fingerprint(seed: int) -> list[tuple[str, str, str]]:
        state = SimulatorState(token="t", seed=seed, orders=15, clock=ManualClock(START))
        return [(o["id"], o["updatedAt"], o["totalPriceSet"]["shopMoney"]["amount"]) for o in state.orders()]

    assert fingerprint(5) == fingerprint(5)
    assert fingerprint(5) != fingerprint(6)


def test_every_amount_uses_shopifys_minimal_decimals(shop: list[dict[str, Any]]) -> None:
    every = [bag for order in shop for bag in bags(order)]
    assert len(every) > 1000
    for bag in every:
        for side in SIDES:
            assert SHOPIFY_DECIMAL.match(bag[side]["amount"]), bag
    assert any(bag["shopMoney"]["amount"].endswith(".0") for bag in every)


def test_the_mix_looks_like_a_real_shop(shop: list[dict[str, Any]]) -> None:
    sources = Counter(o["sourceName"] for o in shop)
    assert {"web", "pos", "shopify_draft_order", "mobile_app", "3890849", APP_SOURCE_ID} <= set(sources)
    assert sources["web"] == max(sources.values())
    assert any(o["presentmentCurrencyCode"] != o["currencyCode"] for o in shop), "multi-currency orders"
    assert any(o["customer"] is None for o in shop) and any(o["customer"] for o in shop), (
        "guests and customers"
    )
    assert any(o["test"] for o in shop) and any("Exclude" in o["tags"] for o in shop)
    assert any(o["discountCodes"] for o in shop)
    assert {o["taxesIncluded"] for o in shop} == {True, False}
    assert any(o["billingAddress"] is None for o in shop) and any(o["shippingAddress"] is None for o in shop)
    assert (
        any(o["cancelledAt"] for o in shop)
        and any(o["refunds"] for o in shop)
        and any(o["edited"] for o in shop)
    )
    customers = Counter(o["customer"]["id"] for o in shop if o["customer"])
    assert max(customers.values()) > 1, "returning customers"


def test_online_orders_carry_checkout_tokens_and_pos_orders_do_not(shop: list[dict[str, Any]]) -> None:
    for order in shop:
        if order["sourceName"] == "web":
            assert re.fullmatch(r"[0-9a-f]{32}", order["checkoutToken"])
        if order["sourceName"] in ("pos", "shopify_draft_order", APP_SOURCE_ID):
            assert order["checkoutToken"] is None and order["cartToken"] is None
        if order["sourceName"] == "pos":
            assert order["retailLocation"] is not None and order["shippingAddress"] is None


def test_customers_and_line_items_have_the_recorded_shapes(shop: list[dict[str, Any]]) -> None:
    customer = next(o["customer"] for o in shop if o["customer"])
    assert customer["id"].startswith("gid://shopify/Customer/") and customer["legacyResourceId"].isdigit()
    assert set(customer) >= {
        "firstName",
        "lastName",
        "defaultEmailAddress",
        "defaultPhoneNumber",
        "defaultAddress",
    }
    assert "@" in customer["defaultEmailAddress"]["emailAddress"]
    lines = [line for o in shop for line in o["lineItems"]]
    custom = [line for line in lines if line["product"] is None]
    assert custom and all(
        line["variant"] is None and line["sku"] is None and line["image"] is None for line in custom
    )
    catalogue = [line for line in lines if line["product"]]
    assert all(
        line["variant"]["legacyResourceId"] == line["variant"]["id"].rsplit("/", 1)[1] for line in catalogue
    )
    assert any(line["image"] is None for line in catalogue) and any(line["image"] for line in catalogue)
    for order in shop:
        assert order["legacyResourceId"] == order["id"].rsplit("/", 1)[1]
        assert order["name"] == f"#{order['number']}"


def test_totals_are_consistent_on_both_currency_sides(shop: list[dict[str, Any]]) -> None:
    for order in shop:
        included = order["taxesIncluded"]
        for side in SIDES:
            lines = sum(
                (money(li["originalUnitPriceSet"], side) * li["quantity"] for li in order["lineItems"]),
                Decimal(0),
            )
            current_lines = sum(
                (
                    money(li["originalUnitPriceSet"], side) * li["currentQuantity"]
                    for li in order["lineItems"]
                ),
                Decimal(0),
            )
            shipping = money(order["totalShippingPriceSet"], side)
            tax, current_tax = money(order["totalTaxSet"], side), money(order["currentTotalTaxSet"], side)
            expected = lines - money(order["totalDiscountsSet"], side) + shipping + (0 if included else tax)
            assert money(order["totalPriceSet"], side) == expected, order["name"]
            expected_current = (
                current_lines
                - money(order["currentTotalDiscountsSet"], side)
                + shipping
                - money(order["totalRefundedShippingSet"], side)
                + (0 if included else current_tax)
            )
            assert money(order["currentTotalPriceSet"], side) == expected_current, order["name"]
        refunded = sum((money(r["totalRefundedSet"], "shopMoney") for r in order["refunds"]), Decimal(0))
        assert money(order["totalRefundedSet"], "shopMoney") == refunded
