"""Result-file downloads that fail like real ones, and faults aimed at the n-th request of a poll."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from shopify_bridge.shopify.queries import SHOP_INFO
from shopify_bridge.simulator import ManualClock, SimulatorServer
from tests.simulator.conftest import KIND, Caller
from tests.simulator.test_bulk_files import download, finished

PAGE = "query Page { orders(first: 1) { nodes { id } } }"


async def raw_get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes, str | None]:
    """(status, headers, the bytes that arrived, the client's error if the body broke off)."""
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        received = b""
        try:
            async for chunk in response.content.iter_any():
                received += chunk
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            return response.status, dict(response.headers), received, type(exc).__name__
        return response.status, dict(response.headers), received, None


@pytest.fixture
async def ignoring(clock: ManualClock) -> AsyncIterator[tuple[SimulatorServer, Caller]]:
    async with (
        SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_t", bulk_honours_range=False, **KIND) as server,
        aiohttp.ClientSession() as session,
    ):
        yield server, Caller(session, server)


async def test_a_truncated_download_promises_the_whole_file_then_resets(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    url = (await finished(caller, clock))["url"]
    _, _, whole = await download(url)
    sim.state.inject("download_truncated")
    status, headers, received, error = await raw_get(url)
    assert status == 200 and int(headers["Content-Length"]) == len(whole)
    assert error is not None and len(received) == len(whole) // 2 and whole.startswith(received)
    assert (await download(url))[2] == whole, "the next download is whole again"


async def test_a_reset_mid_body_breaks_a_chunked_download(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    url = (await finished(caller, clock))["url"]
    _, _, whole = await download(url)
    sim.state.inject("download_reset")
    status, headers, received, error = await raw_get(url)
    assert status == 200 and "Content-Length" not in headers
    assert error is not None and 0 < len(received) < len(whole)


async def test_a_range_request_resumes_with_206(caller: Caller, clock: ManualClock) -> None:
    url = (await finished(caller, clock))["url"]
    _, _, whole = await download(url)
    status, headers, rest, error = await raw_get(url, Range="bytes=100-")
    assert (status, error) == (206, None) and rest == whole[100:]
    assert headers["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert (await raw_get(url, Range="bytes=-10"))[2] == whole[-10:]
    assert (await raw_get(url, Range=f"bytes={len(whole)}-"))[0] == 416


async def test_a_shop_may_ignore_ranges_and_send_the_whole_file(
    ignoring: tuple[SimulatorServer, Caller], clock: ManualClock
) -> None:
    _, caller = ignoring
    url = (await finished(caller, clock))["url"]
    status, headers, body, _ = await raw_get(url, Range="bytes=100-")
    assert status == 200 and "Content-Range" not in headers and body == (await download(url))[2]


async def test_an_expired_link_is_refused_with_403(caller: Caller, clock: ManualClock) -> None:
    url = (await finished(caller, clock))["url"]
    clock.advance(7 * 24 * 3600 + 1)
    status, _, body = await download(url)
    assert status == 403 and b"Request has expired" in body


async def test_a_fault_can_wait_for_the_nth_request_of_a_poll(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("http_503", after=2, operation="Page")
    statuses = [(await caller.graphql(PAGE)).status for _ in range(4)]
    assert statuses == [200, 200, 503, 200]
    sim.state.inject("reset", after=1)
    assert (await caller.graphql(SHOP_INFO)).status == 200
    with pytest.raises(aiohttp.ClientError):
        await caller.graphql(SHOP_INFO)


async def test_other_operations_do_not_count_towards_a_targeted_fault(caller: Caller, sim: SimulatorServer) -> None:
    sim.state.inject("throttled", after=1, operation="Page")
    assert (await caller.graphql(SHOP_INFO)).status == 200
    assert "errors" not in (await caller.graphql(PAGE)).body
    answer = await caller.graphql(PAGE)
    assert answer.body["errors"][0]["extensions"]["code"] == "THROTTLED"
    with pytest.raises(ValueError, match="at least 0"):
        sim.state.inject("http_500", after=-1)
