"""Asking Shopify how many earlier non-test orders an order's customer (guests: its email) has.

One `ordersCount` per order, several orders to a request (aliased fields of one query), each search built
by `search` (so a hostile email cannot change it).
The rules around the answer — when to ask at all, what the count means without `read_all_orders` — are
`decide.new_customer`'s; caching per customer is the service's (`service.new_customers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shopify_bridge.decide.new_customer import earlier_bound
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.errors import StoreError
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


async def count_earlier_orders(client: Executes, source: str, docs: Sequence[OrderDoc]) -> dict[str, int]:
    """Shopify's count of each order's customer's earlier non-test orders, by order gid, asked
    `queries.EARLIER_ORDERS_BATCH` orders to a request. An order with neither customer nor email, or whose
    request failed, is left out: its property is omitted, or asked about again later."""
    wanted = [(doc, search) for doc in docs if (search := earlier_orders_search(doc)) is not None]
    counts: dict[str, int] = {}
    for start in range(0, len(wanted), queries.EARLIER_ORDERS_BATCH):
        batch = wanted[start : start + queries.EARLIER_ORDERS_BATCH]
        try:
            data = await client.execute(queries.earlier_orders(len(batch)),
                                        {f"q{i}": search for i, (_, search) in enumerate(batch)})
        except StoreError:
            raise  # not this lookup's failure: a callback's write failed; the process handles it
        except Exception as exc:  # the property is omitted when it cannot be determined
            log.warning("new-customer lookup failed", source=source, orders=[doc.get("name") for doc, _ in batch],
                        error=str(exc))
            break
        for i, (doc, _) in enumerate(batch):
            count = (data.get(f"c{i}") or {}).get("count")
            if count is not None:
                counts[doc["id"]] = int(count)
    return counts
