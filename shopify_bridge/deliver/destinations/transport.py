"""The HTTP transport every network destination shares: one pooled session, bounded concurrency, and the
classification of each answer as delivered / retry / dead. It never raises for a request's fate.

Only the classification lives here; when to retry and when to give up is the delivery loop's business
(`shopify_bridge.deliver.loop`).

- 2xx delivered. A 2xx with an HTML body is usually a login page or a catch-all route rather than a
  receiver, but the contract says 2xx is delivered: it is, with one warning per destination.
- 408, 429, 5xx, timeouts, connection and TLS errors: retry (a transient cause is plausible), with the
  server's `Retry-After` when it gave one.
- 3xx (redirects are never followed: a POST must not silently change target, and a loop must not
  hang) and every other 4xx: dead at once, with the status and the head of the body.

The secrets a destination names (header values, signing secrets, API secrets in a URL) never appear in
an error or a log line: a misbehaving receiver that echoes the request back in its error body is
scrubbed too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import aiohttp
import structlog
from msgspec import Struct
from yarl import URL

from shopify_bridge.deliver.destinations.base import DeliveryResult
from shopify_bridge.retry import parse_retry_after

DEFAULT_CONCURRENCY = 16
BODY_HEAD_CHARS = 200
BODY_READ_LIMIT = 8192
# Query values shorter than this are not scrubbed (they are flags and page numbers, not tokens).
MIN_SCRUBBED_QUERY_VALUE = 8
REDACTED = "[redacted]"
USER_AGENT = "shopify-bridge"


class Post(Struct, frozen=True):
    """One request to make: where, the exact body, and its headers."""

    url: URL | str
    body: bytes
    headers: Mapping[str, str]


def _looks_like_html(content_type: str, body: bytes) -> bool:
    if content_type.lower().startswith("text/html"):
        return True
    start = body.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def url_secrets(url: URL) -> list[str]:
    """The parts of a URL that may be credentials: its password and its longer query values."""
    found = [url.password] if url.password else []
    return found + [value for value in url.query.values() if len(value) >= MIN_SCRUBBED_QUERY_VALUE]


class HttpTransport:
    """POSTs for one destination (`name` in its log lines and errors), classified per the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        timeout_seconds: float = 10.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timeout_seconds <= 0 or concurrency < 1:
            raise ValueError(f"destination {name!r}: timeout and concurrency must be positive")
        self.name = name
        self.concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._timeout_seconds = timeout_seconds
        self._clock = clock
        # Longest first, so that a secret containing another is removed whole.
        self._secrets = sorted({value for value in secrets if value}, key=len, reverse=True)
        self._session: aiohttp.ClientSession | None = None
        self._warned_html = False

    async def open(self) -> None:
        if self._session is None:
            # One pooled session for the destination's life; the pool matches the send concurrency.
            connector = aiohttp.TCPConnector(limit=self.concurrency)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post_all(self, posts: Sequence[Post | DeliveryResult]) -> list[DeliveryResult]:
        """Make each `Post` (bounded concurrency); a `DeliveryResult` in the input is already decided and
        passes through. One result per input, in input order."""
        session = self._session
        if session is None:
            raise RuntimeError(f"destination {self.name!r}: send() before open()")
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: Post | DeliveryResult) -> DeliveryResult:
            if isinstance(item, DeliveryResult):
                return item
            async with gate:
                return await self._post(session, item)

        return list(await asyncio.gather(*(one(item) for item in posts)))

    async def _post(self, session: aiohttp.ClientSession, post: Post) -> DeliveryResult:
        try:
            request = session.post(post.url, data=post.body, headers=dict(post.headers), allow_redirects=False)
            async with request as answer:
                return await self._classify(answer)
        except TimeoutError:
            return self.retry(f"no answer within {self._timeout_seconds:g}s (timeout)")
        except aiohttp.ClientConnectorCertificateError as exc:
            return self.retry(f"TLS certificate error: {exc.certificate_error}")
        except aiohttp.ClientSSLError as exc:
            return self.retry(f"TLS error: {exc}")
        except aiohttp.ClientConnectorError as exc:
            return self.retry(f"connection failed: {exc}")
        except aiohttp.ServerDisconnectedError:
            return self.retry("server closed the connection before answering")
        except (aiohttp.ClientError, OSError) as exc:
            return self.retry(f"request failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # one odd item must not lose the results of the whole batch
            return self.retry(f"unexpected error: {type(exc).__name__}: {exc}")

    async def _classify(self, response: aiohttp.ClientResponse) -> DeliveryResult:
        status = response.status
        if 200 <= status < 300:
            # Reading the whole body returns the connection to the pool for the next request.
            body = await response.read()
            if not self._warned_html and _looks_like_html(response.headers.get("Content-Type", ""), body):
                self._warned_html = True
                # Looked up when needed (rarely): honours the logging configuration current at that time.
                structlog.get_logger(component="destination.http").warning(
                    "destination answered 2xx with an HTML page; counted as delivered, check its url",
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
        return DeliveryResult("retry", status=status, error=self.scrub(message), retry_after=retry_after)

    async def _body_head(self, response: aiohttp.ClientResponse) -> str:
        try:
            raw = await response.content.read(BODY_READ_LIMIT)
        except (aiohttp.ClientError, TimeoutError):
            return ""
        text = self.scrub(raw.decode("utf-8", errors="replace"))
        return self._clip(" ".join(text.split()))

    def _clip(self, text: str) -> str:
        # Scrub before cutting: a cut through a secret would leave a prefix no scrub recognises.
        return self.scrub(text)[:BODY_HEAD_CHARS]

    def _dead(self, status: int, what: str, head: str) -> DeliveryResult:
        message = f"{what}: {head}" if head else what
        return DeliveryResult("dead", status=status, error=self.scrub(message))

    def retry(self, message: str) -> DeliveryResult:
        return DeliveryResult("retry", error=self.scrub(message))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text
