"""Pieces both events share: the envelope, ids, timestamps, currency sides, the buyer."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shopify_bridge.decide.channels import sales_channel_type
from shopify_bridge.decide.money import CurrencySide, bag_amount, other_side
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.profile import aliases, order_legacy_id, profile_properties
from shopify_bridge.timeutil import iso, parse_ts

PLACED_ORDER = "Placed Order"
RECEIVED_REFUND = "Received Refund"


def event_timestamp(shopify_ts: str) -> str:
    """Shopify's `2026-05-01T10:00:00Z` → `2026-05-01T10:00:00+00:00` (UTC)."""
    return iso(parse_ts(shopify_ts))


def numeric_id(obj: Mapping[str, Any] | None) -> str | None:
    """The numeric id of an object selected as `{ id legacyResourceId }`; None for a null object."""
    if not obj:
        return None
    if obj.get("legacyResourceId"):
        return str(obj["legacyResourceId"])
    return legacy_id(obj["id"]) if obj.get("id") else None


def product_identity(line: Mapping[str, Any]) -> dict[str, Any]:
    """What names a line item's product in both events: ids, SKU and titles."""
    return {
        "product_id": numeric_id(line.get("product")),
        "variant_id": numeric_id(line.get("variant")),
        "sku": line.get("sku"),
        "name": line.get("title"),
        "variant_name": line.get("variantTitle"),
    }


def without_nulls(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def currency_code(doc: OrderDoc, side: CurrencySide) -> str | None:
    code = doc.get("currencyCode") if side == "shop" else doc.get("presentmentCurrencyCode")
    return str(code) if code else None


def both_sides(name: str, bag: Mapping[str, Any] | None) -> dict[str, Decimal | None]:
    """`shop_<name>` and `presentment_<name>`: a total on both sides, whatever the source's side."""
    return {f"shop_{name}": bag_amount(bag, "shop"), f"presentment_{name}": bag_amount(bag, "presentment")}


def currency_properties(doc: OrderDoc, side: CurrencySide) -> dict[str, str | None]:
    return {
        "currency": currency_code(doc, side),
        f"{other_side(side)}_currency": currency_code(doc, other_side(side)),
        f"{side}_currency": currency_code(doc, side),
    }


def channel_type(doc: OrderDoc, channel_table: Mapping[str, str]) -> str:
    return sales_channel_type(doc.get("sourceName"), doc.get("checkoutToken"), channel_table)


def envelope(
    event_name: str, event_id: str, timestamp: str, properties: Mapping[str, Any], doc: OrderDoc
) -> dict[str, Any]:
    """The Converge webhook-source body; the buyer's `$…` keys also go into `properties`."""
    profile = profile_properties(doc)
    return {
        "event_name": event_name,
        "event_id": event_id,
        "timestamp": timestamp,
        "properties": {**without_nulls(properties), **profile},
        "profile_properties": profile,
        "aliases": aliases(doc),
    }


__all__ = [
    "PLACED_ORDER",
    "RECEIVED_REFUND",
    "both_sides",
    "channel_type",
    "currency_code",
    "currency_properties",
    "envelope",
    "event_timestamp",
    "numeric_id",
    "order_legacy_id",
    "without_nulls",
]
