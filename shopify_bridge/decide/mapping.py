"""Normalized order documents → the events on the wire (pure: no I/O, no clock).

Envelope (both events): `event_name`, `event_id`, `timestamp` (ISO 8601, UTC, `+00:00`),
`properties`, `profile_properties`, `aliases` — see `profile.py` for the buyer keys and aliases;
every `$…` profile key is also copied into `properties`. Properties whose value is null are
omitted. Amounts are `Decimal` (see `money.py`: `"15.0"` is written as `15.0`).

Currency: the source's `currency` ("shop" → `shopMoney`, "presentment" → `presentmentMoney`)
fills every money field and `currency`. The main total always travels on *both* sides whatever
the choice, so a destination can rely on the names: `shop_total_price`, `shop_currency`,
`presentment_total_price`, `presentment_currency` (Placed Order) and `shop_total_refunded`,
`presentment_total_refunded`, `shop_currency`, `presentment_currency` (Received Refund).

Placed Order (`event_id` = numeric order id, `timestamp` = `processedAt`):
`id`, `order_name`, `total_price` / `total_tax` / `total_discount` (`current*Set` when the
version has no refunds, else `totalPriceSet` / `totalTaxSet` / `totalDiscountsSet`; tax and
discount are `0.0` when null), `total_shipping` (`totalShippingPriceSet`), `taxes_included`,
`coupon` (`discountCodes` joined with `,`, omitted when none), the currency keys above,
`$sales_channel_type`, `source_name`, `tags`, `store`, `checkout_token`, `cart_token`,
`customer_id`, `financial_status` (`displayFinancialStatus`), `$is_new_customer` (omitted when
unknown) and `items`: one per line item with q > 0, where q = `currentQuantity` + the units of that
line in the `refundLineItems` of the refunds present in the document, capped at `quantity`
(refunds whose details were not read add nothing; a line without `currentQuantity` counts its
`quantity`). Item keys: `product_id`, `variant_id`, `sku`,
`name` (`title`), `variant_name`, `vendor`, `price` (`originalUnitPriceSet`), `quantity` (q),
`image_url`, `currency` — null ones omitted (custom line items have no product, variant or sku).

Received Refund: see `mapping_refund.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shopify_bridge.decide.mapping_common import (
    PLACED_ORDER,
    both_sides,
    channel_type,
    currency_code,
    currency_properties,
    envelope,
    event_timestamp,
    order_legacy_id,
    product_identity,
    without_nulls,
)
from shopify_bridge.decide.mapping_refund import RefundOutcome, build_received_refund
from shopify_bridge.decide.money import ZERO, CurrencySide, bag_amount, dumps_event, loads_event
from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.profile import customer_legacy_id

__all__ = [
    "RefundOutcome",
    "build_placed_order",
    "build_received_refund",
    "dumps_event",
    "line_quantities",
    "loads_event",
]


def refunded_units(doc: OrderDoc) -> Counter[str]:
    """Units refunded per line item gid, over the refunds of this document whose details are read."""
    units: Counter[str] = Counter()
    for refund in doc.get("refunds") or []:
        for refund_line in refund.get("refundLineItems") or []:
            line = refund_line.get("lineItem") or {}
            if line.get("id"):
                units[line["id"]] += int(refund_line.get("quantity") or 0)
    return units


def line_quantities(doc: OrderDoc) -> dict[str, int]:
    """q(line) for every line item gid: the quantity after edits, before refunds."""
    refunded = refunded_units(doc)
    out: dict[str, int] = {}
    for line in doc.get("lineItems") or []:
        current = line.get("currentQuantity")
        if current is None:  # a selection without currentQuantity (older captures): nothing was removed
            current = line.get("quantity") or 0
        q = int(current) + refunded[line["id"]]
        if line.get("quantity") is not None:
            # A refund can also remove units an edit already took away; never report more than ordered.
            q = min(q, int(line["quantity"]))
        out[line["id"]] = q
    return out


def _item(line: Mapping[str, Any], quantity: int, side: CurrencySide, doc: OrderDoc) -> dict[str, Any]:
    price_bag = line.get("originalUnitPriceSet")
    money_side = (price_bag or {}).get("shopMoney" if side == "shop" else "presentmentMoney") or {}
    return without_nulls(
        {
            **product_identity(line),
            "vendor": line.get("vendor"),
            "price": bag_amount(price_bag, side),
            "quantity": quantity,
            "image_url": (line.get("image") or {}).get("url"),
            "currency": money_side.get("currencyCode") or currency_code(doc, side),
        }
    )


def _order_total(doc: OrderDoc, current_key: str, total_key: str) -> Mapping[str, Any] | None:
    """`current*Set` for a version without refunds (edits included), else `total*Set` (before refunds)."""
    if doc.get("refunds"):
        bag: Mapping[str, Any] | None = doc.get(total_key) or doc.get(current_key)
    else:
        bag = doc.get(current_key) or doc.get(total_key)
    return bag


def _amount_or_zero(bag: Mapping[str, Any] | None, side: CurrencySide) -> Decimal:
    amount = bag_amount(bag, side)
    return ZERO if amount is None else amount


def build_placed_order(
    doc: OrderDoc,
    *,
    store_domain: str,
    currency: CurrencySide,
    channel_table: Mapping[str, str],
    is_new_customer: bool | None,
) -> dict[str, Any]:
    """The Placed Order event of one order version."""
    order_id = order_legacy_id(doc)
    total_bag = _order_total(doc, "currentTotalPriceSet", "totalPriceSet")
    quantities = line_quantities(doc)
    items = [
        _item(line, quantities[line["id"]], currency, doc)
        for line in doc.get("lineItems") or []
        if quantities[line["id"]] > 0
    ]
    codes = [str(code) for code in doc.get("discountCodes") or [] if code]
    properties: dict[str, Any] = {
        "id": order_id,
        "order_name": doc.get("name"),
        "total_price": bag_amount(total_bag, currency),
        **both_sides("total_price", total_bag),
        "total_tax": _amount_or_zero(_order_total(doc, "currentTotalTaxSet", "totalTaxSet"), currency),
        "total_discount": _amount_or_zero(
            _order_total(doc, "currentTotalDiscountsSet", "totalDiscountsSet"), currency
        ),
        # No recording selects totalShippingPriceSet; the 2026-07 schema text calls it "shipping costs
        # returned to the customer", the deprecated totalShippingPrice "before discounts and returns".
        # Mapped as the contract says; see the report / PRODUCT.md note.
        "total_shipping": bag_amount(doc.get("totalShippingPriceSet"), currency),
        "taxes_included": doc.get("taxesIncluded"),
        "coupon": ",".join(codes) if codes else None,
        **currency_properties(doc, currency),
        "$sales_channel_type": channel_type(doc, channel_table),
        "source_name": doc.get("sourceName"),
        "tags": list(doc.get("tags") or []),
        "store": store_domain,
        "checkout_token": doc.get("checkoutToken"),
        "cart_token": doc.get("cartToken"),
        "customer_id": customer_legacy_id(doc),
        "financial_status": doc.get("displayFinancialStatus"),
        "$is_new_customer": is_new_customer,
        "items": items,
    }
    return envelope(PLACED_ORDER, order_id, event_timestamp(doc["processedAt"]), properties, doc)
