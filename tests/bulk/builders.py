"""Bulk JSONL lines built the way Shopify writes them, from orders shaped like `tests.fakes.make_order`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from tests.fakes import make_order, money

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
REFUNDED_AT = "2026-05-02T09:00:00Z"


def numeric(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def encode(obj: Any) -> bytes:
    """One JSONL line with every `/` escaped, as in Shopify's raw bulk output (still valid JSON)."""
    return orjson.dumps(obj).replace(b"/", b"\\/") + b"\n"


def line_item(order_number: int, k: int) -> dict[str, Any]:
    # Ids of two lengths (9… and 10…): sorted as text they would come out in the wrong order.
    item_id = (9 if k % 2 == 0 else 10) * 10**12 + order_number * 100 + k
    return {
        "id": f"gid://shopify/LineItem/{item_id}", "title": f"Board {k}", "name": f"Board {k} - Blue",
        "variantTitle": "Blue", "sku": f"SB-{k}" if k % 2 == 0 else None, "vendor": "Acme", "quantity": 1 + k,
        "currentQuantity": 1 + k, "originalUnitPriceSet": money(f"{10 + k}.5"),
        "product": {"id": f"gid://shopify/Product/{900 + k}", "legacyResourceId": str(900 + k)},
        "variant": None if k == 3 else {"id": f"gid://shopify/ProductVariant/{9000 + k}",
                                         "legacyResourceId": str(9000 + k)},
        "image": {"url": f"https://cdn.shopify.com/s/files/1/board-{k}.png"},
    }


def order(number: int, items: int = 2, refunds: int = 0) -> dict[str, Any]:
    """A full order (every ORDER_SCALARS field) with `items` line items, ordered by numeric id."""
    oid = 5_800_000_000_000 + number
    refund_list = [
        {"id": f"gid://shopify/Refund/{oid}{r}", "legacyResourceId": f"{oid}{r}", "createdAt": REFUNDED_AT,
         "processedAt": REFUNDED_AT, "updatedAt": REFUNDED_AT, "note": "damaged",
         "totalRefundedSet": money("5.0")}
        for r in range(refunds)
    ]
    built = make_order(number, T0 + timedelta(minutes=number), refunds=refund_list)
    items_by_id = sorted((line_item(number, k) for k in range(items)), key=lambda li: numeric(li["id"]))
    built["lineItems"] = items_by_id
    return built


def bulk_lines(orders: list[dict[str, Any]]) -> list[bytes]:
    """Order lines and line-item lines (with `__parentId`), parent first: the grouped layout."""
    lines = []
    for each in orders:
        root = {key: value for key, value in each.items() if key != "lineItems"}
        lines.append(encode(root))
        lines.extend(encode({**item, "__parentId": each["id"]}) for item in each["lineItems"])
    return lines


def polled_node(each: dict[str, Any]) -> dict[str, Any]:
    """The same order as the paged `orders` query returns it (lineItems as a connection page)."""
    node = copy.deepcopy(each)
    node["lineItems"] = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": node["lineItems"]}
    return node
