"""Taking order versions in: read the order's facts from the store, decide, write the decision.

The rules are `decide.lifecycle` (and `decide.refunds`); the writes are `Store.orders.record`. Each
event a decision creates carries its order facts and the destinations that do not take it
(`deliver.routing.route_events`, with the source's `keep_out`), so its outbox rows are written final.
Each call runs inside the caller's transaction when it opened one (`Store.transaction()`), together with
the cursor advance: a crash at any instant either keeps all of a page's effects or none of them. All
network reads (refund details, the re-read at release, the new-customer lookup) happen before, in the
poller or the backfill.
"""

from __future__ import annotations

from datetime import datetime

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, merge_refund_details
from shopify_bridge.decide.refunds import refund_ids
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.deliver.routing import route_events
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
    facts = store.orders.facts(ctx.shop, legacy_id(doc["id"]), refund_ids(doc))
    decision = lifecycle.on_fetch(
        facts, ctx, doc, origin=origin, now=now, first_connected_at=first_connected_at, is_new_customer=is_new_customer
    )
    return store.orders.record(route_events(decision, doc, ctx.keep_out))


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
    return store.orders.record(route_events(decision, doc, ctx.keep_out))


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
