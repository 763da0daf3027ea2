"""Downloading a completed bulk operation's result file from its signed URL, resuming after a cut.

The URL is a signed Google Cloud Storage link fetched with a plain GET and no Shopify token (notes §1.2,
gotcha 6). Downloads fail like any long transfer: a body cut short (the full `Content-Length` promised,
half the bytes sent, then a reset), a reset mid-way through a chunked body, a payload error, a timeout, a
5xx. Each is retried with backoff (`DOWNLOAD_BACKOFF`, at most `DOWNLOAD_ATTEMPTS` tries in a row without
progress), resuming with `Range: bytes=<received>-` where the server honours it (206 from that byte on)
and, where it does not (200: the whole file again), skipping the bytes already received — nothing
promises that a signed result link honours ranges, so both are handled. A 403 or 404 (an expired or no
longer valid link) is not retried here: `ResultUrlRefused` lets the backfill ask `bulkOperation(id:)` for
the link again, or run the operation again; the same sink continues from what it received.

The bytes go to a `ResultSink`, in order, each exactly once: the backfill's is a `ResultPipe`, read by the
staging thread as the file arrives (no copy of the result is written to disk, and staging overlaps the
download); `write` waits while the reader is `PIPE_DEPTH` chunks behind, so memory stays flat.

Whether the file is complete is the stager's to say (a last line without its newline is a truncated file):
`fileSize` may differ from the bytes downloaded (gotcha 6), so it is not a check. The URL is never logged.
"""

from __future__ import annotations

import asyncio
import queue
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import aiohttp

from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.private_files import open_private
from shopify_bridge.retry import Backoff

log = get_logger(component="bulk")

DOWNLOAD_CHUNK = 1 << 20
PIPE_DEPTH = 4  # chunks a `ResultPipe` holds for its reader
# Bytes a `ResultPipe` gathers before handing them to its reader. The body comes off the socket in pieces
# of up to 256 KiB, and each piece handed over cost a wake-up of the reading thread and a switch of the GIL
# between it and the event loop: staging a 72 MB result through the pipe took ~0.035 CPU s less with 1 MiB
# chunks than with the socket's pieces.
PIPE_CHUNK = DOWNLOAD_CHUNK
DOWNLOAD_ATTEMPTS = 6  # tries in a row that receive nothing new
DOWNLOAD_BACKOFF = Backoff(base=1.0, cap=30.0)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE = re.compile(r"bytes \*/(\d+)")


class ResultUrlRefused(TemporaryFailure):
    """The signed link answered 403 or 404: expired or no longer valid. Ask the operation for it again."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the bulk result link was refused (HTTP {status}): expired or no longer valid")
        self.status = status


class DownloadFailed(TemporaryFailure):
    """The result could not be downloaded after every retry; the operation's result is still there."""


class DownloadAborted(Exception):
    """Raised to the reader of a `ResultPipe` whose download failed or was given up."""


class _Retry(Exception):
    """A response to try again after a backoff (5xx, 429, a range that does not fit)."""


class ResultSink(Protocol):
    """Where `download` puts the result's bytes, in order, each once."""

    @property
    def received(self) -> int:
        """Bytes written so far (where a resumed download continues)."""
        ...

    async def write(self, chunk: bytes) -> None: ...


class FileSink:
    """A `ResultSink` writing to a new file of ours (0600: it holds the shop's orders), read once it is whole."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open_private(path, "wb")
        self.received = 0

    async def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self.received += len(chunk)

    def close(self) -> None:
        self._handle.close()


class ResultPipe:
    """A `ResultSink` read as a binary stream by one thread (the stager) while the event loop downloads.

    What is written is handed over in chunks of at least `chunk` bytes (the rest at `close` or `abort`);
    `write` (event loop) waits while `depth` chunks are unread; `read` (the reading thread) blocks until a
    chunk, the end (`close`: b"") or a failure (`abort`: `DownloadAborted`) arrives. Memory holds at most
    `depth` chunks and one being gathered.
    """

    def __init__(self, depth: int = PIPE_DEPTH, chunk: int = PIPE_CHUNK) -> None:
        self._loop = asyncio.get_running_loop()
        self._space = asyncio.Semaphore(depth)
        self._chunks: queue.SimpleQueue[bytes | DownloadAborted | None] = queue.SimpleQueue()
        self._chunk = chunk
        self._gathered: list[bytes] = []
        self._gathered_bytes = 0
        self._ended = False
        self.received = 0

    async def write(self, chunk: bytes) -> None:
        self.received += len(chunk)  # taken: a resumed download continues after it
        self._gathered.append(chunk)
        self._gathered_bytes += len(chunk)
        if self._gathered_bytes >= self._chunk:
            await self._space.acquire()
            self._hand_over()

    def close(self) -> None:
        """The whole file was written: the reader gets what is gathered, then sees the end."""
        self._hand_over()
        self._chunks.put(None)

    def abort(self, reason: str) -> None:
        """The download failed: the reader gets what is gathered, then its next `read` raises `DownloadAborted`."""
        self._hand_over()
        self._chunks.put(DownloadAborted(reason))

    def _hand_over(self) -> None:
        """Queue what is gathered, if anything, as one chunk for the reader."""
        if self._gathered:
            parts, self._gathered, self._gathered_bytes = self._gathered, [], 0
            self._chunks.put(parts[0] if len(parts) == 1 else b"".join(parts))

    def read(self, _size: int = -1) -> bytes:
        """The next chunk as it came (any size), b"" at the end of the file. On the reading thread only."""
        if self._ended:
            return b""
        item = self._chunks.get()
        if item is None or isinstance(item, DownloadAborted):
            self._ended = True
            if item is None:
                return b""
            raise item
        self._loop.call_soon_threadsafe(self._space.release)
        return item


async def download(
    url: str,
    sink: ResultSink,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    attempts: int = DOWNLOAD_ATTEMPTS,
    backoff: Backoff = DOWNLOAD_BACKOFF,
) -> int:
    """Download the result into `sink`, continuing after the `sink.received` bytes it holds; the file's size.

    Raises `ResultUrlRefused` on 403/404 and `DownloadFailed` once `attempts` tries in a row got nothing new.
    """
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
    failures = 0
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            before = sink.received
            try:
                return await _fetch(session, url, sink)
            except (TimeoutError, ConnectionError, aiohttp.ClientError, _Retry) as exc:
                failures = 1 if sink.received > before else failures + 1  # progress resets the count
                reason = _reason(exc)
                if failures >= attempts:
                    raise DownloadFailed(f"bulk result download failed {failures} times in a row: {reason}") from None
                delay = backoff.delay(failures)
                log.warning("bulk result download interrupted; resuming", received=sink.received, error=reason,
                            retry_in=round(delay, 1))
                await sleep(delay)


async def _fetch(session: aiohttp.ClientSession, url: str, sink: ResultSink) -> int:
    """One GET for the bytes after the `sink.received` ones; the file's size once the body ended."""
    have = sink.received
    headers = {"Range": f"bytes={have}-"} if have else {}
    async with session.get(url, headers=headers) as response:
        status = response.status
        if status in (403, 404):
            raise ResultUrlRefused(status)
        if status == 416 and have:  # nothing after `have`: complete when the file is that long
            whole = _UNSATISFIABLE.fullmatch(response.headers.get("Content-Range", ""))
            if whole is not None and int(whole.group(1)) == have:
                return have
            raise _Retry(f"HTTP 416 at byte {have}")
        skip = 0
        if status == 206:
            span = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if span is None or int(span.group(1)) != have:
                raise _Retry(f"HTTP 206 not starting at byte {have}")
        elif status == 200:
            skip = have  # the range was ignored: the whole file again, of which `have` bytes are in
        else:
            raise _Retry(f"HTTP {status}")
        async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk, skip = chunk[skip:], 0
            await sink.write(chunk)
        return sink.received


def _reason(exc: BaseException) -> str:
    """What went wrong, without the URL (aiohttp puts it in some messages; it is a signed link)."""
    if isinstance(exc, _Retry):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
