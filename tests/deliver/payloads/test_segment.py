"""Segment-compatible Track payloads: identity, Decimal-exact revenue, products, auth, URL."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from shopify_bridge.deliver.payloads import DestinationRequest, PayloadError, build_segment_request
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import D, placed_order, received_refund


def request_of(envelope: dict[str, Any], **settings: Any) -> DestinationRequest:
    result = build_segment_request(envelope, config_entries.segment(**settings))
    assert isinstance(result, DestinationRequest)
    return result


def test_user_id_when_there_is_a_customer() -> None:
    body = request_of(placed_order()).body
    assert body["userId"] == "7001"
    assert "anonymousId" not in body


def test_anonymous_id_is_the_checkout_token_else_the_order_id() -> None:
    guest = request_of(placed_order(customer_id=None)).body
    assert guest["anonymousId"] == "chk-1" and "userId" not in guest
    no_checkout = request_of(placed_order(customer_id=None, checkout_token=None)).body
    assert no_checkout["anonymousId"] == "5801234567890"


def test_a_refund_finds_its_customer_and_checkout_in_the_aliases() -> None:
    assert request_of(received_refund(aliases=["urn:user_id:7001"])).body["userId"] == "7001"
    by_checkout = request_of(received_refund(aliases=["urn:email:a@b.co", "urn:checkout_token:chk-9"])).body
    assert by_checkout["anonymousId"] == "chk-9"
    assert request_of(received_refund(aliases=["urn:email:a@b.co"])).body["anonymousId"] == "5801234567890"


@pytest.mark.parametrize(
    ("total", "tax", "shipping", "revenue"),
    [
        (D("27.0"), D("2.7"), D("7.5"), "16.8"),  # float arithmetic gives 16.799999999999997
        (D("12.345"), D("1.123"), D("0.500"), "10.722"),  # KWD: three decimals kept
        (3300, 300, 0, "3000"),  # JPY stored as whole numbers
        (D("1500.0"), D("0.0"), D("0.0"), "1500.0"),  # JPY as Shopify writes it
        (D("0.3"), D("0.1"), D("0.2"), "0.0"),
    ],
)
def test_revenue_is_decimal_exact(total: Any, tax: Any, shipping: Any, revenue: str) -> None:
    envelope = placed_order(total_price=total, total_tax=tax, total_shipping=shipping)
    request = request_of(envelope)
    assert request.body["properties"]["revenue"] == Decimal(revenue)
    assert f'"revenue":{revenue},'.encode() in request.body_bytes()


def test_revenue_without_shipping_counts_it_as_zero_and_sends_no_shipping() -> None:
    properties = request_of(placed_order(total_shipping=None)).body["properties"]
    assert properties["revenue"] == D("24.3")
    assert "shipping" not in properties


def test_order_completed_properties() -> None:
    body = request_of(placed_order(coupon="SAVE5")).body
    assert body["type"] == "track" and body["event"] == "Order Completed"
    assert body["messageId"] == "5801234567890"
    assert body["timestamp"] == "2026-05-01T10:00:00+00:00"
    assert body["properties"] == {
        "order_id": "5801234567890",
        "total": D("27.0"),
        "revenue": D("16.8"),
        "tax": D("2.7"),
        "shipping": D("7.5"),
        "discount": D("1.2"),
        "coupon": "SAVE5",
        "currency": "CAD",
        "products": [
            {"product_id": "1100", "sku": "SB-11", "name": "Board 11", "variant": "Blue", "price": D("12.0"),
             "quantity": 2}
        ],
    }
    assert body["context"] == {"traits": {"email": "ann@example.com"}}


def test_order_refunded_carries_the_refund_only() -> None:
    body = request_of(received_refund()).body
    assert body["event"] == "Order Refunded"
    assert body["messageId"] == "5801234567890-refund-1"
    assert body["timestamp"] == "2026-05-03T09:12:44+00:00"
    assert body["properties"] == {
        "order_id": "5801234567890",
        "total": D("15.0"),
        "currency": "CAD",
        "products": [{"product_id": "1100", "sku": "SB-11", "name": "Board 11", "price": D("12.0"), "quantity": 1}],
    }


def test_custom_line_items_are_left_out_of_products() -> None:
    items = [
        {"name": "Custom engraving", "price": D("4.0"), "quantity": 1},
        {"variant_id": "22", "name": "Only a variant", "price": D("1.0"), "quantity": 1},
    ]
    products = request_of(placed_order(items=items)).body["properties"]["products"]
    assert products == [{"name": "Only a variant", "price": D("1.0"), "quantity": 1}]


def test_basic_auth_is_the_write_key_with_an_empty_password() -> None:
    request = request_of(placed_order())
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token) == b"seg-write-key:"
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("https://api.segment.io/v1", "https://api.segment.io/v1/track"),
        ("https://eu1.api.segmentapis.com/v1/", "https://eu1.api.segmentapis.com/v1/track"),
        ("https://acme.dataplane.rudderstack.com/v1", "https://acme.dataplane.rudderstack.com/v1/track"),
    ],
)
def test_url_is_the_endpoint_plus_track(endpoint: str, url: str) -> None:
    assert request_of(placed_order(), endpoint=endpoint).url == url


def test_a_float_price_is_refused() -> None:
    items = [{"product_id": "1", "variant_id": "11", "price": 12.0, "quantity": 1}]
    with pytest.raises(PayloadError, match="price"):
        build_segment_request(placed_order(items=items), config_entries.segment())
