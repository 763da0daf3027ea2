"""The bridge's own Backfill against the simulator's bulk operations, over HTTP, on the simulator's clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import AuthError, TemporaryFailure
from shopify_bridge.service.backfill import Backfill
from shopify_bridge.shopify.bulk.download import DownloadFailed, ResultSink, ResultUrlRefused
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.store import Store
from tests.simulator.conftest import KIND, START

SHOP = "sim-snowboards.myshopify.com"
BACKFILL_FROM = START - timedelta(days=40)


@dataclass
class Rig:
    sim: SimulatorServer
    clock: ManualClock
    client: ShopifyClient
    store: Store
    backfill: Backfill

    @property
    def conn(self) -> Any:
        return self.store.conn

    def order_rows(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT gid, status FROM orders ORDER BY gid"))

    def versions(self) -> list[tuple[str, int, str]]:
        return list(
            self.conn.execute("SELECT order_id, count(*), min(origin) FROM order_versions GROUP BY order_id")
        )

    def expected_gids(self) -> list[str]:
        return sorted(o["id"] for o in self.sim.state.orders())


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock(START)
    # KIND: the waits counted here are the bulk slot's, not the pacing a greedy neighbour would add.
    async with SimulatorServer(orders=30, seed=11, clock=clock, token="shpat_sim_backfill", **KIND) as sim:

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)  # the backfill's waits pass on the simulator's clock, not the wall's
            await asyncio.sleep(0)

        client = ShopifyClient(
            source_name="Sim",
            shop_domain=SHOP,
            token=sim.token,
            api_version="2026-07",
            api_url=sim.url,
            sleep=sleep,
        )
        store = Store.open_writer(tmp_path / "bridge.db")
        store.conn.execute("INSERT INTO sources (shop, name) VALUES (?, ?)", (SHOP, "Sim"))
        backfill = Backfill(
            SourceContext(shop=SHOP, name="Sim"),
            client,
            store,
            clock=clock,
            sleep=sleep,
            data_dir=tmp_path / "data",
        )
        async with client:
            yield Rig(sim, clock, client, store, backfill)
        store.close()


def operations(rig: Rig) -> list[dict[str, Any]]:
    return rig.sim.state.bulk.operations()


async def test_every_order_is_stored_once_as_history(rig: Rig) -> None:
    state = await rig.backfill.run(BACKFILL_FROM)
    assert state["status"] == "complete" and state["orders"] == len(rig.expected_gids())
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()
    assert {status for _, status in rig.order_rows()} == {"history"}
    assert {(count, origin) for _, count, origin in rig.versions()} == {(1, "bulk")}
    [op] = operations(rig)
    assert op["status"] == "COMPLETED"
    assert rig.sim.state.bulk.files.downloads == [f"bulk-{op['id'].rsplit('/', 1)[-1]}.jsonl"]


async def test_a_timeout_splits_the_window_and_still_stores_each_order_once(rig: Rig) -> None:
    rig.sim.state.inject("bulk_timeout")
    await rig.backfill.run(BACKFILL_FROM)
    ops = operations(rig)
    assert [(op["status"], op["errorCode"]) for op in ops] == [
        ("FAILED", "TIMEOUT"),
        ("COMPLETED", None),
        ("COMPLETED", None),
    ]
    assert "processed_at:>=" in ops[1]["query"] and ops[1]["query"] != ops[2]["query"]
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()
    assert {count for _, count, _ in rig.versions()} == {1}


async def test_an_internal_error_runs_the_window_again_and_never_reads_the_partial_data(rig: Rig) -> None:
    rig.sim.state.inject("bulk_internal_error")
    await rig.backfill.run(BACKFILL_FROM)
    failed, completed = operations(rig)
    assert (failed["status"], failed["errorCode"]) == ("FAILED", "INTERNAL_SERVER_ERROR")
    assert failed["partialDataUrl"] and completed["status"] == "COMPLETED"
    assert all("partial" not in name for name in rig.sim.state.bulk.files.downloads)
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


async def test_access_denied_stops_with_an_auth_error_naming_the_missing_scope(rig: Rig) -> None:
    rig.sim.state.scopes.remove("read_all_orders")
    rig.sim.state.inject("bulk_access_denied")
    with pytest.raises(AuthError, match=r"ACCESS_DENIED.*missing scope.*read_all_orders"):
        await rig.backfill.run(BACKFILL_FROM)
    assert rig.order_rows() == []


async def test_a_truncated_result_file_is_detected_and_a_new_operation_is_run(rig: Rig) -> None:
    rig.sim.state.inject("bulk_truncated")
    state = await rig.backfill.run(BACKFILL_FROM)
    assert len(operations(rig)) == 2                       # the cut file was not trusted nor fetched again
    assert state["status"] == "complete"
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


async def test_a_result_truncated_every_time_is_never_marked_complete(rig: Rig) -> None:
    rig.sim.state.inject("bulk_truncated", count=10)
    with pytest.raises(TemporaryFailure, match="failed 6 times"):
        await rig.backfill.run(BACKFILL_FROM)
    assert rig.order_rows() == []
    assert (rig.store.sources.backfill_state(SHOP) or {}).get("status") == "running"


@pytest.mark.parametrize("kind", ["bulk_canceled", "bulk_expired", "bulk_no_url"])
async def test_an_operation_that_ends_without_data_is_handled(rig: Rig, kind: str) -> None:
    rig.sim.state.inject(kind)
    state = await rig.backfill.run(BACKFILL_FROM)
    ops = operations(rig)
    if kind == "bulk_no_url":
        # COMPLETED with url null reads as an empty window: the bridge cannot tell it from zero results.
        assert len(ops) == 1 and state["orders"] == 0 and rig.order_rows() == []
    else:
        assert [op["status"] for op in ops] == [kind.removeprefix("bulk_").upper(), "COMPLETED"]
        assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


async def test_a_busy_slot_is_waited_for_on_the_simulators_clock(rig: Rig) -> None:
    rig.sim.state.inject("bulk_in_progress", count=2)
    await rig.backfill.run(BACKFILL_FROM)
    [op] = operations(rig)
    assert op["createdAt"] == "2026-07-01T12:01:00Z", "two 30-second waits passed on the simulator's clock"
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


# -- downloads that fail (issue #13, "Bulk downloads"): never the process, never a lost result ------------
def result_name(op: dict[str, Any]) -> str:
    return f"bulk-{op['id'].rsplit('/', 1)[-1]}.jsonl"


@pytest.mark.parametrize("kind", ["download_truncated", "download_reset"])
async def test_a_cut_download_is_resumed_and_the_same_operation_ingested(rig: Rig, kind: str) -> None:
    rig.sim.state.inject(kind, count=2)
    state = await rig.backfill.run(BACKFILL_FROM)
    [op] = operations(rig)
    assert state["status"] == "complete"
    assert rig.sim.state.bulk.files.downloads == [result_name(op)], "the two cut tries, then the rest (206)"
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()
    assert {count for _, count, _ in rig.versions()} == {1}


async def test_an_expired_link_runs_the_window_again(rig: Rig) -> None:
    download = rig.backfill.download
    late = {"first": True}

    async def a_week_later(url: str, sink: ResultSink) -> int:
        if late.pop("first", False):
            rig.clock.advance(7 * 24 * 3600 + 1)  # the link (and the operation with it) expired meanwhile
        return await download(url, sink)

    rig.backfill.download = a_week_later
    state = await rig.backfill.run(BACKFILL_FROM)
    assert [op["status"] for op in operations(rig)] == ["EXPIRED", "COMPLETED"]
    assert state["status"] == "complete"
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


async def test_a_refused_link_is_asked_of_the_operation_again_while_it_is_completed(rig: Rig) -> None:
    download = rig.backfill.download
    urls: list[str] = []

    async def first_link_refused(url: str, sink: ResultSink) -> int:
        urls.append(url)
        if len(urls) == 1:
            raise ResultUrlRefused(403)
        return await download(url, sink)

    rig.backfill.download = first_link_refused
    state = await rig.backfill.run(BACKFILL_FROM)
    assert state["status"] == "complete" and len(operations(rig)) == 1
    assert len(urls) == 2 and [gid for gid, _ in rig.order_rows()] == rig.expected_gids()


async def test_a_download_failing_every_retry_fails_the_cycle_and_the_next_resumes_the_operation(rig: Rig) -> None:
    download = rig.backfill.download
    failing = {"on": True}

    async def unreachable(url: str, sink: ResultSink) -> int:
        if failing["on"]:
            await sink.write(b'{"id":"gid:\\/\\/shopify\\/Order\\/1"')  # what arrived before it broke off
            raise DownloadFailed("bulk result download failed 6 times in a row: ClientOSError")
        return await download(url, sink)

    rig.backfill.download = unreachable
    with pytest.raises(DownloadFailed):
        await rig.backfill.run(BACKFILL_FROM)
    [op] = operations(rig)
    assert (rig.store.sources.backfill_state(SHOP) or {}).get("op_id") == op["id"], "kept for the next cycle"
    assert rig.order_rows() == []
    failing["on"] = False
    state = await rig.backfill.run(BACKFILL_FROM)
    assert state["status"] == "complete" and len(operations(rig)) == 1, "the same operation's result"
    assert [gid for gid, _ in rig.order_rows()] == rig.expected_gids()
