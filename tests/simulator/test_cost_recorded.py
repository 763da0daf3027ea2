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

from typing import Any

import pytest
from graphql import GraphQLSchema, parse, validate

from shopify_bridge.simulator import requested_cost, simulator_schema
from shopify_bridge.simulator.cost import page_multiplier
from tests.conftest import RECORDED
from tests.recorded_costs import PAGE_MULTIPLIERS, recorded_requests

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


def _schema_for(query: str, real: GraphQLSchema) -> tuple[GraphQLSchema, bool]:
    document = parse(query)
    if not validate(simulator_schema(), document):
        return simulator_schema(), True
    return real, False


def test_every_recorded_requested_cost_is_reproduced(real_schema: Any) -> None:
    pairs = recorded_requests(UPSTREAM_DOCUMENTS)
    assert len(pairs) >= 60  # every file's pairs, not a sample
    priced, on_simulator_schema, wrong = 0, 0, []
    for pair in pairs:
        if pair.document is None:
            assert (pair.file, pair.path) in NO_DOCUMENT, f"{pair.file} {pair.path}: no document to price"
            continue
        schema, simulated = _schema_for(pair.document, real_schema)
        charged = requested_cost(schema, parse(pair.document), pair.variables)
        if charged != pair.requested:
            wrong.append((pair.file, pair.path, charged, pair.requested))
        priced += 1
        on_simulator_schema += simulated
    assert wrong == []
    assert priced == len(pairs) - len(NO_DOCUMENT)
    assert on_simulator_schema >= 35  # most recorded requests are ones the simulator itself serves


def test_the_walk_finds_pairs_in_each_recorded_file() -> None:
    files = {pair.file for pair in recorded_requests(UPSTREAM_DOCUMENTS)}
    assert files == {path.name for path in RECORDED.glob("*.json")}


@pytest.mark.parametrize(("size", "multiplier"), PAGE_MULTIPLIERS)
def test_page_size_buckets_follow_the_notes(size: int, multiplier: int) -> None:
    assert page_multiplier(size) == multiplier
