"""`$is_new_customer`: whether Shopify has no earlier non-test order of the same customer (guests: email).

The answer comes from Shopify (`ordersCount` with a search), once per order when its event is built. A
backfill that forwards history reads many orders of the same customers in one pass, so `EarlierOrders`
remembers what it has read: an order whose customer has an earlier non-test order among them is settled
as not new without asking (the count Shopify would give includes that order); every other order is
asked about, so the answer is the same as the poller's, with one query per customer instead of per order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify import queries, search
from shopify_bridge.timeutil import parse_ts

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


def earlier_bound(doc: OrderDoc) -> datetime:
    """The latest processedAt that counts as earlier. Shopify's `<` behaves like `<=`, so the bound is one
    second before this order's processedAt; an earlier order processed in that same second is missed."""
    return parse_ts(doc["processedAt"]) - timedelta(seconds=1)


async def ask_shopify(client: Executes, source: str, doc: OrderDoc) -> bool | None:
    """Shopify's answer for one order; None when it cannot be determined (the property is then omitted)."""
    who = customer_term(doc)
    if who is None:
        return None
    wanted = search.all_of(who, search.date_term("processed_at", "<", earlier_bound(doc)), search.term("test", "false"))
    try:
        data = await client.execute(queries.ORDERS_COUNT, {"query": wanted})
    except Exception as exc:  # the property is omitted when it cannot be determined
        log.warning("new-customer lookup failed", source=source, order=doc.get("name"), error=str(exc))
        return None
    count = (data.get("ordersCount") or {}).get("count")
    return None if count is None else int(count) == 0


class EarlierOrders:
    """The earliest non-test order read so far per customer term, to settle later orders locally."""

    def __init__(self) -> None:
        self._earliest: dict[str, datetime] = {}
        self.settled = 0
        self.asked = 0

    def note(self, doc: OrderDoc) -> None:
        """Remember `doc` as a possible earlier order of its customer (test orders never count)."""
        who = customer_term(doc)
        if who is None or doc.get("test"):
            return
        processed = parse_ts(doc["processedAt"])
        known = self._earliest.get(who)
        if known is None or processed < known:
            self._earliest[who] = processed

    def settles_as_returning(self, doc: OrderDoc) -> bool:
        """True when an order already noted is one Shopify would count as earlier than `doc`."""
        who = customer_term(doc)
        known = self._earliest.get(who) if who else None
        return known is not None and known <= earlier_bound(doc)

    async def is_new_customer(self, client: Executes, source: str, doc: OrderDoc) -> bool | None:
        """False when settled locally, else Shopify's answer."""
        if self.settles_as_returning(doc):
            self.settled += 1
            return False
        self.asked += 1
        return await ask_shopify(client, source, doc)
