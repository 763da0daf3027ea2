"""Refund details (line items, transactions, shipping lines), many refunds at once and every page of each.

`read` asks `nodes(ids:)` for up to `REFUNDS_BATCH` refunds per request; a refund whose connection has
more than its first page is followed up with `node(id:)` queries until the last page, so a refund of 300
lines has 300 line items. Each request goes through the client, paced by the shop's bucket. The details
come back with every connection as a plain list (the normalized shape of `decide.orderdoc`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.shopify.pages import rest_of

Detail = dict[str, Any]

# Each connection of a Refund and the query that reads its next pages.
FOLLOW_UPS = {
    "refundLineItems": queries.REFUND_LINE_ITEMS_NEXT,
    "transactions": queries.REFUND_TRANSACTIONS_NEXT,
    "refundShippingLines": queries.REFUND_SHIPPING_NEXT,
}


async def read(client: Executes, gids: Iterable[str], batch: int = queries.REFUNDS_BATCH) -> dict[str, Detail]:
    """The details of each refund in `gids` that Shopify returns, by gid (a refund it returns as null is
    left out: the caller keeps waiting for it)."""
    wanted = list(dict.fromkeys(gids))
    found: dict[str, Detail] = {}
    for start in range(0, len(wanted), batch):
        data = await client.execute(queries.READ_REFUNDS, {"ids": wanted[start : start + batch]})
        for node in data.get("nodes") or []:
            if node and node.get("id"):
                found[node["id"]] = await _to_the_last_page(client, node)
    return found


async def _to_the_last_page(client: Executes, node: dict[str, Any]) -> Detail:
    detail = dict(node)
    for key, document in FOLLOW_UPS.items():
        first_page = node.get(key) or {}

        def connection(data: dict[str, Any], key: str = key) -> dict[str, Any] | None:
            found: dict[str, Any] | None = (data.get("node") or {}).get(key)
            return found

        rest = await rest_of(client, first_page, document, {"id": node["id"]}, connection)
        detail[key] = [*(first_page.get("nodes") or []), *rest]
    return detail
