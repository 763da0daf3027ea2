"""Inline `ID` literals: a malformed global id is refused while validating, before cost and execution.

Recorded: 2026-04 bulk-operations-read-arg-validation (`malformedInlineId`: the whole answer is an
`errors` array; `nonBulkOperationGid`: a well-formed id of another type is an execution error next to
`data`, with cost). The paths for aliases, anonymous operations, fragments and mutations, and the
variables' behaviour, are inferred (graphql-ruby's static-validation paths), not recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from shopify_bridge.simulator import SimulatorServer
from tests.conftest import recorded
from tests.simulator.conftest import Caller

READ_ARGS = "2026-04__bulk-operations-read-arg-validation.json"
INCOMPATIBLE = {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"}


def case(name: str) -> Any:
    return recorded(READ_ARGS)["cases"][name]


async def ask_as_recorded(caller: Caller, capture: Any) -> Any:
    answer = await caller.graphql(
        capture["query"],
        capture["variables"],
        version=recorded(READ_ARGS)["apiVersion"],
        operation_name=capture["operationName"],
    )
    assert answer.status == capture["status"]
    return answer.body


async def test_a_malformed_inline_id_is_answered_exactly_as_recorded(caller: Caller, sim: SimulatorServer) -> None:
    capture = case("malformedInlineId")
    before = sim.state.bucket.status()
    assert await ask_as_recorded(caller, capture) == capture["response"]
    assert sim.state.bucket.status() == before, "refused before cost: nothing is taken from the bucket"


async def test_a_well_formed_id_of_another_type_stays_an_execution_error_as_recorded(caller: Caller) -> None:
    capture = case("nonBulkOperationGid")
    # A fresh simulator's bucket is full and its clock stands still: even currentlyAvailable matches.
    assert await ask_as_recorded(caller, capture) == capture["response"]


async def test_a_malformed_id_in_a_variable_stays_an_execution_error(caller: Caller) -> None:
    # (inferred) not recorded: the simulator's long-standing answer, kept as it was.
    answer = await caller.graphql("query Poll($id: ID!) { bulkOperation(id: $id) { id } }", {"id": "not-a-gid"})
    assert answer.status == 200
    assert answer.body["errors"] == [
        {
            "message": "Invalid global id 'not-a-gid'",
            "locations": [{"line": 1, "column": 24}],
            "path": ["bulkOperation"],
            "extensions": INCOMPATIBLE,
        }
    ]
    assert answer.body["data"] == {"bulkOperation": None}
    assert answer.body["extensions"]["cost"]["requestedQueryCost"] == 1


@pytest.mark.parametrize(
    ("query", "path", "location"),
    [
        ('{ op: bulkOperation(id: "x") { id } }', ["query", "op", "id"], (1, 3)),
        ('query O { order(id: "x") { id } }', ["query O", "order", "id"], (1, 11)),
        ('{ ... on QueryRoot { node(id: "x") { id } } }', ["query", "... on QueryRoot", "node", "id"], (1, 22)),
        (
            'query F { ...Saved }\nfragment Saved on QueryRoot { ordersCount(savedSearchId: "x") { count } }',
            ["fragment Saved", "ordersCount", "savedSearchId"],
            (2, 31),
        ),
        (
            'mutation C { bulkOperationCancel(id: "x") { userErrors { message } } }',
            ["mutation C", "bulkOperationCancel", "id"],
            (1, 14),
        ),
    ],
)
async def test_every_inline_id_argument_is_checked_with_a_static_validation_path(
    caller: Caller, query: str, path: list[str], location: tuple[int, int]
) -> None:
    # (inferred) the path steps for aliases, anonymous operations, fragments and mutations.
    answer = await caller.graphql(query)
    line, column = location
    assert answer.status == 200
    assert answer.body == {
        "errors": [
            {
                "message": "Invalid global id 'x'",
                "locations": [{"line": line, "column": column}],
                "path": path,
                "extensions": INCOMPATIBLE,
            }
        ]
    }


async def test_each_malformed_inline_id_is_reported_and_good_ones_are_not(caller: Caller, sim: SimulatorServer) -> None:
    order = sim.state.orders()[0]["id"]
    answer = await caller.graphql(
        f'query Two {{ a: order(id: "1") {{ id }} b: order(id: "{order}") {{ id }} c: node(id: "2") {{ id }} }}'
    )
    assert [(e["message"], e["path"]) for e in answer.body["errors"]] == [
        ("Invalid global id '1'", ["query Two", "a", "id"]),
        ("Invalid global id '2'", ["query Two", "c", "id"]),
    ]
    assert set(answer.body) == {"errors"}
    fine = await caller.data(f'{{ order(id: "{order}") {{ id }} }}')
    assert fine == {"order": {"id": order}}
