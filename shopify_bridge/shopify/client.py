"""The throttle-aware Shopify Admin GraphQL client: gql + aiohttp with Shopify's quirks handled.

gql's own retry logic never sees most of Shopify's failure modes: THROTTLED arrives as HTTP 200
with an `errors` array, and 401/402/404/423 arrive as JSON whose `errors` is a *string*, which
gql happily turns into an ExecutionResult without looking at the status. So the transport
records the HTTP status of every answer and this wrapper classifies each one before anything
is believed: wait before a query that would not fit the bucket, retry what is temporary with
capped backoff, and turn what is permanent into one clear, non-secret error.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from graphql import ExecutionResult

from shopify_bridge.errors import AuthError, BridgeError, ConfigError, ShopUnavailable, TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify.responses import ShopifyAnswer, classify
from shopify_bridge.shopify.throttle import Bucket, parse_cost

log = get_logger(component="shopify")

RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 30.0
MAX_TEMPORARY_RETRIES = 5
MAX_THROTTLE_RETRIES = 30
DEFAULT_COST_ESTIMATE = 50.0

_OPERATION_NAME = re.compile(r"\b(?:query|mutation)\s+(\w+)")


def operation_name(document: str) -> str:
    match = _OPERATION_NAME.search(document)
    return match.group(1) if match else "anonymous"


class ShopifyTransport(AIOHTTPTransport):
    """AIOHTTPTransport that remembers the HTTP status and headers of the last answer."""

    last_status: int = 0
    retry_after: float | None = None

    async def _prepare_result(self, response: aiohttp.ClientResponse) -> ExecutionResult:
        self.last_status = response.status
        header = response.headers.get("Retry-After")
        try:
            self.retry_after = float(header) if header else None
        except ValueError:
            self.retry_after = None
        return await super()._prepare_result(response)


def endpoint_url(shop_domain: str, api_version: str, api_url: str | None) -> str:
    base = (api_url or f"https://{shop_domain}").rstrip("/")
    return f"{base}/admin/api/{api_version}/graphql.json"


class ShopifyClient:
    """One source's connection: its own token, transport, and rate-limit bucket."""

    def __init__(
        self,
        *,
        source_name: str,
        shop_domain: str,
        token: str,
        api_version: str,
        api_url: str | None = None,
        timeout_seconds: float = 30.0,
        max_temporary_retries: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`max_temporary_retries` (default `MAX_TEMPORARY_RETRIES`) bounds the retries of network errors,
        timeouts and 5xx answers of one query; a command that must answer quickly passes fewer."""
        self.source_name = source_name
        self.max_temporary_retries = max_temporary_retries
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.url = endpoint_url(shop_domain, api_version, api_url)
        self.bucket = Bucket()
        self._clock = clock
        self._sleep = sleep
        self._transport = ShopifyTransport(
            url=self.url,
            headers={"X-Shopify-Access-Token": token, "User-Agent": "shopify-bridge"},
            timeout=int(timeout_seconds),
        )
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session: Any = None
        self._lock = asyncio.Lock()
        self._cost_estimates: dict[str, float] = {}
        self._warned_version = False
        self.on_throttle: Callable[[float], None] | None = None

    async def __aenter__(self) -> ShopifyClient:
        self._session = await self._client.connect_async(reconnecting=False)  # type: ignore[no-untyped-call]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close_async()  # type: ignore[no-untyped-call]
        self._session = None

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query and return its `data`, or raise a classified BridgeError."""
        name = operation_name(document)
        temporary_failures = 0
        throttles = 0
        async with self._lock:
            while True:
                estimate = self._cost_estimates.get(name, DEFAULT_COST_ESTIMATE)
                wait = self.bucket.wait_for(estimate, self._clock())
                if wait > 0:
                    if self.on_throttle:
                        self.on_throttle(wait)
                    await self._sleep(wait)
                self.bucket.spend(estimate, self._clock())
                answer = await self._send(GraphQLRequest(document, variable_values=variables or {}))
                if answer.cost is not None:
                    self.bucket.observe(answer.cost, self._clock())
                    self._cost_estimates[name] = answer.cost.requested
                self._check_version()
                outcome = classify(answer, source=self.source_name, shop=self.shop_domain, query=name)
                if outcome.kind == "ok":
                    return outcome.data or {}
                if outcome.kind == "throttled":
                    throttles += 1
                    if throttles > MAX_THROTTLE_RETRIES:
                        raise TemporaryFailure(f"{self.source_name}: still throttled after {throttles} waits")
                    delay = answer.retry_after or self.bucket.throttled_wait(estimate, self._clock())
                    log.info("throttled", source=self.source_name, query=name, wait_seconds=round(delay, 2))
                    if self.on_throttle:
                        self.on_throttle(delay)
                    await self._sleep(delay)
                    continue
                if outcome.kind == "temporary":
                    temporary_failures += 1
                    limit = self.max_temporary_retries
                    if temporary_failures > (MAX_TEMPORARY_RETRIES if limit is None else limit):
                        raise outcome.error or TemporaryFailure(f"{self.source_name}: {outcome.reason}")
                    delay = _backoff(temporary_failures)
                    log.warning(
                        "shopify temporary failure, retrying",
                        source=self.source_name,
                        query=name,
                        reason=outcome.reason,
                        attempt=temporary_failures,
                        wait_seconds=round(delay, 2),
                    )
                    await self._sleep(delay)
                    continue
                assert outcome.error is not None
                raise outcome.error

    async def _send(self, request: GraphQLRequest) -> ShopifyAnswer:
        transport = self._transport
        try:
            result = await self._session.execute(request, get_execution_result=True)
            return ShopifyAnswer(
                status=transport.last_status,
                data=result.data,
                errors=result.errors,
                extensions=result.extensions,
                retry_after=transport.retry_after,
            )
        except TransportQueryError as exc:
            return ShopifyAnswer(
                status=transport.last_status,
                data=exc.data,
                errors=exc.errors,
                extensions=exc.extensions,
                retry_after=transport.retry_after,
            )
        except TransportServerError as exc:
            return ShopifyAnswer(status=exc.code or 500, body_problem=str(exc)[:200])
        except TransportProtocolError as exc:
            return ShopifyAnswer(status=transport.last_status or 200, body_problem=str(exc)[:200])
        except (TransportConnectionFailed, aiohttp.ClientError, OSError) as exc:
            return ShopifyAnswer(status=0, connection_problem=f"{type(exc).__name__}: {exc}"[:200])
        except TimeoutError:
            return ShopifyAnswer(status=0, connection_problem="timed out")

    def _check_version(self) -> None:
        headers = self._transport.response_headers if hasattr(self._transport, "response_headers") else None
        served = headers.get("X-Shopify-API-Version") if headers else None
        if served and served != self.api_version and not self._warned_version:
            self._warned_version = True
            log.warning(
                "Shopify served another API version than requested",
                source=self.source_name,
                requested=self.api_version,
                served=served,
            )


def _backoff(attempt: int) -> float:
    base: float = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2.0 ** (attempt - 1))
    return base * (0.5 + random.random() / 2)


__all__ = [
    "AuthError",
    "BridgeError",
    "ConfigError",
    "ShopUnavailable",
    "ShopifyClient",
    "TemporaryFailure",
    "endpoint_url",
    "operation_name",
    "parse_cost",
]
