"""Refunds that wait for their money (or their details): read again until they settle.

Each cycle takes the waiting refunds whose next read has come (`decide.settling`: backoff from 1 minute
doubling to 1 hour, for up to `refund_settle_days`), reads them from Shopify in batches
(`shopify.refund_details`: `nodes(ids:)`, every page, paced by the shop's bucket), and decides each against
its order's newest stored version: a settled refund produces its Received Refund once (or is recorded as
`zero_amount_refund`), one still pending is read again later, one waiting too long becomes
`refund_unsettled`. The same step reads the refunds a backfill took in without their details (a bulk query
cannot select them), so history refunds get the same items and shipping as polled ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from shopify_bridge.decide.orderdoc import forget_refund_details, merge_refund_details
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.observe.log import get_logger
from shopify_bridge.service import ingest
from shopify_bridge.shopify import refund_details
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store
from shopify_bridge.store.refunds import DueRefund
from shopify_bridge.timeutil import Clock

log = get_logger(component="refunds")

# Refunds read per cycle at most (four full batches): a backlog is worked off over the next cycles.
MAX_REFUNDS_PER_CYCLE = 1000


async def settle_waiting_refunds(
    ctx: SourceContext,
    client: Executes,
    store: Store,
    clock: Clock,
    on_events: Callable[[list[int]], None],
) -> list[int]:
    """Read the waiting refunds that are due and settle what they say; the seqs of the events created."""
    now = clock()
    first_connected = store.sources.first_connected_at(ctx.shop)
    if first_connected is None:
        return []
    due = store.refunds.due(ctx.shop, now, MAX_REFUNDS_PER_CYCLE)
    if not due:
        return []
    details = await refund_details.read(client, [refund.gid for refund in due])
    by_order: dict[str, list[DueRefund]] = defaultdict(list)
    for refund in due:
        by_order[refund.order_id].append(refund)
    created: list[int] = []
    with store.transaction():
        for order_id, refunds in by_order.items():
            stored = store.orders.latest_doc(ctx.shop, order_id)
            if stored is None:
                continue
            doc, _not_read = ingest.with_known_details(store, ctx.shop, stored, now)
            fresh = {r.gid: details[r.gid] for r in refunds if r.gid in details}
            doc = forget_refund_details(merge_refund_details(doc, fresh), {r.gid for r in refunds} - set(fresh))
            created += ingest.reread_refunds(
                store, ctx, doc, now=now, first_connected_at=first_connected, read={r.refund_id for r in refunds}
            )
    log.debug("waiting refunds read", source=ctx.name, read=len(due), returned=len(details), events=len(created))
    if created:
        on_events(created)
    return created
