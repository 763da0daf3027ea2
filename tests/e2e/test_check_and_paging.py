"""`check` against the simulator, and orders with more line items than one page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from shopify_bridge import exit_codes
from shopify_bridge.cli import setup
from shopify_bridge.shopify.queries import LINE_ITEMS_PAGE
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from tests.e2e.test_walking_skeleton import TOKEN, cycle, make_config, read_events

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_check_passes_with_every_scope_and_names_a_missing_one(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async with SimulatorServer(token=TOKEN, orders=1) as sim:
        config = make_config(tmp_path, sim.url)
        assert await setup._check(config) == exit_codes.OK
        out = capsys.readouterr().out
        assert "Sim Snowboards" in out and "CAD" in out and "America/Toronto" in out and "2000 points" in out
        assert TOKEN not in out
        sim.state.scopes.remove("read_customers")
        assert await setup._check(config) == exit_codes.NOPERM
        assert "missing scope: read_customers" in capsys.readouterr().out


async def test_check_old_start_date_needs_read_all_orders(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async with SimulatorServer(token=TOKEN, orders=1) as sim:
        sim.state.scopes.remove("read_all_orders")
        config = make_config(tmp_path, sim.url, start_date=date(2025, 1, 1).isoformat())
        assert await setup._check(config) == exit_codes.NOPERM
        assert "read_all_orders" in capsys.readouterr().out


async def test_check_unreachable_shop_is_69_after_a_single_retry(  # type: ignore[no-untyped-def]
    tmp_path: Path, unused_tcp_port: int, capsys, monkeypatch
) -> None:
    waits: list[int] = []
    monkeypatch.setattr("shopify_bridge.shopify.client._backoff", lambda attempt: waits.append(attempt) or 0.0)
    config = make_config(tmp_path, f"http://127.0.0.1:{unused_tcp_port}")
    assert await setup._check(config) == exit_codes.UNAVAILABLE
    assert "unreachable" in capsys.readouterr().out
    assert waits == [1]  # `run` retries the same failure MAX_TEMPORARY_RETRIES (5) times


async def test_an_order_with_more_line_items_than_a_page_is_read_whole(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    # The shop's bucket refills on the manual clock only: no greedy neighbour to drain it.
    async with SimulatorServer(token=TOKEN, orders=0, clock=clock, search_lag_seconds=0,
                               competing_app_share=0) as sim:
        config = make_config(tmp_path, sim.url, upsell_delay=False)
        await cycle(config, clock)
        order = sim.state.create_order(sourceName="web", test=False, tags=[])
        for _ in range(LINE_ITEMS_PAGE + 5 - len(order["lineItems"])):
            order = sim.state.add_line_item(order["id"])
        assert len(order["lineItems"]) == LINE_ITEMS_PAGE + 5
        await cycle(config, clock, advance=2)
        [placed] = read_events(tmp_path)
        assert len(placed["properties"]["items"]) == LINE_ITEMS_PAGE + 5
