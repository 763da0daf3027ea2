"""The client's rules for the bucket, on virtual time: exact waits, halved pages, counters, prompt stops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.client import ShopifyClient, ShopifyUsage
from shopify_bridge.shopify.cost import operation
from shopify_bridge.shopify.pacing import PACERS, ShopPacer
from tests.shopify.fake_shop import FakeShop, VirtualTime, client_on

POLL = {"query": "updated_at:>='2026-07-01T00:00:00Z'", "after": None}


class Waits:
    """The client's own sleeps (the fake shop's latency sleeps are not the client's), on virtual time."""

    def __init__(self, time: VirtualTime) -> None:
        self.time = time
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await self.time.sleep(seconds)


async def test_after_throttled_the_wait_is_exactly_the_missing_points_over_the_restore_rate() -> None:
    time = VirtualTime()
    shop = FakeShop(time, start_level=100, latency=0.0, price=lambda name, variables: (450, 400))
    waits = Waits(time)
    client = client_on(shop, sleep=waits)  # knows nothing yet: assumes a full bucket and sends
    assert await time.run(client.execute(queries.SHOP_INFO)) == [{"op": "BridgeShopInfo"}]
    assert shop.answered == ["throttled", "ok"]
    assert waits.seconds == [4.0]  # ceil((450 - 100) / 100), and straight on: the bucket holds 500 by then
    assert client.usage == ShopifyUsage(
        requests=2, throttled=1, points_requested=900, points_actual=400, bucket_wait_seconds=4.0
    )


async def test_before_a_request_the_client_waits_until_the_bucket_holds_its_cost() -> None:
    time = VirtualTime()
    shop = FakeShop(time, start_level=2000, latency=0.0, price=lambda name, variables: (799, 799))
    waits = Waits(time)
    client = client_on(shop, sleep=waits)
    await time.run(*(client.execute(queries.SHOP_INFO) for _ in range(3)))
    # 2000 → 1201 → 402: the third waits for the 398 points missing (and one more), never THROTTLED
    assert shop.answered == ["ok", "ok", "ok"] and waits.seconds == [pytest.approx(3.98)]
    assert client.usage.bucket_wait_seconds == pytest.approx(3.98)


def costly_polls(per_line: int) -> Any:
    """A pricing of poll pages that grows with both page sizes (the fake refuses over 1,000 points)."""

    def price(name: str, variables: dict[str, Any]) -> tuple[int, int]:
        cost = 2 + per_line * variables["first"] * variables["lineItemsFirst"]
        return cost, cost // 2

    return price


async def test_max_cost_exceeded_halves_the_largest_page_size_once_and_for_all() -> None:
    time = VirtualTime()
    shop = FakeShop(time, price=costly_polls(per_line=12))
    client = client_on(shop)
    with capture_logs() as logs:
        await time.run(client.execute(queries.POLL_ORDERS, POLL), client.execute(queries.POLL_ORDERS, POLL))
    sizes = [(v["first"], v["lineItemsFirst"]) for _, v in shop.sent]
    assert sizes == [(10, 10), (5, 10), (5, 10)]  # the later request asks for the smaller page at once
    assert shop.answered == ["too_costly", "ok", "ok"]
    assert client.usage.cost_exceeded == 1
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["query"] == "BridgePollOrders" and warnings[0]["page_size"] == 5
    another = client_on(shop)  # another client of the shop (a backfill, a release) knows it too
    await time.run(another.execute(queries.POLL_ORDERS, POLL))
    assert shop.sent[-1][1]["first"] == 5


async def test_max_cost_exceeded_keeps_halving_and_warns_once_per_operation() -> None:
    time = VirtualTime()
    shop = FakeShop(time, price=costly_polls(per_line=24))
    client = client_on(shop)
    with capture_logs() as logs:
        await time.run(client.execute(queries.POLL_ORDERS, POLL))
    sizes = [(v["first"], v["lineItemsFirst"]) for _, v in shop.sent]
    assert sizes == [(10, 10), (5, 10), (5, 5)]  # halving the largest each time: 2402, 1202, then 602 fits
    assert len([e for e in logs if e["log_level"] == "warning"]) == 1


async def test_no_page_size_left_to_halve_is_one_clear_error() -> None:
    time = VirtualTime()
    shop = FakeShop(time, price=lambda name, variables: (1500, 0))
    client = client_on(shop)
    with pytest.raises(BridgeError) as caught:
        await time.run(client.execute(queries.POLL_ORDERS, POLL))
    assert [(v["first"], v["lineItemsFirst"]) for _, v in shop.sent][-1] == (1, 1)
    assert "BridgePollOrders for Main exceeds Shopify's single-query cost limit with no page size" in str(caught.value)
    with pytest.raises(BridgeError, match="no page size left to halve"):  # no page size at all: nothing to halve
        await time.run(client.execute(queries.SHOP_INFO))


async def test_a_caller_page_size_is_sent_as_given_and_defaults_are_sent_explicitly() -> None:
    time = VirtualTime()
    shop = FakeShop(time)
    client = client_on(shop)
    await time.run(client.execute(queries.READ_ORDER, {"id": "gid://shopify/Order/1"}))
    await time.run(client.execute(queries.ORDER_LINE_ITEMS_PAGE, {"id": "gid://shopify/Order/1", "first": 30}))
    assert [v for _, v in shop.sent] == [
        {"id": "gid://shopify/Order/1", "lineItemsFirst": 10},
        {"id": "gid://shopify/Order/1", "first": 30},
    ]


def test_the_requested_cost_is_learned_per_operation_and_page_sizes() -> None:
    pacer = ShopPacer(lambda: 0.0)
    read = operation(queries.READ_ORDER)
    assert pacer.estimate(read, {"lineItemsFirst": 10}) == 27  # the model's price before any answer
    pacer.learn(read, {"lineItemsFirst": 10}, 54)  # Shopify charged twice the model
    assert pacer.estimate(read, {"lineItemsFirst": 10}) == 54
    assert pacer.estimate(read, {"lineItemsFirst": 2}) == 2 * read.requested_cost({"lineItemsFirst": 2})
    assert pacer.estimate(operation(queries.SHOP_INFO), {}) == 3  # other operations: the model


def test_every_client_of_a_shop_shares_one_pacer_on_one_clock() -> None:
    from shopify_bridge.config.model import Source
    from shopify_bridge.service.clients import client_for

    def clock() -> float:
        return 0.0

    def make(shop: str, on: Any = clock) -> ShopifyClient:
        return ShopifyClient(source_name="s", shop_domain=shop, token="t", api_version="2026-07", clock=on)

    first, second = make("a.myshopify.com"), make("A.myshopify.com")
    assert first.pacer is second.pacer and first.bucket is second.bucket
    assert make("b.myshopify.com").pacer is not first.pacer
    assert make("a.myshopify.com", on=lambda: 0.0).pacer is not first.pacer  # times of another clock
    assert PACERS.for_shop("a.myshopify.com", None, clock) is first.pacer
    source = Source.model_validate(
        {"name": "Main", "store": "c.myshopify.com", "access_token": "shpat_x", "api_version": "2026-07"}
    )
    assert client_for(source, clock=clock).pacer is client_for(source, clock=clock).pacer


class Stopped(Exception):
    """What a stop makes the bridge's sleep raise (a cancellation works the same way)."""


@pytest.mark.parametrize("stop", [Stopped, asyncio.CancelledError])
async def test_a_stop_ends_a_wait_for_the_bucket_at_once_and_frees_the_bucket(stop: type[BaseException]) -> None:
    time = VirtualTime()
    shop = FakeShop(time, start_level=0, price=lambda name, variables: (500, 500))

    async def stopping(seconds: float) -> None:
        raise stop()

    client = client_on(shop, sleep=stopping)
    with pytest.raises(stop):
        await time.run(client.execute(queries.SHOP_INFO))  # THROTTLED, then the wait is stopped
    with pytest.raises(stop):
        await time.run(client.execute(queries.SHOP_INFO))  # now the pacing wait before sending is stopped
    assert shop.answered == ["throttled"]
    assert client.bucket.reserved == 0 and client.bucket.in_flight == 0
    patient = client_on(shop)  # the shop's gate is free for the next client
    await time.run(patient.execute(queries.SHOP_INFO))
    assert shop.answered == ["throttled", "ok"]


async def test_cancelling_a_request_in_flight_gives_its_points_back() -> None:
    time = VirtualTime()
    shop = FakeShop(time, latency=10.0)
    client = client_on(shop)
    task = asyncio.ensure_future(client.execute(queries.POLL_ORDERS, POLL))
    for _ in range(10):
        await asyncio.sleep(0)
    assert client.bucket.reserved == 110
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.bucket.reserved == 0


async def test_a_sleep_cut_short_never_turns_into_a_busy_loop() -> None:
    """A stop may make the injected sleep return at once: the client goes on, it does not spin."""
    time = VirtualTime()
    shop = FakeShop(time, start_level=0, latency=0.0, price=lambda name, variables: (500, 500))
    cut: list[float] = []

    async def returns_at_once(seconds: float) -> None:
        cut.append(seconds)

    client = client_on(shop, sleep=returns_at_once)
    client.bucket.available, client.bucket.observed_at = 0.0, 0.0  # known to be empty: must wait first
    with pytest.raises(BridgeError, match="still throttled"):
        await time.run(client.execute(queries.SHOP_INFO))
    # one cut-short wait before each try, and one after each THROTTLED but the last
    assert len(shop.answered) == 31 and len(cut) == 31 + 30
