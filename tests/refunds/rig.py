"""A simulated shop and the bridge's poller against it over HTTP, on one manual clock (no sleeping)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.client import ShopifyClient, operation_name
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.shop import SimulatorState
from shopify_bridge.store import Store

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
SHOP = "sim-snowboards.myshopify.com"
TOKEN = "shpat_sim_refunds_rig"
CONTEXT = SourceContext(shop=SHOP, name="Sim", channel_table=DEFAULT_CHANNEL_TABLE, destinations=("events-file",))


class Recording:
    """The client, keeping the name of each operation sent (to count requests by kind)."""

    def __init__(self, client: ShopifyClient) -> None:
        self.inner = client
        self.sent: list[str] = []

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.sent.append(operation_name(document))
        return await self.inner.execute(document, variables)

    def count(self, name: str) -> int:
        return self.sent.count(name)


@dataclass
class Rig:
    sim: SimulatorServer
    clock: ManualClock
    client: Recording
    store: Store
    ctx: SourceContext = CONTEXT

    @property
    def shop(self) -> SimulatorState:
        return self.sim.state

    def poller(self, **changes: Any) -> SourcePoller:
        ctx = replace(self.ctx, **changes) if changes else self.ctx
        return SourcePoller(ctx, self.client, self.store, self.clock)

    async def cycle(self, advance: float = 0, **changes: Any) -> None:
        if advance:
            self.clock.advance(advance)
        await self.poller(**changes).cycle()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.sql.all("SELECT event_name, payload FROM events ORDER BY seq")
        return [json.loads(payload) for event_name, payload in rows if name in (None, event_name)]

    def refund_rows(self) -> dict[str, dict[str, Any]]:
        rows = self.store.sql.dicts("SELECT * FROM refunds ORDER BY refund_id")
        return {str(row["refund_id"]): row for row in rows}



@asynccontextmanager
async def running_rig(database: Path | str, **options: Any) -> AsyncIterator[Rig]:
    """The rig on `database`: an SQLite file or a PostgreSQL URL (the `database` fixture's)."""
    clock = ManualClock(T0)
    settings: dict[str, Any] = {"orders": 0, "seed": 7, "search_lag_seconds": 0, **options}
    async with SimulatorServer(token=TOKEN, clock=clock, **settings) as sim:

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)
            await asyncio.sleep(0)

        client = ShopifyClient(source_name="Sim", shop_domain=SHOP, token=TOKEN, api_version="2026-07",
                               api_url=sim.url, sleep=sleep)
        store = Store.open_writer(database)
        try:
            async with client:
                yield Rig(sim, clock, Recording(client), store)
        finally:
            store.close()


def paid_order(shop: SimulatorState, lines: int = 2, **fields: Any) -> dict[str, Any]:
    """A paid web order with `lines` custom line items of 10 each, no tax, 5 shipping, in the shop currency."""
    spec: dict[str, Any] = {
        "sourceName": "web", "test": False, "tags": [], "financialStatus": "PAID", "taxRate": "0",
        "shipping": "5", "discountCodes": [], "presentmentCurrency": shop.shop["currencyCode"],
        "lineItems": [{"title": f"Board {n}", "price": "10", "quantity": 1} for n in range(lines)],
        **fields,
    }
    return shop.create_order(**spec)


def every_line(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"lineItemId": line["id"], "quantity": line["currentQuantity"], "restockType": "RETURN"}
            for line in order["lineItems"] if line["currentQuantity"] > 0]
