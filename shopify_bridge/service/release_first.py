"""Holds before reads: the poller's way to Shopify, which releases due holds ahead of every other request.

A poll, a sweep or a refund re-read may take many requests (a flash sale lists and reads page after page);
a hold must still go out within seconds of its time (PRODUCT.md "Never miss an order"). So before each of
those requests, `ReleaseFirst` releases every hold that is due; and when one falls due before the request
could be answered — its wait for the points it and that release need in the shop's bucket, plus
REQUEST_SECONDS — it waits for that hold and releases it first. Right after a release the request goes
out regardless, so that reads go on however many holds fall due one after another. A release itself
asks nothing but its re-read (`$is_new_customer` is looked up while an order is held, `RESERVED` kept).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store
from shopify_bridge.timeutil import Clock

REQUEST_SECONDS = 1.0
"""What one request to Shopify may take once its points are there."""
Request = tuple[str, dict[str, Any] | None]  # a document and its variables
RESERVED: tuple[Request, ...] = ((queries.READ_ORDERS, None), (queries.LIST_ORDERS, None))
"""What a request that can wait (a `$is_new_customer` lookup) leaves in the bucket: a release's re-read and
a listing page can go right after it."""


def bucket_wait(client: object, requests: Sequence[Request]) -> float | None:
    """Seconds until the shop's bucket holds the points of all `requests`, as far as `client` can tell (a
    `ShopifyClient` offers `price` and `wait_estimate`); None for one that cannot say (a test's fake)."""
    price = getattr(client, "price", None)
    wait_estimate = getattr(client, "wait_estimate", None)
    if price is None or wait_estimate is None:
        return None
    return float(wait_estimate(sum(price(document, variables) for document, variables in requests)))


class Releaser(Protocol):
    """What `ReleaseFirst` needs of the poller (`service.poller.SourcePoller`)."""

    ctx: SourceContext
    store: Store
    clock: Clock
    sleep: Callable[[float], Awaitable[None]]

    @property
    def releasing(self) -> bool: ...

    async def release_due(self) -> list[int]: ...


class ReleaseFirst:
    def __init__(self, inner: Executes, poller: Releaser) -> None:
        """`inner` is Shopify; when it offers `price` and `wait_estimate` (a `ShopifyClient`), a request that
        would make a hold late waits for it (through the poller's `sleep`) instead."""
        self.inner = inner
        self.poller = poller

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        await self._holds_first(document, variables)
        return await self.inner.execute(document, variables)

    async def _holds_first(self, document: str, variables: dict[str, Any] | None) -> None:
        poller = self.poller
        if poller.releasing:
            return  # the release's own reads
        shop = poller.ctx.shop
        released = False
        while (due := poller.store.orders.next_release_at(shop)) is not None:
            wait = (due - poller.clock()).total_seconds()
            if wait <= 0:
                await poller.release_due()
                if poller.store.orders.next_release_at(shop) == due:
                    return  # nothing could be released: never spin on it
                released = True
                continue
            if released or wait > self._lead_seconds(document, variables):
                return
            await poller.sleep(wait)
            if poller.clock() < due:
                return  # the sleep was cut short (a stop): go on, the loop decides what happens next

    def _lead_seconds(self, document: str, variables: dict[str, Any] | None) -> float:
        """How long before a hold's time this request must not start: its wait for the points it and the
        release (one re-read by id) need, plus REQUEST_SECONDS. 0 for a client that cannot say (a test's fake)."""
        wait = bucket_wait(self.inner, [(document, variables), (queries.READ_ORDERS, None)])
        return 0.0 if wait is None else wait + REQUEST_SECONDS
