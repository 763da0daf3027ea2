"""`shopify-bridge demo`: the built-in simulator, a source connected to it, events to a JSONL file.

The demo wires two independent things together in one process — the simulator (standing in for
Shopify) and the bridge (talking to it over HTTP exactly as to a real shop) — and then makes a
store's day happen: new web orders, POS and test orders that get excluded, a tagged order, an
upsell added during a hold, refunds, a cancellation. Everything the bridge does is visible in the
TUI or, with `--headless`, in a running summary; the events land in `<out>/events.jsonl`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.cli.demo_state import DEMO_DATABASE, DEMO_EVENTS, DemoStart
from shopify_bridge.cli.signals import install_stop_signals
from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.observe.log import get_logger
from shopify_bridge.store.reads_orders import StoreTotals

log = get_logger(component="demo")

DEMO_SOURCE = "Demo Store Backend"
ID_STEP = 10**9  # per demo run: far more ids than one run uses, far fewer than Shopify's id space


def simulator_numbering(start: DemoStart) -> tuple[int, int]:
    """The simulator's `id_offset` and `first_order_number` past everything the database holds: one whole
    ID_STEP per earlier run, so a continued demo never reuses a stored id (or number)."""
    from shopify_bridge.simulator.state import ID_BASES

    first_number = max(1001, start.highest_order_number + 1)
    if not start.highest_order_id:
        return 0, first_number
    runs_before = max(0, start.highest_order_id - ID_BASES["Order"]) // ID_STEP + 1
    return runs_before * ID_STEP, first_number


@dataclass(frozen=True)
class DemoTiming:
    """The demo's pace: orders must visibly flow within seconds, holds included."""

    upsell_seconds: int = 8  # long enough to watch a hold count down, short enough to see it released
    poll_seconds: float = 2.0
    search_lag_seconds: float = 1.0
    first_change_after: float = 1.0
    traffic_every: float = 4.0
    summary_every: float = 5.0

    def first_event_within(self) -> float:
        """Worst case until the first new order's Placed Order is delivered: the first change, its search lag,
        a poll to find it, its hold, a poll to release it (delivery follows at once)."""
        return self.first_change_after + self.search_lag_seconds + 2 * self.poll_seconds + self.upsell_seconds


def demo_config(
    out_dir: Path,
    api_url: str,
    token: str,
    *,
    upsell_seconds: int = DemoTiming.upsell_seconds,
    poll_seconds: float = DemoTiming.poll_seconds,
    start_date: str | None = None,
) -> Config:
    source: dict[str, Any] = {
        "name": DEMO_SOURCE,
        "store": "sim-snowboards",
        "access_token": "${SHOPIFY_BRIDGE_DEMO_TOKEN}",
        "api_url": api_url,
        "upsell_delay": True,
        "upsell_delay_seconds": upsell_seconds,
        "poll_interval_seconds": poll_seconds,
        "exclude": {"channels": ["pos"], "tags": ["Exclude"]},
    }
    if start_date:
        source["start_date"] = start_date
    raw = {
        "database": DEMO_DATABASE,
        "sources": [source],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": DEMO_EVENTS}],
    }
    return config_from_toml(raw, {"SHOPIFY_BRIDGE_DEMO_TOKEN": token}, file=out_dir / "shopify-bridge.toml")


@dataclass
class TrafficStep:
    at: float
    action: str


class Traffic:
    """A store's day, compressed: one change every few seconds, chosen by a seeded RNG."""

    def __init__(self, state: Any, seed: int = 7, clock: Callable[[], datetime] | None = None) -> None:
        self.state = state
        self.rng = random.Random(seed)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.log: list[str] = []
        self.recent: list[str] = []  # gids of orders created by the demo, newest last

    def step(self) -> str:
        roll = self.rng.random()
        if roll < 0.45 or not self.recent:
            order = self.state.create_order(sourceName="web")
            self.recent.append(order["id"])
            what = f"new web order {order['name']}"
        elif roll < 0.55:
            order = self.state.create_order(sourceName="pos")
            what = f"new POS order {order['name']} (excluded: channel)"
        elif roll < 0.62:
            order = self.state.create_order(test=True)
            what = f"new test order {order['name']} (excluded: test order)"
        elif roll < 0.75:
            gid = self.recent[-1]
            order = self.state.add_line_item(gid)
            what = f"upsell added to {order['name']}"
        elif roll < 0.82:
            gid = self.rng.choice(self.recent[-5:])
            order = self.state.add_tag(gid, "Exclude")
            what = f"tag Exclude added to {order['name']}"
        elif roll < 0.95 and len(self.recent) > 3:
            gid = self.recent[0]
            order = self.state.order(gid)
            line = next((li for li in order["lineItems"] if li["currentQuantity"] > 0), None)
            if line is None:
                return "nothing to refund"
            self.state.refund(
                gid, [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}], note="demo refund"
            )
            what = f"refund on {order['name']}"
        else:
            gid = self.recent[-1]
            order = self.state.cancel(gid)
            what = f"{order['name']} cancelled"
        self.log.append(what)
        return what


async def _summary_loop(
    db_path: Path,
    stop: asyncio.Event,
    every: float,
    print_line: Callable[[str], None],
    stop_when: Callable[[StoreTotals], bool] | None = None,
) -> None:
    from shopify_bridge.store import Store

    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        try:
            reader = Store.open_reader(db_path)
        except Exception:
            continue
        try:
            totals = reader.reads.orders.totals()
        finally:
            reader.close()
        statuses, events = totals.orders_by_status, totals.events_by_name
        print_line(
            f"orders: {sum(statuses.values())} ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}) · "
            f"events: {events.get('Placed Order', 0)} Placed Order, {events.get('Received Refund', 0)} Received Refund"
            f" · delivered {totals.delivered}"
        )
        if stop_when is not None and stop_when(totals):
            stop.set()


async def run_demo(
    out_dir: Path,
    *,
    headless: bool,
    duration: float | None = None,
    seed: int = 7,
    orders: int = 40,
    print_line: Callable[[str], None] = print,
    backfill: bool = True,
    timing: DemoTiming = DemoTiming(),
    start: DemoStart | None = None,
    stop_when: Callable[[StoreTotals], bool] | None = None,
) -> int:
    """Run the demo in `out_dir` until `duration` passes, a stop signal, or `stop_when(totals)` holds."""
    from shopify_bridge.service.bridge import Bridge
    from shopify_bridge.simulator.server import SimulatorServer

    out_dir.mkdir(parents=True, exist_ok=True)
    start = start or DemoStart(f"starting a new demo in {out_dir}")
    token = "shpat_demo_" + secrets.token_hex(8)
    id_offset, first_order_number = simulator_numbering(start)
    async with SimulatorServer(
        token=token, seed=seed, orders=orders, search_lag_seconds=timing.search_lag_seconds,
        id_offset=id_offset, first_order_number=first_order_number,
    ) as sim:
        start_date = (datetime.now(UTC) - timedelta(days=7)).date().isoformat() if backfill else None
        config = demo_config(
            out_dir, sim.url, token, start_date=start_date, upsell_seconds=timing.upsell_seconds,
            poll_seconds=timing.poll_seconds,
        )
        print_line(start.note)
        print_line(f"simulator at {sim.url} · database {config.database} · events → {out_dir / DEMO_EVENTS}")
        print_line(
            f"new orders are held {timing.upsell_seconds} s for upsell edits; the first events arrive within "
            f"~{timing.first_event_within():.0f} s"
        )
        bridge = Bridge(config)
        stop = asyncio.Event()
        traffic = Traffic(sim.state, seed=seed)

        async def make_traffic() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=timing.first_change_after)
            while not stop.is_set():
                try:
                    what = traffic.step()
                    if headless:
                        print_line(f"shop: {what}")
                except Exception as exc:  # a refused change (e.g. nothing refundable) is not fatal
                    log.debug("demo change refused", error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=timing.traffic_every)

        async def stop_after() -> None:
            if duration is not None:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=duration)
                except TimeoutError:
                    stop.set()

        try:
            if headless:
                install_stop_signals(stop)
                await asyncio.gather(
                    bridge.run(stop),
                    make_traffic(),
                    stop_after(),
                    _summary_loop(Path(config.database), stop, timing.summary_every, print_line, stop_when),
                )
            else:
                from shopify_bridge.service.actions import BridgeActions
                from tui.runner import run_dashboard

                tasks = [asyncio.create_task(make_traffic()), asyncio.create_task(stop_after())]
                await run_dashboard(config, bridge=bridge, stop=stop, actions=BridgeActions(bridge))
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            bridge.close()
    return 0
