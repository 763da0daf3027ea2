"""The normalized order document: the one shape every part of the core agrees on.

Shopify gives us an order in three wire shapes: a node of the paged `orders` query, an
`order(id:)` read, and bulk JSONL (order line + separate line-item lines linked by
`__parentId`). All of them are turned into the same plain dict before anything else looks
at them:

- every key the GraphQL selection in `shopify.queries.ORDER_SCALARS` names, with Shopify's
  own camelCase names and values untouched (money stays a decimal *string*);
- `lineItems`: a plain list of line-item dicts (the fields of `LINE_ITEM_FIELDS`), all pages;
- `refunds`: a plain list of refund dicts; a refund whose details were read with
  `READ_REFUND` also carries `refundLineItems`, `transactions` and `refundShippingLines`
  as plain lists (connections flattened). A refund without `transactions` has not had its
  details read yet.

This module is pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Any

OrderDoc = dict[str, Any]

_CONNECTION_KEYS_OF_REFUND = ("refundLineItems", "transactions", "refundShippingLines")


def flatten_connection(value: Any) -> list[dict[str, Any]]:
    """A connection as sent (`{"nodes": [...]}` or `{"edges": [{"node": ...}]}`) → a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if "nodes" in value:
        return list(value["nodes"])
    if "edges" in value:
        return [edge["node"] for edge in value["edges"]]
    raise ValueError(f"not a connection: keys {sorted(value)}")


def normalize_order(node: dict[str, Any], extra_line_items: list[dict[str, Any]] | None = None) -> OrderDoc:
    """A GraphQL order node (poll or read-by-id) → the normalized document."""
    doc = dict(node)
    items = flatten_connection(node.get("lineItems"))
    if extra_line_items:
        seen = {item["id"] for item in items}
        items = items + [item for item in extra_line_items if item["id"] not in seen]
    # Creation order (ascending numeric id), whatever the wire order: a bulk document and a polled
    # one of the same order content must hash alike, or the first poll after a backfill would
    # store a spurious version.
    doc["lineItems"] = sorted(items, key=_numeric_tail)
    doc["refunds"] = [normalize_refund(r) for r in node.get("refunds") or []]
    return doc


def _numeric_tail(item: dict[str, Any]) -> tuple[int, str]:
    tail = str(item.get("id", "")).rsplit("/", 1)[-1]
    return (int(tail), "") if tail.isdigit() else (0, tail)


def normalize_refund(refund: dict[str, Any]) -> dict[str, Any]:
    out = dict(refund)
    for key in _CONNECTION_KEYS_OF_REFUND:
        if key in out and not isinstance(out[key], list):
            out[key] = flatten_connection(out[key])
    return out


def refund_has_details(refund: dict[str, Any]) -> bool:
    return "transactions" in refund


def merge_refund_details(doc: OrderDoc, details: dict[str, dict[str, Any]]) -> OrderDoc:
    """Attach refund details (by refund gid, as read with READ_REFUND) to a document."""
    out = dict(doc)
    refunds = []
    for refund in doc.get("refunds") or []:
        detail = details.get(refund["id"])
        refunds.append({**refund, **normalize_refund(detail)} if detail else refund)
    out["refunds"] = refunds
    return out


def forget_refund_details(doc: OrderDoc, gids: set[str]) -> OrderDoc:
    """`doc` with the details of these refunds dropped (asked for and not returned: not read)."""
    refunds = [
        {k: v for k, v in refund.items() if k not in _CONNECTION_KEYS_OF_REFUND} if refund["id"] in gids else refund
        for refund in doc.get("refunds") or []
    ]
    return {**doc, "refunds": refunds}


def legacy_id(gid_or_id: str | int) -> str:
    """`gid://shopify/Order/123` (or `123`) → `"123"`."""
    text = str(gid_or_id)
    return text.rsplit("/", 1)[-1]
