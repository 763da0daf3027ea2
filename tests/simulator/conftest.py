"""Fixtures for the simulator's tests: a running simulator on a manual clock and a small HTTP caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from shopify_bridge.simulator import ManualClock, SimulatorOptions, SimulatorServer

START = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
# A paid order with totals easy to check by hand: 2 × 10 + 5 shipping, no tax, no discount.
PLAIN_ORDER: dict[str, Any] = {
    "lineItems": [{"title": "Board", "price": "10", "quantity": 2}],
    "shipping": "5",
    "taxRate": "0",
    "discountCodes": [],
    "presentmentCurrency": "CAD",
    "financialStatus": "PAID",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Caller:
    """Posts GraphQL and control requests to one simulator, with its token unless told otherwise."""

    def __init__(self, session: aiohttp.ClientSession, sim: SimulatorServer) -> None:
        self.session = session
        self.sim = sim

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        version: str = "2026-07",
        token: str | None = None,
        operation_name: str | None = None,
    ) -> Answer:
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            payload["operationName"] = operation_name
        headers = {"X-Shopify-Access-Token": self.sim.token if token is None else token}
        async with self.session.post(
            f"{self.sim.url}/admin/api/{version}/graphql.json", json=payload, headers=headers
        ) as response:
            return await _answer(response)

    async def data(self, document: str, /, **variables: Any) -> dict[str, Any]:
        """`data` of a query that must succeed without errors."""
        answer = await self.graphql(document, variables)
        assert answer.status == 200, answer.body
        assert "errors" not in answer.body, answer.body
        data: dict[str, Any] = answer.body["data"]
        return data

    async def control(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Answer:
        headers = {"X-Shopify-Access-Token": self.sim.token if token is None else token}
        async with self.session.request(
            method, f"{self.sim.url}/_sim{path}", json=body, headers=headers
        ) as response:
            return await _answer(response)


async def _answer(response: aiohttp.ClientResponse) -> Answer:
    text = await response.text()
    try:
        body: Any = await response.json(content_type=None)
    except ValueError:
        body = text
    return Answer(response.status, dict(response.headers), body)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# The `sim` fixture's shop is kind on two counts, on purpose: each test here drives one feature (paging,
# search, bulk, faults…) with an unpaced HTTP caller, so another app draining the bucket would only make
# it THROTTLED, and a lag drawn per change would make what the search shows depend on the draw. The harsh
# defaults have their own tests (`harsh_sim`, test_harsh_shop.py, test_throttle.py).
KIND = {"search_lag_seconds": 2.0, "competing_app_share": 0.0}


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(orders=24, seed=7, clock=clock, token="shpat_sim_test_token", **KIND) as server:
        yield server


@pytest.fixture
async def caller(sim: SimulatorServer) -> AsyncIterator[Caller]:
    async with aiohttp.ClientSession() as session:
        yield Caller(session, sim)


@pytest.fixture
async def harsh_sim(clock: ManualClock) -> AsyncIterator[SimulatorServer]:
    """The same shop as `sim`, with every harsh behaviour on (SimulatorOptions.harsh())."""
    options = SimulatorOptions.harsh(orders=24, seed=7)
    async with SimulatorServer(options=options, clock=clock, token="shpat_sim_test_token") as server:
        yield server


@pytest.fixture
async def harsh_caller(harsh_sim: SimulatorServer) -> AsyncIterator[Caller]:
    async with aiohttp.ClientSession() as session:
        yield Caller(session, harsh_sim)
