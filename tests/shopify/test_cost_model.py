"""The client's own cost model prices every recorded request as Shopify did, before sending anything.

The walk visits every request/response pair of every file in shared/shopify/recorded: a response carrying
`extensions.cost`, with its document next to it (`query`, `request.query`) or replayed in the file's
`upstreamCalls` with the same answer. The pairs whose document the recording does not hold are named, so
that a new recording without one fails here instead of being skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.cost import operation, page_multiplier
from tests.conftest import RECORDED

NO_DOCUMENT = {
    ("2025-01__order-create-parity.json", "mutation"),
    ("2025-01__order-create-parity.json", "downstreamRead"),
    ("2025-01__refund-create-full-parity.json", "mutation"),
    ("2025-01__refund-create-full-parity.json", "downstreamRead"),
    ("2025-01__refund-create-partial-shipping-restock-parity.json", "mutation"),
    ("2025-01__refund-create-partial-shipping-restock-parity.json", "downstreamRead"),
    ("2026-04__order-edit-existing-order-happy-path.json", "mutation"),
    ("2026-04__order-edit-existing-order-happy-path.json", "addVariant"),
    ("2026-04__order-edit-existing-order-happy-path.json", "commitAdd"),
}


@dataclass
class Recorded:
    file: str
    path: str
    document: str | None
    variables: dict[str, Any]
    requested: int


def _cost(response: Any) -> dict[str, Any] | None:
    if not isinstance(response, dict):
        return None
    for holder in (response, response.get("body"), response.get("payload")):
        if isinstance(holder, dict) and isinstance(holder.get("extensions"), dict):
            cost = holder["extensions"].get("cost")
            if isinstance(cost, dict) and "requestedQueryCost" in cost:
                return cost
    return None


def _body(response: dict[str, Any]) -> Any:
    return response.get("body") or response.get("payload") or response


def _walk(name: str, node: Any, path: str, root: dict[str, Any]) -> Iterator[Recorded]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(name, item, f"{path}[{index}]", root)
        return
    if not isinstance(node, dict):
        return
    cost = _cost(node.get("response")) or (_cost(node) if node is root and "request" in node else None)
    if cost is not None:
        document = node.get("query") or (node.get("request") or {}).get("query")
        if document is None and isinstance(node.get("response"), dict):
            body = _body(node["response"])
            replays = [c for c in root.get("upstreamCalls") or [] if c is not node and c.get("query")]
            document = next((c["query"] for c in replays if _body(c.get("response") or {}) == body), None)
        yield Recorded(name, path, document, node.get("variables") or {}, int(cost["requestedQueryCost"]))
    for key, value in node.items():
        if key not in ("response", "request", "variables"):
            yield from _walk(name, value, f"{path}.{key}" if path else key, root)


def recorded_requests() -> list[Recorded]:
    files = sorted(RECORDED.glob("*.json"))
    if not files:
        pytest.skip(f"no recordings in {RECORDED} (../shared is not checked out beside the repo)")
    found: list[Recorded] = []
    for path in files:
        root = json.loads(path.read_text())
        found += _walk(path.name, root, "", root)
    return found


def test_every_recorded_requested_cost_is_what_the_client_predicts() -> None:
    found = recorded_requests()
    assert {r.file for r in found} == {p.name for p in RECORDED.glob("*.json")}  # every file has pairs
    priced = [r for r in found if r.document is not None]
    assert {(r.file, r.path) for r in found if r.document is None} == NO_DOCUMENT
    wrong = [
        (r.file, r.path, operation(r.document).requested_cost(r.variables), r.requested)
        for r in priced
        if r.document is not None and operation(r.document).requested_cost(r.variables) != r.requested
    ]
    assert wrong == []
    assert len(priced) >= 55
    assert len({r.requested for r in priced}) >= 8  # queries, connections, counts and mutations alike


@pytest.mark.parametrize(
    ("size", "multiplier"),
    [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (7, 3), (8, 4), (12, 4), (13, 5), (20, 5), (21, 6),
     (39, 6), (40, 7), (59, 7), (60, 8), (79, 8), (80, 9), (99, 9), (100, 10), (149, 10), (150, 11),
     (249, 11), (250, 12)],
)
def test_the_page_size_multiplier_follows_the_notes(size: int, multiplier: int) -> None:
    assert page_multiplier(size) == multiplier


def test_the_bridge_queries_declare_their_page_sizes_and_stay_far_under_the_limit() -> None:
    found = {
        name: (op.name, dict(op.page_defaults), op.requested_cost())
        for name in ("POLL_ORDERS", "READ_ORDER", "ORDER_LINE_ITEMS_PAGE", "READ_REFUNDS", "REFUND_LINE_ITEMS_NEXT",
                     "REFUND_TRANSACTIONS_NEXT", "REFUND_SHIPPING_NEXT", "RECONCILE_ORDERS")
        for op in [operation(getattr(queries, name))]
    }
    assert found == {
        "POLL_ORDERS": ("BridgePollOrders", {"first": 10, "lineItemsFirst": 10}, 110),
        "READ_ORDER": ("BridgeReadOrder", {"lineItemsFirst": 10}, 27),
        "ORDER_LINE_ITEMS_PAGE": ("BridgeOrderLineItems", {"first": 100}, 43),
        # nodes(ids:) is a plain list: its element counts once, however many ids
        "READ_REFUNDS": ("BridgeReadRefunds", {"lineItemsFirst": 50, "transactionsFirst": 20, "shippingFirst": 10}, 44),
        "REFUND_LINE_ITEMS_NEXT": ("BridgeRefundLineItems", {"first": 250}, 51),
        "REFUND_TRANSACTIONS_NEXT": ("BridgeRefundTransactions", {"first": 250}, 15),
        "REFUND_SHIPPING_NEXT": ("BridgeRefundShippingLines", {"first": 250}, 15),
        "RECONCILE_ORDERS": ("BridgeReconcileOrders", {"first": 250}, 14),
    }


def test_a_page_size_variable_prices_like_the_literal_it_replaces() -> None:
    poll = operation(queries.POLL_ORDERS)
    # an order: itself 1, its objects 8 (customer 4, two addresses, the refunds and customAttributes lists),
    # its line items connection 2 + m × (a line item 1 + product, variant, image); money is free
    assert poll.requested_cost({"first": 5}) == 2 + 3 * (1 + 8 + (2 + 4 * 4))
    assert poll.requested_cost({"first": 5, "lineItemsFirst": 2}) == 2 + 3 * (1 + 8 + (2 + 1 * 4))
    literal = queries.POLL_ORDERS.replace("first: $first", "first: 10").replace("first: $lineItemsFirst", "first: 10")
    assert operation(literal).requested_cost() == poll.requested_cost()


def test_a_document_that_does_not_parse_is_named_but_not_priced() -> None:
    broken = operation("query BridgeBroken { shop { id ")
    assert (broken.name, broken.requested_cost()) == ("BridgeBroken", None)
