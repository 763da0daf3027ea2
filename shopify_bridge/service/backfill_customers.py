"""`$is_new_customer` for a backfill that forwards history: one bulk operation, no request per customer.

Before the windows are ingested, `index_earlier_orders` runs one extra bulk operation over every order
processed before the backfill's snapshot (`shopify.earlier_orders`) and notes each customer's earliest
non-test order in the store. Ingesting then settles every order from the store alone
(`decide.new_customer.from_complete_history`). Its progress is kept under its own key (operation id,
snapshot, done), so a restart resumes the operation instead of running another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from shopify_bridge.decide import new_customer as rules
from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify import earlier_orders
from shopify_bridge.shopify.bulk.download import FileSink, ResultSink
from shopify_bridge.shopify.bulk.operation import BulkOperations
from shopify_bridge.store import Store
from shopify_bridge.timeutil import parse_ts

log = get_logger(component="backfill")


async def index_earlier_orders(
    ctx: SourceContext,
    store: Store,
    operations: BulkOperations,
    download: Callable[[str, ResultSink], Awaitable[int]],
    data_dir: Path,
    snapshot: str,
) -> None:
    """Note every customer's earliest order before `snapshot` in the store, once per backfill."""
    state = store.customers.index_state(ctx.shop) or {}
    if state.get("snapshot") != snapshot:
        state = {"snapshot": snapshot, "op_id": None, "done": False}
    if state["done"]:
        return
    op = await operations.poll_once(state["op_id"]) if state["op_id"] else None
    if op is None:
        op = await operations.run_query(earlier_orders.bulk_query(parse_ts(snapshot)))
        state["op_id"] = str(op["id"])
        store.customers.save_index_state(ctx.shop, state)  # before waiting: a restart resumes it
    op = await operations.wait(str(state["op_id"]), op)
    if op["status"] != "COMPLETED":
        store.customers.save_index_state(ctx.shop, {**state, "op_id": None})
        raise TemporaryFailure(
            f"the bulk operation over earlier orders of {ctx.name} ended {op['status']} ({op.get('errorCode')}); "
            "the backfill runs it again"
        )
    noted = 0
    if op.get("url"):
        path = data_dir / f"earlier-orders-{ctx.shop.split('.', 1)[0]}.jsonl"
        try:
            sink = FileSink(path)
            try:
                await download(str(op["url"]), sink)
            finally:
                sink.close()
            for batch in earlier_orders.read_result(path):
                store.customers.note(ctx.shop, batch)
                noted += len(batch)
        finally:
            path.unlink(missing_ok=True)
    store.customers.save_index_state(ctx.shop, {**state, "done": True})
    log.info("earlier orders noted for new-customer checks", source=ctx.name, customers=noted)


def from_history(store: Store, ctx: SourceContext, doc: OrderDoc, all_orders_visible: bool) -> bool | None:
    """The property for a backfilled order, from the customers noted (no request)."""
    key = rules.lookup_key(doc)
    if key is None:
        return None
    return rules.from_complete_history(store.customers.earliest(ctx.shop, [key]).get(key), doc, all_orders_visible)
