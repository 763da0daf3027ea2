"""One refund of an order version → a Received Refund event, or why there is none (yet).

A Refund object is not money returned (notes §2.8, gotcha 18). Its outcome is:

- `waiting` for `details` — its `transactions`, `refundLineItems`, … have not been read;
- `waiting` for `pending` — one of its REFUND transactions is still in flight (PENDING or
  AWAITING_RESPONSE): a split tender (SUCCESS + PENDING) goes out once, after the pending part settles;
- `zero_amount_refund` — settled, and its successful REFUND transactions add up to 0: a restock-only
  refund, one without transactions, or one with only VOID / FAILURE / ERROR ones. No event;
- `event` — the Received Refund, with the settled sum.

Event: `event_id` = `"<order id>-refund-<refund id>"` (numeric ids), `timestamp` = the refund's
`createdAt`, else its `processedAt`. Properties: `id` (refund), `order_id`, `order_name`,
`total_refunded` (sum of SUCCESS REFUND transactions' `amountSet`, authoritative; the items need
not add up to it), `shop_total_refunded`, `presentment_total_refunded`, `currency`,
`shop_currency`, `presentment_currency`, `refund_shipping` (sum of `refundShippingLines`
`subtotalAmountSet`, `0.0` when none), `is_full_refund`, `note`, `$sales_channel_type`, `store`,
the buyer's `$…` keys, and `items` from `refundLineItems`: `product_id`, `variant_id`, `sku`,
`name` (line `title`), `variant_name`, `quantity`, `price` (`priceSet`), `subtotal`
(`subtotalSet`), `restock_type` (`restockType`).

`is_full_refund` is decided over the whole version (`full_refund_id`): true only for the refund that brings
the order to fully refunded — with several refunds in one version, the last by `createdAt` (then id).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from msgspec import Struct

from shopify_bridge.decide.mapping_common import (
    RECEIVED_REFUND,
    channel_type,
    currency_properties,
    envelope,
    event_timestamp,
    order_legacy_id,
    product_identity,
    without_nulls,
)
from shopify_bridge.decide.money import CurrencySide, bag_amount, sum_amounts
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, refund_has_details
from shopify_bridge.decide.settling import IN_FLIGHT, WaitsFor
from shopify_bridge.timeutil import parse_ts

OutcomeStatus = Literal["event", "waiting", "zero_amount_refund"]


class RefundOutcome(Struct, frozen=True):
    status: OutcomeStatus
    event: dict[str, Any] | None = None
    waits_for: WaitsFor | None = None  # what a `waiting` refund waits for: `details` or `pending`


def refund_transactions(refund: Mapping[str, Any], statuses: tuple[str, ...]) -> list[Mapping[str, Any]]:
    """The refund's REFUND transactions in one of `statuses`."""
    transactions = refund.get("transactions") or []
    return [tx for tx in transactions if tx.get("kind") == "REFUND" and tx.get("status") in statuses]


def successful_refund_transactions(refund: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return refund_transactions(refund, ("SUCCESS",))


def may_move_money(refund: Mapping[str, Any]) -> bool:
    """Whether the refund gives (or may still give) money back: a REFUND transaction above zero that
    succeeded or is in flight. Unknown (details not read) counts as yes."""
    if not refund_has_details(dict(refund)):
        return True
    moving = refund_transactions(refund, ("SUCCESS", *IN_FLIGHT))
    return any((bag_amount(tx.get("amountSet"), "shop") or 0) > 0 for tx in moving)


def is_full_refund(doc: OrderDoc) -> bool:
    """Whether the order is fully refunded in this version: Shopify says REFUNDED, or — where that status is
    null or lags — `totalRefundedSet` reaches `totalPriceSet` (shop money, total above zero). The captures
    agree: the full refund moves the order to REFUNDED with 15.0 of 15.0 refunded, the partial one to
    PARTIALLY_REFUNDED with 15.0 of 25.0."""
    if doc.get("displayFinancialStatus") == "REFUNDED":
        return True
    total = bag_amount(doc.get("totalPriceSet"), "shop")
    refunded = bag_amount(doc.get("totalRefundedSet"), "shop")
    return total is not None and refunded is not None and total > 0 and refunded >= total


def refund_timestamp(refund: Mapping[str, Any]) -> str | None:
    """The refund's `createdAt` (nullable in the schema), else its `processedAt`."""
    stamp = refund.get("createdAt") or refund.get("processedAt")
    return None if stamp is None else str(stamp)


def full_refund_id(doc: OrderDoc) -> str | None:
    """The refund that brings the order to fully refunded in this version, if it is fully refunded: of the
    refunds that give money back, the last by `createdAt` (else `processedAt`), then by id."""
    if not is_full_refund(doc):
        return None
    candidates = [refund for refund in doc.get("refunds") or [] if may_move_money(refund)]
    if not candidates:
        return None

    def order_of(refund: Mapping[str, Any]) -> tuple[datetime | None, int]:
        stamp = refund_timestamp(refund)
        tail = legacy_id(refund["id"])
        return (parse_ts(stamp) if stamp else None, int(tail) if tail.isdigit() else 0)

    dated = [r for r in candidates if order_of(r)[0] is not None]
    last = max(dated or candidates, key=lambda r: (order_of(r)[0] or datetime.min, order_of(r)[1]))
    return legacy_id(last["id"])


def _refund_item(refund_line: Mapping[str, Any], side: CurrencySide) -> dict[str, Any]:
    line = refund_line.get("lineItem") or {}
    return without_nulls(
        {
            **product_identity(line),
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
    full_refund: bool | None = None,
) -> RefundOutcome:
    """The Received Refund of `refund` (one of `doc`'s refunds, details merged), or why not.

    `full_refund` is whether it brings the order to fully refunded (`full_refund_id`, worked out from `doc`
    when not given)."""
    if not refund_has_details(dict(refund)):
        return RefundOutcome("waiting", waits_for="details")
    if refund_transactions(refund, IN_FLIGHT):
        return RefundOutcome("waiting", waits_for="pending")
    successful = successful_refund_transactions(refund)
    total_refunded = _sum_side(successful, currency)
    if total_refunded is None or total_refunded == 0:
        return RefundOutcome("zero_amount_refund")

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
        "is_full_refund": full_refund_id(doc) == refund_id if full_refund is None else full_refund,
        "note": refund.get("note"),
        "$sales_channel_type": channel_type(doc, channel_table),
        "store": store_domain,
        "items": [_refund_item(line, currency) for line in refund.get("refundLineItems") or []],
    }
    timestamp = refund_timestamp(refund)
    assert timestamp is not None, "Refund.processedAt is non-null in the schema"
    event_id = f"{order_id}-refund-{refund_id}"
    event = envelope(RECEIVED_REFUND, event_id, event_timestamp(timestamp), properties, doc)
    return RefundOutcome("event", event)
