"""`bulkOperationRunQuery` refuses what Shopify refuses, with the recorded userErrors word for word."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema

from shopify_bridge.shopify.bulk.query import bulk_orders_query
from shopify_bridge.simulator import SimulatorServer
from shopify_bridge.simulator.bulk_rules import (
    IN_LIST,
    NO_CONNECTION,
    NOT_A_QUERY,
    BulkQueryInvalid,
    check_bulk_query,
)
from shopify_bridge.simulator.schema import simulator_schema
from tests.conftest import recorded
from tests.simulator.conftest import Caller
from tests.simulator.test_bulk_lifecycle import run

VALIDATORS = "2026-04__bulk-operation-run-query-validators.json"
RECORDED_CASES = (
    "nodesInsteadOfEdges",
    "ordersNodesInsteadOfEdges",
    "topLevelNode",
    "depthThreeNesting",
    "sixConnections",
    "nestedWithoutParentId",
    "invalidOperationType",
    "connectionWithinList",
)
PARENT_WITHOUT_ID = (
    "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be "
    "of 'ID' return type. Connection fields without 'id': orders."
)


def refusal(query: str, schema: GraphQLSchema | None = None) -> list[str]:
    with pytest.raises(BulkQueryInvalid) as caught:
        check_bulk_query(query, schema or simulator_schema())
    return caught.value.messages


def recorded_case(name: str) -> tuple[str, list[dict[str, Any]]]:
    case = recorded(VALIDATORS)["validations"][name]
    return case["variables"]["query"], case["response"]["data"]["bulkOperationRunQuery"]["userErrors"]


@pytest.mark.parametrize("name", RECORDED_CASES)
def test_every_recorded_validator_case_gets_its_exact_messages(real_schema: GraphQLSchema, name: str) -> None:
    query, user_errors = recorded_case(name)
    assert refusal(query, real_schema) == [error["message"] for error in user_errors]


def test_the_recorded_cases_cover_every_validator() -> None:
    assert sorted(recorded(VALIDATORS)["validations"]) == sorted(RECORDED_CASES)


async def test_over_http_a_refusal_has_the_recorded_payload_shape(
    caller: Caller, sim: SimulatorServer
) -> None:
    query, user_errors = recorded_case("ordersNodesInsteadOfEdges")
    payload = await run(caller, query)
    assert payload == {"bulkOperation": None, "userErrors": user_errors}
    assert sim.state.bulk_operations == {}


def test_the_cases_listed_beside_the_capture() -> None:
    assert refusal("{ shop { id } }") == [NO_CONNECTION]
    assert refusal("") == ["Invalid bulk query: syntax error, unexpected end of file"]
    assert refusal("#graphql\n") == ["Invalid bulk query: syntax error, unexpected end of file"]


def test_a_mutation_document_gets_only_the_operation_type_message() -> None:
    assert refusal(
        'mutation { bulkOperationCancel(id: "gid://shopify/BulkOperation/1") { userErrors { message } } }'
    ) == [NOT_A_QUERY]
    assert refusal("mutation { productCreate { id } }") == [NOT_A_QUERY], "before the schema is consulted"


def test_order_queries_break_the_same_rules() -> None:
    no_parent_id = "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }"
    aliased_id = "{ orders { edges { node { key: id lineItems { edges { node { id } } } } } } }"
    assert refusal(no_parent_id) == [PARENT_WITHOUT_ID]
    assert refusal(aliased_id) == [PARENT_WITHOUT_ID]
    # Order.refunds is a list and Refund.refundLineItems a connection: gotcha 3 of the API notes.
    in_list = (
        "{ orders { edges { node { id refunds { refundLineItems { edges { node { quantity } } } } } } } }"
    )
    assert refusal(in_list) == [IN_LIST]


def test_fragments_are_looked_through() -> None:
    via_fragment = "fragment Rows on OrderConnection { nodes { id } } { orders { ...Rows } }"
    assert refusal(via_fragment)[0].endswith("Invalid connection fields: 'orders'.")
    fine = (
        "fragment Line on LineItem { id title } "
        "{ orders { edges { node { ... on Order { id lineItems { edges { node { ...Line } } } } } } } }"
    )
    check_bulk_query(fine, simulator_schema())


def test_schema_and_syntax_errors_are_invalid_bulk_queries() -> None:
    assert refusal("{ orders { edges { node { id nope } } } }") == [
        "Invalid bulk query: Field 'nope' doesn't exist on type 'Order'"
    ]
    [message] = refusal("{ orders { edges { node { id } } } } }")
    assert message.startswith("Invalid bulk query: syntax error, unexpected") and "[1, 38]" in message


def test_the_bridges_own_backfill_query_is_accepted() -> None:
    document, operation = check_bulk_query(bulk_orders_query(None, None), simulator_schema())
    assert operation.operation.value == "query" and document.definitions
