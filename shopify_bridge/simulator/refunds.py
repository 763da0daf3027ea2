"""Building a refund the way `refundCreate` records one (pure apart from minting ids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from shopify_bridge.simulator.money import ZERO, Pair, add, convert, each, scale, sub, zero_pair
from shopify_bridge.simulator.orders import Doc, gid, gid_number, line_net, line_tax, new_transaction
from shopify_bridge.simulator.state import ShopState

RESTOCK_TYPES = ("RETURN", "CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK")
# OrderTransactionStatus / OrderTransactionKind [SDL-2026-07] (notes §2.8).
TRANSACTION_STATUSES = ("SUCCESS", "PENDING", "FAILURE", "ERROR", "AWAITING_RESPONSE", "UNKNOWN")
TRANSACTION_KINDS = ("REFUND", "VOID", "SALE", "CAPTURE", "AUTHORIZATION", "CHANGE", "SUGGESTED_REFUND")


class RefundRefused(ValueError):
    """What Shopify's refundCreate would answer with a userError."""


def build_refund(
    state: ShopState,
    order: Doc,
    lines: Sequence[Mapping[str, Any]],
    *,
    shipping: bool | Decimal | str,
    status: str,
    note: str | None,
    amount: Decimal | str | None,
    at: str,
    transactions: Sequence[Mapping[str, Any]] | None = None,
    created_at_null: bool = False,
) -> Doc:
    """A new refund for `order` (whose line items' `currentQuantity` it lowers in place)."""
    if status not in TRANSACTION_STATUSES:
        raise RefundRefused(
            f"unknown transaction status {status!r}; one of {', '.join(TRANSACTION_STATUSES)}"
        )
    included = order["taxesIncluded"]
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
    money = _money(order, amount, goods, shipping_amount, zero_pair() if included else goods_tax)
    number = state.ids.next("Refund")
    refund: Doc = {
        "__typename": "Refund",
        "id": gid("Refund", number),
        "legacyResourceId": str(number),
        # `Refund.createdAt` is nullable (notes §2.8, gotcha 18); some refunds come without one.
        "createdAt": None if created_at_null else at,
        "processedAt": at,
        "updatedAt": at,
        "note": note,
        "refundLineItems": refund_lines,
        "refundShippingLines": shipping_lines,
        "transactions": [],
        "_order": order["id"],
    }
    if transactions is not None:
        specs = [_given_transaction(order, spec) for spec in transactions]
    elif money["shop"] > ZERO or money["presentment"] > ZERO:
        specs = [("REFUND", status, part) for part in _split(money, _parts(state), order["_units"])]
    else:
        specs = []  # nothing was paid: the refund restocks and moves no money
    _check_refundable(order, [amount for kind, status, amount in specs if _moves_money(kind, status)])
    sale = next((t["id"] for t in order["transactions"] if t["kind"] in ("SALE", "CAPTURE")), None)
    for kind, state_of, part in specs:
        refund["transactions"].append(
            new_transaction(
                state.ids.next("OrderTransaction"),
                kind=kind,
                status=state_of,
                amount=part,
                at=at,
                order_gid=order["id"],
                test=order["test"],
                parent=sale,
                gateway="bogus" if order["test"] else "shopify_payments",
            )
        )
    return refund


def _money(order: Doc, amount: Decimal | str | None, goods: Pair, shipping: Pair, tax: Pair) -> Pair:
    if amount is None:
        # Like Shopify's suggested refund: never more money than is left to give back (an unpaid
        # order's refund restocks items and moves no money).
        return _at_most(add(goods, shipping, tax), _refundable(order))
    return convert(Decimal(str(amount)), order["_rate"], order["_units"])


def _parts(state: ShopState) -> int:
    """How many REFUND transactions one refund's money is split over (`refund_split`, notes §2.8)."""
    split = state.options.refund_split
    return 1 if split <= 1 else state.rng.randint(1, split)


def _split(money: Pair, parts: int, units: Pair) -> list[Pair]:
    """`money` in `parts` near-equal shares; the last takes the rounding rest (none is zero)."""
    share = scale(money, 1, parts, units)
    if share["shop"] <= ZERO or share["presentment"] <= ZERO:
        return [money]
    shares = [share] * (parts - 1)
    return [*shares, sub(money, add(zero_pair(), *shares))]


def _given_transaction(order: Doc, spec: Mapping[str, Any]) -> tuple[str, str, Pair]:
    kind = str(spec.get("kind", "REFUND"))
    status = str(spec.get("status", "SUCCESS"))
    if kind not in TRANSACTION_KINDS:
        raise RefundRefused(f"unknown transaction kind {kind!r}; one of {', '.join(TRANSACTION_KINDS)}")
    if status not in TRANSACTION_STATUSES:
        raise RefundRefused(f"unknown transaction status {status!r}; one of {', '.join(TRANSACTION_STATUSES)}")
    if spec.get("amount") is None:
        raise RefundRefused("a refund transaction needs an amount")
    return kind, status, convert(Decimal(str(spec["amount"])), order["_rate"], order["_units"])


def _moves_money(kind: str, status: str) -> bool:
    return kind == "REFUND" and status in ("SUCCESS", "PENDING")


def _check_refundable(order: Doc, amounts: Sequence[Pair]) -> None:
    total = add(zero_pair(), *amounts)
    left = _refundable(order)
    if total["shop"] > left["shop"]:
        raise RefundRefused(
            f"refund of {total['shop']} {order['currencyCode']} exceeds the {left['shop']} still refundable"
        )


def _refund_line(state: ShopState, order: Doc, spec: Mapping[str, Any]) -> Doc:
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
    units = order["_units"]
    subtotal = line_net(line, quantity, units)
    tax = line_tax(subtotal, order["_taxRate"], order["taxesIncluded"], units) if line["taxable"] else zero_pair()
    return {
        "__typename": "RefundLineItem",
        "id": gid("RefundLineItem", state.ids.next("RefundLineItem")),
        "quantity": quantity,
        "restockType": restock,
        "restocked": restock != "NO_RESTOCK",
        "_lineItem": line["id"],
        "_order": order["id"],
        "_price": scale(line_net(line, None, units), 1, line["quantity"], units),
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
    wanted = convert(Decimal(str(shipping)), order["_rate"], order["_units"])
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
