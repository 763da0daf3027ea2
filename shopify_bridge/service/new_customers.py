"""`$is_new_customer` while polling: settled from what the store knows, else asked early — never waited for.

For an order about to be decided, the store's `customers` table says by when a non-test order of its
customer is known to exist (every order the bridge took in counts, and every answer Shopify gave): when
that is earlier than this order, the customer is returning and nothing is asked. Otherwise Shopify is asked
(`ordersCount`, several orders to a request), and a positive answer is kept for the customer's later
orders. Without `read_all_orders` an empty answer is no proof (older orders are invisible): the property
is then omitted.

When Shopify is asked matters: holds go out within 2 s of their time even in a flash sale (PRODUCT.md,
"Never miss an order"), so a release never asks. A held order is asked about while it waits, when the
shop's bucket has points to spare (`held_lookups`), and the answer is kept on the
order with the customer it answers for. Its release takes the store's word, else that answer; one still
unknown then is omitted, as the contract says of a value that cannot be determined (`at_release`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from msgspec import Struct

from shopify_bridge.decide import new_customer as rules
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes, count_earlier_orders
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, granted_scopes, is_granted
from shopify_bridge.store import Store
from shopify_bridge.timeutil import parse_ts


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


class Settled(Struct, frozen=True):
    """What the store settles of some orders' property without asking, and the orders left to ask about."""

    facts: dict[str, bool | None]  # by order gid
    to_ask: list[OrderDoc]


def settle_locally(store: Store, ctx: SourceContext, docs: Sequence[OrderDoc]) -> Settled:
    """The property of each of `docs` that needs no question: none without a customer or email, false when
    an earlier order of the customer is known — from the store, or among `docs` themselves."""
    known = store.customers.earliest(ctx.shop, {key for doc in docs for key in rules.known_keys(doc)})
    facts: dict[str, bool | None] = {}
    to_ask: list[OrderDoc] = []
    for doc in sorted(docs, key=lambda d: parse_ts(d["processedAt"])):
        key = rules.lookup_key(doc)
        if key is None:
            facts[doc["id"]] = None
        elif rules.returning(known.get(key), doc):
            facts[doc["id"]] = False
        else:
            to_ask.append(doc)
        rules.note_earliest(known, doc)  # an earlier order of the later ones here (the search index lags)
    return Settled(facts, to_ask)


async def ask(client: Executes, store: Store, ctx: SourceContext, docs: Sequence[OrderDoc]) -> dict[str, bool | None]:
    """Shopify's answer for each of `docs` it gave (by order gid; an order whose request failed is left out);
    an earlier order it counted is kept for the customer's later orders."""
    counts = await count_earlier_orders(client, ctx.name, docs)
    if not counts:
        return {}
    visible = await all_orders_visible(client, store, ctx.shop)
    existed: dict[str, datetime] = {}
    for doc in docs:
        if counts.get(doc["id"], 0) > 0 and (key := rules.lookup_key(doc)) is not None:
            existed[key] = min(rules.earlier_bound(doc), existed.get(key, rules.earlier_bound(doc)))
    store.customers.note(ctx.shop, existed)  # some order of theirs exists by then
    return {gid: rules.from_count(count, visible) for gid, count in counts.items()}


async def is_new_customer(client: Executes, store: Store, ctx: SourceContext, doc: OrderDoc) -> bool | None:
    """The property for `doc`: settled from the store, else Shopify's answer (None when it gave none)."""
    settled = settle_locally(store, ctx, [doc])
    answer = settled.facts.get(doc["id"])
    if settled.to_ask:
        answer = (await ask(client, store, ctx, settled.to_ask)).get(doc["id"])
    note_orders(store, ctx.shop, [doc])  # this one, for the customer's next orders
    return answer


def keep_answers(store: Store, ctx: SourceContext, docs: Iterable[OrderDoc], facts: dict[str, bool | None]) -> None:
    """Keep the property found for held orders, each with the customer it answers for (`at_release`)."""
    store.customers.keep_answers(ctx.shop, [
        (legacy_id(doc["id"]), rules.lookup_key(doc), facts[doc["id"]]) for doc in docs if doc["id"] in facts
    ])


def at_release(store: Store, ctx: SourceContext, doc: OrderDoc) -> tuple[bool | None, bool]:
    """The property for releasing `doc` now, without asking Shopify, and whether it is known: the store's
    word, else the answer looked up while it was held — when that answered for the same customer."""
    settled = settle_locally(store, ctx, [doc])
    if not settled.to_ask:
        return settled.facts[doc["id"]], True
    kept = store.customers.answer(ctx.shop, legacy_id(doc["id"]), rules.lookup_key(doc))
    return (kept.value, True) if kept is not None else (None, False)
