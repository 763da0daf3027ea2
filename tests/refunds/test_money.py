"""Money in 0- and 3-decimal currencies, end to end: Shopify's decimal strings become the exact JSON numbers
in the delivered events, on the shop side and the presentment side, for orders and refunds."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from tests.e2e.test_walking_skeleton import T0, TOKEN, make_config
from tests.refunds.rig import every_line

# (shop currency, presentment currency, shop units per presentment unit, the buyer's prices: tea, cup, shipping)
PAIRS = [
    ("JPY", "KWD", "483.1", ("3.217", "0.5", "1.234")),
    ("KRW", "BHD", "3571.7", ("3.217", "0.5", "1.234")),
    ("KWD", "JPY", "0.00207", ("3217", "500", "1234")),
    ("BHD", "KRW", "0.000281", ("32170", "5000", "12340")),
]


def side(bag: dict[str, Any], which: str) -> str:
    return str(bag["shopMoney" if which == "shop" else "presentmentMoney"]["amount"])


def lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each delivered line, raw and parsed with every non-integer number as a Decimal."""
    return [(raw, json.loads(raw, parse_float=Decimal)) for raw in path.read_text().splitlines()]


@pytest.mark.parametrize("currency", ["shop", "presentment"])
@pytest.mark.parametrize(("shop_ccy", "buyer_ccy", "rate", "prices"), PAIRS)
async def test_amounts_are_shopifys_own_digits_on_both_sides(
    tmp_path: Path, shop_ccy: str, buyer_ccy: str, rate: str, prices: tuple[str, str, str], currency: str
) -> None:
    tea_price, cup_price, shipping = prices
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, orders=0, clock=clock, search_lag_seconds=0, shop_currency=shop_ccy,
                               presentment_currencies=(buyer_ccy,)) as sim:
        config = make_config(tmp_path, sim.url, upsell_delay=False, currency=currency)
        bridge = Bridge(config, clock=clock)
        try:
            assert await bridge.run_once() == 0
            order = sim.state.create_order(
                sourceName="web", test=False, tags=[], financialStatus="PAID", taxRate="0.1", shipping=shipping,
                discountCodes=[], presentmentCurrency=buyer_ccy, rate=rate,
                lineItems=[{"title": "Tea", "price": tea_price, "quantity": 3},
                           {"title": "Cup", "price": cup_price, "quantity": 1}],
            )
            clock.advance(5)
            assert await bridge.run_once() == 0
            refund = sim.state.refund(order["id"], every_line(order)[:1], shipping=True)
            clock.advance(5)
            assert await bridge.run_once() == 0
        finally:
            bridge.close()
    (placed_raw, placed), (refund_raw, received) = lines(tmp_path / "events.jsonl")
    other = "presentment" if currency == "shop" else "shop"
    total = side(order["currentTotalPriceSet"], currency)
    assert placed["properties"]["total_price"] == Decimal(total)
    assert f'"total_price":{total},' in placed_raw                          # Shopify's digits, verbatim
    assert f'"{other}_total_price":{side(order["currentTotalPriceSet"], other)},' in placed_raw
    assert placed["properties"]["total_tax"] == Decimal(side(order["currentTotalTaxSet"], currency))
    assert placed["properties"]["total_shipping"] == Decimal(side(order["totalShippingPriceSet"], currency))
    assert placed["properties"]["currency"] == (shop_ccy if currency == "shop" else buyer_ccy)
    [tea, cup] = placed["properties"]["items"]
    assert tea["price"] == Decimal(side(order["lineItems"][0]["originalUnitPriceSet"], currency))
    assert cup["price"] == Decimal(side(order["lineItems"][1]["originalUnitPriceSet"], currency))
    refunded = {which: sum((Decimal(side(t["amountSet"], which)) for t in refund["transactions"]
                            if t["kind"] == "REFUND" and t["status"] == "SUCCESS"), Decimal("0.0"))
                for which in ("shop", "presentment")}
    props = received["properties"]
    assert props["total_refunded"] == refunded[currency]
    assert re.search(f'"total_refunded":{re.escape(str(refunded[currency]))}[,}}]', refund_raw)
    assert props[f"{other}_total_refunded"] == refunded[other]
    assert props["refund_shipping"] == Decimal(side(refund["refundShippingLines"][0]["subtotalAmountSet"], currency))
    [item] = props["items"]
    assert item["subtotal"] == Decimal(side(refund["refundLineItems"][0]["subtotalSet"], currency))
    assert re.search(r'"total_refunded":-?[0-9.]+[eE]', refund_raw) is None      # never exponent notation
