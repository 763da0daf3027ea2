"""One refund of an order version → a Received Refund event, or why there is none (yet).

A Refund object is not money returned. Its outcome is:

- `waiting` — its details (`transactions`, `refundLineItems`, …) have not been read, or none of
  its transactions is a `REFUND` with status `SUCCESS` yet; re-read it later;
- `zero_amount_refund` — the successful REFUND transactions add up to 0 (e.g. a restock-only
  refund): no event, recorded with that rule;
- `event` — the Received Refund.

Event: `event_id` = `"<order id>-refund-<refund id>"` (numeric ids), `timestamp` = the refund's
`createdAt`, else its `processedAt`. Properties: `id` (refund), `order_id`, `order_name`,
`total_refunded` (sum of SUCCESS REFUND transactions' `amountSet`, authoritative; the items need
not add up to it), `shop_total_refunded`, `presentment_total_refunded`, `currency`,
`shop_currency`, `presentment_currency`, `refund_shipping` (sum of `refundShippingLines`
`subtotalAmountSet`, `0.0` when none), `is_full_refund`, `note`, `$sales_channel_type`, `store`,
the buyer's `$…` keys, and `items` from `refundLineItems`: `product_id`, `variant_id`, `sku`,
`name` (line `title`), `variant_name`, `quantity`, `price` (`priceSet`), `subtotal`
(`subtotalSet`), `restock_type` (`restockType`).

`is_full_refund` is judged on the order version the refund arrived with: true when Shopify says
`displayFinancialStatus: REFUNDED`, or — for versions where that status is null or lags — when
the order's `totalRefundedSet` is at least its `totalPriceSet` (shop money, total above zero).
The recorded captures agree: the full refund moves the order to REFUNDED with 15.0 of 15.0
refunded; the partial one to PARTIALLY_REFUNDED with 15.0 of 25.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shopify_bridge.decide.mapping_common import (
    RECEIVED_REFUND,
    channel_type,
    currency_properties,
    envelope,
    event_timestamp,
    numeric_id,
    order_legacy_id,
    without_nulls,
)
from shopify_bridge.decide.money import CurrencySide, bag_amount, sum_amounts
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, refund_has_details

OutcomeStatus = Literal["event", "waiting", "zero_amount_refund"]


@dataclass(frozen=True)
class RefundOutcome:
    status: OutcomeStatus
    event: dict[str, Any] | None = None
    reason: str = ""  # why it waits, for operators


def successful_refund_transactions(refund: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        tx
        for tx in refund.get("transactions") or []
        if tx.get("kind") == "REFUND" and tx.get("status") == "SUCCESS"
    ]


def is_full_refund(doc: OrderDoc) -> bool:
    if doc.get("displayFinancialStatus") == "REFUNDED":
        return True
    total = bag_amount(doc.get("totalPriceSet"), "shop")
    refunded = bag_amount(doc.get("totalRefundedSet"), "shop")
    return total is not None and refunded is not None and total > 0 and refunded >= total


def _refund_item(refund_line: Mapping[str, Any], side: CurrencySide) -> dict[str, Any]:
    line = refund_line.get("lineItem") or {}
    return without_nulls(
        {
            "product_id": numeric_id(line.get("product")),
            "variant_id": numeric_id(line.get("variant")),
            "sku": line.get("sku"),
            "name": line.get("title"),
            "variant_name": line.get("variantTitle"),
            "quantity": refund_line.get("quantity"),
            "price": bag_amount(refund_line.get("priceSet"), side),
            "subtotal": bag_amount(refund_line.get("subtotalSet"), side),
            "restock_type": refund_line.get("restockType"),
        }
    )


def _sum_side(transactions: list[Mapping[str, Any]], side: CurrencySide) -> Decimal | None:
    amounts = [bag_amount(tx.get("amountSet"), side) for tx in transactions]
    present = [amount for amount in amounts if amount is not None]
    return sum_amounts(present) if present else None


def build_received_refund(
    doc: OrderDoc,
    refund: Mapping[str, Any],
    *,
    store_domain: str,
    currency: CurrencySide,
    channel_table: Mapping[str, str],
) -> RefundOutcome:
    """The Received Refund of `refund` (one of `doc`'s refunds, details merged), or why not."""
    if not refund_has_details(dict(refund)):
        return RefundOutcome("waiting", reason="refund details not read yet")
    successful = successful_refund_transactions(refund)
    if not successful:
        return RefundOutcome("waiting", reason="no successful REFUND transaction yet")
    total_refunded = _sum_side(successful, currency)
    if total_refunded is None or total_refunded == 0:
        return RefundOutcome("zero_amount_refund", reason="successful REFUND transactions add up to 0")

    order_id = order_legacy_id(doc)
    refund_id = str(refund.get("legacyResourceId") or legacy_id(refund["id"]))
    shipping_lines = refund.get("refundShippingLines") or []
    shipping = [bag_amount(line.get("subtotalAmountSet"), currency) for line in shipping_lines]
    properties: dict[str, Any] = {
        "id": refund_id,
        "order_id": order_id,
        "order_name": doc.get("name"),
        "total_refunded": total_refunded,
        "shop_total_refunded": _sum_side(successful, "shop"),
        "presentment_total_refunded": _sum_side(successful, "presentment"),
        **currency_properties(doc, currency),
        "refund_shipping": sum_amounts(amount for amount in shipping if amount is not None),
        "is_full_refund": is_full_refund(doc),
        "note": refund.get("note"),
        "$sales_channel_type": channel_type(doc, channel_table),
        "store": store_domain,
        "items": [_refund_item(line, currency) for line in refund.get("refundLineItems") or []],
    }
    timestamp = refund.get("createdAt") or refund["processedAt"]
    event_id = f"{order_id}-refund-{refund_id}"
    event = envelope(RECEIVED_REFUND, event_id, event_timestamp(timestamp), properties, doc)
    return RefundOutcome("event", event)
