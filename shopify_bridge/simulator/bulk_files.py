"""Bulk result files, served from the simulator the way Google Cloud Storage serves Shopify's.

A finished operation's `url` is a V2-style signed URL on the simulator itself:
`/_bulk/<name>.jsonl?GoogleAccessId=…&Expires=<completedAt + 604800>&Signature=…&response-content-…`.
It is fetched with a plain GET and no Shopify token (the token is neither needed nor looked at). As on GCS:
past `Expires` (on the simulator's clock: completedAt + 7 days, notes gotcha 6) → 403 `AccessDenied`
("Request has expired"); a missing or wrong signature → 403 `SignatureDoesNotMatch`; an unknown object →
404 `NoSuchKey`; all with an XML `<Error>` body.

Downloads fail like real ones (notes gotcha 6: "`fileSize` may not equal downloaded bytes"): a
`download_truncated` fault sends the full `Content-Length`, about half the bytes, then resets the
connection; `download_reset` resets it a quarter of the way into a chunked body. A `Range: bytes=N-`
request is answered 206 with the rest of the file — or, when the shop ignores ranges
(`bulk_honours_range=False`), 200 with the whole file, which a resuming client must notice.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from shopify_bridge.simulator.clock import Clock
from shopify_bridge.simulator.faults import DOWNLOAD_FAULTS, FaultQueue

URL_LIFETIME_SECONDS = 7 * 24 * 3600
ACCESS_ID = "bulk-results@shopify-simulator.iam.gserviceaccount.com"
PREFIX = "/_bulk/"
CONTENT_TYPE = "application/jsonl"
MAX_FLUSH_WAITS = 1000  # × 1 ms


@dataclass
class StoredFile:
    content: bytes
    expires: int  # epoch seconds


def _gcs_error(status: int, code: str, message: str, details: str | None = None) -> web.Response:
    extra = f"<Details>{details}</Details>" if details else ""
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}</Error>"
    )
    return web.Response(text=body, status=status, content_type="application/xml", charset="UTF-8")


class BulkFiles:
    """The simulator's result-file bucket: publish bytes under a name, serve them by signed URL."""

    def __init__(self, clock: Clock, faults: FaultQueue | None = None, honours_range: bool = True) -> None:
        self.clock = clock
        self.faults = faults
        self.honours_range = honours_range
        self._secret = secrets.token_bytes(32)
        self._files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # names served with 200, in order (tests and the control API read it)

    def _signature(self, name: str, expires: int) -> str:
        string_to_sign = f"GET\n\n\n{expires}\n{PREFIX}{name}"
        digest = hmac.new(self._secret, string_to_sign.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def publish(self, name: str, content: bytes, expires: int) -> str:
        """Store a file; its signed URL path (with query string), to prefix with the simulator's origin."""
        self._files[name] = StoredFile(content, expires)
        disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
        query = "&".join(
            [
                f"GoogleAccessId={quote(ACCESS_ID, safe='')}",
                f"Expires={expires}",
                f"Signature={quote(self._signature(name, expires), safe='')}",
                f"response-content-disposition={quote(disposition, safe='')}",
                f"response-content-type={quote(CONTENT_TYPE, safe='')}",
            ]
        )
        return f"{PREFIX}{name}?{query}"

    def content(self, name: str) -> bytes:
        return self._files[name].content

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "{name}", self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        stored = self._files.get(name)
        if stored is None:
            return _gcs_error(404, "NoSuchKey", "The specified key does not exist.")
        given = request.query.get("Signature", "")
        try:
            expires = int(request.query.get("Expires", ""))
        except ValueError:
            expires = -1
        expected = self._signature(name, expires)
        if not request.query.get("GoogleAccessId") or not hmac.compare_digest(given, expected):
            return _gcs_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your Google secret key and signing method.",
            )
        now = self.clock()
        if now.timestamp() > expires:
            expired_at = datetime.fromtimestamp(expires, UTC).isoformat()
            return _gcs_error(
                403,
                "AccessDenied",
                "Access denied.",
                f"Request has expired: {expires} ({expired_at})",
            )
        return await self._send(request, name, stored.content)

    async def _send(self, request: web.Request, name: str, content: bytes) -> web.StreamResponse:
        status, body, headers = 200, content, {}
        wanted = request.headers.get("Range")
        if self.honours_range:
            headers["Accept-Ranges"] = "bytes"
            if wanted:
                span = _byte_range(wanted, len(content))
                if span is None:
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{len(content)}"})
                start, end = span
                status, body = 206, content[start : end + 1]
                headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
        fault = self.faults.take_bulk(DOWNLOAD_FAULTS) if self.faults is not None else None
        if fault is None or not body:
            self.downloads.append(name)
            return web.Response(body=body, status=status, headers=headers, content_type=CONTENT_TYPE)
        response = web.StreamResponse(status=status, headers=headers)
        response.content_type = CONTENT_TYPE
        if fault.kind == "download_truncated":
            response.content_length = len(body)
            cut = len(body) // 2
        else:
            response.enable_chunked_encoding()
            cut = max(len(body) // 4, 1)
        await response.prepare(request)
        await response.write(body[:cut])
        await _reset(request)
        return response


async def _reset(request: web.Request) -> None:
    """Drop the connection once what was written has left (abort() would discard a pending buffer)."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(MAX_FLUSH_WAITS):
        if transport.get_write_buffer_size() == 0:
            break
        await asyncio.sleep(0.001)
    transport.abort()


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=first-[last]` or `bytes=-suffix` range; None if unsatisfiable."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    return (start, end) if start <= end and start < size else None
