"""Reading an order completely: what a polled or read order node leaves out, fetched with follow-up queries.

A node of `orders(...)` or `order(id:)` carries the first page of its line items and only the summary of
each refund; the rest of the line items and each refund's details are read here, before anything is
decided (see `ingest`).
"""

from __future__ import annotations

from typing import Any

from shopify_bridge.decide.orderdoc import (
    OrderDoc,
    has_more_line_items,
    merge_refund_details,
    normalize_order,
    refund_has_details,
)
from shopify_bridge.service import ingest
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store


async def complete(client: Executes, store: Store, shop: str, node: dict[str, Any]) -> OrderDoc:
    """A polled/read order node → a full normalized document (all line items, refund details)."""
    extra: list[dict[str, Any]] = []
    more, cursor = has_more_line_items(node)
    while more:
        data = await client.execute(queries.ORDER_LINE_ITEMS_PAGE, {"id": node["id"], "after": cursor})
        page = (data.get("order") or {}).get("lineItems") or {}
        extra += page.get("nodes") or []
        info = page.get("pageInfo") or {}
        more, cursor = bool(info.get("hasNextPage")), info.get("endCursor")
    doc = normalize_order(node, extra)
    doc = ingest.with_cached_details(store, shop, doc)
    details: dict[str, dict[str, Any]] = {}
    for refund in doc["refunds"]:
        if not refund_has_details(refund):
            data = await client.execute(queries.READ_REFUND, {"id": refund["id"]})
            if data.get("node"):
                details[refund["id"]] = data["node"]
    return merge_refund_details(doc, details) if details else doc
