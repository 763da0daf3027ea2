"""The bridge's `download` of a result file against the simulator's storage, which fails like GCS does.

A cut body or a reset is resumed with a Range request where the storage honours it, and where it does not
the whole file comes again and what was received is skipped; a refused link is left to the caller, with
what arrived kept; a link that keeps failing gives up with `DownloadFailed` after the attempts, each wait
through the given sleep. `ResultPipe` hands the bytes to a reading thread, a few chunks ahead at most.
"""

from __future__ import annotations

import asyncio
import gzip
import re

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from shopify_bridge.shopify.bulk.download import (
    DOWNLOAD_ATTEMPTS,
    DownloadAborted,
    DownloadFailed,
    ResultPipe,
    ResultUrlRefused,
    download,
)
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.bulk_files import BulkFiles
from tests.simulator.conftest import KIND, Caller
from tests.simulator.test_bulk_files import finished


class Received:
    """A `ResultSink` keeping every byte, with the size of each write."""

    def __init__(self, already: bytes = b"") -> None:
        self.data, self.writes = already, []

    @property
    def received(self) -> int:
        return len(self.data)

    async def write(self, chunk: bytes) -> None:
        self.data += chunk
        self.writes.append(len(chunk))


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
    caller: Caller, sim: SimulatorServer, clock: ManualClock, ranges: list[str | None]
) -> None:
    url, whole = await result(caller, sim, clock)
    sim.state.inject("download_truncated")  # the full Content-Length, half the bytes, then a reset
    sleeps, sink = Sleeps(), Received()
    assert await download(url, sink, sleep=sleeps) == len(whole)
    assert sink.data == whole
    assert ranges == [None, f"bytes={len(whole) // 2}-"] and len(sleeps.waits) == 1


async def test_a_reset_where_ranges_are_ignored_skips_what_it_received_of_the_whole_file(
    clock: ManualClock, ranges: list[str | None]
) -> None:
    async with (
        SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_t", bulk_honours_range=False, **KIND) as sim,
        aiohttp.ClientSession() as session,
    ):
        url, whole = await result(Caller(session, sim), sim, clock)
        sim.state.inject("download_reset", count=2)
        sink = Received()
        assert await download(url, sink, sleep=Sleeps()) == len(whole)
        assert sink.data == whole, "each byte once, in order"
        assert ranges[0] is None and ranges[1:] == [f"bytes={len(whole) // 4}-"] * 2, "asked, ignored"


async def test_a_refused_link_is_left_to_the_caller_with_what_arrived(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    url, whole = await result(caller, sim, clock)
    sink = Received(whole[:100])  # an earlier attempt's bytes
    clock.advance(7 * 24 * 3600 + 1)  # the signed link has expired
    with pytest.raises(ResultUrlRefused) as refused:
        await download(url, sink, sleep=Sleeps())
    assert refused.value.status == 403 and sink.data == whole[:100]
    assert "Signature" not in str(refused.value) and url not in str(refused.value)


async def test_what_a_sink_holds_is_continued_and_a_complete_one_is_recognised(
    caller: Caller, sim: SimulatorServer, clock: ManualClock, ranges: list[str | None]
) -> None:
    url, whole = await result(caller, sim, clock)
    sink = Received(whole[:100])
    assert await download(url, sink) == len(whole) and sink.data == whole
    assert await download(url, sink) == len(whole), "416: nothing after the last byte"
    assert sink.data == whole and ranges == ["bytes=100-", f"bytes={len(whole)}-"]


async def test_resets_without_progress_give_up_after_the_attempts(clock: ManualClock) -> None:
    no_range = SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_t", bulk_honours_range=False, **KIND)
    async with no_range as other:
        async with aiohttp.ClientSession() as session:
            url, _ = await result(Caller(session, other), other, clock)
        other.state.inject("download_truncated", count=DOWNLOAD_ATTEMPTS + 2)  # half, then again from 0
        sleeps = Sleeps()
        with pytest.raises(DownloadFailed, match=f"failed {DOWNLOAD_ATTEMPTS} times in a row: ClientPayloadError"):
            await download(url, Received(), sleep=sleeps)
        # The first cut made progress; then each try got the same half again, and the last one is not waited for.
        assert len(sleeps.waits) == DOWNLOAD_ATTEMPTS - 1


async def test_resets_that_progress_are_resumed_however_many(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    url, whole = await result(caller, sim, clock)
    sim.state.inject("download_truncated", count=DOWNLOAD_ATTEMPTS + 2)  # each resume gets half of the rest
    sink = Received()
    assert await download(url, sink, sleep=Sleeps()) == len(whole) and sink.data == whole


async def test_a_pipe_hands_chunks_to_a_reading_thread_and_waits_when_it_falls_behind() -> None:
    pipe = ResultPipe(depth=2, chunk=1)
    await pipe.write(b"one")
    await pipe.write(b"two")
    third = asyncio.ensure_future(pipe.write(b"three"))
    await asyncio.sleep(0)
    assert not third.done(), "two chunks unread: the writer waits"
    assert await asyncio.to_thread(pipe.read) == b"one"
    await asyncio.wait_for(third, 10)
    pipe.close()
    assert [await asyncio.to_thread(pipe.read) for _ in range(4)] == [b"two", b"three", b"", b""]
    assert pipe.received == 11


async def test_a_pipe_gathers_small_writes_into_chunks() -> None:
    pipe = ResultPipe(depth=2, chunk=8)
    for piece in (b"abc", b"def", b"ghi", b"jk", b"lmnopqrs", b"t"):
        await asyncio.wait_for(pipe.write(piece), 10)  # never waits: two chunks of 8 bytes or more at most
    assert pipe.received == 20, "everything written counts, gathered or handed over"
    pipe.close()
    assert [await asyncio.to_thread(pipe.read) for _ in range(4)] == [b"abcdefghi", b"jklmnopqrs", b"t", b""]


async def test_an_aborted_pipe_fails_its_reader_once() -> None:
    pipe = ResultPipe()
    await pipe.write(b"partial")
    pipe.abort("the download of the result did not complete")
    assert await asyncio.to_thread(pipe.read) == b"partial"
    with pytest.raises(DownloadAborted, match="did not complete"):
        await asyncio.to_thread(pipe.read)
    assert await asyncio.to_thread(pipe.read) == b""


class RawStorage:
    """A storage answering with raw bytes: first a gzip-encoded body that cannot be decoded (a payload
    error, not a reset), then what each `Range` asks for (206), or the whole file (200)."""

    def __init__(self, content: bytes, cut: int) -> None:
        self.content, self.cut = content, cut
        self.ranges: list[str | None] = []
        self.url = ""

    async def __aenter__(self) -> RawStorage:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/bulk.jsonl?Signature=secret"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        wanted = re.search(r"(?im)^range: bytes=(\d+)-\r$", head)
        self.ranges.append(wanted and wanted.group(1))
        if len(self.ranges) == 1:  # gzip-encoded, its deflate stream corrupt after the first bytes
            packed = gzip.compress(self.content[: self.cut])
            body = packed[:20] + bytes(b ^ 0xFF for b in packed[20:])
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        else:
            start = int(wanted.group(1)) if wanted else 0
            rest, size = self.content[start:], len(self.content)
            status = f"206 Partial Content\r\nContent-Range: bytes {start}-{size - 1}/{size}" if wanted else "200 OK"
            writer.write(f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {len(rest)}\r\n\r\n".encode()
                         + rest)
        await writer.drain()
        writer.close()


async def test_a_payload_error_is_retried_and_the_file_completed() -> None:
    content = b"".join(b'{"id":"gid:\\/\\/shopify\\/Order\\/%d"}\n' % n for n in range(200))
    async with RawStorage(content, cut=1000) as storage:
        sleeps, sink = Sleeps(), Received()
        with capture_logs() as logs:
            assert await download(storage.url, sink, sleep=sleeps) == len(content)
    assert [entry["error"] for entry in logs] == ["ClientPayloadError"]
    assert "Signature" not in repr(logs), "the signed link is never logged"
    assert sink.data == content, "each byte once, in order"
    assert len(storage.ranges) == 2 and storage.ranges[0] is None and len(sleeps.waits) == 1
