"""`/metrics` during a run against the simulator: counters move as orders, holds and deliveries happen."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.ops.scrape import SOURCE, TOKEN, running_bridge, wait_until

pytestmark = pytest.mark.e2e


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_counters_follow_orders_holds_and_deliveries(tmp_path: Path, log_stream: io.StringIO) -> None:
    async with running_bridge(tmp_path, broken_destination=True) as run:
        await run.wait_for("shopify_bridge_polls_total", 1, source=SOURCE, outcome="ok")
        assert await run.value("shopify_bridge_build_info", version=__import__("shopify_bridge").__version__) == 1
        assert await run.value("shopify_bridge_source_up", source=SOURCE) == 1
        assert await run.value("shopify_bridge_last_successful_poll_timestamp_seconds", source=SOURCE) == \
            run.clock().timestamp()
        assert await run.value("shopify_bridge_throttle_maximum_points", source=SOURCE) == 2000
        assert 0 < await run.value("shopify_bridge_throttle_available_points", source=SOURCE) <= 2000
        assert await run.value("shopify_bridge_holds_pending", source=SOURCE) == 0

        web = run.sim.state.create_order(sourceName="web", test=False, tags=[])
        run.sim.state.create_order(sourceName="pos", test=False)
        await run.wait_for("shopify_bridge_holds_pending", 2, source=SOURCE)        # both held; POS decided at release
        assert await run.value("shopify_bridge_orders_stored", source=SOURCE) >= 2
        assert await run.value("shopify_bridge_order_versions_stored_total", source=SOURCE) >= 2
        assert await run.value("shopify_bridge_events_created_total", source=SOURCE, event_name="Placed Order") == 0

        run.clock.advance(31)                                                         # past the upsell delay
        run.bridge.wake_source(run.config.sources[0].shop_domain)
        await run.wait_for("shopify_bridge_events_created_total", 1, source=SOURCE, event_name="Placed Order")
        await run.wait_for("shopify_bridge_delivery_attempts_total", 1, destination="events-file",
                           outcome="delivered")
        await run.wait_for("shopify_bridge_delivery_attempts_total", 1, destination="broken-file", outcome="retry")
        metrics = await run.scrape()

        def at(name: str, **labels: str) -> float:
            return metrics.get((name, frozenset(labels.items())), 0.0)

        assert at("shopify_bridge_holds_pending", source=SOURCE) == 0
        assert at("shopify_bridge_events_created_total", source=SOURCE, event_name="Placed Order") == 1
        assert at("shopify_bridge_deliveries", destination="events-file", state="pending") == 0
        assert at("shopify_bridge_deliveries", destination="broken-file", state="pending") == 1
        assert at("shopify_bridge_dead_letters", destination="broken-file") == 0
        assert at("shopify_bridge_oldest_pending_delivery_age_seconds", destination="events-file") == 0

        run.clock.advance(120)                                                        # the broken one's backlog ages
        assert await run.value("shopify_bridge_oldest_pending_delivery_age_seconds", destination="broken-file") \
            >= 120

        line = web["lineItems"][0]
        run.sim.state.refund(web["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}])
        run.bridge.wake_source(run.config.sources[0].shop_domain)
        await run.wait_for("shopify_bridge_events_created_total", 1, source=SOURCE, event_name="Received Refund")
        await run.wait_for("shopify_bridge_delivery_attempts_total", 2, destination="events-file",
                           outcome="delivered")
        polls = await run.value("shopify_bridge_polls_total", source=SOURCE, outcome="ok")
        assert polls >= 3

    lines = log_lines(log_stream)
    created = [line for line in lines if line["event"] == "event created"]
    assert {line["event_name"] for line in created} == {"Placed Order", "Received Refund"}
    assert all(line["source"] == SOURCE and line["event_id"] and line["order"] == web["name"] for line in created)
    retries = [line for line in lines if line["event"] == "delivery retry"]
    assert retries and all(line["destination"] == "broken-file" and line["event_id"] for line in retries)
    assert all(line["source"] == SOURCE for line in lines if line.get("component") in ("poller", "shopify"))
    assert TOKEN not in log_stream.getvalue()


async def test_healthz_is_503_naming_the_failed_source_and_200_again(tmp_path: Path,
                                                                       log_stream: io.StringIO) -> None:
    async with running_bridge(tmp_path) as run:
        await run.wait_for("shopify_bridge_polls_total", 1, source=SOURCE, outcome="ok")
        status, body = await run.healthz()
        assert (status, body["status"], body["unhealthy"]) == (200, "ok", {})

        run.sim.state.inject("http_503", count=100_000)
        await run.wait_for("shopify_bridge_polls_total", 1, source=SOURCE, outcome="temporary")
        assert await run.value("shopify_bridge_source_up", source=SOURCE) == 0
        assert await run.value("shopify_bridge_source_failed", source=SOURCE) == 1
        status, body = await run.healthz()
        assert status == 503                                  # its last poll failed: not healthy, however recent
        assert list(body["unhealthy"]) == [SOURCE]
        assert body["unhealthy"][SOURCE].startswith("failed: ") and "503" in body["unhealthy"][SOURCE]
        assert body["sources"][SOURCE]["state"] == "failed"

        run.sim.state.faults.clear()
        run.bridge.wake_source(run.config.sources[0].shop_domain)   # instead of the real-time failure backoff

        async def healthy() -> bool:
            return (await run.healthz())[0] == 200

        await wait_until(healthy, "/healthz 200 after Shopify answers again")
        assert await run.value("shopify_bridge_source_up", source=SOURCE) == 1
        assert await run.value("shopify_bridge_source_failed", source=SOURCE) == 0

    lines = log_lines(log_stream)
    failed = [line for line in lines if line["event"] == "source failed"]
    assert failed and all(line["source"] == SOURCE and line["exit_code"] == 75 for line in failed)
    retrying = [line for line in lines if line["event"] == "shopify temporary failure, retrying"]
    assert retrying and all(line["source"] == SOURCE for line in retrying)
    assert TOKEN not in log_stream.getvalue()
