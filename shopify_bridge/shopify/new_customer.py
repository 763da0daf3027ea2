"""Asking Shopify how many earlier non-test orders an order's customer (guests: its email) has.

One `ordersCount` per question, with the search built by `search` (so a hostile email cannot change it).
The rules around the answer — when to ask at all, what the count means without `read_all_orders` — are
`decide.new_customer`'s; caching per customer is the service's (`service.new_customers`).
"""

from __future__ import annotations

from typing import Any, Protocol

from shopify_bridge.decide.new_customer import earlier_bound
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify import queries, search

log = get_logger(component="new_customer")


class Executes(Protocol):
    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


def customer_term(doc: OrderDoc) -> str | None:
    """The search term for the order's customer (guests: its email); None when it has neither."""
    customer = doc.get("customer")
    if customer and customer.get("id"):
        return search.term("customer_id", legacy_id(customer["id"]))
    if doc.get("email"):
        return search.term("email", doc["email"].strip(), quote=True)
    return None


def earlier_orders_search(doc: OrderDoc) -> str | None:
    """`ordersCount`'s search for the customer's non-test orders processed before this one."""
    who = customer_term(doc)
    if who is None:
        return None
    return search.all_of(who, search.date_term("processed_at", "<", earlier_bound(doc)), search.term("test", "false"))


async def count_earlier_orders(client: Executes, source: str, doc: OrderDoc) -> int | None:
    """Shopify's count of the customer's earlier non-test orders; None when it cannot be had (the property is
    then omitted)."""
    wanted = earlier_orders_search(doc)
    if wanted is None:
        return None
    try:
        data = await client.execute(queries.ORDERS_COUNT, {"query": wanted})
    except Exception as exc:  # the property is omitted when it cannot be determined
        log.warning("new-customer lookup failed", source=source, order=doc.get("name"), error=str(exc))
        return None
    count = (data.get("ordersCount") or {}).get("count")
    return None if count is None else int(count)
