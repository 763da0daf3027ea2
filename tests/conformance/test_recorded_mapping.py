"""The event mapping on orders read from real recorded Shopify responses (../shared/shopify/recorded).

The recordings select fewer fields than the bridge does. Each test turns a recorded order read
into a normalized document with `orderdoc.normalize_order`; the keyword arguments of `as_doc`
fill in what the recording lacks (timestamps, currencies — taken from the capture's own
variables where it has them). Every value the assertions check comes from the recording. The
"order before the refund" of the refund captures is their `upstreamCalls` hydrate read, which
upstream warns may be partly hand-made; the refund payload and the order read after it are live.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.mapping import build_placed_order, build_received_refund, dumps_event
from shopify_bridge.decide.orderdoc import legacy_id, normalize_order, normalize_refund
from tests.conftest import recorded

D = Decimal
STORE = "harry-test-heelo.myshopify.com"


def as_doc(node: dict[str, Any], **filled: Any) -> dict[str, Any]:
    """A recorded order node → a normalized document, with the fields the capture lacks filled in."""
    doc = normalize_order(node)
    defaults: dict[str, Any] = {
        "legacyResourceId": legacy_id(node["id"]),
        "processedAt": "2026-06-22T23:00:00Z",
        "sourceName": None,
        "checkoutToken": None,
        "cartToken": None,
        "tags": [],
        "discountCodes": [],
    }
    for key, value in {**defaults, **filled}.items():
        doc.setdefault(key, value)
    return doc


def placed(doc: dict[str, Any], currency: str = "shop") -> dict[str, Any]:
    return build_placed_order(
        doc,
        store_domain=STORE,
        currency=currency,  # type: ignore[arg-type]
        channel_table=DEFAULT_CHANNEL_TABLE,
        is_new_customer=None,
    )


def refund_event(doc: dict[str, Any], refund: dict[str, Any], currency: str = "shop") -> dict[str, Any]:
    outcome = build_received_refund(
        doc,
        refund,
        store_domain=STORE,
        currency=currency,  # type: ignore[arg-type]
        channel_table=DEFAULT_CHANNEL_TABLE,
    )
    assert outcome.status == "event" and outcome.event is not None, outcome
    return outcome.event


def money_bag_doc() -> tuple[dict[str, Any], dict[str, Any]]:
    capture = recorded("2025-01__money-bag-presentment-parity.json")
    created = capture["orderCreate"]["response"]["payload"]["data"]["orderCreate"]["order"]
    variables = capture["orderCreate"]["variables"]["order"]
    filled = {
        "name": "#money-bag",
        "currencyCode": variables["currency"],
        "presentmentCurrencyCode": variables["presentmentCurrency"],
        "email": variables["email"],
        "shippingAddress": {**variables["shippingAddress"], "countryCodeV2": "CA"},
    }
    doc = as_doc(created, **filled)
    for num, line in enumerate(doc["lineItems"]):
        line.setdefault("id", f"gid://shopify/LineItem/{num}")
        line.setdefault("title", variables["lineItems"][num]["title"])
        line.setdefault("quantity", variables["lineItems"][num]["quantity"])
    return capture, doc


def test_money_bag_order_in_shop_currency() -> None:
    _, doc = money_bag_doc()
    props = placed(doc)["properties"]
    assert (props["total_price"], props["currency"]) == (D("13.5"), "CAD")
    assert (props["presentment_total_price"], props["presentment_currency"]) == (D("9.0"), "USD")
    assert props["items"][0]["price"] == D("12.0") and props["items"][0]["currency"] == "CAD"
    wire = dumps_event(placed(doc))
    assert b'"total_price":13.5' in wire and b'"presentment_total_price":9.0' in wire


def test_money_bag_order_in_presentment_currency() -> None:
    _, doc = money_bag_doc()
    props = placed(doc, "presentment")["properties"]
    assert (props["total_price"], props["currency"]) == (D("9.0"), "USD")
    assert (props["shop_total_price"], props["shop_currency"]) == (D("13.5"), "CAD")
    assert props["items"][0]["price"] == D("8.0") and props["items"][0]["currency"] == "USD"


def test_money_bag_refund_amounts_on_both_sides() -> None:
    capture, doc = money_bag_doc()
    recorded_refund = capture["refund"]["response"]["payload"]["data"]["refundCreate"]["refund"]
    # The capture shows the refund's MoneyBag; its one manual REFUND transaction carried that amount.
    refund = normalize_refund(
        {
            "id": "gid://shopify/Refund/1",
            "createdAt": "2026-07-03T16:41:00Z",
            "transactions": [
                {"kind": "REFUND", "status": "SUCCESS", "amountSet": recorded_refund["totalRefundedSet"]}
            ],
        }
    )
    doc["refunds"] = [refund]
    shop = refund_event(doc, refund)["properties"]
    assert (shop["total_refunded"], shop["presentment_total_refunded"]) == (D("7.1"), D("5.0"))
    assert refund_event(doc, refund, "presentment")["properties"]["total_refunded"] == D("5.0")


def test_order_create_parity_order() -> None:
    capture = recorded("2025-01__order-create-parity.json")
    created = capture["mutation"]["response"]["data"]["orderCreate"]["order"]
    doc = as_doc(created, currencyCode="USD", presentmentCurrencyCode="CAD")
    event = placed(doc)
    props = event["properties"]
    assert event["event_id"] == "6824239235305"
    assert props["order_name"] == "#1314"
    assert (props["total_price"], props["total_tax"], props["total_discount"]) == (
        D("42.5"),
        D("2.5"),
        D("5.0"),
    )
    assert props["coupon"] == "SAVE5"
    assert props["tags"] == ["order-create", "parity-plan"]
    assert props["financial_status"] == "PAID"
    assert props["items"] == [
        {
            "variant_id": "48540157378793",
            "sku": "hermes-order-parity-plan-20260418",
            "name": "Hermes inventory-backed line item",
            "price": D("20.0"),
            "quantity": 2,
            "currency": "USD",
        }
    ]
    assert placed(doc, "presentment")["properties"]["items"][0]["price"] == D("27.0")
    assert event["profile_properties"] == {
        "$email": "hermes-order-parity-plan-20260418@example.com",
        "$first_name": "Hermes",
        "$last_name": "Operator",
        "$city": "Toronto",
        "$state": "ON",
        "$zip_code": "M5H 2M9",
        "$country_code": "CA",
    }
    assert event["aliases"] == ["urn:email:hermes-order-parity-plan-20260418@example.com"]


def refund_capture(name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(order before the refund, order version carrying the refund, the refund with details)."""
    capture = recorded(name)
    before = capture["upstreamCalls"][0]["response"]["body"]["data"]["order"]
    payload = capture["mutation"]["response"]["data"]["refundCreate"]
    after_read = capture["downstreamRead"]["response"]["data"]["order"]
    refund = normalize_refund(payload["refund"])
    before_doc = as_doc(before, currencyCode="CAD", presentmentCurrencyCode="CAD")
    after_doc = {
        **before_doc,
        "displayFinancialStatus": after_read["displayFinancialStatus"],
        "totalRefundedSet": after_read["totalRefundedSet"],
        "refunds": [refund],
    }
    return before_doc, after_doc, refund


def test_full_refund_capture() -> None:
    before, after, refund = refund_capture("2025-01__refund-create-full-parity.json")
    assert placed(before)["properties"]["total_price"] == D("15.0")
    event = refund_event(after, refund)
    props = event["properties"]
    assert event["event_id"] == "8838022103346-refund-1028613374258"
    assert event["timestamp"] == "2026-06-22T23:01:18+00:00"
    assert (props["total_refunded"], props["is_full_refund"]) == (D("15.0"), True)
    assert props["note"] == "full line item and shipping refund"
    assert props["items"] == [
        {
            "name": "Hermes refundable full item",
            "quantity": 1,
            "subtotal": D("0.0"),
            "restock_type": "NO_RESTOCK",
        }
    ]
    # Built from the version carrying the refund, the Placed Order still shows the unit sold.
    assert (
        placed({**after, "lineItems": [{**before["lineItems"][0], "currentQuantity": 0}]})["properties"][
            "items"
        ][0]["quantity"]
        == 1
    )


def test_partial_refund_capture_with_shipping_and_restock() -> None:
    before, after, refund = refund_capture("2025-01__refund-create-partial-shipping-restock-parity.json")
    assert placed(before)["properties"]["items"][0]["quantity"] == 2
    props = refund_event(after, refund)["properties"]
    assert (props["total_refunded"], props["is_full_refund"]) == (D("15.0"), False)
    assert props["items"][0]["restock_type"] == "RETURN"
    assert props["items"][0]["subtotal"] == D("10.0")
    # The recorded Placed Order rule: with a refund present, totals come from totalPriceSet.
    assert placed(after)["properties"]["total_price"] == D("25.0")


def test_order_edit_capture_includes_the_added_item() -> None:
    capture = recorded("2026-04__order-edit-existing-order-happy-path.json")
    edited = capture["commitAdd"]["response"]["data"]["orderEditCommit"]["order"]
    doc = as_doc(edited, currencyCode="CAD", presentmentCurrencyCode="CAD")
    event = placed(doc)
    items = event["properties"]["items"]
    assert [item["name"] for item in items] == [
        "HAR-115 base line A 20260622154802",
        "HAR-115 base line B 20260622154802",
        "The Draft Snowboard",
    ]
    assert items[0] == {
        "name": "HAR-115 base line A 20260622154802",
        "price": D("12.0"),
        "quantity": 1,
        "currency": "CAD",
    }
    assert items[2]["variant_id"] == "49875425460530" and "sku" not in items[2]
    assert b'"price":2629.95' in dumps_event(event)
    assert event["aliases"] == ["urn:shopify_order_id:8837456822578"]
