"""Backfill from start_date against the simulator, then polling: shop timezone, history, no gap, no double."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store.schema import open_reader
from tests.e2e.test_walking_skeleton import TOKEN, make_config, read_events

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_backfill_then_poll(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    # The bucket refills on the manual clock only, which the client's pacing waits never move: no
    # greedy neighbour.
    async with SimulatorServer(token=TOKEN, seed=5, orders=30, clock=clock, search_lag_seconds=0,
                               competing_app_share=0) as sim:
        config = make_config(tmp_path, sim.url, start_date="2026-11-10", upsell_delay=False)
        from shopify_bridge.service.bridge import Bridge

        async def advance(seconds: float) -> None:                  # the backfill waits on the sim's clock
            clock.advance(seconds)

        bridge = Bridge(config, clock=clock, sleep=advance)
        lines: list[str | None] = []  # what a dashboard reading the store saw, write after write
        record = bridge.stored_progress

        def stored(shop: str, progress: BackfillProgress) -> bool:
            written = record(shop, progress)
            if written:
                lines.append(bridge.store.conn.execute("SELECT progress FROM sources").fetchone()[0])
            return written

        bridge.stored_progress = stored  # type: ignore[assignment]
        try:
            assert await bridge.run_once() == 0
            assert any(line and "storing orders" in line for line in lines) and lines[-1] is None
            [op] = sim.state.bulk_operations.values()
            # start_date is a date in the shop's timezone (America/Toronto, UTC-5 in November).
            assert "processed_at:>='2026-11-10T05:00:00Z'" in op["query"]
            conn = open_reader(config.database).conn
            expected = sorted(
                o["legacyResourceId"] for o in sim.state.orders()
                if "2026-11-10T05:00:00Z" <= o["processedAt"] < "2026-11-20T15:00:00Z"
            )
            stored = [r[0] for r in conn.execute("SELECT order_id FROM orders WHERE status = 'history' ORDER BY 1")]
            assert stored == expected and stored
            assert read_events(tmp_path) == []                       # history is stored, not forwarded

            new = sim.state.create_order(sourceName="web", test=False, tags=[], financialStatus="PAID")
            clock.advance(5)
            assert await bridge.run_once() == 0
            assert [e["event_id"] for e in read_events(tmp_path)] == [new["legacyResourceId"]]
            versions = conn.execute("SELECT COUNT(*) FROM order_versions").fetchone()[0]
            assert versions == len(expected) + 1                     # the poll re-read nothing as new
            assert len(sim.state.bulk_operations) == 1               # backfill ran once
        finally:
            bridge.close()


async def test_a_stop_during_the_backfill_ends_the_run_and_the_next_start_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from shopify_bridge.service import backfill_ingest
    from shopify_bridge.service.bridge import Bridge

    monkeypatch.setattr(backfill_ingest, "INGEST_BATCH", 2)
    clock = ManualClock(T0)
    # The bucket refills on the manual clock only, which the client's pacing waits never move: no
    # greedy neighbour.
    async with SimulatorServer(token=TOKEN, seed=5, orders=30, clock=clock, search_lag_seconds=0,
                               competing_app_share=0) as sim:
        config = make_config(tmp_path, sim.url, start_date="2026-11-10", upsell_delay=False)

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        stop = asyncio.Event()

        def on_progress(progress: BackfillProgress) -> None:
            if progress.phase == "ingesting":
                stop.set()  # as SIGTERM does, in the middle of storing the history

        bridge = Bridge(config, clock=clock, sleep=advance, on_progress=on_progress)
        try:
            await asyncio.wait_for(bridge.run(stop), timeout=60)  # returns: the stop is honoured
            conn = open_reader(config.database).conn
            assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2
            assert conn.execute("SELECT state FROM sources").fetchone()[0] == "backfilling"
        finally:
            bridge.close()
        resumed = Bridge(config, clock=clock, sleep=advance)
        try:
            assert await resumed.run_once() == 0
        finally:
            resumed.close()
        window = ("2026-11-10T05:00:00Z", "2026-11-20T15:00:00Z")
        expected = [o for o in sim.state.orders() if window[0] <= o["processedAt"] < window[1]]
        assert conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'history'").fetchone()[0] == len(expected)
        assert len(sim.state.bulk_operations) == 1  # the same operation, resumed
        assert read_events(tmp_path) == []


async def test_a_cut_result_download_neither_ends_the_run_nor_loses_an_order(tmp_path: Path) -> None:
    # Issue #13: the full Content-Length, half the bytes, then a reset used to end the process with exit 1.
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=5, orders=30, clock=clock, search_lag_seconds=0) as sim:
        config = make_config(tmp_path, sim.url, start_date="2026-11-10", upsell_delay=False)
        from shopify_bridge.service.bridge import Bridge

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        sim.state.inject("download_truncated")
        bridge = Bridge(config, clock=clock, sleep=advance)
        try:
            assert await bridge.run_once() == 0
            stored = open_reader(config.database).conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
            expected = [o for o in sim.state.orders() if o["processedAt"] >= "2026-11-10T05:00:00Z"]
            assert stored == len(expected) > 0 and len(sim.state.bulk_operations) == 1
        finally:
            bridge.close()
