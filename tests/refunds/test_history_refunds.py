"""A forward_history backfill sends history refunds with the same shape as polled ones, read batched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.service.bridge import Bridge
from shopify_bridge.shopify.client import ShopifyClient, operation_name
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from tests.e2e.test_walking_skeleton import T0, TOKEN, make_config, read_events
from tests.refunds.rig import every_line


async def test_history_refunds_carry_their_items_and_shipping_like_polled_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    execute = ShopifyClient.execute

    async def recording(self: ShopifyClient, document: str, variables: dict[str, Any] | None = None) -> Any:
        sent.append(operation_name(document))
        return await execute(self, document, variables)

    monkeypatch.setattr(ShopifyClient, "execute", recording)
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=4, orders=60, history_days=8, clock=clock,
                               search_lag_seconds=0) as sim:
        paid = [o for o in sim.state.orders() if o["displayFinancialStatus"] == "PAID" and not o["refunds"]]
        with_shipping = sim.state.refund(paid[0]["id"], every_line(paid[0])[:1], shipping=True, note="late")
        for order in paid[1:4]:
            sim.state.refund(order["id"], every_line(order))
        clock.advance(300)                                  # older than the first poll's window: the backfill's
        config = make_config(tmp_path, sim.url, start_date="2026-11-10", upsell_delay=False, forward_history=True,
                             exclude={"test_orders": False, "cancelled": False})

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        bridge = Bridge(config, clock=clock, sleep=advance)
        try:
            assert await bridge.run_once() == 0
        finally:
            bridge.close()
        refunds = {r["id"]: (o, r) for o in sim.state.orders() for r in o["refunds"]}
        events = {e["properties"]["id"]: e for e in read_events(tmp_path) if e["event_name"] == "Received Refund"}
        moved_money = {ref for ref, (_o, r) in refunds.items()
                       if any(t["kind"] == "REFUND" and t["status"] == "SUCCESS" for t in r["transactions"])}
        assert len(moved_money) >= 4
        assert set(events) == {refunds[ref][1]["legacyResourceId"] for ref in moved_money}
        for event in events.values():
            props = event["properties"]
            assert props["items"], props                   # the refund's line items, as a poll reads them
            shape = {"name", "quantity", "price", "subtotal", "restock_type"}
            assert all(shape <= set(item) for item in props["items"])
        assert events[with_shipping["legacyResourceId"]]["properties"]["refund_shipping"] > 0
        assert events[with_shipping["legacyResourceId"]]["properties"]["note"] == "late"
        assert sent.count("BridgeReadRefunds") == 1                                       # one batch, paced
        assert not [name for name in sent if name.startswith("BridgeEarlierOrders")]      # history asks nothing
