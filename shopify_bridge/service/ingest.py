"""Taking order versions in: read the order's facts from the store, decide, write the decision.

The rules are `decide.lifecycle` (and `decide.refunds`); the writes are `Store.orders.record`. Each
call runs inside the caller's transaction when it opened one (`Store.transaction()`), together with
the cursor advance: a crash at any instant either keeps all of a page's effects or none of them. All
network reads (refund details, the re-read at release, the new-customer lookup) happen before, in the
poller or the backfill.

`ingest_orders` takes a batch in (a bulk result, hundreds of orders at a time): the facts of the whole
batch are read at once and the decisions written at once, each decision still the lifecycle's alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, merge_refund_details
from shopify_bridge.decide.refunds import refund_ids
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.store import Store


def ingest_order(
    store: Store,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    origin: str,
    now: datetime,
    first_connected_at: str,
    is_new_customer: bool | None = None,
) -> list[int]:
    """Store one fetched order and act on it; returns the seqs of events created."""
    lookups = {doc["id"]: is_new_customer} if is_new_customer is not None else {}
    return ingest_orders(store, ctx, [doc], origin=origin, now=now, first_connected_at=first_connected_at,
                         is_new_customer=lookups)


def ingest_orders(
    store: Store,
    ctx: SourceContext,
    docs: Sequence[OrderDoc],
    *,
    origin: str,
    now: datetime,
    first_connected_at: str,
    is_new_customer: Mapping[str, bool | None] | None = None,
) -> list[int]:
    """`ingest_order` for each of `docs`, in order (`is_new_customer` by order gid); the seqs of events created.

    Orders are read and written a run of distinct orders at a time: an order met again starts a new run,
    so that its second version is decided on the facts its first one left.
    """
    created: list[int] = []
    lookups = is_new_customer or {}
    run: dict[str, OrderDoc] = {}
    for doc in docs:
        order_id = legacy_id(doc["id"])
        if order_id in run:
            created += _ingest_run(store, ctx, run, origin, now, first_connected_at, lookups)
            run = {}
        run[order_id] = doc
    if run:
        created += _ingest_run(store, ctx, run, origin, now, first_connected_at, lookups)
    return created


def _ingest_run(
    store: Store,
    ctx: SourceContext,
    run: Mapping[str, OrderDoc],
    origin: str,
    now: datetime,
    first_connected_at: str,
    lookups: Mapping[str, bool | None],
) -> list[int]:
    facts = store.orders.facts_many(ctx.shop, {order_id: refund_ids(doc) for order_id, doc in run.items()})
    decisions = [
        lifecycle.on_fetch(facts[order_id], ctx, doc, origin=origin, now=now, first_connected_at=first_connected_at,
                           is_new_customer=lookups.get(doc["id"]))
        for order_id, doc in run.items()
    ]
    return store.orders.record_many(decisions)


def release_order(
    store: Store,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    now: datetime,
    first_connected_at: str,
    is_new_customer: bool | None,
) -> list[int]:
    """Release a held order from `doc`, its fresh read by id; returns the seqs of events created."""
    facts = store.orders.facts(ctx.shop, legacy_id(doc["id"]), refund_ids(doc))
    decision = lifecycle.on_release(
        facts, ctx, doc, now=now, first_connected_at=first_connected_at, is_new_customer=is_new_customer
    )
    return store.orders.record(decision)


def mark_gone(store: Store, ctx: SourceContext, order_id: str, now: datetime) -> None:
    store.orders.record(lifecycle.on_gone(ctx, order_id, now))


def needs_new_customer_lookup(
    store: Store, ctx: SourceContext, doc: OrderDoc, first_connected_at: str, now: datetime
) -> bool:
    """Whether ingesting `doc` now may release it (then `$is_new_customer` is looked up first)."""
    status = store.orders.status(ctx.shop, legacy_id(doc["id"]))
    return lifecycle.needs_new_customer_lookup(status, ctx, doc, first_connected_at, now)


def with_cached_details(store: Store, shop: str, doc: OrderDoc) -> OrderDoc:
    """`doc` with the refund details already read for refunds whose money is settled (not read again)."""
    return merge_refund_details(doc, store.refunds.settled_details(shop, legacy_id(doc["id"])))
