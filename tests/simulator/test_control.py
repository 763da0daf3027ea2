"""The /_sim control API: the same state changes as the Python object, over JSON, behind the token."""

from __future__ import annotations

from shopify_bridge.shopify.queries import SHOP_INFO
from shopify_bridge.simulator import SimulatorServer
from tests.simulator.conftest import PLAIN_ORDER, Caller


async def test_the_control_api_needs_the_token(caller: Caller) -> None:
    answer = await caller.control("GET", "/state", token="wrong")
    assert answer.status == 401 and isinstance(answer.body["errors"], str)


async def test_state_summary(caller: Caller, sim: SimulatorServer) -> None:
    answer = await caller.control("GET", "/state")
    assert answer.status == 200
    assert answer.body["orders"] == 24 and answer.body["now"] == "2026-07-01T12:00:00Z"
    assert answer.body["searchLagSeconds"] == 2.0 and answer.body["shop"] == "sim-snowboards.myshopify.com"


async def test_create_read_and_list_orders(caller: Caller) -> None:
    created = await caller.control("POST", "/orders", PLAIN_ORDER)
    assert created.status == 201 and created.body["totalPriceSet"]["shopMoney"]["amount"] == "25.0"
    number = created.body["legacyResourceId"]
    assert (await caller.control("GET", f"/orders/{number}")).body["id"] == created.body["id"]
    by_name = await caller.control("GET", f"/orders/{created.body['number']}")
    assert by_name.body["id"] == created.body["id"]
    assert len((await caller.control("GET", "/orders")).body) == 25
    assert (await caller.control("POST", "/orders", {})).status == 201, "an empty body makes a random order"


async def test_edit_tag_cancel_refund_settle_and_delete(caller: Caller) -> None:
    number = (await caller.control("POST", "/orders", PLAIN_ORDER)).body["legacyResourceId"]
    edited = await caller.control(
        "POST", f"/orders/{number}/line_items", {"line": {"title": "Wax", "price": "7.5", "quantity": 1}}
    )
    assert edited.status == 200 and edited.body["edited"] is True and len(edited.body["lineItems"]) == 2
    assert (await caller.control("POST", f"/orders/{number}/tags", {"tag": "Exclude"})).body["tags"] == [
        "Exclude"
    ]
    line = edited.body["lineItems"][0]["id"]
    refund = await caller.control(
        "POST",
        f"/orders/{number}/refunds",
        {"lines": [{"lineItemId": line, "quantity": 1}], "status": "PENDING"},
    )
    assert refund.status == 201 and refund.body["transactions"][0]["status"] == "PENDING"
    settled = await caller.control("POST", f"/refunds/{refund.body['legacyResourceId']}/settle", {})
    assert settled.body["transactions"][0]["status"] == "SUCCESS"
    full = await caller.control("POST", f"/orders/{number}/refunds", {"full": True})
    assert full.status == 201
    order = (await caller.control("GET", f"/orders/{number}")).body
    assert order["displayFinancialStatus"] == "REFUNDED"
    cancelled = await caller.control("POST", f"/orders/{number}/cancel", {"reason": "OTHER"})
    assert cancelled.body["cancelReason"] == "OTHER"
    assert (await caller.control("DELETE", f"/orders/{number}")).status == 200
    assert (await caller.control("GET", f"/orders/{number}")).status == 404


async def test_refused_and_malformed_requests(caller: Caller, sim: SimulatorServer) -> None:
    number = (await caller.control("POST", "/orders", PLAIN_ORDER)).body["legacyResourceId"]
    over = await caller.control("POST", f"/orders/{number}/refunds", {"amount": "1000"})
    assert over.status == 422 and "exceeds" in over.body["error"]
    assert (await caller.control("POST", f"/orders/{number}/tags", {})).status == 422
    assert (await caller.control("POST", "/orders/9999999999999/tags", {"tag": "x"})).status == 404
    async with caller.session.post(
        f"{sim.url}/_sim/orders", data=b"{not json", headers={"X-Shopify-Access-Token": sim.token}
    ) as response:
        assert response.status == 400


async def test_advance_the_manual_clock(caller: Caller) -> None:
    assert (await caller.control("POST", "/clock/advance", {"seconds": 90})).body == {
        "now": "2026-07-01T12:01:30Z"
    }


async def test_advancing_the_system_clock_is_refused() -> None:
    import aiohttp

    async with (
        SimulatorServer(orders=0) as sim,
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.url}/_sim/clock/advance",
            json={"seconds": 1},
            headers={"X-Shopify-Access-Token": sim.token},
        ) as response,
    ):
        assert response.status == 409


async def test_faults_and_bucket_over_the_control_api(caller: Caller) -> None:
    injected = await caller.control("POST", "/faults", {"kind": "http_402", "count": 2})
    assert injected.status == 201 and injected.body["remaining"] == 2
    assert len((await caller.control("GET", "/faults")).body) == 1
    assert (await caller.graphql(SHOP_INFO)).status == 402
    assert (await caller.control("DELETE", "/faults")).body == {"faults": []}
    assert (await caller.graphql(SHOP_INFO)).status == 200
    assert (await caller.control("POST", "/faults", {"kind": "nope"})).status == 422
    drained = await caller.control("POST", "/bucket/drain", {})
    assert drained.body["currentlyAvailable"] == 0
    assert (await caller.graphql(SHOP_INFO)).body["errors"][0]["extensions"]["code"] == "THROTTLED"
