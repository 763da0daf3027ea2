"""Per-source metrics (failed state, outbox backlog, dead letters, holds, last success) and the process's own
metrics from prometheus_client's collectors, on the bridge's registry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.observe.metrics import BridgeMetrics
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.store import Store, StoreError
from shopify_bridge.timeutil import iso
from tests.ops.scrape import SOURCE, T0, ops_config, running_bridge, wait_until
from tests.ops.test_metrics_parts import add_event, add_order, at, samples


def test_each_source_has_its_failed_state_backlog_dead_letters_holds_and_last_success(
    tmp_path: Path, database: Path | str
) -> None:
    clock = ManualClock(T0)
    config = ops_config(tmp_path, "http://127.0.0.1:9", broken_destination=True, database=database)
    metrics = BridgeMetrics(config, clock=clock)
    store = Store.open_writer(config.database)
    sql = store.sql
    add_order(sql, "1", "held")
    add_order(sql, "2", "released")
    placed = add_event(sql, "2", "Placed Order", iso(T0 - timedelta(seconds=5)), ["events-file", "broken-file"])
    add_event(sql, "2", "Received Refund", iso(T0), ["events-file"])
    store.outbox.mark_dead("broken-file", placed, "HTTP 400", 400)

    found = samples(metrics)
    assert at(found, "shopify_bridge_source_failed", source=SOURCE) == 0          # not failed before any cycle
    assert at(found, "shopify_bridge_outbox_backlog", source=SOURCE) == 2         # two pending to events-file
    assert at(found, "shopify_bridge_source_dead_letters", source=SOURCE) == 1
    assert at(found, "shopify_bridge_holds_pending", source=SOURCE) == 1

    metrics.poll_finished(SOURCE, exit_codes.OK)
    clock.advance(30)
    metrics.poll_finished(SOURCE, exit_codes.NOPERM)
    sql.run("UPDATE deliveries SET state = 'delivered' WHERE destination = 'events-file'")
    found = samples(metrics)
    assert at(found, "shopify_bridge_source_failed", source=SOURCE) == 1
    assert at(found, "shopify_bridge_last_successful_poll_timestamp_seconds", source=SOURCE) == T0.timestamp()
    assert at(found, "shopify_bridge_outbox_backlog", source=SOURCE) == 0
    metrics.poll_finished(SOURCE, exit_codes.OK)
    assert at(samples(metrics), "shopify_bridge_source_failed", source=SOURCE) == 0
    store.close()
    metrics.close()


def test_the_process_metrics_are_on_the_bridges_own_registry(tmp_path: Path) -> None:
    metrics = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"))
    found = samples(metrics)
    names = {name for name, _ in found}
    assert {"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
            "python_info", "python_gc_collections_total"} <= names
    assert (at(found, "process_resident_memory_bytes") or 0) > 0
    second = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"))         # its own registry: no clash
    assert "process_open_fds" in {name for name, _ in samples(second)}
    metrics.close()
    second.close()


async def test_healthz_is_503_while_the_store_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopify_bridge.service.bridge as bridge_module

    def locked(*args: object) -> None:
        raise StoreError("heartbeat not written: database is locked")

    monkeypatch.setattr(bridge_module, "HEARTBEAT_SECONDS", 0.01)
    async with running_bridge(tmp_path) as run:
        await run.wait_for("shopify_bridge_polls_total", 1, source=SOURCE, outcome="ok")
        assert (await run.healthz())[0] == 200
        monkeypatch.setattr(bridge_module, "record_heartbeat", locked)     # another process holds the write lock
        run.bridge.store_problem = None

        async def store_unwritable() -> bool:
            return (await run.healthz())[0] == 503

        await wait_until(store_unwritable, "/healthz 503 for the store")
        _, body = await run.healthz()
        assert body["store"] == {"writable": False, "problem": "heartbeat not written: database is locked"}
        assert body["unhealthy"] == {}                                       # the sources are fine
