"""Injected bulk outcomes: each way an operation can end badly, from Python and over the control API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shopify_bridge.shopify.queries import SHOP_INFO
from shopify_bridge.simulator import ManualClock, SimulatorServer
from tests.simulator.conftest import Caller
from tests.simulator.test_bulk_files import download
from tests.simulator.test_bulk_lifecycle import poll, run, start

# kind → (status, errorCode, has url, has partialDataUrl, has completedAt)
OUTCOMES = {
    "bulk_timeout": ("FAILED", "TIMEOUT", False, True, False),
    "bulk_internal_error": ("FAILED", "INTERNAL_SERVER_ERROR", False, True, False),
    "bulk_access_denied": ("FAILED", "ACCESS_DENIED", False, False, False),
    "bulk_canceled": ("CANCELED", None, False, False, False),
    "bulk_expired": ("EXPIRED", None, False, False, True),
    "bulk_no_url": ("COMPLETED", None, False, False, True),
    "bulk_truncated": ("COMPLETED", None, True, False, True),
}


async def ended(caller: Caller, clock: ManualClock) -> dict[str, Any]:
    created = await start(caller)
    clock.advance(10)
    operation: dict[str, Any] = await poll(caller, created["id"])
    return operation


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
async def test_each_outcome_fault_ends_the_next_operation_that_way(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, kind: str
) -> None:
    sim.state.inject(kind)
    operation = await ended(caller, clock)
    status, error_code, has_url, has_partial, has_completed_at = OUTCOMES[kind]
    assert (operation["status"], operation["errorCode"]) == (status, error_code)
    assert (bool(operation["url"]), bool(operation["partialDataUrl"])) == (has_url, has_partial)
    assert bool(operation["completedAt"]) == has_completed_at
    assert sim.state.faults.pending() == []
    assert (await ended(caller, clock))["status"] == "COMPLETED", "spent by one operation"


async def test_partial_data_holds_the_lines_written_before_the_failure(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.inject("bulk_internal_error")
    failed = await ended(caller, clock)
    status, _, partial = await download(failed["partialDataUrl"])
    whole = sim.state.bulk.jobs[failed["id"]].output.content()
    assert status == 200 and partial.endswith(b"\n") and whole.startswith(partial)
    assert len(partial.splitlines()) == int(failed["objectCount"]) < len(whole.splitlines())


async def test_a_truncated_file_loses_the_end_of_its_last_line(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.inject("bulk_truncated")
    operation = await ended(caller, clock)
    _, _, raw = await download(operation["url"])
    *whole_lines, last = raw.split(b"\n")
    assert last and not raw.endswith(b"\n")
    assert all(json.loads(line) for line in whole_lines)
    with pytest.raises(json.JSONDecodeError):
        json.loads(last)
    assert int(operation["fileSize"]) > len(raw), "the size Shopify reported is that of the whole file"


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("bulk_limit_reached", "LIMIT_REACHED", "Bulk operations limit reached. Please try again later."),
        (
            "bulk_in_progress",
            "OPERATION_IN_PROGRESS",
            "A bulk query operation for this app and shop is already",
        ),
    ],
)
async def test_run_refusals(caller: Caller, sim: SimulatorServer, kind: str, code: str, message: str) -> None:
    sim.state.inject(kind)
    refused = await run(caller)
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    assert (error["field"], error["code"]) == (None, code) and error["message"].startswith(message)
    assert sim.state.bulk_operations == {}
    assert (await run(caller))["userErrors"] == []


async def test_bulk_faults_leave_ordinary_requests_alone(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("bulk_timeout")
    assert (await caller.graphql(SHOP_INFO)).status == 200
    assert [fault["kind"] for fault in sim.state.faults.pending()] == ["bulk_timeout"]


async def test_over_the_control_api(caller: Caller, sim: SimulatorServer, clock: ManualClock) -> None:
    injected = await caller.control("POST", "/faults", {"kind": "bulk_timeout", "count": 2})
    assert injected.status == 201 and injected.body["kind"] == "bulk_timeout"
    assert [f["kind"] for f in (await caller.control("GET", "/faults")).body] == ["bulk_timeout"]
    await ended(caller, clock)
    listed = await caller.control("GET", "/bulk")
    assert [(op["status"], op["errorCode"]) for op in listed.body] == [("FAILED", "TIMEOUT")]
    assert (await caller.control("DELETE", "/faults")).body == {"faults": []}
    assert (await ended(caller, clock))["status"] == "COMPLETED"
    unknown = await caller.control("POST", "/faults", {"kind": "bulk_nonsense"})
    assert unknown.status == 422
