"""The bulk documents: valid against the real Admin schema, within Shopify's bulk-query rules, same fields
as the poll, and a processed_at window that is half-open once filtered client-side.

The bulk rules are checked here by a small checker written for these tests (the simulator owns the
production validator). The checker is itself checked against the real rejections Shopify returned in
`2026-04__bulk-operation-run-query-validators.json`, so a checker that flags nothing cannot pass.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
import pytest
from graphql import (
    BooleanValueNode,
    FieldNode,
    GraphQLObjectType,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from shopify_bridge.shopify.bulk.query import (
    BULK_CANCEL,
    BULK_OPERATION,
    BULK_ORDERS_QUERY_TAG,
    BULK_RUN_QUERY,
    bulk_orders_query,
    in_window,
    orders_search,
)
from shopify_bridge.shopify.queries import LINE_ITEM_FIELDS, ORDER_SCALARS
from tests.conftest import recorded

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)


# --- a test-only checker of Shopify's bulk-query rules (notes §1.1 and §1.6) -------------------------------

def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        return []
    found = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            raise AssertionError(f"fragments are not expected in a bulk query: {selection.kind}")
        found.append(selection)
    return found


def bulk_rule_violations(schema: graphql.GraphQLSchema, document: str) -> list[str]:
    operations = [d for d in graphql.parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    if operations[0].operation.value != "query":
        return ["only `query` operations are supported"]
    problems: list[str] = []
    connections: list[str] = []

    def walk(selection_set: SelectionSetNode | None, parent: Any, depth: int, in_list: bool,
             node_fields: list[FieldNode] | None) -> None:
        for field in _fields(selection_set):
            name = field.name.value
            if name == "__typename":
                continue
            if parent is schema.query_type and name in ("node", "nodes"):
                problems.append(f"top level `{name}`")
                continue
            field_type = parent.fields[name].type
            named = get_named_type(field_type)
            listed = in_list or is_list_type(get_nullable_type(field_type))
            if not named.name.endswith("Connection"):
                if isinstance(named, GraphQLObjectType):
                    walk(field.selection_set, named, depth, listed, node_fields)
                continue
            connections.append(name)
            if depth + 1 > 2:
                problems.append(f"connection {name} nested deeper than 2")
            if in_list:
                problems.append(f"connection {name} inside a list field")
            if node_fields is not None and not any(f.name.value == "id" and not f.alias for f in node_fields):
                problems.append(f"parent node of {name} does not select an unaliased id")
            inner = {f.name.value: f for f in _fields(field.selection_set)}
            if "nodes" in inner or "edges" not in inner:
                problems.append(f"connection {name} not selected through edges > node")
                continue
            node = {f.name.value: f for f in _fields(inner["edges"].selection_set)}["node"]
            node_type = get_named_type(named.fields["edges"].type).fields["node"].type
            walk(node.selection_set, get_named_type(node_type), depth + 1, False, _fields(node.selection_set))

    walk(operations[0].selection_set, schema.query_type, 0, False, None)
    if not connections:
        problems.append("no connection")
    if len(connections) > 5:
        problems.append(f"{len(connections)} connections (at most 5)")
    return problems


# What the checker must report for each rejection Shopify recorded.
EXPECTED_VIOLATION = {
    "nodesInsteadOfEdges": "edges > node",
    "ordersNodesInsteadOfEdges": "edges > node",
    "topLevelNode": "top level `node`",
    "depthThreeNesting": "nested deeper than 2",
    "sixConnections": "(at most 5)",
    "nestedWithoutParentId": "unaliased id",
    "invalidOperationType": "only `query`",
    "connectionWithinList": "inside a list field",
}


def test_rule_checker_flags_every_query_shopify_rejected_for_its_reason(real_schema: Any) -> None:
    validations = recorded("2026-04__bulk-operation-run-query-validators.json")["validations"]
    assert set(validations) == set(EXPECTED_VIOLATION)
    for name, capture in validations.items():
        assert capture["response"]["data"]["bulkOperationRunQuery"]["userErrors"], name  # all rejections
        problems = bulk_rule_violations(real_schema, capture["variables"]["query"])
        assert any(EXPECTED_VIOLATION[name] in problem for problem in problems), (name, problems)


def test_rule_checker_passes_a_query_shopify_accepted(real_schema: Any) -> None:
    capture = recorded("2026-04__bulk-operation-run-query-group-objects.json")
    accepted = capture["runs"]["runQueryGroupObjectsTrue"]["run"]["variables"]["query"]
    assert bulk_rule_violations(real_schema, accepted) == []


# --- the bridge's documents ---------------------------------------------------------------------------------

@pytest.mark.parametrize("window", [(None, None), (JAN, None), (None, FEB), (JAN, FEB)])
def test_bulk_orders_query_is_valid_and_within_bulk_rules(real_schema: Any, window: tuple[Any, Any]) -> None:
    document = bulk_orders_query(*window)
    assert graphql.validate(real_schema, graphql.parse(document)) == []
    assert bulk_rule_violations(real_schema, document) == []
    assert document.startswith(BULK_ORDERS_QUERY_TAG + "\n")


@pytest.mark.parametrize("document", [BULK_RUN_QUERY, BULK_OPERATION, BULK_CANCEL])
def test_operation_documents_are_valid(real_schema: Any, document: str) -> None:
    assert graphql.validate(real_schema, graphql.parse(document)) == []


def _field_paths(selection_set: SelectionSetNode | None, prefix: str = "") -> set[str]:
    paths = set()
    for field in _fields(selection_set):
        path = f"{prefix}{field.name.value}"
        paths.add(path)
        paths |= _field_paths(field.selection_set, path + ".")
    return paths


def _orders_node(document: str) -> FieldNode:
    operation = graphql.parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    orders = _fields(operation.selection_set)[0]
    assert orders.name.value == "orders"
    edges = _fields(orders.selection_set)[0]
    return _fields(edges.selection_set)[0]


def test_bulk_query_selects_the_poll_fields_and_line_items_through_edges() -> None:
    node = _orders_node(bulk_orders_query(None, None))
    paths = _field_paths(node.selection_set)
    scalars = _field_paths(graphql.parse(f"{{ {ORDER_SCALARS} }}").definitions[0].selection_set)  # type: ignore[attr-defined]
    items = _field_paths(graphql.parse(f"{{ {LINE_ITEM_FIELDS} }}").definitions[0].selection_set)  # type: ignore[attr-defined]
    expected = scalars | {"lineItems", "lineItems.edges", "lineItems.edges.node"}
    expected |= {f"lineItems.edges.node.{path}" for path in items}
    assert paths == expected
    assert "refunds.refundLineItems" not in paths  # refunds stay the inline list


def _arguments(document: str) -> dict[str, Any]:
    operation = graphql.parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    field = _fields(operation.selection_set)[0]
    return {argument.name.value: argument.value for argument in field.arguments or ()}


def test_run_mutation_sends_the_query_as_a_variable_without_grouping() -> None:
    arguments = _arguments(BULK_RUN_QUERY)
    assert isinstance(arguments["query"], VariableNode) and arguments["query"].name.value == "query"
    group_objects = arguments["groupObjects"]
    assert isinstance(group_objects, BooleanValueNode) and group_objects.value is False


def test_window_is_searched_as_a_superset_on_processed_at() -> None:
    arguments = _arguments(bulk_orders_query(JAN, FEB))
    assert isinstance(arguments["query"], StringValueNode)
    assert arguments["query"].value == (
        "processed_at:>='2026-01-01T00:00:00Z' processed_at:<'2026-02-01T00:00:00Z'"
    )
    assert arguments["sortKey"].value == "PROCESSED_AT"
    assert "query" not in _arguments(bulk_orders_query(None, None))


def test_window_rounds_outwards_to_whole_seconds_and_converts_to_utc() -> None:
    toronto = timezone(timedelta(hours=-4))
    start = datetime(2026, 1, 1, 6, 30, 15, 900_000, tzinfo=toronto)
    end = datetime(2026, 1, 1, 8, 0, 0, 1, tzinfo=toronto)
    assert orders_search(start, end) == (
        "processed_at:>='2026-01-01T10:30:15Z' processed_at:<'2026-01-01T12:00:01Z'"
    )
    assert orders_search(None, FEB) == "processed_at:<'2026-02-01T00:00:00Z'"


def test_window_rejects_naive_and_empty_windows() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        bulk_orders_query(datetime(2026, 1, 1), None)
    with pytest.raises(ValueError, match="empty backfill window"):
        bulk_orders_query(FEB, JAN)
    with pytest.raises(ValueError, match="timezone-aware"):
        in_window("2026-01-01T00:00:00Z", None, datetime(2026, 1, 1))


def test_in_window_is_half_open() -> None:
    assert in_window("2026-01-01T00:00:00Z", JAN, FEB)  # start included
    assert not in_window("2026-02-01T00:00:00Z", JAN, FEB)  # end excluded (Shopify's `<` would include it)
    assert in_window("2026-01-31T23:59:59Z", JAN, FEB)
    assert not in_window("2025-12-31T23:59:59Z", JAN, FEB)
    assert in_window("1999-01-01T00:00:00Z", None, FEB) and in_window("2999-01-01T00:00:00Z", JAN, None)
