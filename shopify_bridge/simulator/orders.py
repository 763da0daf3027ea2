"""Order documents and their arithmetic (pure): every MoneyBag of an order follows from its lines.

An order lives in the simulator as the dict it is served as (camelCase keys of the Admin schema,
money already in MoneyBag shape) plus a few private `_` keys that hold the `Decimal` truth the
MoneyBags are derived from. `recompute` re-derives every total after any change, so totals stay
consistent: total = lines − discounts + shipping (+ tax unless taxes are included), and the
`current*` totals use `currentQuantity` and subtract refunded shipping.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from shopify_bridge.simulator.money import (
    CENTS,
    ZERO,
    Pair,
    Units,
    add,
    cents,
    convert,
    each,
    money_bag,
    round_each,
    scale,
    sub,
    zero_pair,
)

Doc = dict[str, Any]

RECEIVING_KINDS = ("SALE", "CAPTURE")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str) -> int:
    return int(value.rsplit("/", 1)[-1].split("?", 1)[0])


def new_line_item(
    number: int,
    *,
    title: str,
    unit_price: Decimal,
    quantity: int,
    rate: Decimal,
    variant_title: str | None = None,
    sku: str | None = None,
    vendor: str | None = None,
    product: Doc | None = None,
    variant: Doc | None = None,
    image: Doc | None = None,
    taxable: bool = True,
    requires_shipping: bool = True,
    units: Units = CENTS,
) -> Doc:
    """A line item; `unit_price` is in the buyer's currency, the shop side is converted at `rate`."""
    if quantity < 1:
        raise ValueError("a line item needs a quantity of at least 1")
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", number),
        "title": title,
        "name": f"{title} - {variant_title}" if variant_title else title,
        "variantTitle": variant_title,
        "sku": sku,
        "vendor": vendor,
        "quantity": quantity,
        "currentQuantity": quantity,
        "product": product,
        "variant": variant,
        "image": image,
        "taxable": taxable,
        "requiresShipping": requires_shipping,
        "isGiftCard": False,
        "_unit": convert(unit_price, rate, units),
        "_discount": zero_pair(),
    }


def allocate_discount(order: Doc, total: Pair) -> None:
    """Spread an order-level discount over its lines by value; the last line takes the rounding rest."""
    lines, units = order["lineItems"], order["_units"]
    gross = add(*(_line_gross(line) for line in lines)) if lines else zero_pair()
    remaining = total
    for index, line in enumerate(lines):
        if index == len(lines) - 1:
            share = remaining
        else:
            line_gross = _line_gross(line)
            share = {
                "shop": _share(total["shop"], line_gross["shop"], gross["shop"], units["shop"]),
                "presentment": _share(
                    total["presentment"], line_gross["presentment"], gross["presentment"], units["presentment"]
                ),
            }
        line["_discount"] = add(line["_discount"], share)
        remaining = sub(remaining, share)


def _share(total: Decimal, part: Decimal, whole: Decimal, unit: Decimal) -> Decimal:
    return cents(total * part / whole, unit) if whole else ZERO


def _line_gross(line: Doc, quantity: int | None = None) -> Pair:
    units = line["quantity"] if quantity is None else quantity
    return {"shop": line["_unit"]["shop"] * units, "presentment": line["_unit"]["presentment"] * units}


def line_tax(net: Pair, rate: Decimal, included: bool, units: Units = CENTS) -> Pair:
    """Tax on a net line amount: added on top, or the share already inside a tax-inclusive price."""
    if included:
        return round_each(net, units, lambda amount: amount * rate / (1 + rate))
    return round_each(net, units, lambda amount: amount * rate)


def line_net(line: Doc, quantity: int | None = None, units: Units = CENTS) -> Pair:
    """A line's value after its discount share, for `quantity` units (default: all it was sold with)."""
    count = line["quantity"] if quantity is None else quantity
    return sub(_line_gross(line, count), scale(line["_discount"], count, line["quantity"], units))


def recompute(order: Doc) -> Doc:
    """Re-derive every MoneyBag, quantity total and the financial status from the private truth."""
    shop_ccy, buyer_ccy = order["currencyCode"], order["presentmentCurrencyCode"]

    def bag(amounts: Pair) -> Doc:
        return money_bag(amounts, shop_ccy, buyer_ccy)

    rate, included, units = order["_taxRate"], order["taxesIncluded"], order["_units"]
    lines = order["lineItems"]
    gross = add(zero_pair(), *(_line_gross(line) for line in lines))
    current_gross = add(zero_pair(), *(_line_gross(line, line["currentQuantity"]) for line in lines))
    discounts = add(zero_pair(), *(line["_discount"] for line in lines))
    current_discounts = add(
        zero_pair(),
        *(scale(line["_discount"], line["currentQuantity"], line["quantity"], units) for line in lines),
    )
    tax = add(
        zero_pair(),
        *(line_tax(line_net(line, None, units), rate, included, units) for line in lines if line["taxable"]),
    )
    current_tax = add(
        zero_pair(),
        *(
            line_tax(line_net(line, line["currentQuantity"], units), rate, included, units)
            for line in lines
            if line["taxable"]
        ),
    )
    refunds = order["refunds"]
    refunded_shipping = add(zero_pair(), *(s["_amount"] for r in refunds for s in r["refundShippingLines"]))
    subtotal = sub(gross, discounts)
    current_subtotal = sub(current_gross, current_discounts)
    shipping = order["_shipping"]
    total = add(subtotal, shipping, zero_pair() if included else tax)
    current_total = add(
        current_subtotal, sub(shipping, refunded_shipping), zero_pair() if included else current_tax
    )

    for line in lines:
        line["originalUnitPriceSet"] = bag(line["_unit"])
        line["discountedUnitPriceSet"] = bag(line["_unit"])
        line["originalTotalSet"] = bag(_line_gross(line))
        line["totalDiscountSet"] = bag(line["_discount"])
        line["refundableQuantity"] = line["currentQuantity"]

    received = _transaction_sum(order["transactions"], RECEIVING_KINDS)
    for refund in refunds:
        refund["totalRefundedSet"] = bag(_transaction_sum(refund["transactions"], ("REFUND",)))
        for refund_line in refund["refundLineItems"]:
            refund_line["priceSet"] = bag(refund_line["_price"])
            refund_line["subtotalSet"] = bag(refund_line["_subtotal"])
            refund_line["totalTaxSet"] = bag(refund_line["_tax"])
        for shipping_line in refund["refundShippingLines"]:
            shipping_line["subtotalAmountSet"] = bag(shipping_line["_amount"])
            shipping_line["taxAmountSet"] = bag(shipping_line["_tax"])
        for transaction in refund["transactions"]:
            transaction["amountSet"] = bag(transaction["_amount"])
    for transaction in order["transactions"]:
        transaction["amountSet"] = bag(transaction["_amount"])
    refunded = add(zero_pair(), *(_transaction_sum(r["transactions"], ("REFUND",)) for r in refunds))

    order.setdefault("_originalTotal", total)
    order.update(
        subtotalPriceSet=bag(subtotal),
        currentSubtotalPriceSet=bag(current_subtotal),
        totalDiscountsSet=bag(discounts),
        currentTotalDiscountsSet=bag(current_discounts),
        totalTaxSet=bag(tax),
        currentTotalTaxSet=bag(current_tax),
        totalShippingPriceSet=bag(shipping),
        totalPriceSet=bag(total),
        currentTotalPriceSet=bag(current_total),
        originalTotalPriceSet=bag(order["_originalTotal"]),
        totalReceivedSet=bag(received),
        totalRefundedSet=bag(refunded),
        totalRefundedShippingSet=bag(refunded_shipping),
        netPaymentSet=bag(sub(received, refunded)),
        totalOutstandingSet=bag(_outstanding(current_total, received, refunded)),
        subtotalLineItemsQuantity=sum(line["quantity"] for line in lines),
        currentSubtotalLineItemsQuantity=sum(line["currentQuantity"] for line in lines),
        displayFinancialStatus=_financial_status(order.get("_financial"), received, refunded),
        discountCode=order["discountCodes"][0] if order["discountCodes"] else None,
    )
    order["unpaid"] = received["shop"] <= ZERO < total["shop"]
    return order


def _transaction_sum(transactions: list[Doc], kinds: tuple[str, ...]) -> Pair:
    chosen = [t["_amount"] for t in transactions if t["kind"] in kinds and t["status"] == "SUCCESS"]
    return add(zero_pair(), *chosen)


def _outstanding(current_total: Pair, received: Pair, refunded: Pair) -> Pair:
    owed = sub(current_total, sub(received, refunded))
    return each(owed, lambda amount: max(amount, ZERO))


def _financial_status(base: str | None, received: Pair, refunded: Pair) -> str | None:
    if refunded["shop"] > ZERO:
        return "REFUNDED" if refunded["shop"] >= received["shop"] else "PARTIALLY_REFUNDED"
    return base


def new_transaction(
    number: int,
    *,
    kind: str,
    status: str,
    amount: Pair,
    at: str,
    order_gid: str,
    test: bool,
    gateway: str = "shopify_payments",
    parent: str | None = None,
) -> Doc:
    return {
        "__typename": "OrderTransaction",
        "id": gid("OrderTransaction", number),
        "kind": kind,
        "status": status,
        "gateway": gateway,
        "test": test,
        "createdAt": at,
        "processedAt": at if status != "PENDING" else None,
        "_amount": amount,
        "_parent": parent,
        "_order": order_gid,
    }


def public_view(value: Any) -> Any:
    """A document without its private `_` keys (for the control API's JSON answers)."""
    if isinstance(value, dict):
        return {k: public_view(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public_view(v) for v in value]
    return value


def public_doc(doc: Doc) -> Doc:
    return cast(Doc, public_view(doc))
