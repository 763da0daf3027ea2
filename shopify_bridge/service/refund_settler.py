"""Refunds that wait for their money: read again until they settle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.service import ingest
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store
from shopify_bridge.timeutil import Clock


async def settle_waiting_refunds(
    ctx: SourceContext,
    client: Executes,
    store: Store,
    clock: Clock,
    complete: Callable[[dict[str, Any]], Awaitable[OrderDoc]],
    on_events: Callable[[list[int]], None],
) -> list[int]:
    """Re-read refunds that wait for a successful REFUND transaction on a decided order."""
    now = clock()
    source = store.sources.ensure(ctx.shop, ctx.name)
    if source.first_connected_at is None:
        return []
    created: list[int] = []
    for order in store.orders.with_waiting_refunds(ctx.shop):
        data = await client.execute(queries.READ_ORDER, {"id": order.gid})
        if data.get("order") is None:
            continue
        doc = await complete(data["order"])
        created += ingest.ingest_order(
            store, ctx, doc, origin="read", now=now, first_connected_at=source.first_connected_at
        )
    if created:
        on_events(created)
    return created
