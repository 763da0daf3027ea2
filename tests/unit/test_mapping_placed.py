"""Placed Order mapping, field by field, on documents shaped like the normalized order of `orderdoc.py`.

The factories at the top (`money`, `line_item`, `order_doc`, `refund_detail`) are shared with
`test_mapping_refund.py`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.mapping import build_placed_order, dumps_event, line_quantities

D = Decimal
STORE = "convergestore.myshopify.com"


def money(
    shop: str, presentment: str | None = None, shop_cur: str = "CAD", pres_cur: str = "USD"
) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": shop, "currencyCode": shop_cur},
        "presentmentMoney": {"amount": presentment or shop, "currencyCode": pres_cur},
    }


def line_item(num: int, **overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": f"gid://shopify/LineItem/{num}",
        "title": f"Board {num}",
        "name": f"Board {num} - Blue",
        "variantTitle": "Blue",
        "sku": f"SB-{num}",
        "vendor": "Acme",
        "quantity": 1,
        "currentQuantity": 1,
        "originalUnitPriceSet": money("12.0", "8.0"),
        "product": {"id": f"gid://shopify/Product/{num}00", "legacyResourceId": f"{num}00"},
        "variant": {"id": f"gid://shopify/ProductVariant/{num}01", "legacyResourceId": f"{num}01"},
        "image": {"url": f"https://cdn.shopify.com/{num}.jpg"},
    }
    line.update(overrides)
    return line


def address(**overrides: Any) -> dict[str, Any]:
    base = {
        "firstName": "Ann",
        "lastName": "Lee",
        "city": "Toronto",
        "provinceCode": "ON",
        "zip": "M5H 2M9",
        "countryCodeV2": "CA",
        "phone": "+14165550101",
    }
    base.update(overrides)
    return base


def order_doc(**overrides: Any) -> dict[str, Any]:
    """A multi-currency (CAD shop, USD presentment) web order of one registered customer, no refunds."""
    doc: dict[str, Any] = {
        "id": "gid://shopify/Order/5801234567890",
        "legacyResourceId": "5801234567890",
        "name": "#1001",
        "createdAt": "2026-05-01T10:00:00Z",
        "updatedAt": "2026-05-01T10:05:00Z",
        "processedAt": "2026-05-01T10:00:00Z",
        "cancelledAt": None,
        "cancelReason": None,
        "test": False,
        "sourceName": "web",
        "tags": ["vip"],
        "email": "Ann@Example.com",
        "phone": None,
        "currencyCode": "CAD",
        "presentmentCurrencyCode": "USD",
        "displayFinancialStatus": "PAID",
        "discountCodes": ["SAVE5"],
        "edited": False,
        "taxesIncluded": False,
        "checkoutToken": "ck-123",
        "cartToken": "ct-456",
        "totalPriceSet": money("30.0", "20.0"),
        "currentTotalPriceSet": money("27.0", "18.0"),
        "totalTaxSet": money("3.0", "2.0"),
        "currentTotalTaxSet": money("2.7", "1.8"),
        "totalDiscountsSet": money("1.5", "1.0"),
        "currentTotalDiscountsSet": money("1.2", "0.8"),
        "totalShippingPriceSet": money("7.5", "5.0"),
        "totalRefundedSet": money("0.0", "0.0"),
        "customer": {
            "id": "gid://shopify/Customer/7001",
            "legacyResourceId": "7001",
            "firstName": "Annie",
            "lastName": "Leigh",
            "defaultEmailAddress": {"emailAddress": "annie@example.com"},
            "defaultPhoneNumber": {"phoneNumber": "+14165550199"},
            "defaultAddress": address(city="Ottawa"),
        },
        "billingAddress": address(),
        "shippingAddress": address(firstName="Bob", city="Montreal", provinceCode="QC"),
        "lineItems": [line_item(11, quantity=2, currentQuantity=2), line_item(12)],
        "refunds": [],
    }
    doc.update(overrides)
    return doc


def refund_detail(num: int = 1, **overrides: Any) -> dict[str, Any]:
    """A refund as merged into a document after READ_REFUND: connections flattened to lists."""
    refund: dict[str, Any] = {
        "id": f"gid://shopify/Refund/{num}",
        "legacyResourceId": str(num),
        "createdAt": "2026-05-03T09:12:44Z",
        "processedAt": "2026-05-03T09:12:45Z",
        "updatedAt": "2026-05-03T09:12:44Z",
        "note": "damaged",
        "totalRefundedSet": money("15.0", "10.0"),
        "refundLineItems": [],
        "transactions": [
            {
                "id": "gid://shopify/OrderTransaction/9",
                "kind": "REFUND",
                "status": "SUCCESS",
                "processedAt": "2026-05-03T09:12:44Z",
                "amountSet": money("15.0", "10.0"),
            }
        ],
        "refundShippingLines": [],
    }
    refund.update(overrides)
    return refund


def refund_line(line_num: int, quantity: int, **overrides: Any) -> dict[str, Any]:
    base = line_item(line_num)
    entry: dict[str, Any] = {
        "id": f"gid://shopify/RefundLineItem/{line_num}9",
        "quantity": quantity,
        "restockType": "RETURN",
        "priceSet": money("12.0", "8.0"),
        "subtotalSet": money(str(12 * quantity) + ".0", str(8 * quantity) + ".0"),
        "lineItem": {
            key: base[key] for key in ("id", "title", "name", "variantTitle", "sku", "product", "variant")
        },
    }
    entry.update(overrides)
    return entry


def placed(
    doc: dict[str, Any], currency: str = "shop", is_new_customer: bool | None = True
) -> dict[str, Any]:
    return build_placed_order(
        doc,
        store_domain=STORE,
        currency=currency,  # type: ignore[arg-type]
        channel_table=DEFAULT_CHANNEL_TABLE,
        is_new_customer=is_new_customer,
    )


PROFILE = {
    "$email": "Ann@Example.com",
    "$phone_number": "+14165550101",
    "$first_name": "Ann",
    "$last_name": "Lee",
    "$city": "Toronto",
    "$state": "ON",
    "$zip_code": "M5H 2M9",
    "$country_code": "CA",
}


def test_envelope_of_a_placed_order() -> None:
    event = placed(order_doc())
    assert list(event) == [
        "event_name",
        "event_id",
        "timestamp",
        "properties",
        "profile_properties",
        "aliases",
    ]
    assert event["event_name"] == "Placed Order"
    assert event["event_id"] == "5801234567890"
    assert event["timestamp"] == "2026-05-01T10:00:00+00:00"
    assert event["profile_properties"] == PROFILE
    assert event["aliases"] == [
        "urn:email:ann@example.com",
        "urn:checkout_token:ck-123",
        "urn:cart_token:ct-456",
        "urn:user_id:7001",
    ]


def test_timestamp_is_processed_at_in_utc_never_updated_at() -> None:
    event = placed(order_doc(processedAt="2026-05-01T06:00:00-04:00", updatedAt="2026-06-01T00:00:00Z"))
    assert event["timestamp"] == "2026-05-01T10:00:00+00:00"


def test_every_property_in_shop_currency() -> None:
    assert placed(order_doc())["properties"] == {
        "id": "5801234567890",
        "order_name": "#1001",
        "total_price": D("27.0"),
        "shop_total_price": D("27.0"),
        "presentment_total_price": D("18.0"),
        "total_tax": D("2.7"),
        "total_discount": D("1.2"),
        "total_shipping": D("7.5"),
        "taxes_included": False,
        "coupon": "SAVE5",
        "currency": "CAD",
        "shop_currency": "CAD",
        "presentment_currency": "USD",
        "$sales_channel_type": "web",
        "source_name": "web",
        "tags": ["vip"],
        "store": STORE,
        "checkout_token": "ck-123",
        "cart_token": "ct-456",
        "customer_id": "7001",
        "financial_status": "PAID",
        "$is_new_customer": True,
        "items": [
            {
                "product_id": "1100",
                "variant_id": "1101",
                "sku": "SB-11",
                "name": "Board 11",
                "variant_name": "Blue",
                "vendor": "Acme",
                "price": D("12.0"),
                "quantity": 2,
                "image_url": "https://cdn.shopify.com/11.jpg",
                "currency": "CAD",
            },
            {
                "product_id": "1200",
                "variant_id": "1201",
                "sku": "SB-12",
                "name": "Board 12",
                "variant_name": "Blue",
                "vendor": "Acme",
                "price": D("12.0"),
                "quantity": 1,
                "image_url": "https://cdn.shopify.com/12.jpg",
                "currency": "CAD",
            },
        ],
        **PROFILE,
    }


def test_presentment_currency_fills_money_fields_and_shop_side_travels_along() -> None:
    props = placed(order_doc(), currency="presentment")["properties"]
    assert props["currency"] == "USD"
    assert (props["total_price"], props["total_tax"], props["total_discount"]) == (
        D("18.0"),
        D("1.8"),
        D("0.8"),
    )
    assert props["total_shipping"] == D("5.0")
    assert (props["shop_total_price"], props["shop_currency"]) == (D("27.0"), "CAD")
    assert (props["presentment_total_price"], props["presentment_currency"]) == (D("18.0"), "USD")
    assert [(item["price"], item["currency"]) for item in props["items"]] == [(D("8.0"), "USD")] * 2


def test_refunds_in_the_version_switch_totals_to_before_refunds() -> None:
    doc = order_doc(refunds=[refund_detail(refundLineItems=[refund_line(12, 1)])])
    props = placed(doc)["properties"]
    assert (props["total_price"], props["total_tax"], props["total_discount"]) == (
        D("30.0"),
        D("3.0"),
        D("1.5"),
    )
    assert props["presentment_total_price"] == D("20.0")


def test_null_tax_and_discount_are_zero() -> None:
    doc = order_doc(
        currentTotalTaxSet=None, totalTaxSet=None, currentTotalDiscountsSet=None, totalDiscountsSet=None
    )
    props = placed(doc)["properties"]
    assert (props["total_tax"], props["total_discount"]) == (D("0.0"), D("0.0"))


def test_quantity_adds_back_units_refunded_by_refunds_in_the_version() -> None:
    doc = order_doc(
        lineItems=[
            line_item(11, quantity=2, currentQuantity=1),  # one unit refunded below
            line_item(12, quantity=1, currentQuantity=0),  # fully refunded below
            line_item(13, quantity=1, currentQuantity=0),  # removed by an edit: not in the event
        ],
        refunds=[
            refund_detail(1, refundLineItems=[refund_line(11, 1)]),
            refund_detail(2, refundLineItems=[refund_line(12, 1)]),
        ],
    )
    assert line_quantities(doc) == {
        "gid://shopify/LineItem/11": 2,
        "gid://shopify/LineItem/12": 1,
        "gid://shopify/LineItem/13": 0,
    }
    items = placed(doc)["properties"]["items"]
    assert [(item["sku"], item["quantity"]) for item in items] == [("SB-11", 2), ("SB-12", 1)]


def test_quantity_never_exceeds_the_ordered_quantity() -> None:
    doc = order_doc(
        lineItems=[line_item(11, quantity=2, currentQuantity=2)],
        refunds=[refund_detail(refundLineItems=[refund_line(11, 1)])],
    )
    assert line_quantities(doc) == {"gid://shopify/LineItem/11": 2}


def test_refund_without_details_adds_no_units() -> None:
    stub = {
        key: refund_detail()[key]
        for key in ("id", "legacyResourceId", "createdAt", "note", "totalRefundedSet")
    }
    doc = order_doc(lineItems=[line_item(11, quantity=2, currentQuantity=1)], refunds=[stub])
    assert line_quantities(doc) == {"gid://shopify/LineItem/11": 1}


def test_line_without_current_quantity_counts_its_quantity() -> None:
    line = line_item(11, quantity=3)
    del line["currentQuantity"]
    assert line_quantities(order_doc(lineItems=[line])) == {"gid://shopify/LineItem/11": 3}


def test_custom_line_item_omits_null_product_variant_sku() -> None:
    custom = line_item(
        14,
        title="Gift wrap",
        product=None,
        variant=None,
        sku=None,
        variantTitle=None,
        vendor=None,
        image=None,
        originalUnitPriceSet=money("1.5", "1.0"),
    )
    items = placed(order_doc(lineItems=[custom]))["properties"]["items"]
    assert items == [{"name": "Gift wrap", "price": D("1.5"), "quantity": 1, "currency": "CAD"}]


def test_ids_fall_back_to_the_gid_tail_without_legacy_resource_id() -> None:
    doc = order_doc(
        legacyResourceId=None, lineItems=[line_item(11, product={"id": "gid://shopify/Product/77"})]
    )
    event = placed(doc)
    assert event["event_id"] == event["properties"]["id"] == "5801234567890"
    assert event["properties"]["items"][0]["product_id"] == "77"


def test_guest_order_has_no_customer_fields() -> None:
    doc = order_doc(customer=None, checkoutToken=None, cartToken=None, email=" Guest@Shop.example ")
    event = placed(doc, is_new_customer=None)
    props = event["properties"]
    assert "customer_id" not in props
    assert "$is_new_customer" not in props
    assert "checkout_token" not in props and "cart_token" not in props
    assert event["aliases"] == ["urn:email:guest@shop.example"]
    assert props["$email"] == "Guest@Shop.example"


@pytest.mark.parametrize("value", [True, False])
def test_is_new_customer_is_copied_when_known(value: bool) -> None:
    assert placed(order_doc(), is_new_customer=value)["properties"]["$is_new_customer"] is value


def test_coupon_joins_all_codes_and_is_omitted_without_codes() -> None:
    assert placed(order_doc(discountCodes=["SAVE5", "VIP10"]))["properties"]["coupon"] == "SAVE5,VIP10"
    assert "coupon" not in placed(order_doc(discountCodes=[]))["properties"]


def test_nullable_order_fields_are_omitted() -> None:
    doc = order_doc(sourceName=None, displayFinancialStatus=None, taxesIncluded=None, checkoutToken=None)
    props = placed(doc)["properties"]
    for key in ("source_name", "financial_status", "taxes_included", "checkout_token"):
        assert key not in props
    assert props["$sales_channel_type"] == "offline"
    assert None not in props.values()


def test_sales_channel_type_uses_the_table() -> None:
    props = placed(order_doc(sourceName="pos", checkoutToken=None))["properties"]
    assert (props["$sales_channel_type"], props["source_name"]) == ("pos", "pos")


def test_taxes_included_is_copied() -> None:
    assert placed(order_doc(taxesIncluded=True))["properties"]["taxes_included"] is True


def test_wire_json_has_exact_amounts() -> None:
    doc = order_doc(lineItems=[line_item(11, originalUnitPriceSet=money("2629.95", "1899.99"))])
    wire = dumps_event(placed(doc))
    assert b'"total_price":27.0' in wire
    assert b'"price":2629.95' in wire
    assert wire.startswith(b'{"event_name":"Placed Order","event_id":"5801234567890"')
