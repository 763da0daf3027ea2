"""Polling by closed windows on a fake clock: lag-sized overlaps, the sweep, bounded steps, holds first."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from shopify_bridge.decide.windows import SETTLE_SECONDS, PollSettings
from shopify_bridge.observe.observer import BridgeObserver
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.service.release_first import REQUEST_SECONDS
from shopify_bridge.store import Store
from shopify_bridge.timeutil import iso, parse_ts, shopify_ts
from tests.core.test_poller_holds import SHOP, context, cycle, events, status
from tests.fakes import FakeClock, FakeShopify, make_order

SWEEP = PollSettings(sweep_interval=timedelta(minutes=30))


class Recorder(BridgeObserver):
    def __init__(self) -> None:
        self.recovered: list[tuple[str, float]] = []

    def order_recovered(self, source: str, lag_seconds: float) -> None:
        self.recovered.append((source, lag_seconds))


def make_poller(
    database: Path | str, shopify: Any, clock: FakeClock, delay: int | None = None, **options: Any
) -> SourcePoller:
    """A poller on `database` (the `database` fixture's: an SQLite file's folder or a PostgreSQL URL)."""
    return SourcePoller(context(delay=delay), shopify, Store.open_writer(located(database)), clock, **options)


def located(database: Path | str) -> Path | str:
    return database / "bridge.db" if isinstance(database, Path) and database.is_dir() else database


def listings(shopify: FakeShopify, since: int = 0) -> list[str]:
    return [args["query"] for name, args in shopify.calls[since:] if name == "BridgeListOrders"]


def cursor(poller: SourcePoller) -> str:
    return str(poller.store.sql.one("SELECT cursor FROM sources")[0])



async def test_a_measured_lag_widens_the_overlap_and_a_restart_keeps_it(database, shopify, clock) -> None:
    poller = make_poller(database, shopify, clock)
    await cycle(poller, clock)
    clock.advance(5)
    order = shopify.put(make_order(1, clock()))
    shopify.searchable_at[order["id"]] = clock() + timedelta(seconds=40)  # the index shows it 40 s late
    await cycle(poller, clock)
    assert poller.store.sql.one("SELECT COUNT(*) FROM orders")[0] == 0, "not searchable yet"
    clock.advance(45)
    await cycle(poller, clock)
    assert status(poller, 1) == "released"
    lag = (clock() - parse_ts(order["updatedAt"])).total_seconds()
    assert poller.store.sources.poll_memory(SHOP).lags.current == lag == 49
    restarted = SourcePoller(poller.ctx, shopify, Store.open_writer(located(database)), clock)
    before = len(shopify.calls)
    clock.advance(15)
    await restarted.cycle()
    [query] = listings(shopify, before)
    start = parse_ts(query.split("'")[1])
    assert parse_ts(cursor(poller)) - start >= timedelta(seconds=2 * lag)  # and not the 60 s floor


async def test_the_sweep_recovers_what_no_poll_saw_counts_it_and_forwards_a_new_order(
    database, shopify, clock
) -> None:
    recorder = Recorder()
    poller = make_poller(database, shopify, clock, settings=SWEEP, observer=recorder)
    await cycle(poller, clock)
    clock.advance(5)
    order = shopify.put(make_order(2, clock()))
    shopify.searchable_at[order["id"]] = clock() + timedelta(minutes=5)  # later than any 60 s overlap
    for _ in range(24):  # six minutes of polls every 15 s: each window has passed it before it shows
        clock.advance(15)
        await poller.cycle()
    assert events(poller) == [] and recorder.recovered == []
    clock.advance(30 * 60)
    with capture_logs() as logs:
        await poller.cycle()
    [placed] = events(poller)
    assert placed["event_id"] == order["legacyResourceId"], "new by processedAt: forwarded, not history"
    [(source, lag)] = recorder.recovered
    assert source == "Demo" and lag == (clock() - parse_ts(order["updatedAt"])).total_seconds()
    [line] = [entry for entry in logs if entry["event"] == "order recovered by the sweep"]
    assert (line["order"], line["lag_seconds"], line["new_order"]) == (order["name"], lag, True)
    assert poller.store.sources.poll_memory(SHOP).lags.current == lag  # the polls will overlap wider now


async def test_the_sweep_runs_once_per_interval_across_restarts(database, shopify, clock) -> None:
    poller = make_poller(database, shopify, clock, settings=SWEEP)
    await cycle(poller, clock)  # connects: nothing the polls could have missed yet, so no sweep request
    assert len(listings(shopify)) == 1
    assert poller.store.sources.poll_memory(SHOP).swept_at == clock().replace(microsecond=0)
    clock.advance(29 * 60)
    await poller.cycle()
    assert len(listings(shopify)) == 2, "a poll, and no sweep before its interval"
    restarted = SourcePoller(poller.ctx, shopify, Store.open_writer(located(database)), clock, settings=SWEEP)
    clock.advance(60)
    await restarted.cycle()
    sweep = listings(shopify)[-1]
    first_connected = parse_ts(str(restarted.store.sources.first_connected_at(SHOP)))
    assert len(listings(shopify)) == 4 and sweep.startswith(f"updated_at:>='{shopify_ts(first_connected)}'")
    assert restarted.store.sources.poll_memory(SHOP).swept_at == clock().replace(microsecond=0)


async def test_a_step_reads_a_bounded_number_of_pages_and_the_cursor_waits_for_the_whole_window(
    database, shopify, clock
) -> None:
    settings = PollSettings(poll_interval=timedelta(seconds=15), pages_per_step=1)
    poller = make_poller(database, shopify, clock, settings=settings, monotonic=lambda: clock().timestamp())
    await poller.step()  # connects
    await poller.step()  # nothing to sweep yet
    first_cursor = cursor(poller)
    assert poller.seconds_to_next_step() == 15
    clock.advance(15)
    for n in range(25):  # three listing pages of ten
        shopify.put(make_order(10 + n, clock()))
    clock.advance(SETTLE_SECONDS)
    before = len(shopify.calls)
    await poller.step()
    assert len(listings(shopify, before)) == 1 and len(events(poller)) == 10
    assert cursor(poller) == first_cursor and poller.seconds_to_next_step() == 0
    await poller.step()
    await poller.step()
    assert len(events(poller)) == 25 and cursor(poller) > first_cursor
    assert poller.seconds_to_next_step() == 15


async def test_due_holds_are_re_read_by_id_in_batches(database, shopify, clock) -> None:
    poller = make_poller(database, shopify, clock, delay=600)
    await cycle(poller, clock)
    clock.advance(5)
    shopify.page_size = 50
    for n in range(30):
        shopify.put(make_order(100 + n, clock()))
    await cycle(poller, clock)
    assert {status(poller, 100 + n) for n in range(30)} == {"held"}
    clock.advance(600)
    before = len(shopify.calls)
    await poller.release_due()
    reads = [len(args["ids"]) for name, args in shopify.calls[before:] if name == "BridgeReadOrders"]
    assert reads == [25, 5]
    assert len(events(poller)) == 30


class SlowShopify(FakeShopify):
    """Every request takes a second of the fake clock."""

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.clock.advance(1)
        return await super().execute(document, variables)


async def test_a_hold_falling_due_during_a_long_poll_goes_out_before_its_next_request(database, clock) -> None:
    shopify = SlowShopify(clock)
    poller = make_poller(database, shopify, clock, delay=600)
    await cycle(poller, clock)
    clock.advance(5)
    held = shopify.put(make_order(1, clock()))
    await cycle(poller, clock)
    assert status(poller, 1) == "held"
    clock.advance(600 - 20)
    for n in range(200):  # a flash sale: 20 listing pages and as many reads, one second each
        shopify.put(make_order(500 + n, clock()))
    before = len(shopify.calls)
    await cycle(poller, clock)
    assert len(shopify.calls) - before > 40
    release_at, released_at = poller.store.sql.one(
        "SELECT release_at, released_at FROM orders WHERE order_id = ?", (held["legacyResourceId"],)
    )
    # Late by at most the request in flight when it fell due plus its own re-read and lookup, however
    # long the poll: not behind the 40 requests of the flash sale.
    assert parse_ts(released_at) - parse_ts(release_at) <= timedelta(seconds=3)
    assert poller.store.sql.one("SELECT COUNT(*) FROM orders WHERE status = 'held'")[0] == 200


class HintedShopify(FakeShopify):
    """A client that can say what a request costs and when the bucket will hold it (as `ShopifyClient`)."""

    wait_for_points = 3.0

    def price(self, document: str, variables: dict[str, Any] | None = None) -> float:
        return 10.0

    def wait_estimate(self, points: float) -> float:
        return self.wait_for_points


async def test_a_request_that_would_make_a_hold_late_waits_and_the_hold_goes_first(database, clock) -> None:
    shopify = HintedShopify(clock)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    poller = make_poller(database, shopify, clock, delay=600, sleep=sleep)
    await cycle(poller, clock)
    clock.advance(5)
    held = shopify.put(make_order(1, clock()))
    await cycle(poller, clock)
    release_at = parse_ts(poller.store.sql.one("SELECT release_at FROM orders")[0])
    # Due sooner than the next request's wait for points plus REQUEST_SECONDS: wait, release, then read.
    clock.now = release_at - timedelta(seconds=shopify.wait_for_points + REQUEST_SECONDS - 1)
    before = len(shopify.calls)
    await poller.cycle()
    assert slept == [shopify.wait_for_points + REQUEST_SECONDS - 1]
    names = [name for name, _ in shopify.calls[before:]]
    assert names[:2] == ["BridgeReadOrders", "BridgeListOrders"], "the release's re-read went out first, alone"
    released_at = poller.store.sql.one("SELECT released_at FROM orders")[0]
    assert released_at == iso(release_at) and held["legacyResourceId"] == events(poller)[0]["event_id"]


async def test_an_order_edited_twice_within_one_second_keeps_both_versions(database, shopify, clock) -> None:
    poller = make_poller(database, shopify, clock)
    await cycle(poller, clock)
    clock.advance(5)
    order = shopify.put(make_order(1, clock()))
    clock.advance(SETTLE_SECONDS)
    real_execute = shopify.execute

    async def edited_around_the_read(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "BridgeReadOrders" not in document:
            return await real_execute(document, variables)
        shopify.edit(order["id"], tags=["gift"])  # just before the read...
        answer = await real_execute(document, variables)
        shopify.orders[order["id"]]["tags"] = ["gift", "vip"]  # ...and again after it, in the same second
        return answer

    shopify.execute = edited_around_the_read  # type: ignore[method-assign]
    await poller.cycle()
    shopify.execute = real_execute  # type: ignore[method-assign]
    clock.advance(15)
    await poller.cycle()  # listed with the updatedAt the store has, but read too soon after it: read again
    tags = [json.loads(doc)["tags"] for (doc,) in poller.store.sql.all("SELECT doc FROM order_versions ORDER BY seq")]
    assert tags == [["gift"], ["gift", "vip"]]


async def test_after_a_backfill_the_sweep_finds_an_order_the_bulk_snapshot_could_not_see_yet(
    database, shopify, clock
) -> None:
    """Processed and last updated 3 min before the snapshot, searchable 5 min after it (an 8 min lag): the
    bulk operation missed it and every poll window starts after it; the sweep reaches back for it."""
    recorder = Recorder()
    poller = make_poller(database, shopify, clock, settings=SWEEP, observer=recorder)
    poller.store.sources.ensure(SHOP, "Demo")
    order = shopify.put(make_order(7, clock() - timedelta(minutes=3)))
    order["updatedAt"] = order["processedAt"]
    shopify.searchable_at[order["id"]] = clock() + timedelta(minutes=5)
    snapshot = iso(clock())
    state: Any = {"status": "running", "start": iso(clock() - timedelta(days=30)), "snapshot": snapshot,
                  "windows": [], "op_id": None, "retries": 0, "orders": 0}
    clock.advance(60)  # the bulk operation ran, without it
    poller.store.sources.complete_backfill(SHOP, state, snapshot)
    for _ in range(4 * 60):  # an hour of polls every 15 s: two sweeps
        clock.advance(15)
        await poller.cycle()
    assert status(poller, 7) == "history" and events(poller) == []
    [(_, lag)] = recorder.recovered
    assert lag > 30 * 60  # the first sweep after it became searchable
