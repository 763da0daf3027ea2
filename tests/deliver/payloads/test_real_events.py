"""The builders on events made by the bridge's own mapping and stored as it stores them.

The golden envelopes are hand-written; these come from `build_placed_order`/`build_received_refund` on
the mapping tests' order documents, written with `dumps_event` and read back with `loads_event` (what
the outbox holds), so a change in the envelope that the payloads rely on shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.mapping import build_placed_order, build_received_refund, dumps_event, loads_event
from shopify_bridge.decide.money import CurrencySide
from shopify_bridge.deliver.payloads import DestinationRequest, OrderFacts, build_request, filtered_by
from tests.deliver.payloads import config_entries
from tests.unit.test_mapping_placed import STORE, line_item, money, order_doc, refund_detail, refund_line

NOW = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)


def stored(event: dict[str, Any]) -> dict[str, Any]:
    return loads_event(dumps_event(event))


def placed(doc: dict[str, Any], currency: CurrencySide = "shop") -> dict[str, Any]:
    event = build_placed_order(
        doc, store_domain=STORE, currency=currency, channel_table=DEFAULT_CHANNEL_TABLE, is_new_customer=True
    )
    return stored(event)


def refund_of(doc: dict[str, Any]) -> dict[str, Any]:
    outcome = build_received_refund(
        doc, doc["refunds"][0], store_domain=STORE, currency="shop", channel_table=DEFAULT_CHANNEL_TABLE
    )
    assert outcome.event is not None
    return stored(outcome.event)


def sent(kind: str, envelope: dict[str, Any], order: OrderFacts) -> DestinationRequest:
    settings = {"ga4": config_entries.ga4(), "meta_capi": config_entries.meta(), "segment": config_entries.segment()}
    result = build_request(settings[kind], envelope, now=NOW, order=order)
    assert isinstance(result, DestinationRequest)
    return result


def test_a_mapped_placed_order_reaches_every_destination() -> None:
    doc = order_doc(customAttributes=[{"key": "_ga", "value": "GA1.1.42.43"}])
    envelope, order = placed(doc), OrderFacts.from_order_doc(doc)
    ga4 = sent("ga4", envelope, order).body
    assert ga4["client_id"] == "42.43" and ga4["user_id"] == "7001"
    params = ga4["events"][0]["params"]
    assert (params["value"], params["currency"], params["coupon"]) == (Decimal("27.0"), "CAD", "SAVE5")
    assert [item["item_id"] for item in params["items"]] == ["SB-11", "SB-12"]
    meta = sent("meta_capi", envelope, order).body["data"][0]
    assert set(meta["user_data"]) == {"em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id"}
    assert meta["custom_data"]["contents"][0] == {"id": "1101", "quantity": 2, "item_price": Decimal("12.0")}
    segment = sent("segment", envelope, order).body
    # current totals of an unrefunded order: 27.0 − 2.7 − 7.5
    assert segment["properties"]["revenue"] == Decimal("16.8")
    assert segment["context"]["traits"]["email"] == "Ann@Example.com"


def test_presentment_side_money_is_what_is_sent() -> None:
    envelope = placed(order_doc(), currency="presentment")
    body = sent("segment", envelope, OrderFacts()).body
    assert (body["properties"]["currency"], body["properties"]["total"]) == ("USD", Decimal("18.0"))
    assert body["properties"]["products"][0]["price"] == Decimal("8.0")


def test_a_mapped_refund_reaches_ga4_and_segment_with_its_orders_facts() -> None:
    refund = refund_detail(refundLineItems=[refund_line(11, 1)])
    doc = order_doc(refunds=[refund], lineItems=[line_item(11, quantity=2, currentQuantity=1)],
                    totalRefundedSet=money("15.0", "10.0"))
    envelope, order = refund_of(doc), OrderFacts.from_order_doc(doc)
    ga4 = sent("ga4", envelope, order).body
    assert ga4["client_id"] == "5801234567890.1777629600"  # processedAt of the order, not of the refund
    assert ga4["user_id"] == "7001"
    assert ga4["events"][0]["params"]["value"] == Decimal("15.0")
    segment = sent("segment", envelope, order).body
    assert segment["event"] == "Order Refunded" and segment["userId"] == "7001"
    assert filtered_by(config_entries.http(exclude_tags=["VIP"]), envelope, order) == "exclude_tags"


def test_unknown_destination_types_have_no_payload() -> None:
    with pytest.raises(ValueError, match="http"):
        build_request(config_entries.http(), placed(order_doc()), now=NOW)
