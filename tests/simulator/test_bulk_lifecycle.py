"""Bulk operations over HTTP: the run payload, concurrency by version, the lifecycle on the clock, cancel."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.clock import parse_wire_time, wire_time
from tests.conftest import recorded
from tests.simulator.conftest import START, Caller

OP_FIELDS = (
    "id status type errorCode createdAt completedAt objectCount rootObjectCount "
    "fileSize url partialDataUrl query"
)
RUN = f"""
mutation Run($query: String!, $group: Boolean!) {{
  bulkOperationRunQuery(query: $query, groupObjects: $group) {{
    bulkOperation {{ {OP_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""
POLL = f"query Poll($id: ID!) {{ bulkOperation(id: $id) {{ {OP_FIELDS} }} }}"
CANCEL = f"""
mutation Cancel($id: ID!) {{
  bulkOperationCancel(id: $id) {{ bulkOperation {{ {OP_FIELDS} }} userErrors {{ field message }} }}
}}
"""
ORDERS = """#graphql
{
  orders(sortKey: PROCESSED_AT) {
    edges {
      node {
        id name processedAt tags
        totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        refunds { id note }
        lineItems { edges { node { id title quantity } } }
      }
    }
  }
}"""
IN_PROGRESS_2025 = "2025-01__bulk-operation-run-query-operation-in-progress.json"
IN_PROGRESS_2026 = "2026-04__bulk-operation-run-query-concurrency-limit.json"


async def run(caller: Caller, query: str = ORDERS, *, version: str = "2026-07", group: bool = False) -> Any:
    answer = await caller.graphql(RUN, {"query": query, "group": group}, version=version)
    assert answer.status == 200 and "errors" not in answer.body, answer.body
    return answer.body["data"]["bulkOperationRunQuery"]


async def start(caller: Caller, query: str = ORDERS, **options: Any) -> dict[str, Any]:
    payload = await run(caller, query, **options)
    assert payload["userErrors"] == [], payload
    operation: dict[str, Any] = payload["bulkOperation"]
    return operation


async def poll(caller: Caller, op_id: str) -> Any:
    return (await caller.data(POLL, id=op_id))["bulkOperation"]


async def cancel(caller: Caller, op_id: str) -> Any:
    return (await caller.data(CANCEL, id=op_id))["bulkOperationCancel"]


def recorded_ids(message: str) -> list[str]:
    return re.findall(r"gid://shopify/BulkOperation/\d+", message)


async def test_a_run_answers_created_in_the_recorded_shape(caller: Caller) -> None:
    capture = recorded(IN_PROGRESS_2025)["firstRun"]["response"]
    expected = capture["data"]["bulkOperationRunQuery"]["bulkOperation"]
    answer = await caller.graphql(RUN, {"query": ORDERS, "group": False})
    operation = answer.body["data"]["bulkOperationRunQuery"]["bulkOperation"]
    assert list(operation) == list(expected)
    same = ("status", "type", "errorCode", "completedAt", "objectCount", "rootObjectCount", "fileSize", "url")
    assert {key: operation[key] for key in same} == {key: expected[key] for key in same}
    assert operation["query"] == ORDERS, "echoed verbatim, #graphql prefix and all"
    assert operation["createdAt"] == wire_time(START)
    assert answer.body["extensions"]["cost"]["requestedQueryCost"] == 10


@pytest.mark.parametrize(
    ("version", "allowed"), [("2025-07", 1), ("2025-10", 1), ("2026-01", 5), ("2026-07", 5)]
)
async def test_concurrent_query_operations_by_api_version(caller: Caller, version: str, allowed: int) -> None:
    ids = [(await start(caller, version=version))["id"] for _ in range(allowed)]
    refused = await run(caller, version=version)
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    capture_name = IN_PROGRESS_2026 if allowed == 5 else IN_PROGRESS_2025
    capture = recorded(capture_name)["sixthRun" if allowed == 5 else "secondRun"]["response"]
    [recorded_error] = capture["data"]["bulkOperationRunQuery"]["userErrors"]
    expected_message = recorded_error["message"].replace(
        ", ".join(recorded_ids(recorded_error["message"])), ", ".join(ids)
    )
    assert error == {**recorded_error, "message": expected_message}


async def test_a_finished_operation_frees_its_slot(caller: Caller, clock: ManualClock) -> None:
    await start(caller, version="2025-10")
    assert (await run(caller, version="2025-10"))["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    clock.advance(5)
    assert (await run(caller, version="2025-10"))["userErrors"] == []


async def test_the_lifecycle_follows_the_clock(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.bulk.objects_per_second = 10
    created = await start(caller)
    assert (await poll(caller, created["id"]))["status"] == "CREATED"
    total = sim.state.bulk.jobs[created["id"]].output.objects
    assert total > 30, "the seeded shop's orders and their line items"
    clock.advance(0.5 + 1.5)
    running = await poll(caller, created["id"])
    assert (running["status"], running["objectCount"], running["completedAt"]) == ("RUNNING", "15", None)
    clock.advance(1)
    later = await poll(caller, created["id"])
    assert later["objectCount"] == "25" and int(later["rootObjectCount"]) <= 25
    clock.advance(total / 10)
    done = await poll(caller, created["id"])
    finished_at = START + timedelta(seconds=0.5 + total / 10)
    assert (done["status"], done["objectCount"], done["completedAt"]) == (
        "COMPLETED",
        str(total),
        wire_time(finished_at),
    )
    assert int(done["rootObjectCount"]) == len(sim.state.orders())
    assert isinstance(done["fileSize"], str) and int(done["fileSize"]) > 0
    expires = int(re.search(r"[?&]Expires=(\d+)", done["url"]).group(1))  # type: ignore[union-attr]
    assert expires == int(parse_wire_time(done["completedAt"]).timestamp()) + 604800


async def test_reads_by_id_node_and_current(caller: Caller, sim: SimulatorServer) -> None:
    first = await start(caller)
    second = await start(caller)
    assert await poll(caller, "gid://shopify/BulkOperation/0") is None
    node = await caller.data(
        "query($id: ID!) { node(id: $id) { __typename ... on BulkOperation { id status } } }", id=first["id"]
    )
    assert node["node"] == {"__typename": "BulkOperation", "id": first["id"], "status": "CREATED"}
    current = await caller.data("{ currentBulkOperation { id } }")
    assert current["currentBulkOperation"] == {"id": second["id"]}


async def test_cancel_goes_through_canceling_which_still_holds_the_slot(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.bulk.objects_per_second = 10
    created = await start(caller, version="2025-10")
    clock.advance(1.5)
    canceled = await cancel(caller, created["id"])
    assert canceled["userErrors"] == []
    assert (canceled["bulkOperation"]["status"], canceled["bulkOperation"]["objectCount"]) == (
        "CANCELING",
        "10",
    )
    blocked = await run(caller, version="2025-10")
    assert blocked["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    assert created["id"] in blocked["userErrors"][0]["message"]
    clock.advance(60)
    seen = await poll(caller, created["id"])
    assert (seen["status"], seen["objectCount"], seen["completedAt"], seen["url"]) == (
        "CANCELED",
        "10",
        None,
        None,
    )
    assert (await run(caller, version="2025-10"))["userErrors"] == []


async def test_cancel_of_a_finished_or_unknown_operation(caller: Caller, clock: ManualClock) -> None:
    created = await start(caller)
    clock.advance(10)
    finished = await cancel(caller, created["id"])
    assert finished["bulkOperation"]["status"] == "COMPLETED"
    assert finished["userErrors"] == [
        {"field": None, "message": "A bulk operation cannot be canceled when it is completed"}
    ]
    unknown = await cancel(caller, "gid://shopify/BulkOperation/42")
    assert unknown == {
        "bulkOperation": None,
        "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
    }


def root_records(sim: SimulatorServer, op_id: str) -> list[dict[str, Any]]:
    output = sim.state.bulk.jobs[op_id].output
    lines = output.content().splitlines()
    return [json.loads(line) for line, root in zip(lines, output.is_root, strict=True) if root]


async def test_the_operation_reads_a_snapshot_of_the_search_index(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    tagged = sim.state.orders()[3]
    sim.state.add_tag(tagged["id"], "snapshot-me")
    clock.advance(5)  # past the search index's lag
    fresh = sim.state.create_order()  # not yet in the index when the operations start
    filtered = await start(caller, ORDERS.replace("sortKey:", 'query: "tag:snapshot-me", sortKey:'))
    everything = await start(caller, ORDERS.replace("PROCESSED_AT", "ORDER_NUMBER, reverse: true"))
    sim.state.add_tag(sim.state.orders()[5]["id"], "snapshot-me")  # after the snapshot: not in it
    clock.advance(10)
    assert [order["id"] for order in root_records(sim, filtered["id"])] == [tagged["id"]]
    names = [order["name"] for order in root_records(sim, everything["id"])]
    assert fresh["name"] not in names and len(names) == len(sim.state.orders()) - 1
    assert names == sorted(names, reverse=True)


@pytest.mark.parametrize(
    "case", ["missingWindow", "firstAndLast", "malformedInlineId", "nonBulkOperationGid"]
)
async def test_reads_refuse_bad_arguments_as_recorded(caller: Caller, case: str) -> None:
    capture = recorded("2026-04__bulk-operations-read-arg-validation.json")["cases"][case]
    answer = await caller.graphql(capture["query"])
    [error] = answer.body["errors"]
    [expected] = capture["response"]["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        expected["message"],
        expected["extensions"]["code"],
    )
