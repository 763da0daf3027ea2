"""The harsh behaviours of a simulated shop: per-change search lag, a competing app, the 60-day window."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from graphql import parse

from shopify_bridge.simulator import ManualClock, SimulatorOptions, SimulatorServer
from shopify_bridge.simulator.bulk_run import run_bulk_query
from shopify_bridge.simulator.clock import wire_time
from shopify_bridge.simulator.shop import SimulatorState
from tests.simulator.conftest import PLAIN_ORDER, START, Caller

COUNT = '{ ordersCount(query: "test:false") { count } }'


def test_harsh_options_are_one_switch_away_and_split_refunds_are_the_default() -> None:
    kind, harsh = SimulatorOptions(), SimulatorOptions.harsh()
    assert (kind.search_lag_max_seconds, kind.competing_app_share, kind.refund_split) == (None, 0.0, 3)
    assert (harsh.search_lag_max_seconds, harsh.competing_app_share, harsh.refund_split) == (900.0, 0.8, 3)
    assert SimulatorOptions.harsh(refund_split=2).refund_split == 2
    with pytest.raises(ValueError, match="competing app"):
        SimulatorOptions(competing_app_share=1.0).validated()


def test_each_change_gets_its_own_lag_so_search_sees_them_out_of_order(clock: ManualClock) -> None:
    options = SimulatorOptions(orders=0, search_lag_max_seconds=900, search_lag_late_share=0.5)
    state = SimulatorState(token="t", options=options, clock=clock)
    made = []
    for _ in range(30):
        made.append(state.create_order(**PLAIN_ORDER)["id"])
        clock.advance(1)
    seen: list[str] = []
    for _ in range(960):
        visible = {doc["id"] for _, doc in state.store.indexed(clock())}
        seen += [order_id for order_id in made if order_id in visible and order_id not in seen]
        clock.advance(1)
    assert sorted(seen) == sorted(made), "every change surfaces within the maximum lag"
    assert seen != made, "not in updatedAt order"
    lags = [state.draw_lag() for _ in range(2000)]
    assert max(lags) <= 900 and max(lags) > 600 and sum(lag <= 10 for lag in lags) > 900


def test_a_constant_lag_stays_available_for_tests_that_need_it(clock: ManualClock) -> None:
    state = SimulatorState(token="t", orders=0, clock=clock, search_lag_seconds=0)
    state.create_order(**PLAIN_ORDER)
    assert len(list(state.store.indexed(clock()))) == 1
    assert {state.draw_lag() for _ in range(20)} == {0}


async def test_reads_by_id_are_never_lagged(clock: ManualClock) -> None:
    options = SimulatorOptions(orders=0, search_lag_seconds=60)
    server = SimulatorServer(options=options, clock=clock, token="shpat_t")
    async with server as sim, aiohttp.ClientSession() as session:
        caller = Caller(session, sim)
        order = sim.state.create_order(**PLAIN_ORDER)
        assert (await caller.data("{ orders(first: 5) { nodes { id } } }"))["orders"]["nodes"] == []
        by_id = await caller.data("query($id: ID!) { order(id: $id) { id } }", id=order["id"])
        nodes = await caller.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[order["id"]])
        assert by_id["order"]["id"] == order["id"] and nodes["nodes"] == [{"id": order["id"]}]


def test_a_competing_app_leaves_this_app_a_fraction_of_the_restore_rate(clock: ManualClock) -> None:
    state = SimulatorState(token="t", options=SimulatorOptions.harsh(orders=0), clock=clock)
    assert state.bucket.status() == {"maximumAvailable": 2000, "currentlyAvailable": 0, "restoreRate": 100}
    clock.advance(10)
    assert state.bucket.status()["currentlyAvailable"] == 200  # 20 % of 100 points a second
    assert not state.bucket.try_take(201)
    assert state.bucket.taken_by_competitor == pytest.approx(800)


async def test_an_unpaced_client_is_throttled_as_shopify_does_it(harsh_caller: Caller, clock: ManualClock) -> None:
    clock.advance(1)  # 20 points: not enough for a 22-point page
    answer = await harsh_caller.graphql("{ orders(first: 100) { nodes { id customer { id } } } }")
    assert answer.status == 200 and "data" not in answer.body
    assert answer.body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert answer.body["extensions"]["cost"]["actualQueryCost"] is None
    assert answer.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 20
    clock.advance(1)
    assert "data" in (await harsh_caller.graphql("{ orders(first: 100) { nodes { id customer { id } } } }")).body


def _old_and_new(clock: ManualClock, scopes: tuple[str, ...]) -> tuple[SimulatorState, dict[str, str]]:
    state = SimulatorState(token="t", orders=0, clock=clock, search_lag_seconds=0, scopes=scopes)
    old = state.create_order(**PLAIN_ORDER, processedAt=wire_time(START - timedelta(days=70)))
    new = state.create_order(**PLAIN_ORDER, processedAt=wire_time(START - timedelta(days=10)))
    return state, {"old": old["id"], "new": new["id"]}


async def test_without_read_all_orders_search_count_and_bulk_omit_old_orders(clock: ManualClock) -> None:
    limited = ("read_orders", "read_customers")
    async with SimulatorServer(token="shpat_t", orders=0, clock=clock, search_lag_seconds=0, scopes=limited) as sim:
        old = sim.state.create_order(**PLAIN_ORDER, processedAt=wire_time(START - timedelta(days=70)))
        new = sim.state.create_order(**PLAIN_ORDER, processedAt=wire_time(START - timedelta(days=10)))
        async with aiohttp.ClientSession() as session:
            caller = Caller(session, sim)
            listed = await caller.data("{ orders(first: 10) { nodes { id } } }")
            assert [n["id"] for n in listed["orders"]["nodes"]] == [new["id"]]
            assert (await caller.data(COUNT))["ordersCount"]["count"] == 1
            by_id = await caller.data("query($id: ID!) { order(id: $id) { id } }", id=old["id"])
            assert by_id["order"]["id"] == old["id"]  # only search and bulk apply the window
        bulk = run_bulk_query(
            sim.state, parse("{ orders { edges { node { id } } } }"), clock(), grouped=False, seed=1
        )
        assert bulk.objects == 1 and new["id"].replace("/", "\\/").encode() in bulk.content()


def test_with_read_all_orders_every_order_is_searchable(clock: ManualClock) -> None:
    state, ids = _old_and_new(clock, ("read_orders", "read_all_orders"))
    assert {doc["id"] for _, doc in state.store.indexed(clock())} == set(ids.values())
    from shopify_bridge.simulator.resolvers import searchable

    assert {doc["id"] for _, doc in searchable(state, clock())} == set(ids.values())
    assert not SimulatorOptions(scopes=("read_orders",)).read_all_orders
