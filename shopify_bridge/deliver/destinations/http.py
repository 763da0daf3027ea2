"""The `http` destination: POST each event envelope as it is stored, one event per request.

The answers are classified by the shared transport (`transport.py`: 2xx delivered; 408, 429, 5xx and
network errors retried; redirects and other 4xx dead with status and body head). With a signing
secret each request carries Standard Webhooks headers whose webhook-id is the event_id.

Header values, the signing secret and secret-looking URL parts never appear in an error or a log
line: a misbehaving receiver that echoes the request back in its error body is scrubbed too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from pydantic import SecretStr
from yarl import URL

from shopify_bridge.deliver.destinations import signing
from shopify_bridge.deliver.destinations.base import DeliveryResult, Outgoing
from shopify_bridge.deliver.destinations.transport import (
    DEFAULT_CONCURRENCY,
    USER_AGENT,
    HttpTransport,
    Post,
    url_secrets,
)

# Large enough that one outbox round-trip (select + one commit) is spread over many requests.
DEFAULT_BATCH_SIZE = 1000  # larger batches leave fewer idle slots at the tail of each round


class HttpDestinationSpec(Protocol):
    """What `from_config` reads from a `[[destinations]]` entry of type http."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, SecretStr]: ...
    @property
    def signing_secret(self) -> SecretStr | None: ...
    @property
    def timeout_seconds(self) -> float: ...


class HttpDestination:
    def __init__(
        self,
        name: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        signing_secret: str | None = None,
        timeout_seconds: float = 10.0,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"destination {name!r}: url must be an absolute http(s) URL")
        if timeout_seconds <= 0 or concurrency < 1 or batch_size < 1:
            raise ValueError(f"destination {name!r}: timeout, concurrency and batch size must be positive")
        for key, value in (headers or {}).items():
            if any(char in key + value for char in "\r\n\0"):
                # Named by key only: the value is a secret.
                raise ValueError(f"destination {name!r}: header {key!r} contains a line break or NUL")
        self.name = name
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._url = parsed
        self._clock = clock
        self._key = signing.signing_key(signing_secret) if signing_secret is not None else None
        self._headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        self._transport = HttpTransport(
            name,
            timeout_seconds=timeout_seconds,
            concurrency=concurrency,
            secrets=self._secrets_to_scrub(parsed, headers or {}, signing_secret),
            clock=clock,
        )

    @classmethod
    def from_config(
        cls, spec: HttpDestinationSpec, *, clock: Callable[[], float] = time.time
    ) -> HttpDestination:
        secret = spec.signing_secret.get_secret_value() if spec.signing_secret is not None else None
        return cls(
            spec.name,
            spec.url,
            headers={key: value.get_secret_value() for key, value in spec.headers.items()},
            signing_secret=secret,
            timeout_seconds=spec.timeout_seconds,
            clock=clock,
        )

    @staticmethod
    def _secrets_to_scrub(url: URL, headers: Mapping[str, str], signing_secret: str | None) -> list[str]:
        found = [value for value in headers.values() if value]
        if signing_secret:
            found.append(signing_secret)
            if signing_secret.startswith(signing.SECRET_PREFIX):
                found.append(signing_secret[len(signing.SECRET_PREFIX):])
        return found + url_secrets(url)

    def __repr__(self) -> str:
        port = f":{self._url.explicit_port}" if self._url.explicit_port else ""
        return f"HttpDestination(name={self.name!r}, target={self._url.scheme}://{self._url.host}{port})"

    async def open(self) -> None:
        await self._transport.open()

    async def close(self) -> None:
        await self._transport.close()

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        """POST each item (bounded concurrency); one accurate result per item, in input order."""
        return await self._transport.post_all([self._post(item) for item in items])

    def _post(self, item: Outgoing) -> Post | DeliveryResult:
        try:
            return Post(self._url, item.payload, self._request_headers(item.event_id, item.payload))
        except Exception as exc:  # one odd item must not lose the results of the whole batch
            return self._transport.retry(f"unexpected error: {type(exc).__name__}: {exc}")

    def _request_headers(self, event_id: str, payload: bytes) -> dict[str, str]:
        if self._key is None:
            return self._headers
        signed = signing.signature_headers(self._key, event_id, int(self._clock()), payload)
        return {**self._headers, **signed}
