"""A fake Shopify bucket on virtual time, behind a fake transport, to drive the real `ShopifyClient`.

The bucket follows the rules of API notes §3.1/§3.2: a query needs its requested cost in the bucket
or is THROTTLED (HTTP 200, no data, nothing taken, `actualQueryCost: null`); otherwise the requested
cost is taken and the difference to the actual cost given back; over 1,000 points is MAX_COST_EXCEEDED;
`currentlyAvailable` is reported in whole points. It refills at `restoreRate` up to the maximum, but a
competing app takes its share of that restore — steadily, or in bursts — while the report keeps
showing the full `restoreRate` (PRODUCT.md "API cost").

Nothing here is shared with the client: the fake prices queries from its own table.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from shopify_bridge.shopify import queries
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.responses import ShopifyAnswer

# (requested, actual) per operation at the default page sizes, as Shopify's model prices the bridge's queries.
PRICES = {
    "BridgePollOrders": (106, 58),
    "BridgeReadOrder": (26, 14),
    "BridgeOrderLineItems": (43, 23),
    "BridgeReadRefunds": (44, 20),
    "BridgeOrdersCount": (10, 10),
    "BridgeShopInfo": (3, 3),
}
SINGLE_QUERY_MAX = 1000
NAME = re.compile(r"\b(?:query|mutation)\s+(\w+)")


class VirtualTime:
    """One clock for every task: a sleep ends, instantly, when everything else waits and it is the earliest."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._wakes: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._wakes, (self.now + max(0.0, seconds), self._count, wake))
        self._count += 1
        await wake

    async def run(self, *work: Awaitable[Any], background: tuple[Coroutine[Any, Any, Any], ...] = ()) -> list[Any]:
        """Run `work` to the end on virtual time (background tasks are cancelled then); their results."""
        tasks = [asyncio.ensure_future(w) for w in work]
        helpers = [asyncio.ensure_future(b) for b in background]
        try:
            while not all(t.done() for t in tasks):
                for _ in range(30):  # let every task run until it waits again
                    await asyncio.sleep(0)
                if all(t.done() for t in tasks):
                    break
                while self._wakes and self._wakes[0][2].done():
                    heapq.heappop(self._wakes)  # a cancelled sleep
                assert self._wakes, "every task waits and no sleep is pending"
                wake_at, _, wake = heapq.heappop(self._wakes)
                self.now = max(self.now, wake_at)
                wake.set_result(None)
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        return [t.result() for t in tasks]


Price = Callable[[str, dict[str, Any]], tuple[int, int]]


def table_price(name: str, variables: dict[str, Any]) -> tuple[int, int]:
    return PRICES[name]


class FakeShop:
    def __init__(
        self,
        time: VirtualTime,
        *,
        maximum: int = 2000,
        restore_rate: int = 100,
        competitor_share: float = 0.0,
        start_level: float | None = None,
        latency: float = 0.2,
        price: Price = table_price,
    ) -> None:
        self.time = time
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.steady_share = competitor_share
        self.level = float(maximum if start_level is None else start_level)
        self.as_of = time.now
        self.latency = latency
        self.price = price
        self.answered: list[str] = []  # "ok", "throttled" or "too_costly", in order
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def _refill(self) -> None:
        restored = (self.time.now - self.as_of) * self.restore_rate * (1.0 - self.steady_share)
        self.level = min(float(self.maximum), self.level + restored)
        self.as_of = self.time.now

    async def bursty_competitor(self, share: float, period: float) -> None:
        """Another app that wakes every `period` s and takes `share` of that period's restore, if it is there."""
        while True:
            await self.time.sleep(period)
            self._refill()
            self.level -= min(self.level, share * self.restore_rate * period)

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.level + 1e-9),
            "restoreRate": self.restore_rate,
        }
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}}

    async def answer(self, document: str, variables: dict[str, Any]) -> ShopifyAnswer:
        await self.time.sleep(self.latency / 2)  # on its way
        match = NAME.search(document)
        name = match.group(1) if match else "anonymous"
        self.sent.append((name, dict(variables)))
        requested, actual = self.price(name, variables)
        self._refill()
        if requested > SINGLE_QUERY_MAX:
            message = f"Query cost is {requested}, which exceeds the single query max cost limit ({SINGLE_QUERY_MAX})."
            errors = [{"message": message, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested}}]
            answer = ShopifyAnswer(status=200, errors=errors, extensions=self._cost(requested, None))
            self.answered.append("too_costly")
        elif requested > self.level:
            errors = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]
            answer = ShopifyAnswer(status=200, errors=errors, extensions=self._cost(requested, None))
            self.answered.append("throttled")
        else:
            self.level -= actual  # requested held, the difference refunded once it ran
            answer = ShopifyAnswer(status=200, data={"op": name}, extensions=self._cost(requested, actual))
            self.answered.append("ok")
        await self.time.sleep(self.latency / 2)  # on its way back
        return answer

    def transport(self) -> FakeTransport:
        return FakeTransport(self)


class FakeTransport:
    def __init__(self, shop: FakeShop) -> None:
        self.shop = shop

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, document: str, variables: dict[str, Any]) -> ShopifyAnswer:
        return await self.shop.answer(document, variables)


SHOP_DOMAIN = "fake-shop.myshopify.com"


def client_on(
    shop: FakeShop, *, sleep: Callable[[float], Awaitable[None]] | None = None, **options: Any
) -> ShopifyClient:
    """The real `ShopifyClient`, on the shop's virtual clock, talking to the fake shop."""
    return ShopifyClient(
        source_name="Main",
        shop_domain=SHOP_DOMAIN,
        token="shpat_fake_0000000000",
        api_version="2026-07",
        clock=shop.time,
        sleep=sleep or shop.time.sleep,
        transport=shop.transport(),
        **options,
    )


# What the bridge sends in a poll cycle, round and round: a page, a read by id, a refund, more line items,
# a new-customer count.
WORKLOAD = [
    (queries.POLL_ORDERS, {"query": "updated_at:>='2026-07-01T00:00:00Z'", "after": None}),
    (queries.READ_ORDER, {"id": "gid://shopify/Order/1"}),
    (queries.READ_REFUNDS, {"ids": ["gid://shopify/Refund/1"]}),
    (queries.ORDER_LINE_ITEMS_PAGE, {"id": "gid://shopify/Order/1", "after": "cursor"}),
    (queries.ORDERS_COUNT, {"query": "email:a@example.invalid"}),
]


async def send_workload(
    clients: list[ShopifyClient], shop: FakeShop, requests: int, bursts: tuple[float, float] | None = None
) -> None:
    """`requests` queries of the workload, shared out between `clients` running at once; `bursts` =
    (share, period) adds a competitor that takes its share of the restore every `period` seconds."""

    async def one_client(index: int, client: ShopifyClient) -> None:
        for n in range(index, requests, len(clients)):
            document, variables = WORKLOAD[n % len(WORKLOAD)]
            assert await client.execute(document, variables)

    background = (shop.bursty_competitor(*bursts),) if bursts else ()
    await shop.time.run(*(one_client(i, c) for i, c in enumerate(clients)), background=background)
