"""Money as `Decimal`, from Shopify's MoneyBags to exact JSON numbers on the wire.

Shopify sends amounts as decimal strings with minimal decimals (`"15.0"`, `"13.5"`, `"2629.95"`).
They are parsed into `Decimal` and never pass through float. On the wire an amount is a JSON
*number* written with exactly the digits of its `Decimal`: Shopify's `"15.0"` becomes `15.0` (not
`15`, not `15.00`), `"2629.95"` becomes `2629.95`, and a sum keeps Decimal's own exponent
(`"7.1" + "5.0"` → `12.1`). Scientific notation is never written (`Decimal("1E+2")` → `100`).

`dumps_event` writes an event as compact one-line JSON: the envelope keys in the order of the
contract (`event_name, event_id, timestamp, properties, profile_properties, aliases`) and every
nested object's keys sorted, so the same event always gives the same bytes. `loads_event` reads
such bytes back with amounts as `Decimal`, so a stored payload round-trips exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import orjson

CurrencySide = Literal["shop", "presentment"]

ZERO = Decimal("0.0")

ENVELOPE_KEYS = ("event_name", "event_id", "timestamp", "properties", "profile_properties", "aliases")

_SIDE_KEY: dict[str, str] = {"shop": "shopMoney", "presentment": "presentmentMoney"}


def parse_amount(text: str | int | Decimal) -> Decimal:
    """A Shopify `Decimal` scalar (a string) → `Decimal`; rejects floats, NaN and infinities."""
    if isinstance(text, float):
        raise TypeError("money must not be a float")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {text!r}")
    return value


def bag_amount(bag: Mapping[str, Any] | None, side: CurrencySide) -> Decimal | None:
    """One side of a MoneyBag as `Decimal`; None when the bag (or that side) is absent."""
    if not bag:
        return None
    money = bag.get(_SIDE_KEY[side])
    if not money or money.get("amount") is None:
        return None
    return parse_amount(money["amount"])


def sum_amounts(amounts: Iterable[Decimal]) -> Decimal:
    """Exact sum; the empty sum is `0.0` (Shopify's own way of writing zero)."""
    total = ZERO
    for amount in amounts:
        total += amount
    return total


def other_side(side: CurrencySide) -> CurrencySide:
    return "presentment" if side == "shop" else "shop"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"amount is not finite: {value}")
        # A Fragment is written verbatim, so the number keeps exactly the Decimal's digits.
        return orjson.Fragment(format(value, "f").encode())
    raise TypeError(f"{type(value).__name__} is not JSON serializable in an event")


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value


def canonical_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with envelope keys in contract order (extras after, sorted) and nested keys sorted."""
    ordered: dict[str, Any] = {key: _sorted(event[key]) for key in ENVELOPE_KEYS if key in event}
    for key in sorted(set(event) - set(ENVELOPE_KEYS)):
        ordered[key] = _sorted(event[key])
    return ordered


def dumps_event(event: Mapping[str, Any]) -> bytes:
    """Compact one-line JSON of an event; `Decimal` amounts become exact JSON numbers."""
    return orjson.dumps(canonical_event(event), default=_json_default)


def loads_event(data: bytes | str) -> dict[str, Any]:
    """Read `dumps_event` output back; every non-integer number becomes a `Decimal`."""
    text = data.decode() if isinstance(data, bytes) else data
    loaded: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return loaded
