"""The lease keeper: processes share the shops fairly, a dead one's shops move within 60 s, a stopped
one's at once; a process polls only while its lease has time to spare. Time is a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopify_bridge.service.lease_keeper import LeaseKeeper, LeaseTiming
from shopify_bridge.store import Store
from tests.fake_clock import FakeClock

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
SHOPS = [f"shop-{n}.myshopify.com" for n in range(4)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def stores(database: Path | str) -> Iterator[list[Store]]:
    opened = [Store.open_writer(database, owner=name) for name in ("A", "B", "C")]
    yield opened
    for store in opened:
        store.close()


def keeper(store: Store, clock: FakeClock, shops: list[str] = SHOPS, gained: list[str] | None = None) -> LeaseKeeper:
    return LeaseKeeper(store, shops, clock, on_gained=(gained.append if gained is not None else None))


def owners(store: Store) -> dict[str, str]:
    return {lease.shop: lease.owner for lease in store.leases.all()}


def test_processes_share_the_shops_fairly_and_never_both_hold_one(stores: list[Store], clock: FakeClock) -> None:
    a, b = keeper(stores[0], clock), keeper(stores[1], clock)
    a.tick()
    assert sorted(a.held) == SHOPS  # alone: every shop
    b.tick()
    assert b.held == {}  # all taken and not expired
    a.tick()  # two live workers now: A gives back beyond its share of 2
    assert len(a.held) == 2
    b.tick()
    assert len(b.held) == 2 and not set(a.held) & set(b.held)
    assert all(a.holds(shop) != b.holds(shop) for shop in SHOPS)
    assert set(owners(stores[0]).values()) == {"A", "B"}


def test_a_dead_processs_shops_are_taken_within_60_seconds(stores: list[Store], clock: FakeClock) -> None:
    gained: list[str] = []
    a, b = keeper(stores[0], clock), keeper(stores[1], clock, gained=gained)
    a.tick(), b.tick(), a.tick(), b.tick()
    lost = sorted(a.held)
    died = clock()  # A is SIGKILLed right after its last renewal: it never ticks again
    while set(b.held) != set(SHOPS):
        clock.advance(b.timing.renew)
        b.tick()
    assert clock() - died <= timedelta(seconds=60)
    assert sorted(gained[-2:]) == lost  # each taken shop's loop is woken at once
    assert set(owners(stores[1]).values()) == {"B"}


def test_a_process_without_renewals_stops_polling_before_its_lease_can_be_taken(
    stores: list[Store], clock: FakeClock
) -> None:
    a, b = keeper(stores[0], clock), keeper(stores[1], clock)
    a.tick()
    assert a.holds(SHOPS[0]) and a.alive()
    clock.advance((a.duration - a.timing.margin).total_seconds())  # the database was out of reach
    assert not a.holds(SHOPS[0]) and not a.alive()
    assert not b.store.leases.acquire(SHOPS[0], clock(), a.duration)  # still A's: nobody polled meanwhile


def test_a_graceful_stop_hands_every_shop_over_at_the_next_tick(stores: list[Store], clock: FakeClock) -> None:
    a, b = keeper(stores[0], clock), keeper(stores[1], clock)
    a.tick()
    b.tick()
    a.retire()
    assert a.held == {} and not a.holds(SHOPS[0])
    b.tick()
    assert sorted(b.held) == SHOPS


def test_new_processes_and_new_shops_are_balanced_in(stores: list[Store], clock: FakeClock) -> None:
    five = [*SHOPS, "shop-new.myshopify.com"]
    a, b = keeper(stores[0], clock, five), keeper(stores[1], clock, five)
    a.tick(), b.tick(), a.tick(), b.tick()
    assert sorted([len(a.held), len(b.held)]) == [2, 3]
    c = keeper(stores[2], clock, five)
    for _ in range(2):
        for k in (c, a, b):
            k.tick()
    assert sorted([len(a.held), len(b.held), len(c.held)]) == [1, 2, 2]
    assert sorted(owners(stores[0])) == sorted(five)  # every shop has exactly one owner


def test_a_shop_whose_cycle_runs_is_not_given_back(stores: list[Store], clock: FakeClock) -> None:
    a, b = keeper(stores[0], clock), keeper(stores[1], clock)
    a.tick()
    b.tick()
    with a.working(SHOPS[0]), a.working(SHOPS[1]), a.working(SHOPS[2]):
        a.tick()
        assert {SHOPS[0], SHOPS[1], SHOPS[2]} <= set(a.held)
    a.tick()
    assert len(a.held) == 2


def test_a_shop_dropped_from_the_config_is_given_back(stores: list[Store], clock: FakeClock) -> None:
    a = keeper(stores[0], clock)
    a.tick()
    smaller = keeper(stores[0], clock, SHOPS[:2])  # the same process, restarted with a shorter config
    smaller.tick()
    assert sorted(owners(stores[0])) == SHOPS[:2]


def test_health_judges_only_the_sources_this_process_polls_by_its_polls_since_it_took_them() -> None:
    from types import SimpleNamespace
    from typing import Any

    from shopify_bridge.observe.health import HealthCheck

    now = T0 + timedelta(minutes=10)
    taken = now - timedelta(seconds=30)  # A's lease came to us 30 s ago; B is another process's
    metrics: Any = SimpleNamespace(last_alive={"A": taken - timedelta(minutes=5)}, last_success={}, clock=lambda: now)
    windows = {"A": 60.0, "B": 60.0}
    check = HealthCheck(metrics, windows, polled=lambda: {"A": taken})
    report = check.report()
    assert [s.name for s in report.sources] == ["A"]                   # B: the lease holder's business
    assert report.unhealthy == {"A": "never polled"}                   # a poll before the takeover does not count
    metrics.last_alive["A"] = now - timedelta(seconds=5)               # the first cycle since (woken at takeover)
    assert check.report().healthy
    alone = HealthCheck(metrics, windows).report()                     # one process alone: every source judged
    assert alone.unhealthy == {"B": "never polled"}


def test_the_lease_time_is_30_s_unless_the_environment_says_otherwise() -> None:
    from shopify_bridge.errors import BridgeError

    assert LeaseTiming.from_env({}).duration == timedelta(seconds=30)
    short = LeaseTiming.from_env({"SHOPIFY_BRIDGE_LEASE_SECONDS": "6"})
    assert (short.duration, short.renew, short.margin) == (timedelta(seconds=6), 2.0, timedelta(seconds=1))
    for bad in ("abc", "1", "601"):
        with pytest.raises(BridgeError, match="SHOPIFY_BRIDGE_LEASE_SECONDS") as raised:
            LeaseTiming.from_env({"SHOPIFY_BRIDGE_LEASE_SECONDS": bad})
        assert raised.value.exit_code == 78
