"""The client's own cost model prices every recorded request as Shopify did, before sending anything.

The walk visits every request/response pair of every file in shared/shopify/recorded: a response carrying
`extensions.cost`, with its document next to it (`query`, `request.query`) or replayed in the file's
`upstreamCalls` with the same answer. The pairs whose document the recording does not hold are named, so
that a new recording without one fails here instead of being skipped.
"""

from __future__ import annotations

import pytest

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.cost import operation, page_multiplier
from tests.conftest import RECORDED
from tests.paged_orders import PAGED_ORDERS
from tests.recorded_costs import PAGE_MULTIPLIERS, recorded_requests

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


@pytest.mark.parametrize(("size", "multiplier"), PAGE_MULTIPLIERS)
def test_the_page_size_multiplier_follows_the_notes(size: int, multiplier: int) -> None:
    assert page_multiplier(size) == multiplier


def test_the_bridge_queries_declare_their_page_sizes_and_stay_far_under_the_limit() -> None:
    found = {
        name: (op.name, dict(op.page_defaults), op.requested_cost())
        for name in ("LIST_ORDERS", "READ_ORDERS", "READ_ORDER", "ORDER_LINE_ITEMS_PAGE", "READ_REFUNDS",
                     "REFUND_LINE_ITEMS_NEXT", "REFUND_TRANSACTIONS_NEXT", "REFUND_SHIPPING_NEXT", "RECONCILE_ORDERS")
        for op in [operation(getattr(queries, name))]
    }
    assert found == {
        "LIST_ORDERS": ("BridgeListOrders", {"first": 250}, 14),  # ids and times only: 250 for 14 points
        "READ_ORDERS": ("BridgeReadOrders", {"lineItemsFirst": 10}, 27),  # a plain list counts its element once
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
    poll = operation(PAGED_ORDERS)
    # an order: itself 1, its objects 8 (customer 4, two addresses, the refunds and customAttributes lists),
    # its line items connection 2 + m × (a line item 1 + product, variant, image); money is free
    assert poll.requested_cost({"first": 5}) == 2 + 3 * (1 + 8 + (2 + 4 * 4))
    assert poll.requested_cost({"first": 5, "lineItemsFirst": 2}) == 2 + 3 * (1 + 8 + (2 + 1 * 4))
    literal = PAGED_ORDERS.replace("first: $first", "first: 10").replace("first: $lineItemsFirst", "first: 10")
    assert operation(literal).requested_cost() == poll.requested_cost()


def test_a_document_that_does_not_parse_is_named_but_not_priced() -> None:
    broken = operation("query BridgeBroken { shop { id ")
    assert (broken.name, broken.requested_cost()) == ("BridgeBroken", None)
