"""Meta Conversions API payloads: the Purchase event, action_source, contents, and the skips."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopify_bridge.deliver.payloads import (
    NO_USER_DATA,
    TOO_OLD_FOR_DESTINATION,
    UNSUPPORTED_EVENT,
    DestinationRequest,
    Skip,
    build_meta_capi_request,
)
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import D, placed_order, received_refund

EVENT_AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
NOW = EVENT_AT + timedelta(hours=1)


def event_of(envelope: dict[str, Any], **settings: Any) -> dict[str, Any]:
    result = build_meta_capi_request(envelope, config_entries.meta(**settings), now=NOW)
    assert isinstance(result, DestinationRequest)
    assert len(result.body["data"]) == 1
    event: dict[str, Any] = result.body["data"][0]
    return event


def test_purchase_event_fields() -> None:
    event = event_of(placed_order())
    assert event["event_name"] == "Purchase"
    assert event["event_time"] == 1777629600
    assert event["event_id"] == "5801234567890"
    assert event["custom_data"] == {
        "currency": "CAD",
        "value": D("27.0"),
        "order_id": "5801234567890",
        "content_type": "product",
        "contents": [{"id": "1101", "quantity": 2, "item_price": D("12.0")}],
    }
    assert event["user_data"] == {
        "em": [hashlib.sha256(b"ann@example.com").hexdigest()],
        "external_id": [hashlib.sha256(b"7001").hexdigest()],
    }


@pytest.mark.parametrize(
    ("channel", "source"),
    [("pos", "physical_store"), ("POS", "physical_store"), ("web", "website"), ("marketplace", "website"),
     (None, "website")],
)
def test_action_source(channel: str | None, source: str) -> None:
    assert event_of(placed_order(**{"$sales_channel_type": channel}))["action_source"] == source


def test_contents_leave_out_lines_without_a_variant() -> None:
    items = [
        {"product_id": "1", "variant_id": "11", "price": D("1.0"), "quantity": 3},
        {"product_id": "2", "name": "variant deleted", "price": D("2.0"), "quantity": 1},
        {"name": "Custom engraving", "price": D("4.0"), "quantity": 1},
    ]
    contents = event_of(placed_order(items=items))["custom_data"]["contents"]
    assert contents == [{"id": "11", "quantity": 3, "item_price": D("1.0")}]


def test_access_token_in_the_body_and_the_url_per_pixel() -> None:
    result = build_meta_capi_request(
        placed_order(), config_entries.meta(endpoint="https://graph.facebook.com/v22.0/"), now=NOW
    )
    assert isinstance(result, DestinationRequest)
    assert result.url == "https://graph.facebook.com/v22.0/1234567890/events"
    assert result.body["access_token"] == config_entries.META_TOKEN
    assert "test_event_code" not in result.body
    assert result.headers == {"Content-Type": "application/json"}


def test_test_event_code_when_configured() -> None:
    result = build_meta_capi_request(placed_order(), config_entries.meta(test_event_code="TEST4321"), now=NOW)
    assert isinstance(result, DestinationRequest)
    assert result.body["test_event_code"] == "TEST4321"


@pytest.mark.parametrize(
    ("age", "sent"), [(timedelta(days=7), True), (timedelta(days=7, seconds=1), False), (timedelta(hours=80), True)],
)
def test_events_older_than_7_days_are_skipped(age: timedelta, sent: bool) -> None:
    result = build_meta_capi_request(placed_order(), config_entries.meta(), now=EVENT_AT + age)
    if sent:
        assert isinstance(result, DestinationRequest)
    else:
        assert result == Skip(
            TOO_OLD_FOR_DESTINATION,
            "event time 2026-05-01T10:00:00+00:00 is more than 168 h before 2026-05-08T10:00:01+00:00; "
            "Meta Conversions API takes no older events",
        )


def test_a_buyer_with_nothing_to_match_on_is_skipped() -> None:
    anonymous = placed_order(customer_id=None, **{"$email": None})
    result = build_meta_capi_request(anonymous, config_entries.meta(), now=NOW)
    assert isinstance(result, Skip)
    assert result.reason == NO_USER_DATA


def test_a_refund_is_not_a_purchase() -> None:
    result = build_meta_capi_request(received_refund(), config_entries.meta(), now=NOW)
    assert isinstance(result, Skip)
    assert result.reason == UNSUPPORTED_EVENT
