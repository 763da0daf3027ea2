"""The result file is written while the operation runs, not inside `bulkOperationRunQuery`.

Shopify answers the run with CREATED at once and writes the file afterwards (notes §1.1, §1.2); the
simulator plans the file when the operation is created (which objects, in which order: a snapshot) and writes
its lines later — a bounded step per read on the clock, and ahead of the clock in the background while it
serves HTTP — so that no request waits for a large file.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from shopify_bridge.simulator import ManualClock, SimulatorServer, bulk
from shopify_bridge.simulator.clock import wire_time
from shopify_bridge.simulator.shop import SimulatorState
from tests.simulator.conftest import START, Caller
from tests.simulator.test_bulk_lifecycle import ORDERS, poll, start


def _run(state: SimulatorState) -> str:
    payload = state.bulk.run_query(state, ORDERS)
    assert payload["userErrors"] == [] and payload["bulkOperation"]["status"] == "CREATED"
    return str(payload["bulkOperation"]["id"])


def test_the_run_plans_the_file_and_writes_none_of_it(clock: ManualClock) -> None:
    state = SimulatorState(token="t", orders=30, seed=3, clock=clock, search_lag_seconds=0)
    op_id = _run(state)
    output = state.bulk.jobs[op_id].output
    assert output.objects > 30 and output.written == 0
    assert output.roots() == 30


def test_reads_write_a_bounded_step_and_the_operation_ends_when_the_file_is_written(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "SYNC_WRITE_LINES", 10)
    state = SimulatorState(token="t", orders=30, seed=3, clock=clock, search_lag_seconds=0)
    op_id = _run(state)
    output = state.bulk.jobs[op_id].output
    clock.advance(60)  # the clock allows every object long before this
    seen = state.bulk_operations[op_id]
    assert (seen["status"], seen["objectCount"], output.written) == ("RUNNING", "10", 10)
    reads = 1
    while (done := state.bulk_operations[op_id])["status"] == "RUNNING":
        reads += 1
        clock.advance(1)
    assert reads + 1 == -(-output.objects // 10), "each read wrote ten lines"
    assert (done["status"], done["objectCount"]) == ("COMPLETED", str(output.objects))
    # Behind the clock, it completed when its last line was written, not when the clock first allowed it.
    assert done["completedAt"] == wire_time(clock())


def test_an_operation_in_step_with_the_clock_completes_at_the_clocks_moment(clock: ManualClock) -> None:
    state = SimulatorState(token="t", orders=30, seed=3, clock=clock, search_lag_seconds=0)
    op_id = _run(state)
    objects = state.bulk.jobs[op_id].output.objects
    clock.advance(3600)
    done = state.bulk_operations[op_id]
    ends = START + timedelta(seconds=state.bulk.start_delay_seconds + objects / state.bulk.objects_per_second)
    assert (done["status"], done["completedAt"]) == ("COMPLETED", wire_time(ends))


async def test_a_served_shop_writes_the_file_in_the_background_between_requests(
    caller: Caller, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BACKGROUND_WRITE_LINES", 5)
    created = await start(caller)
    output = sim.state.bulk.jobs[created["id"]].output
    for _ in range(output.objects):  # one batch per turn of the event loop at least
        if output.written == output.objects:
            break
        await asyncio.sleep(0)
    assert output.written == output.objects, "written without any read of the operation"
    assert (await poll(caller, created["id"]))["status"] == "CREATED", "revealed on the clock all the same"


async def test_the_file_keeps_the_snapshot_of_documents_changed_after_the_run(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    first = sim.state.orders()[0]
    created = await start(caller)
    sim.state.add_tag(first["id"], "after-the-run")
    clock.advance(60)
    assert (await poll(caller, created["id"]))["status"] == "COMPLETED"
    content = sim.state.bulk.jobs[created["id"]].output.content()
    assert b"after-the-run" not in content and first["id"].replace("/", "\\/").encode() in content
