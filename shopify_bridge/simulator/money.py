"""Money as Shopify sends it: `Decimal` inside, minimal-decimal strings on the wire ("15.0", "2629.95").

Every amount exists on two sides — the shop's currency and the buyer's (presentment) currency —
so amounts travel as a `Pair` and each side is computed and rounded on its own, the way
Shopify's MoneyBags are (the two sides of a total are not a conversion of each other's total;
[FX:2025-01__money-bag-presentment-parity.json]).

Each side is rounded to its currency's smallest unit (`Units`): cents mostly, whole yen or won, and
thousandths of a Kuwaiti or Bahraini dinar (ISO 4217 minor units; inferred — the recordings only show CAD and
USD). The wire form keeps the fewest decimals, at least one (notes §2.4: "15.0", "13.5", "0.0"), so a
yen amount is "1500.0" and a dinar amount "12.345".
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypedDict

CENT = Decimal("0.01")
ZERO = Decimal("0")
SIDES = ("shop", "presentment")
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "PYG", "RWF", "KMF"})
THREE_DECIMAL = frozenset({"KWD", "BHD", "OMR", "JOD", "TND", "IQD", "LYD"})


class Pair(TypedDict):
    shop: Decimal
    presentment: Decimal


Units = Pair  # the smallest amount of each side's currency


def currency_unit(code: str) -> Decimal:
    if code in ZERO_DECIMAL:
        return Decimal("1")
    if code in THREE_DECIMAL:
        return Decimal("0.001")
    return CENT


def check_currency(code: str) -> None:
    """ValueError unless `code` looks like an ISO 4217 code (Shopify's `CurrencyCode` values are those)."""
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise ValueError(f"{code!r} is not a currency code (three capital letters, e.g. CAD, JPY, KWD)")


def units_for(shop_currency: str, presentment_currency: str) -> Units:
    return {"shop": currency_unit(shop_currency), "presentment": currency_unit(presentment_currency)}


CENTS: Units = {"shop": CENT, "presentment": CENT}


def cents(value: Decimal, unit: Decimal = CENT) -> Decimal:
    """`value` rounded half up to `unit` (a cent unless told otherwise)."""
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def wire_amount(value: Decimal, unit: Decimal = CENT) -> str:
    """Shopify's `Decimal` scalar: the fewest decimals, at least one ("15.0", "13.5", "0.0", "1500.0")."""
    text = format(cents(value, unit), "f")
    if "." in text:
        text = text.rstrip("0")
    if text.endswith("."):
        text += "0"
    elif "." not in text:
        text += ".0"
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


def scale(value: Pair, numerator: int, denominator: int, units: Units = CENTS) -> Pair:
    """`value × numerator / denominator`, rounded on each side (share of a line's amount)."""
    if denominator == 0:
        return zero_pair()
    return {
        "shop": cents(value["shop"] * numerator / denominator, units["shop"]),
        "presentment": cents(value["presentment"] * numerator / denominator, units["presentment"]),
    }


def convert(presentment: Decimal, rate: Decimal, units: Units = CENTS) -> Pair:
    """A buyer-currency amount and its shop-currency equivalent at `rate` (shop units per buyer unit)."""
    return {"shop": cents(presentment * rate, units["shop"]), "presentment": cents(presentment, units["presentment"])}


def round_each(value: Pair, units: Units, fn: Callable[[Decimal], Decimal]) -> Pair:
    """`fn` applied to each side, rounded to that side's unit."""
    return {
        "shop": cents(fn(value["shop"]), units["shop"]),
        "presentment": cents(fn(value["presentment"]), units["presentment"]),
    }


def money_bag(amounts: Pair, shop_currency: str, presentment_currency: str) -> dict[str, Any]:
    return {
        "shopMoney": {
            "amount": wire_amount(amounts["shop"], currency_unit(shop_currency)),
            "currencyCode": shop_currency,
        },
        "presentmentMoney": {
            "amount": wire_amount(amounts["presentment"], currency_unit(presentment_currency)),
            "currencyCode": presentment_currency,
        },
    }
