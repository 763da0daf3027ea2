"""The `http` destination: POST one event per request, classify each answer, never raise.

Only the classification lives here (delivered / retry / dead, with the server's `Retry-After`);
when to retry and when to give up is the delivery loop's business (`shopify_bridge.deliver.loop`).

- 2xx delivered. A 2xx with an HTML body is usually a login page or a catch-all route rather than a
  webhook receiver, but the contract says 2xx is delivered: it is, with one warning per destination.
- 408, 429, 5xx, timeouts, connection and TLS errors: retry (a transient cause is plausible).
- 3xx (redirects are never followed: a POST must not silently change target, and a loop must not
  hang) and every other 4xx: dead at once, with the status and the head of the body.

Header values, the signing secret and secret-looking URL parts never appear in an error or a log
line: a misbehaving receiver that echoes the request back in its error body is scrubbed too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import aiohttp
import structlog
from pydantic import SecretStr
from yarl import URL

from shopify_bridge.deliver.destinations import signing
from shopify_bridge.deliver.destinations.base import DeliveryResult
from shopify_bridge.retry import parse_retry_after

DEFAULT_CONCURRENCY = 16
# Large enough that one outbox round-trip (select + one commit) is spread over many requests.
DEFAULT_BATCH_SIZE = 1000  # larger batches leave fewer idle slots at the tail of each round
BODY_HEAD_CHARS = 200
BODY_READ_LIMIT = 8192
# A server asking for more than this is capped, so that max_attempts/max_age still get checked.
# Query values shorter than this are not scrubbed (they are flags and page numbers, not tokens).
MIN_SCRUBBED_QUERY_VALUE = 8
REDACTED = "[redacted]"
USER_AGENT = "shopify-bridge"



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


def _looks_like_html(content_type: str, body: bytes) -> bool:
    if content_type.lower().startswith("text/html"):
        return True
    start = body.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


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
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        self._key = signing.signing_key(signing_secret) if signing_secret is not None else None
        self._headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        self._secrets = self._secrets_to_scrub(parsed, headers or {}, signing_secret)
        self._session: aiohttp.ClientSession | None = None
        self._warned_html = False

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
        if url.password:
            found.append(url.password)
        found += [value for value in url.query.values() if len(value) >= MIN_SCRUBBED_QUERY_VALUE]
        # Longest first, so that a secret containing another is removed whole.
        return sorted(set(found), key=len, reverse=True)

    def __repr__(self) -> str:
        port = f":{self._url.explicit_port}" if self._url.explicit_port else ""
        return f"HttpDestination(name={self.name!r}, target={self._url.scheme}://{self._url.host}{port})"

    async def open(self) -> None:
        if self._session is None:
            # One pooled session for the destination's life; the pool matches the send concurrency.
            connector = aiohttp.TCPConnector(limit=self.concurrency)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, items: list[tuple[str, bytes]]) -> list[DeliveryResult]:
        """POST each item (bounded concurrency); one accurate result per item, in input order."""
        session = self._session
        if session is None:
            raise RuntimeError(f"destination {self.name!r}: send() before open()")
        gate = asyncio.Semaphore(self.concurrency)

        async def post_one(event_id: str, payload: bytes) -> DeliveryResult:
            async with gate:
                return await self._post(session, event_id, payload)

        return list(await asyncio.gather(*(post_one(event_id, payload) for event_id, payload in items)))

    def _request_headers(self, event_id: str, payload: bytes) -> dict[str, str]:
        if self._key is None:
            return self._headers
        signed = signing.signature_headers(self._key, event_id, int(self._clock()), payload)
        return {**self._headers, **signed}

    async def _post(self, session: aiohttp.ClientSession, event_id: str, payload: bytes) -> DeliveryResult:
        try:
            headers = self._request_headers(event_id, payload)
            request = session.post(self._url, data=payload, headers=headers, allow_redirects=False)
            async with request as answer:
                return await self._classify(answer)
        except TimeoutError:
            return self._retry(f"no answer within {self._timeout_seconds:g}s (timeout)")
        except aiohttp.ClientConnectorCertificateError as exc:
            return self._retry(f"TLS certificate error: {exc.certificate_error}")
        except aiohttp.ClientSSLError as exc:
            return self._retry(f"TLS error: {exc}")
        except aiohttp.ClientConnectorError as exc:
            return self._retry(f"connection failed: {exc}")
        except aiohttp.ServerDisconnectedError:
            return self._retry("server closed the connection before answering")
        except (aiohttp.ClientError, OSError) as exc:
            return self._retry(f"request failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # one odd item must not lose the results of the whole batch
            return self._retry(f"unexpected error: {type(exc).__name__}: {exc}")

    async def _classify(self, response: aiohttp.ClientResponse) -> DeliveryResult:
        status = response.status
        if 200 <= status < 300:
            # Reading the whole body returns the connection to the pool for the next request.
            body = await response.read()
            if not self._warned_html and _looks_like_html(response.headers.get("Content-Type", ""), body):
                self._warned_html = True
                # Looked up when needed (rarely): honours the logging configuration current at that time.
                structlog.get_logger(component="destination.http").warning(
                    "http destination answered 2xx with an HTML page; counted as delivered, check its url",
                    destination=self.name, status=status,
                )
            return DeliveryResult("delivered", status=status)
        head = await self._body_head(response)
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            target = f" to {self._clip(location)}" if location else ""
            return self._dead(status, f"HTTP {status} redirect{target} (redirects are not followed)", head)
        if 400 <= status < 500 and status not in (408, 429):
            return self._dead(status, f"HTTP {status}", head)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        message = f"HTTP {status}: {head}" if head else f"HTTP {status}"
        return DeliveryResult("retry", status=status, error=self._scrub(message), retry_after=retry_after)

    async def _body_head(self, response: aiohttp.ClientResponse) -> str:
        try:
            raw = await response.content.read(BODY_READ_LIMIT)
        except (aiohttp.ClientError, TimeoutError):
            return ""
        text = self._scrub(raw.decode("utf-8", errors="replace"))
        return self._clip(" ".join(text.split()))

    def _clip(self, text: str) -> str:
        # Scrub before cutting: a cut through a secret would leave a prefix no scrub recognises.
        return self._scrub(text)[:BODY_HEAD_CHARS]

    def _dead(self, status: int, what: str, head: str) -> DeliveryResult:
        message = f"{what}: {head}" if head else what
        return DeliveryResult("dead", status=status, error=self._scrub(message))

    def _retry(self, message: str) -> DeliveryResult:
        return DeliveryResult("retry", error=self._scrub(message))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text
