"""The cost model: Shopify's rules, calibrated on the recorded responses (see cost.py's docstring)."""

from __future__ import annotations

from typing import Any

from graphql import parse

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.cost import operation
from shopify_bridge.simulator import actual_cost, requested_cost, simulator_schema
from tests.conftest import recorded


def cost(query: str, variables: dict[str, Any] | None = None, schema: Any = None) -> int:
    return requested_cost(schema or simulator_schema(), parse(query), variables)


def test_scalars_are_free_and_an_object_costs_one() -> None:
    assert cost("{ shop { id name currencyCode } }") == 1
    assert cost("{ shop { id } currentAppInstallation { id } }") == 2


def test_a_connection_costs_two_plus_first_times_one_node() -> None:
    assert cost("{ orders(first: 5) { nodes { id name } } }") == 2 + 5
    assert cost("{ orders(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage } } }") == 2 + 5
    assert cost("query($n: Int) { orders(first: $n) { nodes { id } } }", {"n": 30}) == 2 + 30
    assert cost("{ orders(last: 3) { nodes { id } } }") == 2 + 3


def test_nested_connections_multiply() -> None:
    query = (
        "{ orders(first: 2) { nodes { customer { id } lineItems(first: 3) { nodes { id product { id "
        "} } } } } }"
    )
    assert cost(query) == 2 + 2 * (1 + 1 + (2 + 3 * (1 + 1)))


def test_money_bags_are_free_value_objects() -> None:
    query = (
        'query { order(id: "gid://shopify/Order/1") '
        "{ totalPriceSet { shopMoney { amount } presentmentMoney { amount } } } }"
    )
    assert cost(query) == 1


def test_a_list_of_objects_counts_its_selection_once() -> None:
    assert (
        cost(
            '{ order(id: "gid://shopify/Order/1") '
            "{ refunds { id totalRefundedSet { shopMoney { amount } } } } }"
        )
        == 1
    )
    assert cost('{ order(id: "gid://shopify/Order/1") { refunds { id order { id } } } }') == 1 + 1


def test_abstract_fields_take_the_dearest_type_condition_and_fragments_count() -> None:
    query = """
      query { node(id: "gid://shopify/Refund/1") {
        ... on Refund { refundLineItems(first: 2) { nodes { id lineItem { id } } } }
        ... on Order { id customer { id } }
      } }
    """
    assert cost(query) == 1 + (2 + 2 * 2)
    spread = 'query { order(id: "x") { ...F } } fragment F on Order { lineItems(first: 4) { nodes { id } } }'
    assert cost(spread) == 1 + 2 + 4


def test_a_mutation_costs_a_flat_ten() -> None:
    mutation = (
        'mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") '
        "{ bulkOperation { id } userErrors { field message code } } }"
    )
    assert cost(mutation) == 10


def test_actual_cost_counts_what_was_returned() -> None:
    schema = simulator_schema()
    query = parse("{ orders(first: 10) { nodes { id customer { id } } } shop { id } }")
    data = {
        "orders": {"nodes": [{"id": "a", "customer": None}, {"id": "b", "customer": {"id": "c"}}]},
        "shop": {"id": "s"},
    }
    # connection 2 + two nodes (1 + customer 1 each: a null object still costs 1) + shop 1
    assert actual_cost(schema, query, {}, data) == 2 + 2 * 2 + 1
    assert actual_cost(schema, query, {}, None) == 2 + 1


def test_the_bridge_queries_stay_well_under_the_single_query_limit() -> None:
    costs = {
        # priced as the client sends them: every page size explicit (its declared default)
        name: cost(getattr(queries, name), operation(getattr(queries, name)).page_defaults)
        for name in (
            "POLL_ORDERS",
            "READ_ORDER",
            "ORDER_LINE_ITEMS_PAGE",
            "READ_REFUND",
            "SHOP_INFO",
            "ORDERS_COUNT",
        )
    }
    assert costs == {
        "POLL_ORDERS": 492,
        "READ_ORDER": 49,
        "ORDER_LINE_ITEMS_PAGE": 403,
        "READ_REFUND": 237,
        "SHOP_INFO": 2,
        "ORDERS_COUNT": 1,
    }


# -- calibration against live captures (real schema: those queries use fields outside the subset) ---

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
"""  # the upstream capture script's `orderReadAfterRefund`, whose answer is the recording's downstreamRead


def _recorded_cost(answer: dict[str, Any]) -> int:
    return int(answer["extensions"]["cost"]["requestedQueryCost"])


def test_calibration_order_read_after_refund_costs_what_shopify_charged(real_schema: Any) -> None:
    capture = recorded("2025-01__refund-create-full-parity.json")
    assert cost(
        ORDER_READ_AFTER_REFUND, capture["downstreamRead"]["variables"], real_schema
    ) == _recorded_cost(capture["downstreamRead"]["response"])


def test_calibration_orders_page_and_access_denied_probe(real_schema: Any) -> None:
    catalog = recorded("2026-04__order-catalog-count-read.json")
    next_page = catalog["upstreamCalls"][1]
    assert cost(next_page["query"], next_page["variables"], real_schema) == _recorded_cost(
        next_page["response"]["body"]
    )
    denied = recorded("2025-01__shopify-payments-account-access-denied.json")
    assert cost(denied["request"]["query"], {}, real_schema) == _recorded_cost(denied)


def test_calibration_bulk_operation_reads_and_mutations(real_schema: Any) -> None:
    reads = recorded("2026-04__bulk-operations-read-arg-validation.json")["cases"]
    checked = 0
    for case in reads.values():
        if "extensions" in case["response"]:
            assert cost(case["query"], case["variables"], real_schema) == _recorded_cost(case["response"]), (
                case["query"]
            )
            checked += 1
    assert checked >= 5
    runs = recorded("2026-04__bulk-operation-run-query-concurrency-limit.json")
    for run in [*runs["successfulRuns"], runs["sixthRun"], *runs["cancelAttempts"]]:
        assert cost(run["query"], run["variables"], real_schema) == _recorded_cost(run["response"])


def test_an_empty_page_is_charged_one_node_as_recorded() -> None:
    schema = simulator_schema()
    query = parse("{ bulkOperations(first: 1, query: \"status:EXPIRED\") { nodes { id } } }")
    # 2026-04 bulk-operations-read-arg-validation, invalidStatusExpired: requested 3, actual 3.
    assert actual_cost(schema, query, {}, {"bulkOperations": {"nodes": []}}) == 3
    unbounded = parse("{ orders { nodes { id } } }")  # no page size asked: nothing to charge
    assert actual_cost(schema, unbounded, {}, {"orders": {"nodes": []}}) == 2
