"""The bridge's `download` of a result file against the simulator's storage, which fails like GCS does.

A cut body or a reset is resumed with a Range request where the storage honours it and downloaded again
from the start where it does not; a refused link is left to the caller, with what arrived kept; a link
that keeps failing gives up with `DownloadFailed` after the attempts, each wait through the given sleep.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from shopify_bridge.shopify.bulk.download import DOWNLOAD_ATTEMPTS, DownloadFailed, ResultUrlRefused, download
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.bulk_files import BulkFiles
from tests.simulator.conftest import Caller
from tests.simulator.test_bulk_files import finished


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def ranges(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The `Range` header of every request the storage answers."""
    seen: list[str | None] = []
    send = BulkFiles._send

    async def recording(self: BulkFiles, request: web.Request, name: str, content: bytes) -> web.StreamResponse:
        seen.append(request.headers.get("Range"))
        return await send(self, request, name, content)

    monkeypatch.setattr(BulkFiles, "_send", recording)
    return seen


async def result(caller: Caller, sim: SimulatorServer, clock: ManualClock) -> tuple[str, bytes]:
    operation = await finished(caller, clock)
    return operation["url"], sim.state.bulk.jobs[operation["id"]].output.content()


async def test_a_cut_body_is_resumed_from_the_byte_it_stopped_at(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, tmp_path: Path, ranges: list[str | None]
) -> None:
    url, whole = await result(caller, sim, clock)
    sim.state.inject("download_truncated")  # the full Content-Length, half the bytes, then a reset
    sleeps = Sleeps()
    target = tmp_path / "result.jsonl"
    assert await download(url, target, sleep=sleeps) == len(whole)
    assert target.read_bytes() == whole
    assert ranges == [None, f"bytes={len(whole) // 2}-"] and len(sleeps.waits) == 1


async def test_a_reset_where_ranges_are_ignored_downloads_the_whole_file_again(
    clock: ManualClock, tmp_path: Path, ranges: list[str | None]
) -> None:
    async with (
        SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_t", bulk_honours_range=False) as sim,
        aiohttp.ClientSession() as session,
    ):
        url, whole = await result(Caller(session, sim), sim, clock)
        sim.state.inject("download_reset", count=2)
        target = tmp_path / "result.jsonl"
        assert await download(url, target, sleep=Sleeps()) == len(whole)
        assert target.read_bytes() == whole
        assert ranges[0] is None and ranges[1:] == [f"bytes={len(whole) // 4}-"] * 2, "asked, ignored: from 0"


async def test_a_refused_link_is_left_to_the_caller_with_what_arrived(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, tmp_path: Path
) -> None:
    url, whole = await result(caller, sim, clock)
    target = tmp_path / "result.jsonl"
    target.write_bytes(whole[:100])  # an earlier attempt's bytes
    clock.advance(7 * 24 * 3600 + 1)  # the signed link has expired
    with pytest.raises(ResultUrlRefused) as refused:
        await download(url, target, sleep=Sleeps())
    assert refused.value.status == 403 and target.read_bytes() == whole[:100]
    assert "Signature" not in str(refused.value) and url not in str(refused.value)


async def test_a_partial_file_is_continued_and_a_complete_one_is_recognised(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, tmp_path: Path, ranges: list[str | None]
) -> None:
    url, whole = await result(caller, sim, clock)
    target = tmp_path / "result.jsonl"
    target.write_bytes(whole[:100])
    assert await download(url, target) == len(whole) and target.read_bytes() == whole
    assert await download(url, target) == len(whole), "416: nothing after the last byte"
    assert target.read_bytes() == whole and ranges == ["bytes=100-", f"bytes={len(whole)}-"]


async def test_resets_without_progress_give_up_after_the_attempts(clock: ManualClock, tmp_path: Path) -> None:
    async with SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_t", bulk_honours_range=False) as other:
        async with aiohttp.ClientSession() as session:
            url, _ = await result(Caller(session, other), other, clock)
        other.state.inject("download_truncated", count=DOWNLOAD_ATTEMPTS + 2)  # half, then again from 0
        sleeps = Sleeps()
        with pytest.raises(DownloadFailed, match=f"failed {DOWNLOAD_ATTEMPTS} times in a row: ClientPayloadError"):
            await download(url, tmp_path / "result.jsonl", sleep=sleeps)
        # The first cut made progress; then each try got the same half again, and the last one is not waited for.
        assert len(sleeps.waits) == DOWNLOAD_ATTEMPTS - 1


async def test_resets_that_progress_are_resumed_however_many(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, tmp_path: Path
) -> None:
    url, whole = await result(caller, sim, clock)
    sim.state.inject("download_truncated", count=DOWNLOAD_ATTEMPTS + 2)  # each resume gets half of the rest
    target = tmp_path / "result.jsonl"
    assert await download(url, target, sleep=Sleeps()) == len(whole) and target.read_bytes() == whole
