"""Small envelopes for the unit tests (the golden cases hold the full ones)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal


def placed_order(**properties: Any) -> dict[str, Any]:
    """A web Placed Order of customer 7001 at 2026-05-01T10:00:00Z, CAD, one product line."""
    props: dict[str, Any] = {
        "id": "5801234567890",
        "currency": "CAD",
        "customer_id": "7001",
        "checkout_token": "chk-1",
        "$sales_channel_type": "web",
        "$email": "ann@example.com",
        "tags": ["vip"],
        "total_price": D("27.0"),
        "total_tax": D("2.7"),
        "total_discount": D("1.2"),
        "total_shipping": D("7.5"),
        "items": [
            {"product_id": "1100", "variant_id": "1101", "sku": "SB-11", "name": "Board 11", "variant_name": "Blue",
             "price": D("12.0"), "quantity": 2},
        ],
    }
    props.update(properties)
    props = {key: value for key, value in props.items() if value is not None}
    profile = {key: value for key, value in props.items() if key.startswith("$") and key != "$sales_channel_type"}
    aliases = [f"urn:email:{props['$email'].lower()}"] if "$email" in props else []
    if "checkout_token" in props:
        aliases.append(f"urn:checkout_token:{props['checkout_token']}")
    if "customer_id" in props:
        aliases.append(f"urn:user_id:{props['customer_id']}")
    return {
        "event_name": "Placed Order",
        "event_id": props["id"],
        "timestamp": "2026-05-01T10:00:00+00:00",
        "properties": props,
        "profile_properties": profile,
        "aliases": aliases or [f"urn:shopify_order_id:{props['id']}"],
    }


def received_refund(aliases: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    """A Received Refund of order 5801234567890 at 2026-05-03T09:12:44Z (no customer_id, no tags property)."""
    props: dict[str, Any] = {
        "id": "1",
        "order_id": "5801234567890",
        "currency": "CAD",
        "$sales_channel_type": "web",
        "total_refunded": D("15.0"),
        "refund_shipping": D("0.0"),
        "items": [
            {"product_id": "1100", "variant_id": "1101", "sku": "SB-11", "name": "Board 11", "price": D("12.0"),
             "quantity": 1},
        ],
    }
    props.update(properties)
    return {
        "event_name": "Received Refund",
        "event_id": f"{props['order_id']}-refund-{props['id']}",
        "timestamp": "2026-05-03T09:12:44+00:00",
        "properties": {key: value for key, value in props.items() if value is not None},
        "profile_properties": {},
        "aliases": aliases if aliases is not None else ["urn:user_id:7001"],
    }
