"""Downloading a completed bulk operation's result file from its signed URL, resuming after a cut.

The URL is a signed Google Cloud Storage link fetched with a plain GET and no Shopify token (notes §1.2,
gotcha 6). Downloads fail like any long transfer: a body cut short (the full `Content-Length` promised,
half the bytes sent, then a reset), a reset mid-way through a chunked body, a payload error, a timeout, a
5xx. Each is retried with backoff (`DOWNLOAD_BACKOFF`, at most `DOWNLOAD_ATTEMPTS` tries in a row without
progress), resuming with `Range: bytes=<received>-` where the server honours it (206 from that byte on)
and starting over where it does not (200: the whole file again) — nothing promises that a signed result
link honours ranges, so both are handled. A 403 or 404 (an expired or no longer valid link) is not
retried here: `ResultUrlRefused` lets the backfill ask `bulkOperation(id:)` for the link again, or run the
operation again; whatever was received stays in `target` to be resumed from.

Whether the file is complete is the stager's to say (a last line without its newline is a truncated file):
`fileSize` may differ from the bytes downloaded (gotcha 6), so it is not a check. The URL is never logged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

import aiohttp

from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.retry import Backoff

log = get_logger(component="bulk")

DOWNLOAD_CHUNK = 1 << 20
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


class _Retry(Exception):
    """A response to try again after a backoff (5xx, 429, a range that does not fit)."""


async def download(
    url: str,
    target: Path,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    attempts: int = DOWNLOAD_ATTEMPTS,
    backoff: Backoff = DOWNLOAD_BACKOFF,
) -> int:
    """Download the result into `target`, continuing a partial `target` left by an earlier call; its size.

    Raises `ResultUrlRefused` on 403/404 and `DownloadFailed` once `attempts` tries in a row got nothing new.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
    failures = 0
    async with aiohttp.ClientSession(timeout=timeout) as session:
        with open(target, "ab") as handle:
            while True:
                before = handle.tell()
                try:
                    return await _fetch(session, url, handle)
                except (TimeoutError, ConnectionError, aiohttp.ClientError, _Retry) as exc:
                    failures = 1 if handle.tell() > before else failures + 1  # progress resets the count
                    reason = _reason(exc)
                    if failures >= attempts:
                        raise DownloadFailed(
                            f"bulk result download failed {failures} times in a row: {reason}"
                        ) from None
                    delay = backoff.delay(failures)
                    log.warning("bulk result download interrupted; resuming", received=handle.tell(),
                                error=reason, retry_in=round(delay, 1))
                    await sleep(delay)


async def _fetch(session: aiohttp.ClientSession, url: str, handle: BinaryIO) -> int:
    """One GET from the bytes already in `handle` on; the file's size once the body ended."""
    have = handle.tell()
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
        if status == 206:
            span = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if span is None or int(span.group(1)) != have:
                raise _Retry(f"HTTP 206 not starting at byte {have}")
        elif status == 200:
            if have:  # the range was ignored: the whole file again
                handle.seek(0)
                handle.truncate()
        else:
            raise _Retry(f"HTTP {status}")
        async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
            handle.write(chunk)
        handle.flush()
        return handle.tell()


def _reason(exc: BaseException) -> str:
    """What went wrong, without the URL (aiohttp puts it in some messages; it is a signed link)."""
    if isinstance(exc, _Retry):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
