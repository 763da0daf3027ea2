"""Shopify's search syntax: inclusive comparisons, the lagging index, and ignored unknown fields."""

from __future__ import annotations

from typing import Any

import pytest

from shopify_bridge.shopify.queries import ORDERS_COUNT
from shopify_bridge.simulator import ManualClock, SimulatorServer
from shopify_bridge.simulator.search import SearchError, parse_search
from tests.simulator.conftest import START, Caller


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "legacyResourceId": "5801",
        "name": "#1001",
        "updatedAt": "2026-06-30T10:00:00Z",
        "createdAt": "2026-06-30T09:00:00Z",
        "processedAt": "2026-06-30T09:00:00Z",
        "test": False,
        "tags": ["VIP", "Exclude"],
        "email": "Ann@Example.com",
        "sourceName": "web",
        "cancelledAt": None,
        "closedAt": None,
        "customer": {"legacyResourceId": "7001", "firstName": "Ann", "lastName": "Lee"},
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
    }
    base.update(overrides)
    return base


def matches(query: str, **overrides: Any) -> bool:
    return parse_search(query, START).predicate(doc(**overrides))


def test_greater_than_behaves_like_greater_or_equal_and_less_than_like_less_or_equal() -> None:
    for op in (">", ">="):
        assert matches(f"updated_at:{op}'2026-06-30T10:00:00Z'")
        assert not matches(f"updated_at:{op}'2026-06-30T10:00:01Z'")
    for op in ("<", "<="):
        assert matches(f"updated_at:{op}2026-06-30T10:00:00Z")
        assert not matches(f'updated_at:{op}"2026-06-30T09:59:59Z"')


def test_dates_accept_offsets_whole_days_and_now() -> None:
    assert matches("processed_at:>='2026-06-30T05:00:00-04:00'")
    assert not matches("processed_at:>'2026-06-30T05:00:01-04:00'")
    assert matches("created_at:2026-06-30") and not matches("created_at:2026-06-29")
    assert matches("updated_at:<now")


def test_a_malformed_timestamp_is_a_bad_request() -> None:
    with pytest.raises(SearchError, match=r"Invalid timestamp for query filter `updated_at`\."):
        parse_search("updated_at:>yesterday-ish", START)


def test_terms_are_anded_and_can_be_negated() -> None:
    assert matches("test:false tag:vip source_name:WEB")
    assert not matches("test:false tag:vip source_name:pos")
    assert matches("test:false AND -tag:wholesale")
    assert not matches("-tag:exclude")


def test_each_known_field() -> None:
    assert matches("test:true", test=True) and not matches("test:true")
    assert matches("tag:exclude") and not matches("tag:excl")
    assert matches("tag_not:wholesale") and not matches("tag_not:VIP")
    assert matches("id:5801") and matches("id:>=5801") and not matches("id:>5801") and matches("id:<5802")
    assert matches("customer_id:7001") and not matches("customer_id:7001", customer=None)
    assert matches("email:ann@example.com") and not matches("email:bob@example.com")
    assert matches("name:1001") and matches("name:#1001") and not matches("name:1002")
    assert matches("status:open") and not matches("status:cancelled")
    assert matches("status:cancelled", cancelledAt="2026-06-30T11:00:00Z")
    assert matches("financial_status:paid fulfillment_status:unfulfilled")
    assert matches("ann") and matches("LEE") and not matches("zed")


def test_an_unknown_field_is_ignored_and_reported_as_shopify_does() -> None:
    plan = parse_search("updated_at:>=2026-01-01 updatd_at:>=2027-01-01", START)
    assert plan.predicate(doc()), "the misspelled term filters nothing"
    assert plan.warnings == [
        {"field": "updatd_at", "message": "Invalid search field for this query.", "code": "invalid_field"}
    ]
    single = parse_search("made_up:value", START)
    assert single.parsed == {"field": "made_up", "match_all": "value"}
    assert single.warnings[0]["code"] == "invalid_field"


def test_an_unaccepted_value_is_reported_and_ignored() -> None:
    plan = parse_search("status:EXPIRED", START)
    assert plan.warnings == [
        {"field": "status", "message": "Input `EXPIRED` is not an accepted value.", "code": "invalid_value"}
    ]
    assert plan.predicate(doc(cancelledAt="2026-06-30T11:00:00Z"))


async def test_the_search_extension_names_the_path_and_the_query(caller: Caller) -> None:
    answer = await caller.graphql(ORDERS_COUNT, {"query": "test:false made_up:value"})
    assert answer.body["extensions"]["search"] == [
        {
            "path": ["ordersCount"],
            "query": "test:false made_up:value",
            "parsed": {
                "and": [{"field": "test", "match_all": "false"}, {"field": "made_up", "match_all": "value"}]
            },
            "warnings": [
                {
                    "field": "made_up",
                    "message": "Invalid search field for this query.",
                    "code": "invalid_field",
                }
            ],
        }
    ]
    assert "search" not in (await caller.graphql(ORDERS_COUNT, {"query": "test:false"})).body["extensions"]


async def test_a_malformed_timestamp_over_http_is_bad_request_without_data(caller: Caller) -> None:
    answer = await caller.graphql(ORDERS_COUNT, {"query": "updated_at:>soon"})
    assert answer.body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert answer.body["errors"][0]["path"] == ["ordersCount"]


async def test_search_sees_a_change_only_after_the_lag_while_reads_by_id_see_it_at_once(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    by_tag = '{ orders(first: 50, query: "tag:fresh") { nodes { id tags } } }'
    count = '{ ordersCount(query: "tag:fresh") { count } }'
    target = sim.state.orders()[3]
    sim.state.add_tag(target["id"], "fresh")
    read = await caller.data("query($id: ID!) { order(id: $id) { tags } }", id=target["id"])
    assert "fresh" in read["order"]["tags"]
    assert (await caller.data(by_tag))["orders"]["nodes"] == []
    assert (await caller.data(count))["ordersCount"]["count"] == 0
    clock.advance(1.9)
    assert (await caller.data(by_tag))["orders"]["nodes"] == []
    clock.advance(0.1)
    assert [n["id"] for n in (await caller.data(by_tag))["orders"]["nodes"]] == [target["id"]]
    assert (await caller.data(count))["ordersCount"]["count"] == 1


async def test_the_lag_is_configurable(clock: ManualClock) -> None:
    async with SimulatorServer(orders=0, clock=clock, search_lag_seconds=0) as sim:
        sim.state.create_order()
        matches_now = list(sim.state.store.indexed(clock()))
        assert len(matches_now) == 1
