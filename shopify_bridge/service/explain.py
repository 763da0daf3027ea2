"""`shopify-bridge explain ORDER`: everything the bridge knows and decided about one order.

ORDER is a name (`#1001` or `1001`), a numeric id, or a gid. Reads only (a reader connection).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopify_bridge.errors import BridgeError
from shopify_bridge.exit_codes import USAGE
from shopify_bridge.store import Store
from shopify_bridge.store.reads_orders import OrderEvent, OrderRecord, RefundRecord


class OrderNotFound(BridgeError):
    exit_code = USAGE


@dataclass
class Explanation:
    shop: str
    source_name: str | None
    order: OrderRecord
    versions: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)


def find_orders(store: Store, ref: str, source: str | None = None) -> list[OrderRecord]:
    """The stored orders that ORDER (`#1001`, `1001`, a numeric id or a gid) names, in `source` when given."""
    ref = ref.strip()
    numeric = ref.rsplit("/", 1)[-1] if ref.startswith("gid://") else ref
    name = ref if ref.startswith("#") else f"#{ref}"
    rows = store.reads.orders.orders_matching(order_id=numeric, name=name, gid=ref)
    if source is not None:
        rows = [r for r in rows if source in (r["source_name"], r["shop"])]
    return rows


def explain(store: Store, ref: str, source: str | None = None) -> Explanation:
    matches = find_orders(store, ref, source)
    if not matches:
        raise OrderNotFound(f"no stored order matches {ref!r}" + (f" in source {source!r}" if source else ""))
    if len(matches) > 1:
        names = ", ".join(sorted({str(m["source_name"] or m["shop"]) for m in matches}))
        raise OrderNotFound(f"{ref!r} matches orders in several sources ({names}); pass --source NAME")
    order = matches[0]
    shop, order_id = order["shop"], order["order_id"]
    orders = store.reads.orders
    versions = []
    for stored in orders.versions(shop, order_id):
        doc = stored["doc"]
        versions.append(
            {
                "version": stored["version"],
                "updated_at": stored["updated_at"],
                "fetched_at": stored["fetched_at"],
                "origin": stored["origin"],
                "total": ((doc.get("currentTotalPriceSet") or {}).get("shopMoney") or {}).get("amount"),
                "line_items": len(doc.get("lineItems") or []),
                "tags": doc.get("tags"),
                "refunds": len(doc.get("refunds") or []),
            }
        )
    return Explanation(
        shop, order["source_name"], order, versions, orders.refunds(shop, order_id), orders.events(shop, order_id)
    )


WAITS_FOR = {
    "placed_order": "its Placed Order (the order is held)",
    "details": "its details from Shopify",
    "pending": "a pending REFUND transaction to settle",
}


def waiting_note(refund: RefundRecord, next_read: str | None = None) -> str | None:
    """What a waiting refund waits for, since when, how often it was read, and when it is read next (as
    `next_read` says it, e.g. `in 4 min`; else its timestamp). None unless the refund waits."""
    if refund["status"] != "waiting":
        return None
    parts = [f"waits for {WAITS_FOR.get(refund['waits_for'] or '', 'its next read')}"]
    if refund["waiting_since"]:
        parts.append(f"since {refund['waiting_since']}")
    if refund["read_attempts"]:
        parts.append(f"read {refund['read_attempts']}×")
    if refund["next_read_at"]:
        parts.append(f"next read {next_read or refund['next_read_at']}")
    elif refund["waits_for"] != "placed_order":
        parts.append("next read in the next cycle")
    return " · ".join(parts)


def edited_after_release(exp: Explanation) -> str | None:
    """'edited after release: Δ total' when versions after the built one changed the total."""
    built = exp.order.get("built_version")
    if built is None or not exp.versions:
        return None
    base = next((v for v in exp.versions if v["version"] == built), None)
    last = exp.versions[-1]
    if base is None or last["version"] == built:
        return None
    try:
        from decimal import Decimal

        delta = Decimal(str(last["total"])) - Decimal(str(base["total"]))
    except Exception:
        return "edited after release"
    sign = "+" if delta >= 0 else ""
    return f"edited after release: Δ total {sign}{delta}"


def as_dict(exp: Explanation) -> dict[str, Any]:
    return {
        "source": exp.source_name,
        "shop": exp.shop,
        "order": {k: v for k, v in exp.order.items() if k != "source_name"},
        "versions": exp.versions,
        "refunds": exp.refunds,
        "events": exp.events,
        "note": edited_after_release(exp),
    }
