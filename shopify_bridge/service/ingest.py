"""Taking order versions in: read the order's facts from the store, decide, write the decision.

The rules are `decide.lifecycle` (and `decide.refunds`); the writes are `Store.orders.record`. Each
event a decision creates carries its order facts and the destinations that do not take it
(`deliver.routing.route_events`, with the source's `keep_out`), so its outbox rows are written final.
Each call runs inside the caller's transaction when it opened one (`Store.transaction()`), together with
the cursor advance: a crash at any instant either keeps all of a page's effects or none of them. All
network reads (refund details, the re-read at release, the new-customer lookup) happen before, in the
poller or the backfill.

`ingest_orders` takes a batch in (a bulk result, hundreds of orders at a time): the facts of the whole
batch are read at once and the decisions written at once, each decision still the lifecycle's alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from msgspec import Struct

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, merge_refund_details
from shopify_bridge.decide.refunds import refund_ids
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.deliver.routing import route_events
from shopify_bridge.service import new_customers
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
    customers: dict[str, datetime] | None = None,
) -> list[int]:
    """`ingest_order` for each of `docs`, in order (`is_new_customer` by order gid); the seqs of events created.

    Orders are read and written a run of distinct orders at a time: an order met again starts a new run,
    so that its second version is decided on the facts its first one left. The orders are noted as earlier
    orders of their customers at once, or — given `customers` — folded into it for the caller to write.
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
    if customers is None:
        new_customers.note_orders(store, ctx.shop, docs)  # earlier orders of their customers' later ones
    else:
        new_customers.fold_orders(customers, docs)
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
    deferred = _deferred_refunds(store, ctx.shop, run, [i for i, f in facts.items() if f.order is not None], now)
    decisions = [
        route_events(
            lifecycle.on_fetch(
                facts[order_id], ctx, doc, origin=origin, now=now, first_connected_at=first_connected_at,
                is_new_customer=lookups.get(doc["id"]), deferred=deferred.get(order_id, set()),
            ),
            doc,
            ctx.keep_out,
        )
        for order_id, doc in run.items()
    ]
    return store.orders.record_many(decisions)


def _deferred_refunds(
    store: Store, shop: str, run: Mapping[str, OrderDoc], stored: Sequence[str], now: datetime
) -> dict[str, set[str]]:
    """`known_refunds(…).deferred` of the orders of `run` that are `stored` (others have no refund recorded)."""
    if not stored:
        return {}
    updated = store.orders.updated_at_many(shop, stored)
    unchanged = [order_id for order_id in stored if updated.get(order_id) == run[order_id].get("updatedAt")]
    recorded = store.refunds.of_orders(shop, unchanged) if unchanged else {}
    return {order_id: {r.refund_id for r in refunds if r.read_later(now)} for order_id, refunds in recorded.items()}


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


def reread_refunds(
    store: Store,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    now: datetime,
    first_connected_at: str,
    read: set[str],
) -> list[int]:
    """Move the refunds `read` (numeric ids) of a stored order, read again into `doc`; the events created."""
    facts = store.orders.facts(ctx.shop, legacy_id(doc["id"]), refund_ids(doc))
    decision = lifecycle.on_refunds_read(facts, ctx, doc, now=now, first_connected_at=first_connected_at, read=read)
    return store.orders.record(route_events(decision, doc, ctx.keep_out))


def mark_gone(store: Store, ctx: SourceContext, order_id: str, now: datetime) -> None:
    store.orders.record(lifecycle.on_gone(ctx, order_id, now))


def needs_new_customer_lookup(
    store: Store, ctx: SourceContext, doc: OrderDoc, first_connected_at: str, now: datetime
) -> bool:
    """Whether ingesting `doc` now may release it (then `$is_new_customer` is looked up first)."""
    status = store.orders.status(ctx.shop, legacy_id(doc["id"]))
    return lifecycle.needs_new_customer_lookup(status, ctx, doc, first_connected_at, now)


class KnownRefunds(Struct, frozen=True):
    """What the store already knows of an order's refunds, for a fetched version of it."""

    details: dict[str, dict[str, Any]]  # by gid: details that need no new read
    not_read: set[str]  # gids not to ask Shopify about: final ones, and waiting ones whose read is not due
    deferred: set[str]  # numeric ids of waiting refunds left as they are until their next read


def known_refunds(store: Store, shop: str, doc: OrderDoc, now: datetime) -> KnownRefunds:
    """A final refund (settled, history, excluded…) never changes: its stored details stand. A waiting
    refund is read again when its next read has come (`decide.settling`'s backoff), or when the order
    itself changed — a new `updatedAt` may be its money moving; until then it is left as it is."""
    stored = store.refunds.of_order(shop, legacy_id(doc["id"]))
    unchanged = store.orders.updated_at(shop, legacy_id(doc["id"])) == doc.get("updatedAt")
    final = [r for r in stored if r.status != "waiting"]
    later = [r for r in stored if unchanged and r.read_later(now)]
    return KnownRefunds(
        details={r.gid: r.detail for r in (*final, *later) if r.detail is not None},
        not_read={r.gid for r in (*final, *later)},
        deferred={r.refund_id for r in later},
    )


def with_known_details(store: Store, shop: str, doc: OrderDoc, now: datetime) -> tuple[OrderDoc, set[str]]:
    """`doc` with the refund details that need no new read, and the gids of the refunds not to read."""
    known = known_refunds(store, shop, doc, now)
    return merge_refund_details(doc, known.details), known.not_read
