"""Reading orders completely: what polled or read order nodes leave out, fetched with follow-up queries.

A node of `orders(...)` or `order(id:)` carries the first page of its line items and only the summary of
each refund. Before anything is decided (see `ingest`), the rest of each order's line items is read to the
last page, and the details of the refunds to read are read for the whole page of orders at once
(`shopify.refund_details`: batched, every page). A final refund (settled, history, excluded) is not read
again, nor a waiting one whose next read has not come while its order is unchanged (`ingest.known_refunds`):
their details, when they have any, come from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shopify_bridge.decide.orderdoc import OrderDoc, merge_refund_details, normalize_order, refund_has_details
from shopify_bridge.service import ingest
from shopify_bridge.shopify import queries, refund_details
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.shopify.pages import rest_of
from shopify_bridge.store import Store


def _line_items(data: dict[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (data.get("order") or {}).get("lineItems")
    return found


async def complete_page(
    client: Executes, store: Store, shop: str, nodes: Sequence[dict[str, Any]], now: datetime
) -> list[OrderDoc]:
    """Polled/read order nodes → full normalized documents (all line items, every refund's details)."""
    docs = []
    unread: list[str] = []
    for node in nodes:
        extra = await rest_of(client, node.get("lineItems"), queries.ORDER_LINE_ITEMS_PAGE, {"id": node["id"]},
                              _line_items)
        doc, not_read = ingest.with_known_details(store, shop, normalize_order(node, extra), now)
        docs.append(doc)
        unread += [r["id"] for r in doc["refunds"] if r["id"] not in not_read and not refund_has_details(r)]
    if not unread:
        return docs
    details = await refund_details.read(client, unread)
    return [merge_refund_details(doc, details) for doc in docs]


async def complete(client: Executes, store: Store, shop: str, node: dict[str, Any], now: datetime) -> OrderDoc:
    """One polled/read order node → its full normalized document."""
    [doc] = await complete_page(client, store, shop, [node], now)
    return doc
