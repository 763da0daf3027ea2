"""Every `requestedQueryCost` recorded from Shopify is what the simulator's cost function charges.

The walk visits every request/response pair of every file in shared/shopify/recorded: a pair is a
response carrying `extensions.cost`, with its query next to it (`query`, or `request.query`). A few
pairs were written without their document; those documents come from the upstream capture scripts
(airhorns/shopify-draft-proxy, cited per entry) or from the same request replayed in the file's
`upstreamCalls`. The three pairs whose document is nowhere to be found are listed by name, so a new
recording without a document fails this test instead of being skipped silently.

Each query is priced against the simulator's schema when it fits it, and against the real 2026-07 schema
otherwise (the recordings also touch products, returns, shopifyPaymentsAccount and edit mutations,
which the simulator does not serve); the cost function is the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLSchema, parse, validate

from shopify_bridge.simulator import requested_cost, simulator_schema
from shopify_bridge.simulator.cost import page_multiplier
from tests.conftest import RECORDED

# Documents the recordings ran but did not store (upstream scripts/capture-order-refund-conformance…,
# `refundCreateMutation` / `orderReadAfterRefund`, and config/parity-requests/orders/orderEditExistingWorkflow-*).
REFUND_CREATE = """
mutation RefundCreateParity($input: RefundInput!) {
  refundCreate(input: $input) {
    refund {
      id note createdAt updatedAt
      totalRefundedSet { shopMoney { amount currencyCode } }
      refundLineItems(first: 5) { nodes { id quantity restockType restocked lineItem { id title }
        subtotalSet { shopMoney { amount currencyCode } } } }
      transactions(first: 5) { nodes { id kind status gateway amountSet { shopMoney { amount currencyCode } } } }
    }
    order { id displayFinancialStatus totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""
ORDER_READ_AFTER_REFUND = """
query OrderRefundReadParity($id: ID!) {
  order(id: $id) {
    id name displayFinancialStatus displayFulfillmentStatus
    refunds { id note totalRefundedSet { shopMoney { amount currencyCode } } }
    returns(first: 5) { nodes { id status } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    transactions { id kind status gateway amountSet { shopMoney { amount currencyCode } } }
    totalRefundedSet { shopMoney { amount currencyCode } }
  }
}
"""
ORDER_EDIT_BEGIN = """
mutation OrderEditExistingWorkflowBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      originalOrder { id name }
      lineItems(first: 10) { nodes { id title quantity sku variant { id }
        originalUnitPriceSet { shopMoney { amount currencyCode } } } }
      addedLineItems(first: 10) { nodes { id title quantity sku variant { id } } }
    }
    orderEditSession { id }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_ADD_VARIANT = """
mutation OrderEditExistingWorkflowAddVariantPayload($id: ID!, $variantId: ID!, $quantity: Int!,
    $locationId: ID, $allowDuplicates: Boolean) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, locationId: $locationId,
      allowDuplicates: $allowDuplicates) {
    calculatedLineItem { title quantity sku variant { id } originalUnitPriceSet { shopMoney { amount currencyCode } } }
    orderEditSession { id }
    userErrors { field message }
  }
}
"""
UPSTREAM_DOCUMENTS = {
    ("2025-01__refund-create-full-parity.json", "mutation"): REFUND_CREATE,
    ("2025-01__refund-create-full-parity.json", "downstreamRead"): ORDER_READ_AFTER_REFUND,
    ("2025-01__refund-create-partial-shipping-restock-parity.json", "mutation"): REFUND_CREATE,
    ("2025-01__refund-create-partial-shipping-restock-parity.json", "downstreamRead"): ORDER_READ_AFTER_REFUND,
    ("2026-04__order-edit-existing-order-happy-path.json", "mutation"): ORDER_EDIT_BEGIN,
    ("2026-04__order-edit-existing-order-happy-path.json", "addVariant"): ORDER_EDIT_ADD_VARIANT,
}
NO_DOCUMENT = {
    ("2025-01__order-create-parity.json", "mutation"),
    ("2025-01__order-create-parity.json", "downstreamRead"),
    ("2026-04__order-edit-existing-order-happy-path.json", "commitAdd"),
}


@dataclass
class Pair:
    file: str
    path: str
    query: str | None
    variables: dict[str, Any]
    requested: int


def _cost_of(response: Any) -> Any:
    if not isinstance(response, dict):
        return None
    for holder in (response, response.get("body"), response.get("payload")):
        if isinstance(holder, dict) and isinstance(holder.get("extensions"), dict):
            cost = holder["extensions"].get("cost")
            if cost and "requestedQueryCost" in cost:
                return cost
    return None


def _body(response: dict[str, Any]) -> Any:
    return response.get("body") or response.get("payload") or response


def _pairs_in(name: str, node: Any, path: str, root: dict[str, Any]) -> Iterator[Pair]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _pairs_in(name, item, f"{path}[{index}]", root)
        return
    if not isinstance(node, dict):
        return
    own = _cost_of(node) if node is root and "request" in node else None
    cost = _cost_of(node.get("response")) or own
    if cost is not None:
        query = node.get("query") or (node.get("request") or {}).get("query")
        query = query or UPSTREAM_DOCUMENTS.get((name, path)) or _replayed(root, node)
        yield Pair(name, path or "(file)", query, node.get("variables") or {}, int(cost["requestedQueryCost"]))
    for key, value in node.items():
        if key not in ("response", "request", "variables"):
            yield from _pairs_in(name, value, path + ("." if path else "") + key, root)


def _replayed(root: dict[str, Any], node: dict[str, Any]) -> str | None:
    """The document of the same request replayed in the file's `upstreamCalls` (same response body)."""
    body = _body(node["response"])
    for call in root.get("upstreamCalls") or []:
        if call is not node and _body(call.get("response") or {}) == body and call.get("query"):
            return str(call["query"])
    return None


def all_pairs() -> list[Pair]:
    files = sorted(RECORDED.glob("*.json"))
    if not files:
        pytest.skip(f"no recordings in {RECORDED} (../shared is not checked out beside the repo)")
    found: list[Pair] = []
    for path in files:
        root = json.loads(path.read_text())
        found.extend(_pairs_in(path.name, root, "", root))
    return found


def _schema_for(query: str, real: GraphQLSchema) -> tuple[GraphQLSchema, bool]:
    document = parse(query)
    if not validate(simulator_schema(), document):
        return simulator_schema(), True
    return real, False


def test_every_recorded_requested_cost_is_reproduced(real_schema: Any) -> None:
    pairs = all_pairs()
    assert len(pairs) >= 60  # every file's pairs, not a sample
    priced, on_simulator_schema, wrong = 0, 0, []
    for pair in pairs:
        if pair.query is None:
            assert (pair.file, pair.path) in NO_DOCUMENT, f"{pair.file} {pair.path}: no document to price"
            continue
        schema, simulated = _schema_for(pair.query, real_schema)
        charged = requested_cost(schema, parse(pair.query), pair.variables)
        if charged != pair.requested:
            wrong.append((pair.file, pair.path, charged, pair.requested))
        priced += 1
        on_simulator_schema += simulated
    assert wrong == []
    assert priced == len(pairs) - len(NO_DOCUMENT)
    assert on_simulator_schema >= 35  # most recorded requests are ones the simulator itself serves


def test_the_walk_finds_pairs_in_each_recorded_file() -> None:
    files = {pair.file for pair in all_pairs()}
    assert files == {path.name for path in RECORDED.glob("*.json")}


@pytest.mark.parametrize(
    ("size", "multiplier"),
    [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (7, 3), (8, 4), (12, 4), (13, 5), (20, 5), (21, 6),
     (39, 6), (40, 7), (59, 7), (60, 8), (79, 8), (80, 9), (99, 9), (100, 10), (149, 10), (150, 11),
     (249, 11), (250, 12)],
)
def test_page_size_buckets_follow_the_notes(size: int, multiplier: int) -> None:
    assert page_multiplier(size) == multiplier
