"""Many shops in one process: each with its own orders, token, bucket, faults and result files."""

from __future__ import annotations

from typing import Any

import aiohttp

from shopify_bridge.simulator import ManualClock
from shopify_bridge.simulator.fleet import SimulatorFleet
from tests.simulator.test_bulk_lifecycle import ORDERS

COUNT = "{ ordersCount { count } shop { myshopifyDomain } }"


async def post(session: aiohttp.ClientSession, base: str, token: str, query: str, **variables: Any) -> Any:
    async with session.post(
        f"{base}/admin/api/2026-07/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": token},
    ) as response:
        return response.status, await response.json(content_type=None)

# Each shop's search shows a change at once and no other app drains its bucket: these tests are about the
# fleet's routing and isolation, through an unpaced caller.
IDLE = {"search_lag_seconds": 0, "competing_app_share": 0}


async def test_each_shop_of_a_fleet_is_independent(clock: ManualClock) -> None:
    async with (
        SimulatorFleet(3, orders=2, clock=clock, **IDLE) as fleet,
        aiohttp.ClientSession() as s,
    ):
        a, b = "shop-0000", "shop-0001"
        fleet.shops[a].create_order()
        status, body = await post(s, fleet.url(a), fleet.token(a), COUNT)
        assert status == 200 and body["data"]["ordersCount"]["count"] == 3
        assert body["data"]["shop"]["myshopifyDomain"] == "shop-0000.myshopify.com"
        assert (await post(s, fleet.url(b), fleet.token(b), COUNT))[1]["data"]["ordersCount"]["count"] == 2
        assert (await post(s, fleet.url(b), fleet.token(a), COUNT))[0] == 401, "tokens are per shop"
        fleet.shops[a].inject("http_503")
        fleet.shops[a].bucket.drain()
        ok = await post(s, fleet.url(b), fleet.token(b), COUNT)
        assert ok[0] == 200 and ok[1]["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] > 1900
        assert (await post(s, fleet.url(a), fleet.token(a), COUNT))[0] == 503
        async with s.get(f"http://{fleet.host}:{fleet.port}/shops/shop-9999/admin/api/2026-07/graphql.json") as r:
            assert r.status == 404


async def test_a_fleet_shops_result_files_live_under_its_prefix(clock: ManualClock) -> None:
    async with (
        SimulatorFleet(2, orders=3, clock=clock, **IDLE) as fleet,
        aiohttp.ClientSession() as s,
    ):
        name = "shop-0001"
        run = (
            "mutation($q: String!) { bulkOperationRunQuery(query: $q) "
            "{ bulkOperation { id } userErrors { message } } }"
        )
        _, started = await post(s, fleet.url(name), fleet.token(name), run, q=ORDERS)
        op_id = started["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        clock.advance(10)
        read = "query($id: ID!) { bulkOperation(id: $id) { url } }"
        _, polled = await post(s, fleet.url(name), fleet.token(name), read, id=op_id)
        url = polled["data"]["bulkOperation"]["url"]
        assert url.startswith(f"{fleet.url(name)}/_bulk/")
        async with s.get(url) as response:
            assert response.status == 200 and len((await response.read()).splitlines()) >= 3
