"""`$is_new_customer`: whether Shopify has no earlier non-test order of this customer (guests: this email).

The contract's rule (PRODUCT.md, Placed Order): true when there is no earlier non-test order, asked as
`ordersCount(query: "customer_id:<id> processed_at:<'<processedAt>' test:false")`; omitted when it cannot
be determined. Without `read_all_orders` Shopify shows only the last 60 days, so an empty answer proves
nothing: the property is then only ever `false` (an earlier order is visible) or omitted.

What the bridge learns of a customer's orders is kept per customer key — `customer:<id>`, and for every
order with an email also `email:<trimmed lower-cased email>`, which is what Shopify's email search matches
for a guest — as the latest moment by which a non-test order of theirs is known to exist. A later order
is settled as returning from that alone; only a first order needs Shopify's answer (or, in a backfill,
the complete list of earlier orders from one bulk operation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.timeutil import parse_ts


def lookup_key(doc: OrderDoc) -> str | None:
    """The key an order's customer is looked up by: its customer id, else (a guest) its email."""
    customer = doc.get("customer")
    if customer and customer.get("id"):
        return f"customer:{legacy_id(customer['id'])}"
    email = (doc.get("email") or "").strip().lower()
    return f"email:{email}" if email else None


def known_keys(doc: OrderDoc) -> list[str]:
    """Every key this order counts as an earlier order for: its customer's, and its email's."""
    keys = []
    customer = doc.get("customer")
    if customer and customer.get("id"):
        keys.append(f"customer:{legacy_id(customer['id'])}")
    email = (doc.get("email") or "").strip().lower()
    if email:
        keys.append(f"email:{email}")
    return keys


def counts_as_earlier(doc: OrderDoc) -> bool:
    """Test orders never count (`test:false` in the lookup)."""
    return not doc.get("test")


def note_earliest(earliest: dict[str, datetime], doc: OrderDoc) -> None:
    """Fold `doc` into `earliest` (per customer key, the earliest order known) when it counts."""
    if not counts_as_earlier(doc):
        return
    at = parse_ts(doc["processedAt"])
    for key in known_keys(doc):
        if key not in earliest or at < earliest[key]:
            earliest[key] = at


def earlier_bound(doc: OrderDoc) -> datetime:
    """The latest processedAt that counts as earlier. Shopify's `<` behaves like `<=`, so the bound is one
    second before this order's processedAt; an earlier order processed in that same second is missed."""
    return parse_ts(doc["processedAt"]) - timedelta(seconds=1)


def returning(earliest_known: datetime | None, doc: OrderDoc) -> bool:
    """Whether an order known to exist by `earliest_known` is one Shopify would count as earlier."""
    return earliest_known is not None and earliest_known <= earlier_bound(doc)


def from_count(count: int | None, all_orders_visible: bool) -> bool | None:
    """Shopify's count of earlier non-test orders → the property (None: omitted)."""
    if count is None:
        return None
    if count > 0:
        return False
    return True if all_orders_visible else None


def from_complete_history(earliest_known: datetime | None, doc: OrderDoc, all_orders_visible: bool) -> bool | None:
    """The property from a complete list of earlier orders (a backfill's bulk operation)."""
    return False if returning(earliest_known, doc) else (True if all_orders_visible else None)
