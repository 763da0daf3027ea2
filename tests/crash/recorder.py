"""A recording HTTP destination: every POST it receives, with what it answered.

It stands in for a webhook receiver while the bridge is killed and restarted around it, so it
lives in the harness process (it must outlive every bridge process). Each request is recorded
with the event_id from its body, the `webhook-id` header and whether the Standard Webhooks
signature verifies; the signature is checked here independently of the bridge's own signing code.

`max_answer_delay_seconds` makes it answer after a random delay (a slow receiver), which keeps
deliveries in flight long enough for a kill to land there. `fail_first_probability` answers 500
to the first request of a random share of event_ids (later requests of the same event_id get
200), which exercises retries while keeping every retry wait at the first back-off step.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web

HOOK_PATH = "/hook"


@dataclass(frozen=True)
class Receipt:
    """One request as the receiver saw it; `status` None means the body never arrived whole."""

    at: float
    event_id: str | None
    webhook_id: str | None
    status: int | None
    signature_ok: bool | None
    body: bytes


def expected_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks `v1,<base64 HMAC-SHA256>` for a plain-text (non-`whsec_`) secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _event_id(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class RecordingServer:
    """`async with RecordingServer() as recorder:` — POST events to `recorder.url`."""

    def __init__(
        self,
        *,
        fail_first_probability: float = 0.0,
        max_answer_delay_seconds: float = 0.0,
        seed: int = 0,
        signing_secret: str | None = None,
        log_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fail_first_probability = fail_first_probability
        self.max_answer_delay_seconds = max_answer_delay_seconds
        self.signing_secret = signing_secret
        self.receipts: list[Receipt] = []
        self._rng = random.Random(seed)
        self._decided: set[str] = set()
        self._log_path = log_path
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the recorder is not running")
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    async def start(self) -> RecordingServer:
        app = web.Application()
        app.router.add_post(HOOK_PATH, self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.port = 0

    async def __aenter__(self) -> RecordingServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- receiving -------------------------------------------------------------------------------
    async def _receive(self, request: web.Request) -> web.StreamResponse:
        webhook_id = request.headers.get("webhook-id")
        try:
            body = await request.read()
        except Exception:  # the sender died mid-request: a torn request, never an acceptance
            self._record(Receipt(self._clock(), None, webhook_id, None, None, b""))
            return web.Response(status=400)  # nobody is left to read it
        event_id = _event_id(body)
        if self.max_answer_delay_seconds:
            # A receiver that takes its time keeps deliveries in flight long enough for kills to land there.
            await asyncio.sleep(self._rng.uniform(0, self.max_answer_delay_seconds))
        status = self._answer_for(event_id)
        self._record(Receipt(self._clock(), event_id, webhook_id, status, self._verify(request, body), body))
        return web.Response(status=status, text='{"ok":true}' if status == 200 else '{"error":"injected"}',
                            content_type="application/json")

    def _answer_for(self, event_id: str | None) -> int:
        if event_id is None:
            return 400
        if event_id in self._decided:
            return 200
        self._decided.add(event_id)
        return 500 if self._rng.random() < self.fail_first_probability else 200

    def _verify(self, request: web.Request, body: bytes) -> bool | None:
        if self.signing_secret is None:
            return None
        message_id = request.headers.get("webhook-id", "")
        timestamp = request.headers.get("webhook-timestamp", "")
        given = request.headers.get("webhook-signature", "").split()
        wanted = expected_signature(self.signing_secret, message_id, timestamp, body)
        return any(hmac.compare_digest(wanted, candidate) for candidate in given)

    def _record(self, receipt: Receipt) -> None:
        self.receipts.append(receipt)
        if self._log_path is not None:
            line = {**asdict(receipt), "body": receipt.body.decode("utf-8", errors="replace")}
            with open(self._log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")

    # -- reading ---------------------------------------------------------------------------------
    def accepted(self) -> list[Receipt]:
        """Requests answered 200: the ones the bridge may count as delivered."""
        return [r for r in self.receipts if r.status == 200]

    def accepted_counts(self) -> Counter[str]:
        return Counter(r.event_id for r in self.accepted() if r.event_id is not None)

    def rejected(self) -> int:
        """Requests answered with an injected 500 (each one is retried by the bridge)."""
        return sum(1 for r in self.receipts if r.status == 500)

    def torn(self) -> int:
        return sum(1 for r in self.receipts if r.status is None)
