"""The settler's own reads: refunds whose order does not change, read on their backoff, batched."""

from __future__ import annotations

from pathlib import Path

from shopify_bridge.service.poller import SourcePoller
from tests.core.test_poller_holds import T0, _refund, context, events, poller_for
from tests.fakes import FakeClock, FakeShopify, make_order


def reads(shopify: FakeShopify) -> list[list[str]]:
    return [variables["ids"] for name, variables in shopify.calls if name == "BridgeReadRefunds"]


async def connected(database: Path | str, *numbers: int) -> tuple[FakeClock, FakeShopify, SourcePoller, list[dict]]:  # type: ignore[type-arg]
    """A first connection, then these orders polled and released."""
    clock = FakeClock(T0)
    shopify = FakeShopify(clock)
    poller = poller_for(database, shopify, clock, context(delay=None))
    await poller.cycle()
    clock.advance(5)
    orders = [shopify.put(make_order(n, clock())) for n in numbers]
    await poller.cycle()
    return clock, shopify, poller, orders


async def test_pending_refunds_of_unchanged_orders_are_read_together_on_their_backoff(database: Path | str) -> None:
    clock, shopify, poller, orders = await connected(database, 1, 2)
    clock.advance(5)
    details = []
    for number, order in enumerate(orders, start=70):
        summary, detail = _refund(order, number, "10.0", status="PENDING")
        shopify.refund_details[summary["id"]] = detail
        shopify.edit(order["id"], refunds=[summary])
        details.append(detail)
    await poller.cycle()
    assert len(reads(shopify)) == 1                                  # both in the poll's one batch
    shopify.calls.clear()
    clock.advance(600)                                               # the orders leave the poll window
    shopify.put(make_order(3, clock()))
    await poller.cycle()
    assert reads(shopify) == [["gid://shopify/Refund/70", "gid://shopify/Refund/71"]]    # due: one batch
    for detail in details:
        detail["transactions"]["nodes"][0]["status"] = "SUCCESS"
    shopify.calls.clear()
    clock.advance(60)
    await poller.cycle()
    assert reads(shopify) == []                                      # the next read is 2 minutes after
    clock.advance(60)
    await poller.cycle()
    assert len(reads(shopify)) == 1
    assert [e["event_name"] for e in events(poller)].count("Received Refund") == 2


async def test_a_refund_shopify_does_not_return_is_asked_again_on_the_backoff(database: Path | str) -> None:
    clock, shopify, poller, [order] = await connected(database, 1)
    summary, _detail = _refund(order, 80, "10.0")
    shopify.edit(order["id"], refunds=[summary])                     # no details to be had
    await poller.cycle()
    shopify.calls.clear()
    clock.advance(600)
    shopify.put(make_order(2, clock()))
    for _ in range(30):
        await poller.cycle()
        clock.advance(60)
    row = poller.store.sql.one("SELECT status, waits_for, read_attempts FROM refunds")
    assert row is not None and row[:2] == ("waiting", "details")
    assert len(reads(shopify)) <= 6                                   # 30 minutes: after 1, 2, 4, 8, 16 minutes
