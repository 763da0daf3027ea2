"""Bulk result files, served from the simulator the way Google Cloud Storage serves Shopify's.

A finished operation's `url` is a V2-style signed URL on the simulator itself:
`/_bulk/<name>.jsonl?GoogleAccessId=…&Expires=<completedAt + 604800>&Signature=…&response-content-…`.
It is fetched with a plain GET and no Shopify token (the token is neither needed nor looked at). As on GCS:
past `Expires` (on the simulator's clock) → 400 `ExpiredToken`; a missing or wrong signature → 403
`SignatureDoesNotMatch`; an unknown object → 404 `NoSuchKey`; all with an XML `<Error>` body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from shopify_bridge.simulator.clock import Clock

URL_LIFETIME_SECONDS = 7 * 24 * 3600
ACCESS_ID = "bulk-results@shopify-simulator.iam.gserviceaccount.com"
PREFIX = "/_bulk/"
CONTENT_TYPE = "application/jsonl"


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

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
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

    async def serve(self, request: web.Request) -> web.Response:
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
                400,
                "ExpiredToken",
                "The provided token has expired.",
                f"Request signature expired at: {expired_at}",
            )
        self.downloads.append(name)
        return web.Response(body=stored.content, content_type=CONTENT_TYPE)
