"""Received Refund mapping and the waiting / zero-amount outcomes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.mapping import RefundOutcome, build_received_refund, dumps_event
from tests.unit.test_mapping_placed import STORE, line_item, money, order_doc, refund_detail, refund_line

D = Decimal


def transaction(
    amount: str,
    presentment: str | None = None,
    *,
    kind: str = "REFUND",
    status: str = "SUCCESS",
    num: int = 1,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/OrderTransaction/{num}",
        "kind": kind,
        "status": status,
        "processedAt": "2026-05-03T09:12:44Z",
        "amountSet": money(amount, presentment),
    }


def outcome_of(refund: dict[str, Any], currency: str = "shop", **doc_fields: Any) -> RefundOutcome:
    doc = order_doc(refunds=[refund], **doc_fields)
    return build_received_refund(
        doc,
        refund,
        store_domain=STORE,
        currency=currency,  # type: ignore[arg-type]
        channel_table=DEFAULT_CHANNEL_TABLE,
    )


def event_of(refund: dict[str, Any], currency: str = "shop", **doc_fields: Any) -> dict[str, Any]:
    outcome = outcome_of(refund, currency, **doc_fields)
    assert outcome.status == "event", outcome
    assert outcome.event is not None
    return outcome.event


def partial_refund() -> dict[str, Any]:
    """One of two units back with restock, plus 5.0 CAD of shipping: 17.0 CAD in all."""
    return refund_detail(
        1028613341490,
        note="partial line item and shipping refund",
        refundLineItems=[refund_line(11, 1, restockType="RETURN")],
        transactions=[transaction("17.0", "11.0")],
        refundShippingLines=[
            {"id": "gid://shopify/RefundShippingLine/5", "subtotalAmountSet": money("5.0", "3.0")}
        ],
    )


def test_partial_refund_with_shipping_and_restock_field_by_field() -> None:
    event = event_of(
        partial_refund(), displayFinancialStatus="PARTIALLY_REFUNDED", totalRefundedSet=money("17.0", "11.0")
    )
    assert event["event_name"] == "Received Refund"
    assert event["event_id"] == "5801234567890-refund-1028613341490"
    assert event["timestamp"] == "2026-05-03T09:12:44+00:00"
    props = event["properties"]
    profile = event["profile_properties"]
    assert props == {
        "id": "1028613341490",
        "order_id": "5801234567890",
        "order_name": "#1001",
        "total_refunded": D("17.0"),
        "shop_total_refunded": D("17.0"),
        "presentment_total_refunded": D("11.0"),
        "currency": "CAD",
        "shop_currency": "CAD",
        "presentment_currency": "USD",
        "refund_shipping": D("5.0"),
        "is_full_refund": False,
        "note": "partial line item and shipping refund",
        "$sales_channel_type": "web",
        "store": STORE,
        "items": [
            {
                "product_id": "1100",
                "variant_id": "1101",
                "sku": "SB-11",
                "name": "Board 11",
                "variant_name": "Blue",
                "quantity": 1,
                "price": D("12.0"),
                "subtotal": D("12.0"),
                "restock_type": "RETURN",
            },
        ],
        **profile,
    }
    assert profile["$email"] == "Ann@Example.com"
    assert event["aliases"][0] == "urn:email:ann@example.com"


def test_presentment_currency_refund() -> None:
    props = event_of(partial_refund(), currency="presentment")["properties"]
    assert (props["total_refunded"], props["currency"]) == (D("11.0"), "USD")
    assert (props["shop_total_refunded"], props["presentment_total_refunded"]) == (D("17.0"), D("11.0"))
    assert props["refund_shipping"] == D("3.0")
    assert (props["items"][0]["price"], props["items"][0]["subtotal"]) == (D("8.0"), D("8.0"))


def test_full_refund_as_shopify_reports_it() -> None:
    refund = refund_detail(refundLineItems=[refund_line(11, 2, restockType="NO_RESTOCK")])
    props = event_of(refund, displayFinancialStatus="REFUNDED")["properties"]
    assert props["is_full_refund"] is True
    assert props["items"][0]["restock_type"] == "NO_RESTOCK"


def test_full_refund_by_totals_when_financial_status_is_null() -> None:
    full = outcome_of(
        refund_detail(),
        displayFinancialStatus=None,
        totalPriceSet=money("15.0"),
        totalRefundedSet=money("15.0"),
    )
    partial = outcome_of(
        refund_detail(),
        displayFinancialStatus=None,
        totalPriceSet=money("25.0"),
        totalRefundedSet=money("15.0"),
    )
    assert full.event is not None and full.event["properties"]["is_full_refund"] is True
    assert partial.event is not None and partial.event["properties"]["is_full_refund"] is False


def test_refund_without_details_waits() -> None:
    stub = {
        key: refund_detail()[key]
        for key in ("id", "legacyResourceId", "createdAt", "note", "totalRefundedSet")
    }
    outcome = outcome_of(stub)
    assert (outcome.status, outcome.waits_for, outcome.event) == ("waiting", "details", None)


def test_pending_refund_transaction_waits() -> None:
    for in_flight in ("PENDING", "AWAITING_RESPONSE"):
        outcome = outcome_of(refund_detail(transactions=[transaction("15.0", status=in_flight)]))
        assert (outcome.status, outcome.waits_for, outcome.event) == ("waiting", "pending", None)


def test_a_split_tender_waits_for_its_pending_part_then_goes_out_with_the_settled_sum() -> None:
    split = [transaction("10.0", num=1), transaction("5.0", status="PENDING", num=2)]
    assert outcome_of(refund_detail(transactions=split)).waits_for == "pending"
    settled = [split[0], {**split[1], "status": "SUCCESS"}]
    assert event_of(refund_detail(transactions=settled))["properties"]["total_refunded"] == D("15.0")
    failed = [split[0], {**split[1], "status": "FAILURE"}]
    assert event_of(refund_detail(transactions=failed))["properties"]["total_refunded"] == D("10.0")


def test_only_successful_refund_transactions_count() -> None:
    refund = refund_detail(
        transactions=[
            transaction("4.1", num=1),
            transaction("9.0", status="FAILURE", num=2),
            transaction("20.0", kind="SALE", num=3),
            transaction("2.2", status="ERROR", num=4),
            transaction("0.1", num=5),
            transaction("3.0", kind="VOID", num=6),
        ]
    )
    assert event_of(refund)["properties"]["total_refunded"] == D("4.2")


def test_zero_amount_refund_produces_no_event() -> None:
    outcome = outcome_of(refund_detail(transactions=[transaction("0.0")]))
    assert (outcome.status, outcome.event) == ("zero_amount_refund", None)


def test_a_refund_that_settles_without_money_is_a_zero_amount_refund() -> None:
    restock_only = refund_detail(transactions=[])
    void_only = refund_detail(transactions=[transaction("15.0", kind="VOID")])
    failed = refund_detail(transactions=[transaction("15.0", status="FAILURE", num=1),
                                         transaction("15.0", status="ERROR", num=2)])
    for refund in (restock_only, void_only, failed):
        outcome = outcome_of(refund)
        assert (outcome.status, outcome.waits_for, outcome.event) == ("zero_amount_refund", None, None)


def test_total_refunded_is_an_exact_decimal_sum() -> None:
    refund = refund_detail(transactions=[transaction("0.1", num=1), transaction("0.2", num=2)])
    event = event_of(refund)
    assert event["properties"]["total_refunded"] == D("0.3")
    wire = dumps_event(event)
    assert b'"total_refunded":0.3' in wire and b"0.30000" not in wire


def test_timestamp_falls_back_to_processed_at() -> None:
    event = event_of(refund_detail(createdAt=None, processedAt="2026-05-04T01:02:03Z"))
    assert event["timestamp"] == "2026-05-04T01:02:03+00:00"


def test_refund_ids_from_gids_when_legacy_ids_are_missing() -> None:
    event = event_of(refund_detail(77, legacyResourceId=None), legacyResourceId=None)
    assert event["event_id"] == "5801234567890-refund-77"
    assert event["properties"]["id"] == "77"


def test_refund_without_shipping_lines_refunds_no_shipping_and_null_note_is_omitted() -> None:
    props = event_of(refund_detail(note=None))["properties"]
    assert props["refund_shipping"] == D("0.0")
    assert "note" not in props


def test_custom_line_item_refund_omits_null_fields() -> None:
    custom = refund_line(
        14,
        1,
        lineItem={
            "id": "gid://shopify/LineItem/14",
            "title": "Gift wrap",
            "name": "Gift wrap",
            "variantTitle": None,
            "sku": None,
            "product": None,
            "variant": None,
        },
        priceSet=money("1.5", "1.0"),
        subtotalSet=money("1.5", "1.0"),
        restockType="NO_RESTOCK",
    )
    items = event_of(refund_detail(refundLineItems=[custom]), lineItems=[line_item(14)])["properties"][
        "items"
    ]
    assert items == [
        {
            "name": "Gift wrap",
            "quantity": 1,
            "price": D("1.5"),
            "subtotal": D("1.5"),
            "restock_type": "NO_RESTOCK",
        }
    ]


def test_guest_refund_uses_the_order_fallback_alias() -> None:
    event = event_of(refund_detail(), customer=None, email=None, checkoutToken=None, cartToken=None)
    assert event["aliases"] == ["urn:shopify_order_id:5801234567890"]
    assert "$email" not in event["profile_properties"]
