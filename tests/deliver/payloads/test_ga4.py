"""GA4 Measurement Protocol payloads: client id rules, the 72-hour guard, refunds, items, the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopify_bridge.deliver.payloads import (
    TOO_OLD_FOR_DESTINATION,
    DestinationRequest,
    OrderFacts,
    PayloadError,
    Skip,
    build_ga4_request,
)
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import D, placed_order, received_refund

EVENT_AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
NOW = EVENT_AT + timedelta(hours=1)


def request_of(envelope: dict[str, Any], order: OrderFacts | None = None, **settings: Any) -> DestinationRequest:
    result = build_ga4_request(envelope, config_entries.ga4(**settings), now=NOW, order=order)
    assert isinstance(result, DestinationRequest)
    return result


def client_id_of(envelope: dict[str, Any], *attributes: tuple[str, str], processed_at: str | None = None) -> str:
    order = OrderFacts(processed_at=processed_at, custom_attributes=[{"key": k, "value": v} for k, v in attributes])
    return str(request_of(envelope, order).body["client_id"])


def test_client_id_is_the_ga_cookie_without_its_prefix() -> None:
    assert client_id_of(placed_order(), ("_ga", "GA1.1.1234567890.1714500000")) == "1234567890.1714500000"
    assert client_id_of(placed_order(), ("_ga", "GA1.2.555.666")) == "555.666"  # domain depth 2
    assert client_id_of(placed_order(), ("_ga", " 555.666 ")) == "555.666"  # already bare


def test_the_ga_cookie_wins_over_google_client_id() -> None:
    got = client_id_of(placed_order(), ("google_client_id", "111.222"), ("_ga", "GA1.1.333.444"))
    assert got == "333.444"


def test_google_client_id_when_there_is_no_ga_cookie() -> None:
    assert client_id_of(placed_order(), ("google_client_id", "111.222")) == "111.222"
    assert client_id_of(placed_order(), ("_ga", "  "), ("google_client_id", "111.222")) == "111.222"


def test_client_id_falls_back_to_order_id_and_processed_at() -> None:
    # 2026-05-01T10:00:00Z = 1777629600 (date -u -d 2026-05-01T10:00:00Z +%s)
    assert client_id_of(placed_order()) == "5801234567890.1777629600"
    assert client_id_of(placed_order(), ("note", "gift")) == "5801234567890.1777629600"


def test_a_refund_gets_its_orders_client_id() -> None:
    refund = received_refund()
    assert client_id_of(refund, processed_at="2026-05-01T10:00:00Z") == "5801234567890.1777629600"
    assert client_id_of(refund, ("_ga", "GA1.1.9.8")) == "9.8"


def test_a_refund_without_its_orders_processed_at_is_an_error_not_a_guess() -> None:
    with pytest.raises(PayloadError, match="processedAt"):
        build_ga4_request(received_refund(), config_entries.ga4(), now=NOW)


def test_user_id_is_the_customer_id_and_absent_for_guests() -> None:
    assert request_of(placed_order()).body["user_id"] == "7001"
    assert "user_id" not in request_of(placed_order(customer_id=None)).body
    assert request_of(received_refund(), OrderFacts(processed_at="2026-05-01T10:00:00Z")).body["user_id"] == "7001"


def test_timestamp_micros_is_the_event_time() -> None:
    assert request_of(placed_order()).body["timestamp_micros"] == 1777629600 * 1_000_000


@pytest.mark.parametrize(
    ("age", "sent"),
    [(timedelta(hours=72), True), (timedelta(hours=72, seconds=1), False), (timedelta(days=30), False)],
)
def test_events_older_than_72_hours_are_skipped(age: timedelta, sent: bool) -> None:
    result = build_ga4_request(placed_order(), config_entries.ga4(), now=EVENT_AT + age)
    if sent:
        assert isinstance(result, DestinationRequest)
    else:
        assert isinstance(result, Skip)
        assert result.reason == TOO_OLD_FOR_DESTINATION
        assert "is more than 72 h before" in result.detail and result.detail.endswith("GA4 takes no older events")


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_ga4_request(placed_order(), config_entries.ga4(), now=datetime(2026, 5, 1, 11, 0))


def test_coupon_only_when_the_order_has_codes() -> None:
    assert request_of(placed_order(coupon="A,B")).body["events"][0]["params"]["coupon"] == "A,B"
    assert "coupon" not in request_of(placed_order()).body["events"][0]["params"]


def test_item_id_is_sku_else_variant_id_and_custom_lines_are_left_out() -> None:
    items = [
        {"product_id": "1", "variant_id": "11", "sku": "S-1", "name": "A", "price": D("1.0"), "quantity": 1},
        {"product_id": "2", "variant_id": "22", "name": "B", "price": D("2.0"), "quantity": 1},
        {"product_id": "3", "name": "C (variant deleted)", "price": D("3.0"), "quantity": 1},
        {"name": "Custom engraving", "price": D("4.0"), "quantity": 1},
    ]
    got = request_of(placed_order(items=items)).body["events"][0]["params"]["items"]
    assert got == [
        {"item_id": "S-1", "item_name": "A", "price": D("1.0"), "quantity": 1},
        {"item_id": "22", "item_name": "B", "price": D("2.0"), "quantity": 1},
        {"item_name": "C (variant deleted)", "price": D("3.0"), "quantity": 1},
    ]


def test_refund_params_are_the_refunds_own() -> None:
    refund = received_refund(total_refunded=D("15.0"), refund_shipping=D("3.0"))
    event = request_of(refund, OrderFacts(processed_at="2026-05-01T10:00:00Z")).body["events"][0]
    assert event["name"] == "refund"
    assert event["params"] == {
        "transaction_id": "5801234567890",
        "value": D("15.0"),
        "currency": "CAD",
        "shipping": D("3.0"),
        "items": [{"item_id": "SB-11", "item_name": "Board 11", "price": D("12.0"), "quantity": 1}],
    }


def test_url_carries_measurement_id_and_api_secret() -> None:
    got = request_of(placed_order(), endpoint="https://region1.google-analytics.com/mp/collect")
    assert got.url == (
        "https://region1.google-analytics.com/mp/collect?measurement_id=G-TEST123&api_secret=ga4-secret-value"
    )
    validation = request_of(placed_order(), endpoint="https://www.google-analytics.com/debug/mp/collect")
    assert validation.url.startswith("https://www.google-analytics.com/debug/mp/collect?measurement_id=")


def test_url_keeps_a_query_the_endpoint_already_has_and_escapes_the_secret() -> None:
    got = request_of(placed_order(), endpoint="https://proxy.example/mp/collect?x=1", api_secret="a&b=c")
    assert got.url == "https://proxy.example/mp/collect?x=1&measurement_id=G-TEST123&api_secret=a%26b%3Dc"


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(PayloadError, match="total_price"):
        build_ga4_request(placed_order(total_price=27.0), config_entries.ga4(), now=NOW)


@pytest.mark.parametrize(
    "broken",
    [
        {"event_name": "Order Edited"},
        {"event_id": ""},
        {"timestamp": "yesterday"},
        {"properties": None},
    ],
)
def test_a_malformed_envelope_is_a_payload_error(broken: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        build_ga4_request({**placed_order(), **broken}, config_entries.ga4(), now=NOW)
