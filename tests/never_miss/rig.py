"""A simulated shop and the bridge's polling side on one virtual clock: what the never-miss test and
`bench/poll.py` drive.

The simulator runs on a `ManualClock`; the bridge's real `ShopifyClient`, `SourcePoller` and a JSONL
`Deliverer` run on the same clock, and every wait of theirs (pacing, retry backoff, the gap until the next
poll, hold or sweep) advances it instead of sleeping. Each request also takes `latency` seconds of that
clock, inside its pacing slot, as a request to Shopify takes a few hundred milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.decide.windows import PollSettings
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import Deliverer
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.retry import Backoff
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.responses import ShopifyAnswer
from shopify_bridge.shopify.transport import GqlTransport, endpoint_url
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.options import SimulatorOptions
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store
from tests.crash.traffic import EXCLUDE_TAG

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
TOKEN = "shpat_never_miss_canary"
SOURCE = "Never Miss"
SHOP = "sim-snowboards.myshopify.com"
API_VERSION = "2026-07"
RETRY = Backoff(base=5.0, cap=120.0, jitter=False)


class Recovered(BridgeObserver):
    def __init__(self) -> None:
        self.lags: list[float] = []

    def order_recovered(self, source: str, lag_seconds: float) -> None:
        self.lags.append(lag_seconds)


class _SlowTransport:
    """Shopify's answer `latency` seconds of the virtual clock after the question."""

    def __init__(self, inner: GqlTransport, clock: ManualClock, latency: float) -> None:
        self.inner = inner
        self.clock = clock
        self.latency = latency

    async def connect(self) -> None:
        await self.inner.connect()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, document: str, variables: dict[str, Any]) -> ShopifyAnswer:
        answer = await self.inner.send(document, variables)
        self.clock.advance(self.latency)
        return answer


@dataclass
class Rig:
    sim: SimulatorServer
    clock: ManualClock
    store: Store
    client: ShopifyClient
    poller: SourcePoller
    deliverer: Deliverer
    workdir: Path
    latency: float
    recovered: Recovered
    failures: int = 0
    _streak: int = 0

    async def advance(self, seconds: float) -> None:
        self.clock.advance(max(0.0, seconds))

    def monotonic(self) -> float:
        return (self.clock() - T0).total_seconds()

    async def run_for(self, seconds: float) -> None:
        """The bridge's source loop for `seconds` of the virtual clock: steps, and waits that advance it."""
        until = self.clock() + timedelta(seconds=seconds)
        while self.clock() < until:
            left = (until - self.clock()).total_seconds()
            try:
                await self.poller.step()
            except BridgeError:
                self.poller.abandon_reads()
                self.failures += 1
                self._streak += 1
                await self.advance(min(RETRY.delay(self._streak), left))
                continue
            self._streak = 0
            await self.advance(min(self.poller.seconds_to_next_step(), (until - self.clock()).total_seconds()))


def context(upsell_delay: int | None) -> SourceContext:
    return SourceContext(
        shop=SHOP,
        name=SOURCE,
        channel_table=DEFAULT_CHANNEL_TABLE,
        rules=ExclusionRules(channels=("pos",), tags=(EXCLUDE_TAG,)),
        upsell_delay_seconds=upsell_delay,
        destinations=("events",),
    )


@asynccontextmanager
async def rig(
    options: SimulatorOptions,
    workdir: Path,
    *,
    upsell_delay: int | None = 600,
    latency: float = 0.25,
    settings: PollSettings | None = None,
    database: Path | str | None = None,
) -> AsyncIterator[Rig]:
    clock = ManualClock(T0)
    async with SimulatorServer(options=options, clock=clock, token=TOKEN) as sim:
        store = Store.open_writer(database or workdir / "bridge.db")

        def monotonic() -> float:
            return (clock() - T0).total_seconds()

        async def advance(seconds: float) -> None:
            clock.advance(max(0.0, seconds))

        transport = GqlTransport(endpoint_url(SHOP, API_VERSION, sim.url), TOKEN, 30.0)
        client = ShopifyClient(
            source_name=SOURCE, shop_domain=SHOP, token=TOKEN, api_version=API_VERSION, api_url=sim.url,
            clock=monotonic, sleep=advance, max_temporary_retries=3,
            transport=_SlowTransport(transport, clock, latency),
        )
        recovered = Recovered()
        poller = SourcePoller(
            context(upsell_delay), client, store, clock, sleep=advance, monotonic=monotonic, observer=recovered,
            settings=settings or PollSettings(poll_interval=timedelta(seconds=15)),
        )
        deliverer = Deliverer(store.outbox, [JsonlDestination("events", workdir / "events.jsonl")], clock)
        try:
            async with client:
                await deliverer.open()
                try:
                    yield Rig(sim, clock, store, client, poller, deliverer, workdir, latency, recovered)
                finally:
                    await deliverer.close()
        finally:
            store.close()
