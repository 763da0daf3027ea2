"""Building a refund the way `refundCreate` records one (pure apart from minting ids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shopify_bridge.simulator.money import ZERO, Pair, add, convert, each, scale, sub, zero_pair
from shopify_bridge.simulator.orders import Doc, gid, gid_number, line_net, line_tax, new_transaction

if TYPE_CHECKING:
    from shopify_bridge.simulator.state import SimulatorState

RESTOCK_TYPES = ("RETURN", "CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK")
TRANSACTION_STATUSES = ("SUCCESS", "PENDING", "FAILURE", "ERROR")


class RefundRefused(ValueError):
    """What Shopify's refundCreate would answer with a userError."""


def build_refund(
    state: SimulatorState,
    order: Doc,
    lines: Sequence[Mapping[str, Any]],
    *,
    shipping: bool | Decimal | str,
    status: str,
    note: str | None,
    amount: Decimal | str | None,
    at: str,
) -> Doc:
    """A new refund for `order` (whose line items' `currentQuantity` it lowers in place)."""
    if status not in TRANSACTION_STATUSES:
        raise RefundRefused(
            f"unknown transaction status {status!r}; one of {', '.join(TRANSACTION_STATUSES)}"
        )
    rate, included = order["_rate"], order["taxesIncluded"]
    refund_lines = [_refund_line(state, order, spec) for spec in lines]
    goods = add(zero_pair(), *(r["_subtotal"] for r in refund_lines))
    goods_tax = add(zero_pair(), *(r["_tax"] for r in refund_lines))
    shipping_amount = _shipping_amount(order, shipping)
    shipping_lines = []
    if shipping_amount["shop"] > ZERO:
        shipping_lines.append(
            {
                "__typename": "RefundShippingLine",
                "id": gid("RefundShippingLine", state.ids.next("RefundShippingLine")),
                "_amount": shipping_amount,
                "_tax": zero_pair(),
            }
        )
    if amount is None:
        # Like Shopify's suggested refund: never more money than is left to give back (an unpaid
        # order's refund restocks items and moves no money).
        money = _at_most(
            add(goods, shipping_amount, zero_pair() if included else goods_tax), _refundable(order)
        )
    else:
        money = convert(Decimal(str(amount)), rate)
        if money["shop"] > _refundable(order)["shop"]:
            raise RefundRefused(
                f"refund of {money['shop']} {order['currencyCode']} exceeds "
                f"the {_refundable(order)['shop']} still refundable"
            )
    number = state.ids.next("Refund")
    refund: Doc = {
        "__typename": "Refund",
        "id": gid("Refund", number),
        "legacyResourceId": str(number),
        "createdAt": at,
        "processedAt": at,
        "updatedAt": at,
        "note": note,
        "refundLineItems": refund_lines,
        "refundShippingLines": shipping_lines,
        "transactions": [],
        "_order": order["id"],
    }
    if money["shop"] > ZERO or money["presentment"] > ZERO:
        sale = next((t["id"] for t in order["transactions"] if t["kind"] in ("SALE", "CAPTURE")), None)
        refund["transactions"].append(
            new_transaction(
                state.ids.next("OrderTransaction"),
                kind="REFUND",
                status=status,
                amount=money,
                at=at,
                order_gid=order["id"],
                test=order["test"],
                parent=sale,
                gateway="bogus" if order["test"] else "shopify_payments",
            )
        )
    return refund


def _refund_line(state: SimulatorState, order: Doc, spec: Mapping[str, Any]) -> Doc:
    wanted = str(spec.get("lineItemId", ""))
    line = next(
        (item for item in order["lineItems"] if wanted and gid_number(item["id"]) == gid_number(wanted)), None
    )
    if line is None:
        raise RefundRefused(f"line item {wanted!r} is not on order {order['name']}")
    quantity = int(spec.get("quantity", line["currentQuantity"]))
    if not 1 <= quantity <= line["currentQuantity"]:
        raise RefundRefused(
            f"cannot refund {quantity} of line item {line['id']}: {line['currentQuantity']} left to refund"
        )
    restock = str(spec.get("restockType", "RETURN"))
    if restock not in RESTOCK_TYPES:
        raise RefundRefused(f"unknown restock type {restock!r}; one of {', '.join(RESTOCK_TYPES)}")
    line["currentQuantity"] -= quantity
    subtotal = line_net(line, quantity)
    tax = line_tax(subtotal, order["_taxRate"], order["taxesIncluded"]) if line["taxable"] else zero_pair()
    return {
        "__typename": "RefundLineItem",
        "id": gid("RefundLineItem", state.ids.next("RefundLineItem")),
        "quantity": quantity,
        "restockType": restock,
        "restocked": restock != "NO_RESTOCK",
        "_lineItem": line["id"],
        "_order": order["id"],
        "_price": scale(line_net(line), 1, line["quantity"]),
        "_subtotal": subtotal,
        "_tax": tax,
    }


def _shipping_amount(order: Doc, shipping: bool | Decimal | str) -> Pair:
    refunded = add(zero_pair(), *(s["_amount"] for r in order["refunds"] for s in r["refundShippingLines"]))
    left = sub(order["_shipping"], refunded)
    if shipping is True:
        return left
    if shipping is False:
        return zero_pair()
    wanted = convert(Decimal(str(shipping)), order["_rate"])
    if wanted["presentment"] > left["presentment"]:
        raise RefundRefused(f"shipping refund {shipping} exceeds the {left['presentment']} left to refund")
    return wanted


def _refundable(order: Doc) -> Pair:
    """Money received and not yet refunded (pending refunds count as given back)."""
    received = add(
        zero_pair(),
        *(
            t["_amount"]
            for t in order["transactions"]
            if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"
        ),
    )
    refunded = add(
        zero_pair(),
        *(
            t["_amount"]
            for r in order["refunds"]
            for t in r["transactions"]
            if t["kind"] == "REFUND" and t["status"] in ("SUCCESS", "PENDING")
        ),
    )
    return each(sub(received, refunded), lambda amount: max(amount, ZERO))


def _at_most(wanted: Pair, limit: Pair) -> Pair:
    return {
        "shop": min(wanted["shop"], limit["shop"]),
        "presentment": min(wanted["presentment"], limit["presentment"]),
    }
