"""Wire documents for the objects hanging off an order: customers, addresses, line items."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shopify_bridge.simulator.money import CENTS, Units
from shopify_bridge.simulator.orders import Doc, gid, new_line_item
from shopify_bridge.simulator.state import ShopState

COUNTRIES = {"CA": "Canada", "US": "United States", "DE": "Germany", "GB": "United Kingdom", "FR": "France"}
PROVINCES = {
    "ON": "Ontario",
    "QC": "Quebec",
    "BC": "British Columbia",
    "WA": "Washington",
    "MA": "Massachusetts",
}
ADDRESS_KEYS = (
    "firstName",
    "lastName",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "provinceCode",
    "zip",
    "countryCodeV2",
    "phone",
)


def address_doc(number: int, fields: Mapping[str, Any] | None) -> Doc | None:
    if fields is None:
        return None
    doc: Doc = {"__typename": "MailingAddress", "id": gid("MailingAddress", number)}
    doc.update({key: fields.get(key) for key in ADDRESS_KEYS})
    doc["province"] = doc["province"] or PROVINCES.get(doc["provinceCode"] or "")
    doc["country"] = fields.get("country") or COUNTRIES.get(doc["countryCodeV2"] or "")
    names = [part for part in (doc["firstName"], doc["lastName"]) if part]
    doc["name"] = " ".join(names) or None
    return doc


def customer_doc(person: Mapping[str, Any]) -> Doc:
    """A pool customer (as kept by the state) in its wire shape."""
    number = int(person["legacyId"])
    names = [part for part in (person.get("firstName"), person.get("lastName")) if part]
    email, phone = person.get("email"), person.get("phone")
    return {
        "__typename": "Customer",
        "id": gid("Customer", number),
        "legacyResourceId": str(number),
        "firstName": person.get("firstName"),
        "lastName": person.get("lastName"),
        "displayName": " ".join(names) or email or "Customer",
        "defaultEmailAddress": {"emailAddress": email} if email else None,
        "defaultPhoneNumber": {"phoneNumber": phone} if phone else None,
        "defaultAddress": address_doc(person.get("addressId") or number, person.get("address")),
        "tags": list(person.get("tags") or []),
    }


def line_from_spec(state: ShopState, spec: Mapping[str, Any], rate: Decimal, units: Units = CENTS) -> Doc:
    """A line item from a spec: a catalogue variant (`variantId`) or a custom item (title + price)."""
    quantity = int(spec.get("quantity", 1))
    number = state.ids.next("LineItem")
    variant_id = spec.get("variantId")
    if variant_id is not None and not spec.get("custom"):
        product, variant = state.variant(int(str(variant_id).rsplit("/", 1)[-1]))
        price = Decimal(str(spec.get("price", variant.price / rate if rate != 1 else variant.price)))
        image = (
            None
            if product.image_url is None
            else {
                "__typename": "Image",
                "id": gid("ProductImage", product.product_id),
                "url": product.image_url,
                "altText": product.title,
                "width": 1200,
                "height": 1200,
            }
        )
        return new_line_item(
            number,
            title=product.title,
            unit_price=price,
            quantity=quantity,
            rate=rate,
            variant_title=variant.title,
            sku=variant.sku,
            vendor=product.vendor,
            product={
                "__typename": "Product",
                "id": gid("Product", product.product_id),
                "legacyResourceId": str(product.product_id),
                "title": product.title,
                "vendor": product.vendor,
            },
            variant={
                "__typename": "ProductVariant",
                "id": gid("ProductVariant", variant.variant_id),
                "legacyResourceId": str(variant.variant_id),
                "sku": variant.sku,
                "title": variant.title or "Default Title",
            },
            image=image,
            taxable=bool(spec.get("taxable", True)),
            units=units,
        )
    if "title" not in spec or "price" not in spec:
        raise ValueError("a custom line item needs a title and a price")
    return new_line_item(
        number,
        title=str(spec["title"]),
        unit_price=Decimal(str(spec["price"])),
        quantity=quantity,
        rate=rate,
        variant_title=spec.get("variantTitle"),
        sku=spec.get("sku"),
        vendor=spec.get("vendor"),
        taxable=bool(spec.get("taxable", True)),
        requires_shipping=bool(spec.get("requiresShipping", True)),
        units=units,
    )
