"""Cost extension on every answer, the leaky bucket on the injected clock, THROTTLED and MAX_COST_EXCEEDED."""

from __future__ import annotations

from datetime import timedelta

from shopify_bridge.shopify.queries import POLL_ORDERS, SHOP_INFO
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.throttle import LeakyBucket
from tests.simulator.conftest import START, Caller

# The page sizes are variables with defaults; the bridge's client always sends them, and so does this test.
POLL_VARS = {"query": "updated_at:>='2026-01-01T00:00:00Z'", "first": 10, "lineItemsFirst": 10}
TOO_DEAR = (
    "{ orders(first: 250) { nodes { customer { id } lineItems(first: 250) { nodes { product { id } variant { id } } }"
    " refunds { refundLineItems(first: 250) { nodes { lineItem { id } } } transactions(first: 250) { nodes { id } }"
    " refundShippingLines(first: 250) { nodes { id } } } } } }"
)
# one order node: customer 1 + line items 12 × (2 + 1) + 2 + refunds (1 + 12 × 2 + 2 + 12 × 1 + 2 + 12 × 1 + 2)
TOO_DEAR_COST = 12 * (1 + (12 * 3 + 2) + (1 + 26 + 14 + 14) + 1) + 2


def test_the_bucket_refills_at_its_restore_rate_on_the_injected_clock_and_caps() -> None:
    clock = ManualClock(START)
    bucket = LeakyBucket(clock, maximum=2000, restore_rate=100)
    assert bucket.try_take(1500)
    assert bucket.status()["currentlyAvailable"] == 500
    assert not bucket.try_take(600)
    assert bucket.status()["currentlyAvailable"] == 500, "a refused query takes nothing"
    clock.advance(1.5)
    assert bucket.status()["currentlyAvailable"] == 650
    clock.advance(3600)
    assert bucket.status() == {"maximumAvailable": 2000, "currentlyAvailable": 2000, "restoreRate": 100}
    bucket.give_back(50)
    assert bucket.available == 2000


async def test_every_kind_of_answer_carries_the_cost_extension(caller: Caller, sim: SimulatorServer) -> None:
    answers = [
        await caller.graphql(SHOP_INFO),
        await caller.graphql("{ shop { nope } }"),
        await caller.graphql("{ shop { id "),
        await caller.graphql('{ ordersCount(query: "bogus:1") { count } }'),
        await caller.graphql(TOO_DEAR),
    ]
    sim.state.bucket.drain()
    answers.append(await caller.graphql(SHOP_INFO))
    for answer in answers:
        assert answer.status == 200
        status = answer.body["extensions"]["cost"]["throttleStatus"]
        assert set(answer.body["extensions"]["cost"]) == {
            "requestedQueryCost",
            "actualQueryCost",
            "throttleStatus",
        }
        assert set(status) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


async def test_a_query_holds_its_requested_cost_and_pays_its_actual_cost(caller: Caller) -> None:
    answer = await caller.graphql(POLL_ORDERS, POLL_VARS)
    cost = answer.body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 110
    assert 0 < cost["actualQueryCost"] < cost["requestedQueryCost"]
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000,
        "currentlyAvailable": 2000 - cost["actualQueryCost"],
        "restoreRate": 100,
    }


async def test_the_bucket_drains_then_throttles_then_refills_with_time(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    sim.state.bucket.drain(1950)  # 50 left: a 110-point query does not fit
    throttled = await caller.graphql(POLL_ORDERS, POLL_VARS)
    assert throttled.status == 200
    assert throttled.body == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 110,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 50, "restoreRate": 100},
            }
        },
    }
    clock.advance(0.5)
    assert "errors" in (await caller.graphql(POLL_ORDERS, POLL_VARS)).body, "100 points are still not enough"
    clock.now += timedelta(seconds=0.1)
    answer = await caller.graphql(POLL_ORDERS, POLL_VARS)
    assert "errors" not in answer.body
    assert answer.body["data"]["orders"]["nodes"]


async def test_a_query_dearer_than_one_thousand_points_is_refused_without_charge(caller: Caller) -> None:
    answer = await caller.graphql(TOO_DEAR)
    assert answer.status == 200
    assert "data" not in answer.body
    [error] = answer.body["errors"]
    dear = TOO_DEAR_COST
    assert error["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": dear, "maxCost": 1000}
    assert error["message"].startswith(
        f"Query cost is {dear}, which exceeds the single query max cost limit (1000)."
    )
    assert answer.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000
