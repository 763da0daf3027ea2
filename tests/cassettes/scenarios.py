"""The recorded scenarios: one function per cassette, run live by the recorder and replayed by the tests.

Each scenario drives the bridge's real client code (`ShopifyClient`, `check_source`, `SourcePoller`)
through a `Harness`. While recording (`scripts/record_cassettes.py`) the harness talks to a running
simulator and `harness.shop` is its state, so the scenario can change the shop between cycles; on
replay `harness.shop` is None, those changes are skipped, and the cassette answers instead. Both
runs share one clock sequence (a `ManualClock` from `T0`, moved only by the scenario and by the
client's throttle waits), so every request — search windows included — is the same, byte for byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import BridgeError
from shopify_bridge.service.check import CheckReport, check_source
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.queries import SHOP_INFO
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.shop import SimulatorState
from shopify_bridge.store import Store

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
SEED = 7
# Canaries: a test proves that neither token, nor the header carrying it, is in any cassette.
TOKEN = "shpat_canary_cassettes_7c1e0f5a"
REVOKED_TOKEN = "shpat_canary_revoked_9d2a4b61"
SHOP = "sim-snowboards.myshopify.com"
SOURCE = "Sim Store"
API_VERSION = "2026-07"
SCRUB_KEY = b"shopify-bridge test cassettes"  # fixed, so that re-recording reproduces the same files
NEW_ORDERS = 11  # one more than a poll page
UPSELL_DELAY = 600
SEARCH_LAG = 2.0


@dataclass
class Harness:
    """What a scenario needs: a clock, clients to one endpoint, a temp store, and (live only) the shop."""

    api_url: str
    workdir: Path
    shop: SimulatorState | None = None
    clock: ManualClock = field(default_factory=lambda: ManualClock(T0))
    waits: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        """The client's throttle waits pass on the shared clock, never in real time."""
        self.waits.append(seconds)
        self.clock.advance(seconds)

    @property
    def database(self) -> Path:
        return self.workdir / "bridge.db"

    def monotonic(self) -> float:
        return (self.clock() - T0).total_seconds()

    def client(self, token: str = TOKEN) -> ShopifyClient:
        return ShopifyClient(
            source_name=SOURCE,
            shop_domain=SHOP,
            token=token,
            api_version=API_VERSION,
            api_url=self.api_url,
            clock=self.monotonic,
            sleep=self.sleep,
        )

    @asynccontextmanager
    async def poller(self, upsell_delay: int | None = None) -> AsyncIterator[SourcePoller]:
        ctx = SourceContext(
            shop=SHOP,
            name=SOURCE,
            channel_table=DEFAULT_CHANNEL_TABLE,
            rules=ExclusionRules(channels=("pos",), tags=("Exclude",)),
            upsell_delay_seconds=upsell_delay,
            destinations=("events-file",),
        )
        store = Store.open_writer(self.database)
        try:
            async with self.client() as client:
                yield SourcePoller(ctx, client, store, self.clock, sleep=self.sleep)
        finally:
            store.close()


async def check(h: Harness) -> CheckReport:
    async with h.client() as client:
        return await check_source(client, SOURCE, SHOP, start_date=None, today=T0.date())


async def unauthorized(h: Harness) -> BridgeError:
    """A revoked token: Shopify answers 401 with a string `errors` body."""
    async with h.client(REVOKED_TOKEN) as client:
        try:
            await client.execute(SHOP_INFO)
        except BridgeError as exc:
            return exc
    raise AssertionError("the revoked token was accepted")


async def throttled(h: Harness) -> dict[str, Any]:
    """THROTTLED (HTTP 200, no data) on the first try, then the answer."""
    if h.shop is not None:
        h.shop.inject("throttled", operation="BridgeShopInfo")
    async with h.client() as client:
        return await client.execute(SHOP_INFO)


async def poll_pages(h: Harness) -> None:
    """First connection, then NEW_ORDERS web orders (one refunded) polled in two pages and released."""
    async with h.poller() as poller:
        await poller.cycle()  # connects at T0: nothing in the window yet
        if h.shop is not None:
            orders = [h.shop.create_order(sourceName="web", test=False, tags=[]) for _ in range(NEW_ORDERS)]
            refunded = next(o for o in orders if o["displayFinancialStatus"] == "PAID")
            line = refunded["lineItems"][0]
            h.shop.refund(
                refunded["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}]
            )
        h.clock.advance(SEARCH_LAG + 3)
        await poller.cycle()


async def hold_release(h: Harness) -> None:
    """Upsell delay on: an order is held, gains an upsell line at minute 7, and is re-read at release."""
    async with h.poller(upsell_delay=UPSELL_DELAY) as poller:
        await poller.cycle()
        order = h.shop.create_order(sourceName="web", test=False, tags=[]) if h.shop is not None else None
        h.clock.advance(SEARCH_LAG + 3)
        await poller.cycle()  # held
        h.clock.advance(7 * 60)
        if h.shop is not None and order is not None:
            h.shop.add_line_item(order["id"])
        h.clock.advance(UPSELL_DELAY - 7 * 60)
        await poller.cycle()  # due: read again by id and released with the upsell line


SCENARIOS: dict[str, Callable[[Harness], Awaitable[Any]]] = {
    "check": check,
    "unauthorized": unauthorized,
    "throttled": throttled,
    "poll_pages": poll_pages,
    "hold_release": hold_release,
}
