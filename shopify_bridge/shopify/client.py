"""The Shopify Admin GraphQL client: every request paced by its shop's bucket, every answer judged.

A request first waits for its shop's bucket to hold the query's requested cost (`pacing.ShopPacer`,
shared by every client of the shop), then goes out through the transport; the answer is classified
(`responses.classify`) before anything is believed. What is temporary is retried with capped backoff,
THROTTLED waits exactly what Shopify's numbers say, MAX_COST_EXCEEDED halves a page size, and what is
permanent becomes one clear, non-secret error. Every wait goes through the injected `sleep`, which the
bridge cuts short or cancels on a stop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from msgspec import Struct

from shopify_bridge.errors import AuthError, BridgeError, ConfigError, ShopUnavailable, TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.retry import Backoff
from shopify_bridge.shopify.cost import Operation, operation
from shopify_bridge.shopify.pacing import PACERS, ShopPacer
from shopify_bridge.shopify.responses import Outcome, ShopifyAnswer, ShopifyBug, classify
from shopify_bridge.shopify.throttle import Bucket, parse_cost, throttled_wait
from shopify_bridge.shopify.transport import AnswerTransport, GqlTransport, endpoint_url

log = get_logger(component="shopify")

TEMPORARY_RETRY = Backoff(base=1.0, cap=30.0)
MAX_TEMPORARY_RETRIES = 5
MAX_THROTTLE_RETRIES = 30


def operation_name(document: str) -> str:
    return operation(document).name


class ShopifyUsage(Struct):
    """What one client's requests cost, for benchmarks and metrics (the bridge reads it; nothing resets it)."""

    requests: int = 0
    """Answers received: every exchange with Shopify, retries included."""
    throttled: int = 0
    """THROTTLED answers and HTTP 429s."""
    cost_exceeded: int = 0
    """MAX_COST_EXCEEDED answers (each halved a page size)."""
    points_requested: float = 0.0
    """Sum of the `requestedQueryCost` Shopify reported."""
    points_actual: float = 0.0
    """Sum of the `actualQueryCost` Shopify reported (what the bucket really lost)."""
    bucket_wait_seconds: float = 0.0
    """Time spent waiting for the bucket: before requests, after THROTTLED, and for `Retry-After`."""

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0


class ShopifyClient:
    """One source's connection: its own token and transport, its shop's shared pacer."""

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
        transport: AnswerTransport | None = None,
        pacer: ShopPacer | None = None,
        connector: aiohttp.BaseConnector | None = None,
    ) -> None:
        """`max_temporary_retries` (default `MAX_TEMPORARY_RETRIES`) bounds the retries of network errors,
        timeouts and 5xx answers of one query; a command that must answer quickly passes fewer.
        `pacer` defaults to the process's one for this shop (`pacing.PACERS`); `connector`, when given, is
        shared with other clients (`transport.shared_connector`)."""
        self.source_name = source_name
        self.max_temporary_retries = max_temporary_retries
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.url = endpoint_url(shop_domain, api_version, api_url)
        self.pacer = pacer or PACERS.for_shop(shop_domain, api_url, clock)
        self.usage = ShopifyUsage()
        self._clock = clock
        self._sleep = sleep
        self._transport = transport or GqlTransport(self.url, token, timeout_seconds, connector)
        self._warned_version = False

    @property
    def bucket(self) -> Bucket:
        return self.pacer.bucket

    def price(self, document: str, variables: dict[str, Any] | None = None) -> float:
        """The points this request would reserve if sent now (a scheduling hint for callers)."""
        op = operation(document)
        return self.pacer.estimate(op, self.pacer.with_page_sizes(op, variables))

    def wait_estimate(self, points: float) -> float:
        """Seconds until the shop's bucket holds `points` for us, as far as we know now (0: it does)."""
        return self.bucket.wait_for(points, self._clock())

    async def __aenter__(self) -> ShopifyClient:
        await self._transport.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._transport.close()

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query and return its `data`, or raise a classified BridgeError."""
        op = operation(document)
        temporary_failures = 0
        throttles = 0
        while True:
            answer, sent = await self._exchange(document, op, variables)
            outcome = classify(answer, source=self.source_name, shop=self.shop_domain, query=op.name)
            if outcome.kind == "ok":
                return outcome.data or {}
            if outcome.kind == "throttled":
                throttles += 1
                self.usage.throttled += 1
                if throttles > MAX_THROTTLE_RETRIES:
                    raise TemporaryFailure(f"{self.source_name}: still throttled after {throttles} waits")
                delay = self._throttled_delay(answer, throttles)
                log.info("throttled", source=self.source_name, query=op.name, wait_seconds=round(delay, 3))
                await self._wait_for_bucket(delay)
                continue
            if outcome.kind == "too_costly":
                self._halve_a_page_size(op, sent, outcome)
                continue
            if outcome.kind == "temporary":
                temporary_failures += 1
                limit = self.max_temporary_retries
                if temporary_failures > (MAX_TEMPORARY_RETRIES if limit is None else limit):
                    raise outcome.error or TemporaryFailure(f"{self.source_name}: {outcome.reason}")
                # A server's Retry-After is a floor: the jitter may only add to it.
                delay = max(answer.retry_after or 0.0, _backoff(temporary_failures))
                log.warning(
                    "shopify temporary failure, retrying",
                    source=self.source_name,
                    query=op.name,
                    reason=outcome.reason,
                    attempt=temporary_failures,
                    wait_seconds=round(delay, 3),
                )
                await self._sleep(delay)
                continue
            assert outcome.error is not None
            raise outcome.error

    async def _exchange(
        self, document: str, op: Operation, variables: dict[str, Any] | None
    ) -> tuple[ShopifyAnswer, dict[str, Any]]:
        """One request: wait for its turn and points in the shop's bucket, send it, settle the bucket.
        The answer, and the variables sent (page sizes made explicit and capped)."""
        async with self.pacer.slot(op, variables, self._sleep) as slot:
            answer = await self._transport.send(document, slot.variables)
            slot.report = answer.cost
        usage = self.usage
        usage.requests += 1
        usage.bucket_wait_seconds += slot.waited
        if slot.report is not None:
            usage.points_requested += slot.report.requested
            usage.points_actual += slot.report.actual or 0.0
            self.pacer.learn(op, slot.variables, slot.report.requested)
        self._check_version(answer)
        return answer, slot.variables

    def _throttled_delay(self, answer: ShopifyAnswer, throttles: int) -> float:
        if answer.retry_after is not None:
            return answer.retry_after  # the server's own number, to the millisecond
        report = answer.cost
        if report is not None:
            return throttled_wait(report)
        return _backoff(throttles)  # a bare 429: nothing to compute a wait from

    async def _wait_for_bucket(self, seconds: float) -> None:
        started = self._clock()
        try:
            await self._sleep(seconds)
        finally:
            self.usage.bucket_wait_seconds += max(0.0, self._clock() - started)

    def _halve_a_page_size(self, op: Operation, sent: dict[str, Any], outcome: Outcome) -> None:
        """MAX_COST_EXCEEDED: smaller pages from now on (one warning per operation), or a clear error."""
        self.usage.cost_exceeded += 1
        first_time = op.name not in self.pacer.page_limits
        halved = self.pacer.halve_a_page_size(op, sent)
        if halved is None:
            raise ShopifyBug(
                f"query {op.name} for {self.source_name} exceeds Shopify's single-query cost limit with no page "
                f"size left to halve: {outcome.reason}"
            )
        if first_time:
            log.warning(
                "Shopify refused a query as too costly; asking for smaller pages from now on",
                source=self.source_name,
                query=op.name,
                variable=halved[0],
                page_size=halved[1],
                reason=outcome.reason,
            )

    def _check_version(self, answer: ShopifyAnswer) -> None:
        served = answer.served_version
        if served and served != self.api_version and not self._warned_version:
            self._warned_version = True
            log.warning(
                "Shopify served another API version than requested",
                source=self.source_name,
                requested=self.api_version,
                served=served,
            )


def _backoff(attempt: int) -> float:
    return TEMPORARY_RETRY.delay(attempt)


__all__ = [
    "AuthError",
    "BridgeError",
    "ConfigError",
    "ShopUnavailable",
    "ShopifyClient",
    "ShopifyUsage",
    "TemporaryFailure",
    "endpoint_url",
    "operation_name",
    "parse_cost",
]
