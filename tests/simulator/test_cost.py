"""The cost model: Shopify's rules, calibrated on the recorded responses (see cost.py's docstring)."""

from __future__ import annotations

from typing import Any

from graphql import parse

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.cost import operation
from shopify_bridge.simulator import actual_cost, requested_cost, simulator_schema


def cost(query: str, variables: dict[str, Any] | None = None, schema: Any = None) -> int:
    return requested_cost(schema or simulator_schema(), parse(query), variables)


def test_scalars_are_free_and_an_object_costs_one() -> None:
    assert cost("{ shop { id name currencyCode } }") == 1
    assert cost("{ shop { id } currentAppInstallation { id } }") == 2


def test_a_connection_costs_its_page_bucket_times_one_node_plus_two() -> None:
    assert cost("{ orders(first: 5) { nodes { id name } } }") == 3 * 1 + 2
    assert cost("{ orders(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage } } }") == 3 * 1 + 2
    assert cost("query($n: Int) { orders(first: $n) { nodes { id } } }", {"n": 30}) == 6 * 1 + 2
    assert cost("{ orders(last: 3) { nodes { id } } }") == 2 * 1 + 2
    assert cost("{ orders(first: 250) { nodes { id customer { id } } } }") == 12 * 2 + 2
    assert cost("{ orders { nodes { id customer { id } } } }") == 2  # no page size: nothing multiplied


def test_nested_connections_multiply_their_buckets() -> None:
    query = (
        "{ orders(first: 2) { nodes { customer { id } lineItems(first: 3) { nodes { id product { id "
        "} } } } } }"
    )
    assert cost(query) == 1 * (1 + 1 + (2 * (1 + 1) + 2)) + 2


def test_a_count_field_costs_ten() -> None:
    assert cost('{ ordersCount(query: "test:false") { count precision } }') == 10
    assert cost("{ ordersCount { count } shop { id } }") == 10 + 1


def test_money_bags_are_free_value_objects() -> None:
    query = (
        'query { order(id: "gid://shopify/Order/1") '
        "{ totalPriceSet { shopMoney { amount } presentmentMoney { amount } } } }"
    )
    assert cost(query) == 1


def test_a_list_of_objects_counts_its_element_once() -> None:
    assert (
        cost(
            '{ order(id: "gid://shopify/Order/1") '
            "{ refunds { id totalRefundedSet { shopMoney { amount } } } } }"
        )
        == 1 + 1
    )
    assert cost('{ order(id: "gid://shopify/Order/1") { refunds { id order { id } } } }') == 1 + 1 + 1


def test_abstract_fields_take_the_dearest_type_condition_and_fragments_count() -> None:
    query = """
      query { node(id: "gid://shopify/Refund/1") {
        ... on Refund { refundLineItems(first: 2) { nodes { id lineItem { id } } } }
        ... on Order { id customer { id } }
      } }
    """
    assert cost(query) == 1 + (1 * (1 + 1) + 2)
    spread = 'query { order(id: "x") { ...F } } fragment F on Order { lineItems(first: 4) { nodes { id } } }'
    assert cost(spread) == 1 + 2 * 1 + 2


def test_a_mutation_costs_ten_and_its_payload_fields_are_free() -> None:
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
    # connection: the bucket of the two nodes returned (1) × the dearest node (1 + customer 1: a null
    # object still costs 1) + 2; shop 1 — where the request was priced for ten nodes (m = 4)
    assert actual_cost(schema, query, {}, data) == 1 * 2 + 2 + 1
    assert requested_cost(schema, query, {}) == 4 * 2 + 2 + 1
    assert actual_cost(schema, query, {}, None) == 2 + 1


def test_the_bridge_queries_stay_well_under_the_single_query_limit() -> None:
    costs = {
        # priced as the client sends them: every page size explicit (its declared default)
        name: cost(getattr(queries, name), operation(getattr(queries, name)).page_defaults)
        for name in (
            "POLL_ORDERS",
            "READ_ORDER",
            "ORDER_LINE_ITEMS_PAGE",
            "READ_REFUNDS",
            "REFUND_LINE_ITEMS_NEXT",
            "SHOP_INFO",
            "ORDERS_COUNT",
        )
    }
    assert costs == {
        "POLL_ORDERS": 110,
        "READ_ORDER": 27,
        "ORDER_LINE_ITEMS_PAGE": 43,
        "READ_REFUNDS": 44,
        "REFUND_LINE_ITEMS_NEXT": 51,
        "SHOP_INFO": 3,
        "ORDERS_COUNT": 10,
    }


def test_an_empty_page_is_charged_one_node_as_recorded() -> None:
    schema = simulator_schema()
    query = parse("{ bulkOperations(first: 1, query: \"status:EXPIRED\") { nodes { id } } }")
    # 2026-04 bulk-operations-read-arg-validation, invalidStatusExpired: requested 3, actual 3.
    assert actual_cost(schema, query, {}, {"bulkOperations": {"nodes": []}}) == 3
    unbounded = parse("{ orders { nodes { id } } }")  # no page size asked: nothing to charge
    assert actual_cost(schema, unbounded, {}, {"orders": {"nodes": []}}) == 2
