"""`$is_new_customer` while polling: settled from what the store knows of the customer, else asked once.

For an order about to be released, the store's `customers` table says by when a non-test order of its
customer is known to exist (every order the bridge took in counts, and every answer Shopify gave): when
that is earlier than this order, the customer is returning and nothing is asked. Otherwise Shopify is asked
once (`ordersCount`), and its answer is kept for the customer's later orders. Without `read_all_orders`
an empty answer is no proof (older orders are invisible): the property is then omitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shopify_bridge.decide import new_customer as rules
from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes, count_earlier_orders
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, granted_scopes, is_granted
from shopify_bridge.store import Store


async def all_orders_visible(client: Executes, store: Store, shop: str) -> bool:
    """Whether the token sees orders older than 60 days (`read_all_orders`), from the scopes last read, or
    read now (one request) when they never were."""
    scopes = store.sources.scopes(shop)
    if scopes is None:
        scopes = granted_scopes(await client.execute(queries.SHOP_INFO))
        store.sources.set_scopes(shop, scopes)
    return is_granted(scopes, ALL_ORDERS_SCOPE)


def note_orders(store: Store, shop: str, docs: Iterable[OrderDoc]) -> None:
    """Remember the non-test orders taken in as earlier orders of their customers."""
    store.customers.note(shop, fold_orders({}, docs))


def fold_orders(earliest: dict[str, datetime], docs: Iterable[OrderDoc]) -> dict[str, datetime]:
    """`earliest` (per customer key, the earliest order known) with the non-test orders of `docs` folded in."""
    for doc in docs:
        rules.note_earliest(earliest, doc)
    return earliest


async def is_new_customer(client: Executes, store: Store, ctx: SourceContext, doc: OrderDoc) -> bool | None:
    """The property for `doc`: False when an earlier order is known, else Shopify's answer (asked once)."""
    key = rules.lookup_key(doc)
    if key is None:
        return None
    if rules.returning(store.customers.earliest(ctx.shop, [key]).get(key), doc):
        return False
    count = await count_earlier_orders(client, ctx.name, doc)
    if count is not None and count > 0:
        store.customers.note(ctx.shop, {key: rules.earlier_bound(doc)})  # some order exists by then
    note_orders(store, ctx.shop, [doc])  # this one, for the customer's next orders (the search index lags)
    return rules.from_count(count, await all_orders_visible(client, store, ctx.shop))
