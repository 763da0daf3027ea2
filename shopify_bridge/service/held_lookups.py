"""`$is_new_customer` for held orders, looked up while they wait: never at their release, never waiting.

A release builds its Placed Order from a fresh read of the order and asks Shopify nothing else (a hold must
not be late behind a request). So each held order's property is looked up before its time, earliest release
first, several orders to a request (`service.new_customers`), and only with points the shop's bucket can
spare after keeping a release's and a listing's (`release_first.RESERVED`). An order taken in and released
at once gets it from the store, or from Shopify when the points are there now; one still unknown at its
release is omitted, logged and counted. After a failed request the next try waits `LOOKUP_RETRY_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.observe.log import get_logger
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.service import new_customers
from shopify_bridge.service.release_first import RESERVED, bucket_wait
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.store import Store

log = get_logger(component="poller")

CLOCK_TOLERANCE = 0.001  # a moment this close is now: a wait shorter than a clock's resolution never spins
LOOKUP_RETRY_SECONDS = 30.0  # after a failed `$is_new_customer` request, the next try (a release never waits)


class HeldLookups:
    """One source's lookups. `client` sends them (the poller's, which releases what is due first);
    `shopify` is the client whose cost bucket says what can be spared; `monotonic` times the retry."""

    def __init__(
        self,
        ctx: SourceContext,
        client: Executes,
        shopify: Executes,
        store: Store,
        monotonic: Callable[[], float],
        observer: BridgeObserver,
    ) -> None:
        self.ctx, self.client, self.shopify, self.store = ctx, client, shopify, store
        self.monotonic, self.observer = monotonic, observer
        self._resume_at = float("-inf")  # on `monotonic`: no lookups before (after a failed one)

    async def look_up(self) -> int:
        """Look up `$is_new_customer` for held orders that lack it, earliest release first, several to a
        request, while the shop's bucket has points to spare (never waiting for them: the rest waits for a
        later step); each answer is kept on its order for the release. How many orders got one."""
        if self.monotonic() < self._resume_at - CLOCK_TOLERANCE:  # as the poller's next-step wait judges it
            return 0
        done = 0
        while held := self.store.customers.awaiting_answer(self.ctx.shop, queries.EARLIER_ORDERS_BATCH):
            settled = new_customers.settle_locally(self.store, self.ctx, held)
            asked = settled.to_ask[: self._affordable(len(settled.to_ask))]
            answers = await new_customers.ask(self.client, self.store, self.ctx, asked) if asked else {}
            facts = {**settled.facts, **answers}
            new_customers.keep_answers(self.store, self.ctx, held, facts)
            done += len(facts)
            if len(answers) < len(asked):  # a request failed: try again a while later
                self._resume_at = self.monotonic() + LOOKUP_RETRY_SECONDS
                break
            if len(asked) < len(settled.to_ask):  # no points to spare now
                break
        return done

    async def now(self, docs: list[OrderDoc]) -> dict[str, bool | None]:
        """The property of orders about to be released as they are taken in: from the store, else asked of
        Shopify when the bucket has the points to spare; omitted (counted) otherwise."""
        if not docs:
            return {}
        settled = new_customers.settle_locally(self.store, self.ctx, docs)
        asked = settled.to_ask[: self._affordable(len(settled.to_ask))]
        answers = await new_customers.ask(self.client, self.store, self.ctx, asked) if asked else {}
        for doc in settled.to_ask:
            if doc["id"] not in answers:
                self.released_unknown(doc)
        return {**settled.facts, **answers}

    def released_unknown(self, doc: OrderDoc) -> None:
        log.info("released without $is_new_customer: not looked up in time", source=self.ctx.name,
                 order=doc.get("name"))
        self.observer.new_customer_unknown(self.ctx.name)

    def wait(self) -> float | None:
        """Seconds until held orders lacking `$is_new_customer` can be looked up; None when none lack it."""
        if not self.store.customers.awaiting_answer(self.ctx.shop, 1):
            return None
        wait = bucket_wait(self.shopify, [(queries.earlier_orders(1), None), *RESERVED]) or 0.0
        return max(wait, self._resume_at - self.monotonic())

    def _affordable(self, wanted: int) -> int:
        """How many of `wanted` lookups the bucket can pay for now, keeping a release's and a listing's points."""
        for count in range(wanted, 0, -1):
            wait = bucket_wait(self.shopify, [(queries.earlier_orders(count), None), *RESERVED])
            if wait is None or wait < CLOCK_TOLERANCE:  # as the poller's next-step wait judges it: never a spin
                return count
        return 0
