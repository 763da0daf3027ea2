"""Money parsing and the wire JSON of events: exact numbers, stable bytes, one line."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopify_bridge.decide.money import bag_amount, dumps_event, loads_event, parse_amount, sum_amounts

D = Decimal


def event(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_name": "Placed Order",
        "event_id": "1",
        "timestamp": "2026-05-01T10:00:00+00:00",
        "properties": properties,
        "profile_properties": {},
        "aliases": ["urn:shopify_order_id:1"],
    }


@pytest.mark.parametrize(
    ("shopify", "wire"),
    [
        ("2629.95", b"2629.95"),
        ("15.0", b"15.0"),
        ("0.0", b"0.0"),
        ("13.5", b"13.5"),
        ("-7.10", b"-7.10"),
        ("1E+2", b"100"),
        ("123456789012345678.99", b"123456789012345678.99"),
    ],
)
def test_amounts_keep_shopifys_digits(shopify: str, wire: bytes) -> None:
    assert (
        dumps_event(event({"total_price": parse_amount(shopify)})).count(b'"total_price":' + wire + b"}") == 1
    )


def test_sums_of_awkward_amounts_do_not_drift() -> None:
    awkward = ["0.1", "0.2", "0.7", "1.1", "2.675", "1.005", "0.3", "4.35", "19.99", "0.01"] * 7
    total = sum_amounts(parse_amount(value) for value in awkward)
    assert total == D("213.010")
    assert sum(float(value) for value in awkward) != 213.01  # what a float path gets wrong
    wire = dumps_event(event({"total_refunded": total, "pair": sum_amounts([D("0.1"), D("0.2")])}))
    assert b'"total_refunded":213.010' in wire
    assert b'"pair":0.3' in wire
    assert loads_event(wire)["properties"]["pair"] == D("0.3")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12))
def test_any_amount_round_trips_exactly(amount: Decimal) -> None:
    wire = dumps_event(event({"amount": amount, "items": [{"price": amount}]}))
    back = loads_event(wire)["properties"]
    assert back["amount"] == amount and back["items"][0]["price"] == amount
    assert json.loads(wire)  # and it is plain JSON for any other reader


def test_same_event_gives_the_same_bytes_whatever_the_key_order() -> None:
    first = event({"b": 1, "a": {"y": 2, "x": 1}, "items": [{"q": 1, "p": 2}]})
    second = {key: first[key] for key in reversed(list(first))}
    second["properties"] = {"items": [{"p": 2, "q": 1}], "a": {"x": 1, "y": 2}, "b": 1}
    assert dumps_event(first) == dumps_event(second)
    assert dumps_event(second).startswith(b'{"event_name":"Placed Order","event_id":"1","timestamp":')
    assert b'"properties":{"a":{"x":1,"y":2},"b":1,"items":[{"p":2,"q":1}]}' in dumps_event(second)


def test_wire_is_compact_one_line_utf8() -> None:
    wire = dumps_event(event({"name": "Planche à neige", "note": "line1\nline2"}))
    assert b"\n" not in wire and b": " not in wire and b", " not in wire
    assert "Planche à neige".encode() in wire


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps_event(event({"when": object()}))
    with pytest.raises(TypeError):
        dumps_event(event({"amount": D("NaN")}))


def test_parse_amount_refuses_floats_and_garbage() -> None:
    with pytest.raises(TypeError):
        parse_amount(0.1)  # type: ignore[arg-type]
    for bad in ("abc", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_bag_amount_reads_one_side_and_tolerates_absence() -> None:
    bag = {
        "shopMoney": {"amount": "13.5", "currencyCode": "CAD"},
        "presentmentMoney": {"amount": "9.0", "currencyCode": "USD"},
    }
    assert (bag_amount(bag, "shop"), bag_amount(bag, "presentment")) == (D("13.5"), D("9.0"))
    assert bag_amount(None, "shop") is None
    assert bag_amount({"shopMoney": {"amount": "1.0", "currencyCode": "CAD"}}, "presentment") is None


def test_empty_sum_is_zero() -> None:
    assert sum_amounts([]) == D("0.0")
    assert dumps_event(event({"x": sum_amounts([])})).count(b'"x":0.0') == 1
