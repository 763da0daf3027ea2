"""State changes an operator (or a test) makes to the simulated shop, as Shopify would record them.

Each change copies the current order, edits it, re-derives its totals, bumps `updatedAt` (one
second resolution) and stores the result as a new version — which `order(id:)` serves at once
and the search index sees only after the configured lag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopify_bridge.simulator.clock import parse_wire_time, wire_time
from shopify_bridge.simulator.data import discount_amount, random_order_spec
from shopify_bridge.simulator.money import ZERO, Pair, check_currency, convert, sub, units_for
from shopify_bridge.simulator.orders import (
    Doc,
    allocate_discount,
    gid,
    line_net,
    new_transaction,
    recompute,
)
from shopify_bridge.simulator.records import address_doc, customer_doc, line_from_spec
from shopify_bridge.simulator.refunds import build_refund
from shopify_bridge.simulator.state import ShopState

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER")


class ChangeRefused(ValueError):
    """A change Shopify itself would refuse (cancelling twice, an order without line items…)."""


def create_order(state: ShopState, fields: Mapping[str, Any], at: datetime | None = None) -> Doc:
    now = at or state.now()
    spec = random_order_spec(
        state.rng,
        state.catalog,
        state.customers,
        now,
        state.shop["currencyCode"],
        fields.get("sourceName"),
        state.options.presentment_currencies,
    )
    spec.update(fields)
    if "processedAt" not in fields and at is None:
        spec["processedAt"] = wire_time(now)
    if "createdAt" not in fields:
        spec["createdAt"] = wire_time(now) if at is None else spec["createdAt"]
    number = state.ids.next("Order")
    order_gid = gid("Order", number)
    rate = Decimal(str(spec.get("rate", "1")))
    shop_ccy = state.shop["currencyCode"]
    buyer_ccy = spec.get("presentmentCurrency") or shop_ccy
    if buyer_ccy == shop_ccy:
        rate = Decimal("1")
    check_currency(buyer_ccy)
    units = units_for(shop_ccy, buyer_ccy)
    order: Doc = {
        "__typename": "Order",
        "id": order_gid,
        "legacyResourceId": str(number),
        "number": state.ids.next_order_number(),
        "createdAt": spec["createdAt"],
        "processedAt": spec["processedAt"],
        "updatedAt": wire_time(now),
        "cancelledAt": None,
        "cancelReason": None,
        "closed": False,
        "closedAt": None,
        "confirmed": True,
        "test": bool(spec.get("test", False)),
        "sourceName": spec.get("sourceName"),
        "sourceIdentifier": spec.get("sourceIdentifier"),
        "tags": sorted(set(spec.get("tags") or []), key=str.lower),
        "email": spec.get("email"),
        "phone": spec.get("phone"),
        "note": spec.get("note"),
        "currencyCode": shop_ccy,
        "presentmentCurrencyCode": buyer_ccy,
        "discountCodes": list(spec.get("discountCodes") or []),
        # Cart attributes as the recorded order shows them (2025-01__order-create-parity.json): key, value.
        "customAttributes": [
            {"key": str(attribute["key"]), "value": attribute.get("value")}
            for attribute in spec.get("customAttributes") or []
        ],
        "edited": False,
        "taxesIncluded": bool(spec.get("taxesIncluded", False)),
        "checkoutToken": spec.get("checkoutToken"),
        "cartToken": spec.get("cartToken"),
        "displayFulfillmentStatus": "UNFULFILLED",
        "customer": _customer(state, spec),
        "billingAddress": address_doc(state.ids.next("MailingAddress"), spec.get("billingAddress")),
        "shippingAddress": address_doc(state.ids.next("MailingAddress"), spec.get("shippingAddress")),
        "app": state.app_for_source(spec.get("sourceName")),
        "retailLocation": state.location if spec.get("sourceName") == "pos" else None,
        "lineItems": [line_from_spec(state, line, rate, units) for line in spec.get("lineItems") or []],
        "refunds": [],
        "transactions": [],
        "_rate": rate,
        "_units": units,
        "_taxRate": Decimal(str(spec.get("taxRate", "0"))),
        "_shipping": convert(Decimal(str(spec.get("shipping", "0"))), rate, units),
        "_financial": spec.get("financialStatus", "PAID"),
    }
    order["name"] = f"#{order['number']}"
    if not order["lineItems"]:
        raise ChangeRefused("an order needs at least one line item")
    if spec.get("discountAmount") is not None or order["discountCodes"]:
        _apply_discount(order, spec.get("discountAmount"), rate)
    recompute(order)
    _record_payment(state, order, order["_financial"], _total(order), order["createdAt"])
    recompute(order)
    state.save(number, order, now)
    return order


def _customer(state: ShopState, spec: Mapping[str, Any]) -> Doc | None:
    if spec.get("customerId") is not None:
        return customer_doc(state.person(int(str(spec["customerId"]).rsplit("/", 1)[-1])))
    person = spec.get("customer")
    if person is None:
        return None
    if person.get("legacyId") is None:
        person = state.add_customer(dict(person))
    return customer_doc(person)


def _apply_discount(order: Doc, amount: Any, rate: Decimal) -> None:
    gross = sum((line_net(line)["presentment"] for line in order["lineItems"]), ZERO)
    if amount is None:
        amount = sum((discount_amount(code, gross) for code in order["discountCodes"]), ZERO)
    allocate_discount(order, convert(min(Decimal(str(amount)), gross), rate, order["_units"]))


def _total(order: Doc) -> Pair:
    bag = order["totalPriceSet"]
    return {
        "shop": Decimal(bag["shopMoney"]["amount"]),
        "presentment": Decimal(bag["presentmentMoney"]["amount"]),
    }


def _record_payment(state: ShopState, order: Doc, status: str | None, amount: Pair, at: str) -> None:
    kind = {"PAID": "SALE", "AUTHORIZED": "AUTHORIZATION"}.get(status or "")
    if kind is None or amount["shop"] <= ZERO:
        return
    gateway = "bogus" if order["test"] else ("cash" if order["sourceName"] == "pos" else "shopify_payments")
    order["transactions"].append(
        new_transaction(
            state.ids.next("OrderTransaction"),
            kind=kind,
            status="SUCCESS",
            amount=amount,
            at=at,
            order_gid=order["id"],
            test=order["test"],
            gateway=gateway,
        )
    )


def _bump(order: Doc, now: datetime) -> None:
    stamp = wire_time(now)
    if parse_wire_time(stamp) > parse_wire_time(order["updatedAt"]):
        order["updatedAt"] = stamp


def _save(state: ShopState, number: int, order: Doc, now: datetime) -> Doc:
    recompute(order)
    _bump(order, now)
    state.save(number, order, now)
    return order


def add_line_item(
    state: ShopState,
    number: int,
    line: Mapping[str, Any] | None = None,
    *,
    paid: bool = True,
    at: datetime | None = None,
) -> Doc:
    """A post-purchase edit (an accepted upsell): a new line item, totals up, `edited: true`."""
    now = at or state.now()
    order = state.store.editable(number)
    spec = dict(line) if line else {"variantId": state.rng.choice(state.catalog).variants[0].variant_id}
    before = _total(order)
    order["lineItems"].append(line_from_spec(state, spec, order["_rate"], order["_units"]))
    order["edited"] = True
    recompute(order)
    if paid and order["_financial"] == "PAID":
        _record_payment(state, order, "PAID", sub(_total(order), before), wire_time(now))
    return _save(state, number, order, now)


def add_tag(state: ShopState, number: int, tag: str, at: datetime | None = None) -> Doc:
    now = at or state.now()
    order = state.store.editable(number)
    if tag.lower() not in {t.lower() for t in order["tags"]}:
        order["tags"] = sorted([*order["tags"], tag], key=str.lower)
    return _save(state, number, order, now)


def cancel(state: ShopState, number: int, reason: str = "CUSTOMER", at: datetime | None = None) -> Doc:
    """Cancel an order as `orderCancel(refund: true, restock: true)` does.

    Its remaining units are restocked (restock type CANCEL) in a refund that gives back what was paid
    (a REFUND transaction) or, for an order only authorised, voids the authorisation (a VOID transaction;
    the order turns VOIDED). OrderTransactionKind and RefundLineItemRestockType: notes §2.8 [SDL-2026-07].
    """
    if reason not in CANCEL_REASONS:
        raise ChangeRefused(f"unknown cancel reason {reason!r}; one of {', '.join(CANCEL_REASONS)}")
    now = at or state.now()
    order = state.store.editable(number)
    if order["cancelledAt"] is not None:
        return order  # cancelling again changes nothing: no new version, no updatedAt bump
    order.update(cancelledAt=wire_time(now), cancelReason=reason, closed=True, closedAt=wire_time(now))
    lines = [
        {"lineItemId": line["id"], "quantity": line["currentQuantity"], "restockType": "CANCEL"}
        for line in order["lineItems"]
        if line["currentQuantity"] > 0
    ]
    authorised = [t for t in order["transactions"] if t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS"]
    captured = any(t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS" for t in order["transactions"])
    if lines or captured:
        made = build_refund(
            state, order, lines, shipping=captured, status="SUCCESS", note=None, amount=None, at=wire_time(now)
        )
        if authorised and not captured:
            made["transactions"].append(_void(state, order, authorised[0], wire_time(now)))
            order["_financial"] = "VOIDED"
        order["refunds"].append(made)
    return _save(state, number, order, now)


def _void(state: ShopState, order: Doc, authorisation: Doc, at: str) -> Doc:
    return new_transaction(
        state.ids.next("OrderTransaction"),
        kind="VOID",
        status="SUCCESS",
        amount=authorisation["_amount"],
        at=at,
        order_gid=order["id"],
        test=order["test"],
        gateway=authorisation["gateway"],
        parent=authorisation["id"],
    )


def delete(state: ShopState, number: int, at: datetime | None = None) -> None:
    state.store.delete(number, at or state.now(), state.draw_lag())


def refund(
    state: ShopState,
    number: int,
    lines: Sequence[Mapping[str, Any]] = (),
    *,
    shipping: bool | Decimal | str = False,
    status: str = "SUCCESS",
    note: str | None = None,
    amount: Decimal | str | None = None,
    transactions: Sequence[Mapping[str, Any]] | None = None,
    created_at_null: bool = False,
    at: datetime | None = None,
) -> Doc:
    """Refund line items (with restock types) and optionally shipping; returns the new refund."""
    now = at or state.now()
    order = state.store.editable(number)
    new = build_refund(
        state,
        order,
        lines,
        shipping=shipping,
        status=status,
        note=note,
        amount=amount,
        at=wire_time(now),
        transactions=transactions,
        created_at_null=created_at_null,
    )
    order["refunds"].append(new)
    _save(state, number, order, now)
    return next(r for r in order["refunds"] if r["id"] == new["id"])


def settle_refund(
    state: ShopState, refund_gid: str, status: str = "SUCCESS", at: datetime | None = None
) -> Doc:
    """Move a refund's PENDING transactions to `status` (SUCCESS, FAILURE…): the money moves now."""
    now = at or state.now()
    number = state.store.owner_of_refund(refund_gid)
    if number is None:
        raise KeyError(refund_gid)
    order = state.store.editable(number)
    target: Doc = next(r for r in order["refunds"] if r["id"] == refund_gid)
    if status not in ("SUCCESS", "FAILURE", "ERROR"):
        raise ChangeRefused(f"a pending transaction settles to SUCCESS, FAILURE or ERROR, not {status!r}")
    pending = [t for t in target["transactions"] if t["status"] == "PENDING"]
    if not pending:
        raise ChangeRefused(f"refund {refund_gid} has no pending transaction")
    for transaction in pending:
        transaction["status"] = status
        transaction["processedAt"] = wire_time(now)
    target["updatedAt"] = wire_time(now)
    _save(state, number, order, now)
    return target
