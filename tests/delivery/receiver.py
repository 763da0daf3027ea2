"""A real local HTTP receiver for destination tests: records every request, answers as scripted.

Replies are scripted per key as a queue whose last entry keeps answering, with a default for everything
else. The key is the JSON body's `event_id` unless the test sets `key_of` (path and body → key), as the
GA4, Meta and Segment tests do for their own body shapes. Every path is answered and recorded. A `hang`
reply never answers until the receiver stops, so client timeouts are exercised with a short configured
timeout, not a sleep.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDict

HOOK_PATH = "/hook"


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    echo_request: bool = False  # body = the request's headers and body, like a debug endpoint would


@dataclass
class Received:
    path: str
    headers: CIMultiDict[str]
    body: bytes
    client_port: int
    query: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def event_id(self) -> str:
        return str(json.loads(self.body)["event_id"])


def event_id_of(path: str, body: bytes) -> str | None:
    try:
        return str(json.loads(body)["event_id"])
    except (ValueError, KeyError, TypeError):
        return None


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.default = Reply()
        self.scripts: dict[str, list[Reply]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold_until_in_flight: int | None = None
        self.key_of: Callable[[str, bytes], str | None] = event_id_of
        self._gate = asyncio.Event()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def script(self, event_id: str, *replies: Reply) -> None:
        self.scripts[event_id] = list(replies)

    def ids(self) -> list[str]:
        return [request.event_id for request in self.requests]

    def base_url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _reply_for(self, path: str, body: bytes) -> Reply:
        key = self.key_of(path, body)
        if key is None:
            return self.default
        queue = self.scripts.get(key)
        if not queue:
            return self.default
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        client_port = peer[1] if peer else 0
        self.requests.append(Received(request.path, CIMultiDict(request.headers), body, client_port,
                                      dict(request.query), request.method))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold_until_in_flight is not None:
                if self.in_flight >= self.hold_until_in_flight:
                    self._gate.set()
                await asyncio.wait_for(self._gate.wait(), timeout=5)
            reply = self._reply_for(request.path, body)
            if reply.hang:
                await self._release.wait()
            text = reply.body
            if reply.echo_request:
                text = json.dumps({"headers": dict(request.headers), "body": body.decode()})
            return web.Response(status=reply.status, text=text, headers=reply.headers,
                                content_type=None if "Content-Type" in reply.headers else "text/plain")
        finally:
            self.in_flight -= 1

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._release.set()
        self._gate.set()
        if self._runner is not None:
            await self._runner.cleanup()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
