"""Pagination: exact (no skip, no repeat) under every sort key and `reverse`, with Shopify's limits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shopify_bridge.simulator import SimulatorServer
from shopify_bridge.simulator.paging import Window, by_id, connection, decode_cursor, encode_cursor
from tests.simulator.conftest import Caller

PAGE = """
query($after: String, $sort: OrderSortKeys, $reverse: Boolean) {
  orders(first: 5, after: $after, sortKey: $sort, reverse: $reverse) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SORT_FIELDS = {
    "UPDATED_AT": "updatedAt",
    "PROCESSED_AT": "processedAt",
    "CREATED_AT": "createdAt",
    "ID": None,
}


async def walk(caller: Caller, sort: str | None, reverse: bool) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(50):
        variables: dict[str, Any] = {"after": after, "reverse": reverse}
        if sort:
            variables["sort"] = sort
        page = (await caller.data(PAGE, **variables))["orders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("sort", [*SORT_FIELDS, None])
@pytest.mark.parametrize("reverse", [False, True])
async def test_walking_every_page_yields_every_order_once_in_order(
    caller: Caller, sim: SimulatorServer, sort: str | None, reverse: bool
) -> None:
    field = SORT_FIELDS.get(sort or "PROCESSED_AT")
    orders = sim.state.orders()

    def key(order: dict[str, Any]) -> tuple[Any, int]:
        number = int(order["legacyResourceId"])
        return (order[field] if field else number), number

    expected = [o["id"] for o in sorted(orders, key=key, reverse=reverse)]
    assert await walk(caller, sort, reverse) == expected
    assert len(expected) == 24


async def test_cursors_are_base64_json_with_last_id_and_epoch_millisecond_values(caller: Caller) -> None:
    page = (await caller.data(PAGE, sort="CREATED_AT"))["orders"]
    decoded = json.loads(base64.b64decode(page["edges"][0]["cursor"]))
    assert set(decoded) == {"last_id", "last_value"}
    assert isinstance(decoded["last_id"], int) and decoded["last_value"] > 1_700_000_000_000


async def test_page_sizes_follow_shopifys_rules(caller: Caller) -> None:
    too_many = await caller.graphql("{ orders(first: 251) { nodes { id } } }")
    assert too_many.body["errors"][0]["message"].startswith(
        "first cannot exceed 250. To query larger amounts of data with fewer limits, bulk operations"
    )
    assert too_many.body["data"] is None
    missing = await caller.graphql("{ orders { nodes { id } } }")
    assert missing.body["errors"][0]["message"] == "you must provide one of first or last"
    assert missing.body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    both = await caller.graphql("{ orders(first: 1, last: 1) { nodes { id } } }")
    assert both.body["errors"][0]["message"] == "providing both first and last is not supported"
    bad_cursor = await caller.graphql('{ orders(first: 1, after: "nonsense!") { nodes { id } } }')
    assert bad_cursor.body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_last_and_before_page_backwards_exactly() -> None:
    items = [{"id": f"gid://shopify/LineItem/{n}"} for n in range(1, 8)]
    tail = connection(items, by_id, Window(last=3))
    assert [n["id"][-1] for n in tail["nodes"]] == ["5", "6", "7"]
    assert tail["pageInfo"]["hasPreviousPage"] and not tail["pageInfo"]["hasNextPage"]
    before = connection(items, by_id, Window(last=2, before=tail["pageInfo"]["startCursor"]))
    assert [n["id"][-1] for n in before["nodes"]] == ["3", "4"]
    middle = connection(items, by_id, Window(first=10, after=encode_cursor(2, 2), before=encode_cursor(5, 5)))
    assert [n["id"][-1] for n in middle["nodes"]] == ["3", "4"]


def test_an_empty_page_has_null_cursors_like_shopify() -> None:
    empty = connection([], by_id, Window(first=3))
    assert empty == {
        "edges": [],
        "nodes": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(8837991727410, 1782167640000)) == (1782167640000, 8837991727410)
    assert encode_cursor(8837991727410, 1782167640000) == (
        "eyJsYXN0X2lkIjo4ODM3OTkxNzI3NDEwLCJsYXN0X3ZhbHVlIjoxNzgyMTY3NjQwMDAwfQ=="
    ), "the same bytes as a captured Shopify cursor"
