"""Money as Shopify sends it: `Decimal` inside, minimal-decimal strings on the wire ("15.0", "2629.95").

Every amount exists on two sides — the shop's currency and the buyer's (presentment) currency —
so amounts travel as a `Pair` and each side is computed and rounded on its own, the way
Shopify's MoneyBags are (the two sides of a total are not a conversion of each other's total).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypedDict

CENT = Decimal("0.01")
ZERO = Decimal("0")
SIDES = ("shop", "presentment")


class Pair(TypedDict):
    shop: Decimal
    presentment: Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def wire_amount(value: Decimal) -> str:
    """Shopify's `Decimal` scalar: no trailing zeros beyond one decimal place ("15.0", "13.5", "0.0")."""
    text = format(cents(value), "f")
    if text.endswith("0"):
        text = text[:-1]
    return text


def pair(shop: Decimal | str | int, presentment: Decimal | str | int) -> Pair:
    return {"shop": Decimal(shop), "presentment": Decimal(presentment)}


def zero_pair() -> Pair:
    return pair(ZERO, ZERO)


def each(value: Pair, fn: Callable[[Decimal], Decimal]) -> Pair:
    return {"shop": fn(value["shop"]), "presentment": fn(value["presentment"])}


def add(*pairs: Pair) -> Pair:
    return {
        "shop": sum((p["shop"] for p in pairs), ZERO),
        "presentment": sum((p["presentment"] for p in pairs), ZERO),
    }


def sub(left: Pair, right: Pair) -> Pair:
    return {"shop": left["shop"] - right["shop"], "presentment": left["presentment"] - right["presentment"]}


def scale(value: Pair, numerator: int, denominator: int) -> Pair:
    """`value × numerator / denominator`, rounded to cents on each side (share of a line's amount)."""
    if denominator == 0:
        return zero_pair()
    return {
        "shop": cents(value["shop"] * numerator / denominator),
        "presentment": cents(value["presentment"] * numerator / denominator),
    }


def convert(presentment: Decimal, rate: Decimal) -> Pair:
    """A buyer-currency amount and its shop-currency equivalent at `rate` (shop units per buyer unit)."""
    return {"shop": cents(presentment * rate), "presentment": cents(presentment)}


def money_bag(amounts: Pair, shop_currency: str, presentment_currency: str) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": wire_amount(amounts["shop"]), "currencyCode": shop_currency},
        "presentmentMoney": {
            "amount": wire_amount(amounts["presentment"]),
            "currencyCode": presentment_currency,
        },
    }
