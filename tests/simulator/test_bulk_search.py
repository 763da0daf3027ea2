"""`bulkOperations(query:, sortKey:, reverse:)`: the search filters, the order, the recorded errors and warnings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.clock import wire_time
from tests.conftest import recorded
from tests.simulator.conftest import START, Caller
from tests.simulator.test_bulk_lifecycle import ORDERS, cancel, start

READ_ARGS = "2026-04__bulk-operations-read-arg-validation.json"
LIST = """
query List($query: String, $sortKey: BulkOperationsSortKeys, $reverse: Boolean, $first: Int, $last: Int,
           $after: String, $before: String) {
  bulkOperations(query: $query, sortKey: $sortKey, reverse: $reverse, first: $first, last: $last,
                 after: $after, before: $before) {
    nodes { id status type createdAt completedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NO_ORDERS = ORDERS.replace("sortKey:", 'query: "tag:no-such-tag", sortKey:')


@dataclass
class Shop:
    """Five operations of the app, oldest first: `a` … `e` (see `ops`)."""

    a: str
    b: str
    c: str
    d: str
    e: str

    def number(self, name: str) -> int:
        return int(getattr(self, name).rsplit("/", 1)[-1])


@pytest.fixture
async def ops(caller: Caller, sim: SimulatorServer, clock: ManualClock) -> Shop:
    """a COMPLETED late, b COMPLETED early (no objects), c CANCELED, d RUNNING, e CREATED — created in that order."""
    sim.state.bulk.objects_per_second = 10
    a = (await start(caller))["id"]  # 12:00:00, every order: many objects
    clock.advance(2)
    b = (await start(caller, NO_ORDERS))["id"]  # 12:00:02, done half a second later
    clock.advance(2)
    c = (await start(caller))["id"]  # 12:00:04
    assert (await cancel(caller, c))["userErrors"] == []
    clock.advance(120)
    d = (await start(caller))["id"]  # 12:02:04
    clock.advance(1)
    e = (await start(caller))["id"]  # 12:02:05
    shop = Shop(a, b, c, d, e)
    seen = {node["id"]: node for node in await nodes(caller, first=10)}
    assert {name: seen[getattr(shop, name)]["status"] for name in "abcde"} == {
        "a": "COMPLETED",
        "b": "COMPLETED",
        "c": "CANCELED",
        "d": "RUNNING",
        "e": "CREATED",
    }
    assert seen[b]["completedAt"] < seen[a]["completedAt"]
    return shop


async def listing(caller: Caller, **arguments: Any) -> dict[str, Any]:
    answer = await caller.graphql(LIST, arguments)
    assert answer.status == 200 and "errors" not in answer.body, answer.body
    assert "search" not in answer.body["extensions"], answer.body["extensions"]
    connection: dict[str, Any] = answer.body["data"]["bulkOperations"]
    return connection


async def nodes(caller: Caller, **arguments: Any) -> list[dict[str, Any]]:
    nodes_: list[dict[str, Any]] = (await listing(caller, **arguments))["nodes"]
    return nodes_


async def ids(caller: Caller, query: str | None = None, **arguments: Any) -> list[str]:
    return [node["id"] for node in await nodes(caller, **{"query": query, "first": 10, **arguments})]


# -- order ------------------------------------------------------------------------------------------
async def test_the_default_order_is_newest_created_first_and_reverse_flips_it(caller: Caller, ops: Shop) -> None:
    assert await ids(caller) == [ops.e, ops.d, ops.c, ops.b, ops.a]
    assert await ids(caller, sortKey="CREATED_AT") == [ops.e, ops.d, ops.c, ops.b, ops.a]
    assert await ids(caller, reverse=True) == [ops.a, ops.b, ops.c, ops.d, ops.e]


async def test_completed_at_orders_by_completion_with_unfinished_operations_after(
    caller: Caller, ops: Shop
) -> None:
    assert await ids(caller, sortKey="COMPLETED_AT") == [ops.a, ops.b, ops.e, ops.d, ops.c]
    assert await ids(caller, sortKey="COMPLETED_AT", reverse=True) == [ops.c, ops.d, ops.e, ops.b, ops.a]


async def test_pages_follow_the_order_without_gaps_or_repeats(caller: Caller, ops: Shop) -> None:
    first = await listing(caller, first=2)
    assert [n["id"] for n in first["nodes"]] == [ops.e, ops.d]
    assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (True, False)
    second = await listing(caller, first=2, after=first["pageInfo"]["endCursor"])
    assert [n["id"] for n in second["nodes"]] == [ops.c, ops.b]
    third = await listing(caller, first=2, after=second["pageInfo"]["endCursor"])
    assert [n["id"] for n in third["nodes"]] == [ops.a] and third["pageInfo"]["hasNextPage"] is False
    back = await listing(caller, last=2, before=third["pageInfo"]["startCursor"])
    assert [n["id"] for n in back["nodes"]] == [ops.c, ops.b]
    assert [n["id"] for n in await nodes(caller, query="status:completed", last=1)] == [ops.a]
    completed = await listing(caller, query="status:completed", sortKey="COMPLETED_AT", first=1)
    assert [n["id"] for n in completed["nodes"]] == [ops.a]
    rest = await listing(
        caller, query="status:completed", sortKey="COMPLETED_AT", first=1, after=completed["pageInfo"]["endCursor"]
    )
    assert [n["id"] for n in rest["nodes"]] == [ops.b]


# -- filters ----------------------------------------------------------------------------------------
async def test_status_filters_case_insensitively(caller: Caller, ops: Shop) -> None:
    assert await ids(caller, "status:completed") == [ops.b, ops.a]
    assert await ids(caller, "status:COMPLETED") == [ops.b, ops.a]
    assert await ids(caller, "status:Running") == [ops.d]
    assert await ids(caller, "status:created") == [ops.e]
    assert await ids(caller, "status:canceled") == [ops.c]
    assert await ids(caller, "status:canceling") == []  # accepted (no warning); c was canceled already
    assert await ids(caller, "status:failed") == []
    assert await ids(caller, "-status:completed") == [ops.e, ops.d, ops.c]


async def test_status_canceling_and_failed_find_such_operations(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.inject("bulk_access_denied")
    failed = (await start(caller))["id"]
    clock.advance(5)
    assert await ids(caller, "status:FAILED") == [failed]
    canceling = (await start(caller))["id"]
    assert (await cancel(caller, canceling))["bulkOperation"]["status"] == "CANCELING"
    # The simulator shows CANCELED from the next request on; hold CANCELING one request longer.
    sim.state.bulk.jobs[canceling].cancel_request = sim.state.bulk.request_serial + 1
    assert await ids(caller, "status:canceling") == [canceling]
    assert await ids(caller, "status:canceling") == []
    assert await ids(caller, "status:canceled") == [canceling]


async def test_operation_type_filters_case_insensitively(caller: Caller, ops: Shop) -> None:
    assert await ids(caller, "operation_type:query") == [ops.e, ops.d, ops.c, ops.b, ops.a]
    assert await ids(caller, "operation_type:QUERY") == [ops.e, ops.d, ops.c, ops.b, ops.a]
    assert await ids(caller, "operation_type:mutation") == []
    assert await ids(caller, "operation_type:Mutation status:created") == []


async def test_id_filters_by_number_with_comparisons(caller: Caller, ops: Shop) -> None:
    assert await ids(caller, f"id:{ops.number('c')}") == [ops.c]
    assert await ids(caller, f"id:>={ops.number('c')}") == [ops.e, ops.d, ops.c]
    assert await ids(caller, f"id:<={ops.number('b')}") == [ops.b, ops.a]
    assert await ids(caller, f"id:>{ops.number('d')}") == [ops.e]
    assert await ids(caller, f"id:<{ops.number('b')}") == [ops.a]


async def test_created_at_compares_like_the_order_search(caller: Caller, ops: Shop) -> None:
    two = wire_time(START.replace(second=2))
    assert await ids(caller, f"created_at:>='{two}'") == [ops.e, ops.d, ops.c, ops.b]
    assert await ids(caller, f"created_at:>{two}") == [ops.e, ops.d, ops.c, ops.b], "> behaves like >="
    assert await ids(caller, f"created_at:<'{two}'") == [ops.b, ops.a], "< behaves like <="
    assert await ids(caller, f'created_at:<="{two}"') == [ops.b, ops.a]
    assert await ids(caller, "created_at:2026-07-01") == [ops.e, ops.d, ops.c, ops.b, ops.a]
    assert await ids(caller, "created_at:2026-06-30") == []
    assert await ids(caller, "created_at:<now created_at:>=2026-07-01T12:02:00Z") == [ops.e, ops.d]


async def test_terms_are_anded(caller: Caller, ops: Shop) -> None:
    # The upstream capture's filter: the newest completed operation comes first.
    assert await ids(caller, "status:completed AND created_at:>=2000-01-01", first=1) == [ops.b]
    assert await ids(caller, f"status:completed id:>={ops.number('b')}") == [ops.b]
    assert await ids(caller, "status:completed created_at:<2000-01-01") == []


# -- errors and warnings ----------------------------------------------------------------------------
async def test_a_malformed_created_at_is_the_recorded_bad_request(caller: Caller, ops: Shop) -> None:
    case = recorded(READ_ARGS)["cases"]["invalidCreatedAt"]
    answer = await caller.graphql(case["query"])
    assert answer.status == 200
    assert {key: answer.body[key] for key in ("errors", "data")} == {
        key: case["response"][key] for key in ("errors", "data")
    }
    assert "search" not in answer.body["extensions"]


@pytest.mark.parametrize("case", ["missingWindow", "firstAndLast"])
async def test_the_window_errors_are_the_recorded_bad_requests(caller: Caller, ops: Shop, case: str) -> None:
    capture = recorded(READ_ARGS)["cases"][case]
    # A query argument with an unknown field or a bad timestamp does not change the window's error.
    old, new = {
        "missingWindow": ("bulkOperations {", 'bulkOperations(query: "made_up:x") {'),
        "firstAndLast": ("last: 1", 'last: 1, query: "created_at:nope"'),
    }[case]
    assert old in capture["query"]
    answer = await caller.graphql(capture["query"].replace(old, new))
    assert answer.status == 200
    assert {key: answer.body[key] for key in ("errors", "data")} == {
        key: capture["response"][key] for key in ("errors", "data")
    }
    assert "search" not in answer.body["extensions"], "the window is refused before the query is read"


@pytest.mark.parametrize("case", ["invalidStatusExpired", "invalidStatusUnknown", "invalidOperationType"])
async def test_an_unaccepted_value_is_warned_about_and_matches_nothing(caller: Caller, ops: Shop, case: str) -> None:
    capture = recorded(READ_ARGS)["cases"][case]
    answer = await caller.graphql(capture["query"])
    expected = capture["response"]
    assert answer.status == 200 and "errors" not in answer.body
    assert answer.body["data"] == expected["data"]
    assert answer.body["extensions"]["search"] == expected["extensions"]["search"]


async def test_an_unknown_field_is_ignored_with_the_noted_warning(caller: Caller, ops: Shop) -> None:
    answer = await caller.graphql('{ bulkOperations(first: 1, query: "made_up:value") { nodes { id } } }')
    assert answer.status == 200 and "errors" not in answer.body
    assert answer.body["data"] == {"bulkOperations": {"nodes": [{"id": ops.e}]}}
    assert answer.body["extensions"]["search"] == [
        {
            "path": ["bulkOperations"],
            "query": "made_up:value",
            "parsed": {"field": "made_up", "match_all": "value"},
            "warnings": [
                {"field": "made_up", "message": "Invalid search field for this query.", "code": "invalid_field"}
            ],
        }
    ]
    mixed = await caller.graphql(LIST, {"query": "status:completed made_up:value", "first": 10})
    assert [n["id"] for n in mixed.body["data"]["bulkOperations"]["nodes"]] == [ops.b, ops.a]
    assert mixed.body["extensions"]["search"][0]["parsed"] == {
        "and": [{"field": "status", "match_all": "completed"}, {"field": "made_up", "match_all": "value"}]
    }


async def test_a_bare_word_and_a_non_numeric_id_match_nothing(caller: Caller, ops: Shop) -> None:
    assert await ids(caller, "orders") == []
    answer = await caller.graphql(LIST, {"query": "id:abc", "first": 10})
    assert answer.body["data"]["bulkOperations"]["nodes"] == []
    assert answer.body["extensions"]["search"][0]["warnings"] == [
        {"field": "id", "message": "Input `abc` is not an accepted value.", "code": "invalid_value"}
    ]


# -- a bulk query over bulkOperations ---------------------------------------------------------------
async def test_a_bulk_query_over_bulk_operations_applies_the_same_search_and_order(
    caller: Caller, sim: SimulatorServer, ops: Shop
) -> None:
    query = '{ bulkOperations(query: "status:completed", reverse: true) { edges { node { id status } } } }'
    listed = await start(caller, query)
    lines = sim.state.bulk.jobs[listed["id"]].output.content().splitlines()
    assert [line.decode().replace("\\/", "/") for line in lines] == [
        f'{{"id":"{ops.a}","status":"COMPLETED"}}',
        f'{{"id":"{ops.b}","status":"COMPLETED"}}',
    ]
    newest = await start(caller, "{ bulkOperations { edges { node { id } } } }")
    written = sim.state.bulk.jobs[newest["id"]].output.content().splitlines()
    order = [line.decode().replace("\\/", "/") for line in written]
    assert order[:2] == [f'{{"id":"{listed["id"]}"}}', f'{{"id":"{ops.e}"}}']
