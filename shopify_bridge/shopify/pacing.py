"""One pacer per shop and process, shared by every client of that shop.

Shopify keeps one cost bucket per app and store, whatever the request is for (PRODUCT.md "API cost":
poll, backfill, lookups, `check`, `reconcile`). So every `ShopifyClient` of a shop takes its `ShopPacer`
from one registry: the bucket model, what each operation was charged, and the page sizes that had to be
halved after MAX_COST_EXCEEDED are learned once and used by all.

Before a request, `ShopPacer.slot` waits (through the client's injected sleep, which a stop can cut short
or cancel) until the bucket holds the request's cost, then reserves it until the answer comes. The gate is
first come, first served and lets one request per shop out at a time, so concurrent requests go one after
another as the points come back instead of all at once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from msgspec import Struct, field

from shopify_bridge.shopify.cost import Operation
from shopify_bridge.shopify.throttle import Bucket, CostReport

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
PageKey = tuple[str, tuple[tuple[str, Any], ...]]

UNPRICED_COST = 50.0  # a document the model cannot read (Shopify refuses it at no cost anyway)
MAX_PACING_ROUNDS = 4  # a wait is re-checked: the margin or the refill estimate may have moved meanwhile
CLOCK_TOLERANCE = 0.001


def page_key(operation: Operation, variables: Mapping[str, Any]) -> PageKey:
    return operation.name, tuple((name, variables.get(name)) for name in operation.page_defaults)


class Slot(Struct):
    """A request's turn: the variables to send, its reserved cost, how long it waited, Shopify's report."""

    variables: dict[str, Any]
    cost: float
    waited: float = 0.0
    report: CostReport | None = None


class ShopPacer(Struct, weakref=True):  # weakref: `ShopPacers` holds them weakly
    clock: Clock
    bucket: Bucket = field(default_factory=Bucket)
    costs: dict[PageKey, float] = field(default_factory=dict)
    """`requestedQueryCost` Shopify reported, per operation and page sizes."""
    model_error: dict[str, float] = field(default_factory=dict)
    """Per operation: Shopify's charge over the model's, applied to page sizes not seen yet."""
    page_limits: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per operation: page sizes halved after MAX_COST_EXCEEDED, for every later request of it."""
    _gate: asyncio.Lock | None = None
    _gate_loop: asyncio.AbstractEventLoop | None = None

    def estimate(self, operation: Operation, variables: Mapping[str, Any]) -> float:
        """The requested cost of this request: as charged before, else the model's price (corrected)."""
        known = self.costs.get(page_key(operation, variables))
        if known is not None:
            return known
        modelled = operation.requested_cost(variables)
        if modelled is None:
            return UNPRICED_COST
        return modelled * max(1.0, self.model_error.get(operation.name, 1.0))

    def learn(self, operation: Operation, variables: Mapping[str, Any], requested: float) -> None:
        if requested <= 0:
            return
        self.costs[page_key(operation, variables)] = requested
        modelled = operation.requested_cost(variables)
        if modelled:
            self.model_error[operation.name] = requested / modelled

    def with_page_sizes(self, operation: Operation, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        """The variables to send: every page size explicit (the declared default unless given), capped by
        what MAX_COST_EXCEEDED taught about the operation."""
        sent = dict(variables or {})
        limits = self.page_limits.get(operation.name, {})
        for name, default in operation.page_defaults.items():
            size = sent.get(name, default)
            if isinstance(size, int) and not isinstance(size, bool):
                sent[name] = min(size, limits.get(name, size))
        return sent

    def halve_a_page_size(self, operation: Operation, sent: Mapping[str, Any]) -> tuple[str, int] | None:
        """After MAX_COST_EXCEEDED: halve the request's largest page size for every later request of the
        operation; the variable and its new size, or None when every page size is down to 1 already."""
        sizes = [(sent[name], name) for name in operation.page_defaults if isinstance(sent.get(name), int)]
        largest = max((size for size, _ in sizes if size > 1), default=None)
        if largest is None:
            return None
        name = next(name for size, name in sizes if size == largest)
        self.page_limits.setdefault(operation.name, {})[name] = largest // 2
        return name, largest // 2

    @asynccontextmanager
    async def slot(
        self, operation: Operation, variables: Mapping[str, Any] | None, sleep: Sleep
    ) -> AsyncIterator[Slot]:
        """Wait for this shop's turn and for the request's points, hold them while it runs, settle on exit.

        One request per shop is in flight at a time: Shopify's bucket serves one after another anyway, and
        so every report follows from the one before by exactly one known charge, which is what lets the
        bucket measure its real refill. Callers queue first come, first served, each for its own cost.
        """
        async with self._lock():
            # Priced once it is our turn: the answer to the request before may just have taught us the cost
            # or a smaller page size.
            sent = self.with_page_sizes(operation, variables)
            slot = Slot(sent, self.estimate(operation, sent))
            for _ in range(MAX_PACING_ROUNDS):
                wait = self.bucket.wait_for(slot.cost, self.clock())
                if wait < CLOCK_TOLERANCE:
                    break
                started = self.clock()
                await sleep(wait)
                slept = self.clock() - started
                slot.waited += slept
                if slept + CLOCK_TOLERANCE < wait:  # cut short (a stop), or a clock that does not move: no spin
                    break
            self.bucket.reserve(slot.cost)
            try:
                yield slot
            finally:
                self.bucket.release(slot.cost, slot.report, self.clock())

    def _lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to the loop that first waits on it; a pacer may outlive one loop (tests).
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate, self._gate_loop = asyncio.Lock(), loop
        return self._gate


class ShopPacers:
    """The registry: one pacer per shop and clock, alive while any client of the shop is."""

    def __init__(self) -> None:
        self._pacers: weakref.WeakValueDictionary[tuple[str, str, Clock], ShopPacer] = weakref.WeakValueDictionary()

    def for_shop(self, shop_domain: str, api_url: str | None, clock: Clock) -> ShopPacer:
        """The shop's pacer (whatever the API version). Its times are readings of `clock`, so a client on
        another clock (a test's fake one) gets a pacer of its own; in a process, clients share one clock."""
        key = (shop_domain.lower(), (api_url or "").rstrip("/").lower(), clock)
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = ShopPacer(clock)
            self._pacers[key] = pacer
        return pacer


PACERS = ShopPacers()
