"""Injected faults, each shaped as Shopify (or the network) fails, served to the next matching requests."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from shopify_bridge.shopify.queries import ORDERS_COUNT, SHOP_INFO
from shopify_bridge.simulator import SimulatorServer
from tests.conftest import recorded
from tests.simulator.conftest import Caller

STRING_BODIES = {
    "http_401": (401, "[API] Invalid API key or access token (unrecognized login or wrong password)"),
    "http_402": (402, "Unavailable Shop"),
    "http_404": (404, "Not Found"),
    "http_423": (423, "Locked"),
    "http_500": (500, "Internal Server Error"),
    "http_503": (503, "Service Unavailable"),
}


@pytest.mark.parametrize("kind", sorted(STRING_BODIES))
async def test_http_faults_answer_with_a_string_errors_body(
    caller: Caller, sim: SimulatorServer, kind: str
) -> None:
    sim.state.inject(kind)
    answer = await caller.graphql(SHOP_INFO)
    assert (answer.status, answer.body) == (STRING_BODIES[kind][0], {"errors": STRING_BODIES[kind][1]})
    assert (await caller.graphql(SHOP_INFO)).status == 200, "served once, then the shop is back"


async def test_a_fault_with_a_count_is_served_that_many_times(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("http_503", count=2)
    assert [(await caller.graphql(SHOP_INFO)).status for _ in range(3)] == [503, 503, 200]


async def test_a_fault_can_be_limited_to_one_operation(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("http_500", operation="BridgeOrdersCount")
    assert (await caller.graphql(SHOP_INFO)).status == 200
    assert (await caller.graphql(ORDERS_COUNT, {"query": "test:false"})).status == 500
    assert sim.state.faults.pending() == []


async def test_html_pages_and_429_with_retry_after(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("html")
    sim.state.inject("html", status=502)
    sim.state.inject("http_429", retry_after=3)
    plain = await caller.graphql(SHOP_INFO)
    assert plain.status == 200 and plain.headers["Content-Type"].startswith("text/html")
    assert plain.body.lstrip().startswith("<!DOCTYPE html>")
    assert (await caller.graphql(SHOP_INFO)).status == 502
    limited = await caller.graphql(SHOP_INFO)
    assert limited.status == 429 and limited.headers["Retry-After"] == "3.0"
    assert isinstance(limited.body["errors"], str)


async def test_an_injected_throttle_looks_like_shopifys(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("throttled")
    answer = await caller.graphql(SHOP_INFO)
    assert answer.status == 200 and "data" not in answer.body
    assert answer.body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert answer.body["extensions"]["cost"]["requestedQueryCost"] == 3
    assert answer.body["extensions"]["cost"]["actualQueryCost"] is None


async def test_access_denied_nulls_the_field_and_adds_the_recorded_error_shape(
    caller: Caller, sim: SimulatorServer
) -> None:
    capture = recorded("2025-01__shopify-payments-account-access-denied.json")
    sim.state.inject(
        "access_denied", field="currentAppInstallation", required_access="`read_apps` access scope."
    )
    answer = await caller.graphql(SHOP_INFO)
    assert answer.status == 200
    assert answer.body["data"]["currentAppInstallation"] is None and answer.body["data"]["shop"]["name"]
    [error] = answer.body["errors"]
    [real] = capture["errors"]
    assert set(error) == set(real) and set(error["extensions"]) == set(real["extensions"])
    assert error["message"] == (
        "Access denied for currentAppInstallation field. Required access: `read_apps` access scope."
    )
    assert error["extensions"]["code"] == "ACCESS_DENIED" and error["path"] == ["currentAppInstallation"]
    assert error["extensions"]["documentation"] == real["extensions"]["documentation"]
    assert error["locations"] == [{"line": 4, "column": 3}]
    assert list(answer.body) == ["errors", "data", "extensions"]


async def test_reset_closes_the_connection(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("reset")
    with pytest.raises(aiohttp.ClientError):
        await caller.graphql(SHOP_INFO)
    assert (await caller.graphql(SHOP_INFO)).status == 200


async def test_timeout_hangs_until_the_client_gives_up_and_never_blocks_shutdown() -> None:
    sim = SimulatorServer(orders=0)
    async with sim, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.05)) as session:
        sim.state.inject("timeout", seconds=120)
        with pytest.raises(asyncio.TimeoutError):
            await session.post(
                sim.graphql_url(), json={"query": SHOP_INFO}, headers={"X-Shopify-Access-Token": sim.token}
            )
        leaving = time.monotonic()
    assert time.monotonic() - leaving < 5, "stopping released the hanging handler instead of waiting 120 s"


def test_unknown_faults_and_parameters_are_refused() -> None:
    from shopify_bridge.simulator.faults import FaultQueue

    queue = FaultQueue()
    with pytest.raises(ValueError, match="unknown fault"):
        queue.add("http_418")
    with pytest.raises(ValueError, match="unknown fault parameter"):
        queue.add("html", colour="red")
    with pytest.raises(ValueError, match="count"):
        queue.add("html", count=0)
