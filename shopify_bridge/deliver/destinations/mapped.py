"""The `ga4`, `meta_capi` and `segment` destinations: each event mapped by its payload builder, then sent
over the shared HTTP transport, so they retry, go dead and replay exactly like `http`.

Per item: the stored envelope is read back with exact amounts, the order facts stored with it are
passed along (GA4's client id), and `payloads.build_request` gives the request or a skip. A skip
(`too_old_for_destination`, `no_user_data`, `unsupported_event`) comes back as a `skipped` result
with its reason: the delivery loop records it. The router normally finds those before sending; here
they are the answer for an event that crossed a limit between the two looks. An event that cannot be
mapped (a float amount, a refund without its order's processedAt) is dead at once with the reason.

Credentials (`api_secret` in GA4's query string, Meta's `access_token` in the body, Segment's write key
in the Basic auth header) are known to the transport's scrubber, so an echoing error body shows
`[redacted]` instead.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from shopify_bridge.decide.money import loads_event
from shopify_bridge.deliver.destinations.base import DeliveryResult, Outgoing
from shopify_bridge.deliver.destinations.transport import USER_AGENT, HttpTransport, Post
from shopify_bridge.deliver.payloads import PayloadError, Skip, build_request
from shopify_bridge.deliver.payloads.request import SecretText
from shopify_bridge.deliver.routing import order_facts
from shopify_bridge.timeutil import Clock

BATCH_SIZE = 200  # one request per event: a batch only spreads the outbox's round-trips


class MappedSpec(Protocol):
    """What this sender reads of a `[[destinations]]` entry of type ga4, meta_capi or segment."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def timeout_seconds(self) -> float: ...


def credentials(spec: object) -> list[str]:
    """The secrets of a destination entry in every form they travel in (Segment's key inside Basic auth)."""
    found: list[str] = []
    for field in ("api_secret", "access_token", "write_key"):
        value: SecretText | None = getattr(spec, field, None)
        if value is not None:
            secret = value.get_secret_value()
            found.append(secret)
            if field == "write_key":
                found.append(base64.b64encode(f"{secret}:".encode()).decode("ascii"))
    return [value for value in found if value]


class MappedDestination:
    """One destination of a payload type; `clock` gives the instant its age limits are judged at."""

    def __init__(
        self,
        spec: MappedSpec,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        unix_clock: Callable[[], float] = time.time,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.name = spec.name
        self.batch_size = batch_size
        self.spec = spec
        self._clock = clock
        self._transport = HttpTransport(
            spec.name, timeout_seconds=spec.timeout_seconds, secrets=credentials(spec), clock=unix_clock
        )

    def __repr__(self) -> str:
        return f"MappedDestination(name={self.name!r}, type={self.spec.type!r})"

    async def open(self) -> None:
        await self._transport.open()

    async def close(self) -> None:
        await self._transport.close()

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        now = self._clock()
        return await self._transport.post_all([self._post(item, now) for item in items])

    def _post(self, item: Outgoing, now: datetime) -> Post | DeliveryResult:
        try:
            result = build_request(self.spec, loads_event(item.payload), now=now, order=order_facts(item.facts))
        except (PayloadError, ValueError) as exc:
            message = f"cannot build the {self.spec.type} payload of {item.event_id}: {exc}"
            return DeliveryResult("dead", error=self._transport.scrub(message))
        if isinstance(result, Skip):
            return DeliveryResult("skipped", error=result.detail, reason=result.reason)
        headers = {"User-Agent": USER_AGENT, **result.headers}
        return Post(result.url, result.body_bytes(), headers)
