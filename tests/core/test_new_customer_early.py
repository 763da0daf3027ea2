"""`$is_new_customer` for held orders on a fake clock: looked up while they wait, when the shop's bucket has
points to spare, several to a request; a release never asks Shopify nor waits for points — what is still
unknown then is omitted (PRODUCT.md: "omitted when it cannot be determined")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from shopify_bridge.decide.windows import PollSettings
from shopify_bridge.errors import ShopUnavailable
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.store import Store
from shopify_bridge.timeutil import parse_ts
from tests.core.test_poller_holds import SHOP, T0, context, cycle, events
from tests.fakes import FakeClock, FakeShopify, make_order

HOLD = 600


class Unknowns(BridgeObserver):
    def __init__(self) -> None:
        self.sources: list[str] = []

    def new_customer_unknown(self, source: str) -> None:
        self.sources.append(source)


class BucketShopify(FakeShopify):
    """A client that says what a request costs and how long until the shop's bucket holds it (as
    `ShopifyClient` does): `available` points now, refilled by nothing but what the test sets."""

    available = 2000.0

    def price(self, document: str, variables: dict[str, Any] | None = None) -> float:
        return 10.0 * document.count("ordersCount(") if "ordersCount(" in document else 27.0

    def wait_estimate(self, points: float) -> float:
        return max(0.0, points - self.available) / 20.0  # another app leaves us 20 points a second


def poller_on(database: Path | str, shopify: FakeShopify, clock: FakeClock, observer: BridgeObserver | None = None,
              sleep: Any = None, delay: int | None = HOLD, **more: Any) -> SourcePoller:
    """A poller whose token sees every order (`read_all_orders`: an empty count means a new customer)."""
    if isinstance(database, Path) and database.is_dir():
        database = database / "bridge.db"
    options: dict[str, Any] = {"observer": observer, **more} if observer else dict(more)
    if sleep is not None:
        options["sleep"] = sleep
    store = Store.open_writer(database)
    store.sources.ensure(SHOP, "Demo")
    store.sources.set_scopes(SHOP, {"read_orders", "read_all_orders"})
    return SourcePoller(context(delay=delay), shopify, store, clock, **options)


def lookups(shopify: FakeShopify, since: int = 0) -> list[int]:
    """The `$is_new_customer` requests since `since`: how many orders each asked about."""
    return [len(args) for name, args in shopify.calls[since:] if name.startswith("BridgeEarlierOrders")]


def is_new(poller: SourcePoller) -> dict[str, Any]:
    return {e["properties"]["order_name"]: e["properties"].get("$is_new_customer", "omitted")
            for e in events(poller) if e["event_name"] == "Placed Order"}


async def placed_after_connecting(poller: SourcePoller, shopify: FakeShopify, clock: FakeClock,
                                  *orders: dict[str, Any]) -> None:
    """The source's first connection, then these orders (numbered from 1) placed and polled."""
    await cycle(poller, clock)
    clock.advance(5)
    for number, fields in enumerate(orders, start=1):
        shopify.put(make_order(number, clock(), **fields))
    await cycle(poller, clock)


async def test_a_held_order_is_looked_up_while_it_waits_and_its_release_asks_nothing(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = FakeShopify(clock)
    poller = poller_on(database, shopify, clock)
    await placed_after_connecting(poller, shopify, clock, {})
    assert lookups(shopify) == [1], "asked while held"
    clock.advance(HOLD)
    before = len(shopify.calls)
    await cycle(poller, clock)
    assert lookups(shopify, before) == [], "the release asked nothing"
    assert is_new(poller) == {"#1001": True}


async def test_held_orders_are_asked_about_several_to_a_request(database: Path | str, clock: FakeClock) -> None:
    shopify = FakeShopify(clock)
    shopify.customer_orders_before = 2
    poller = poller_on(database, shopify, clock)
    await placed_after_connecting(poller, shopify, clock, *[{}] * 13)
    assert lookups(shopify) == [10, 3]
    clock.advance(HOLD)
    await cycle(poller, clock)
    assert set(is_new(poller).values()) == {False} and len(is_new(poller)) == 13


async def test_a_customers_later_order_is_settled_from_the_store_without_asking(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = FakeShopify(clock)
    poller = poller_on(database, shopify, clock)
    await placed_after_connecting(poller, shopify, clock, {"email": "ann@example.com"})
    clock.advance(60)
    shopify.put(make_order(2, clock(), email="Ann@Example.com"))
    await cycle(poller, clock)
    clock.advance(HOLD)
    await cycle(poller, clock)
    assert lookups(shopify) == [1]
    assert is_new(poller) == {"#1001": True, "#1002": False}


async def test_with_no_points_to_spare_a_release_goes_on_time_without_the_property(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = BucketShopify(clock)
    shopify.available = 30.0  # less than a lookup plus the reads kept in reserve
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    unknowns = Unknowns()
    poller = poller_on(database, shopify, clock, unknowns, sleep)
    await placed_after_connecting(poller, shopify, clock, {})
    assert lookups(shopify) == [], "no points to spare: not asked while held"
    release_at = poller.store.sql.one("SELECT release_at FROM orders")[0]
    clock.now = parse_ts(release_at)
    with capture_logs() as logs:
        await poller.cycle()
    assert slept == [] and lookups(shopify) == [], "the release neither waited nor asked"
    assert is_new(poller) == {"#1001": "omitted"}
    assert poller.store.sql.one("SELECT released_at FROM orders")[0] == release_at, "released on the second"
    assert unknowns.sources == ["Demo"]
    assert [line["order"] for line in logs if line["event"].startswith("released without $is_new_customer")] == [
        "#1001"]


async def test_points_to_spare_later_are_spent_on_the_orders_still_held(database: Path | str, clock: FakeClock) -> None:
    shopify = BucketShopify(clock)
    shopify.available = 30.0
    poller = poller_on(database, shopify, clock)
    await placed_after_connecting(poller, shopify, clock, {})
    assert poller.seconds_to_next_step() > 0 and lookups(shopify) == []
    shopify.available = 2000.0  # the other app went quiet
    assert poller.seconds_to_next_step() == 0.0
    await poller.step()
    assert lookups(shopify) == [1]
    clock.advance(HOLD)
    await cycle(poller, clock)
    assert is_new(poller) == {"#1001": True}


async def test_an_answer_for_another_customer_is_not_used(database: Path | str, clock: FakeClock) -> None:
    shopify = FakeShopify(clock)
    unknowns = Unknowns()
    poller = poller_on(database, shopify, clock, unknowns)
    await placed_after_connecting(poller, shopify, clock, {"email": "ann@example.com"})
    order = shopify.orders["gid://shopify/Order/5800000000001"]
    assert lookups(shopify) == [1]
    clock.advance(HOLD - 60)
    shopify.edit(order["id"], email="bo@example.com")  # the order changed hands while held
    clock.advance(60)
    before = len(shopify.calls)
    await cycle(poller, clock)
    assert lookups(shopify, before) == []
    assert is_new(poller) == {"#1001": "omitted"} and unknowns.sources == ["Demo"]


async def test_an_order_released_at_once_is_asked_about_only_with_points_to_spare(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = BucketShopify(clock)
    poller = poller_on(database, shopify, clock, delay=None)
    await placed_after_connecting(poller, shopify, clock, {})
    shopify.available = 30.0
    clock.advance(5)
    shopify.put(make_order(2, clock()))
    await cycle(poller, clock)
    assert lookups(shopify) == [1]
    assert is_new(poller) == {"#1001": True, "#1002": "omitted"}


async def test_a_step_woken_for_a_lookup_makes_it_however_small_the_wait_was(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = BucketShopify(clock)
    shopify.available = 30.0
    poller = poller_on(database, shopify, clock)
    await placed_after_connecting(poller, shopify, clock, {})
    shopify.wait_estimate = lambda points: 0.0004  # type: ignore[method-assign]  # below a clock's resolution
    assert poller.seconds_to_next_step() == 0.0
    await poller.step()  # woken at once: it must look up, or a virtual clock would never move on
    assert lookups(shopify) == [1]


async def test_a_failed_lookup_is_tried_again_after_a_while_and_not_before(
    database: Path | str, clock: FakeClock
) -> None:
    shopify = FakeShopify(clock)
    real_execute = shopify.execute

    async def lookups_fail(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "BridgeEarlierOrders" in document:
            raise ShopUnavailable("Shopify unreachable (a test's fault)")
        return await real_execute(document, variables)

    shopify.execute = lookups_fail  # type: ignore[method-assign]
    poller = poller_on(database, shopify, clock, monotonic=lambda: (clock() - T0).total_seconds(),
                       settings=PollSettings(poll_interval=timedelta(hours=1)))  # nothing else due meanwhile
    await placed_after_connecting(poller, shopify, clock, {})
    shopify.execute = real_execute  # type: ignore[method-assign]
    assert lookups(shopify) == [] and poller.seconds_to_next_step() > 25
    await poller.step()
    assert lookups(shopify) == [], "not before its retry time"
    clock.advance(poller.seconds_to_next_step() - 0.0004)  # a clock's rounding short of it: that is the time
    assert poller.seconds_to_next_step() == 0.0
    await poller.step()
    assert lookups(shopify) == [1]
