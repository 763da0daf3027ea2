"""The gql-based client against a scripted local HTTP server: the wire quirks it must survive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.queries import SHOP_INFO
from tests.paged_orders import PAGED_ORDERS

TOKEN = "shpat_canary_0123456789"
COST = {
    "cost": {
        "requestedQueryCost": 2,
        "actualQueryCost": 2,
        "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1998, "restoreRate": 100},
    }
}
OK = {"data": {"shop": {"name": "Demo"}, "currentAppInstallation": {"accessScopes": []}}, "extensions": COST}


class Script:
    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Script]]:
    script = Script()

    async def handler(request: web.Request) -> web.StreamResponse:
        script.requests.append({"headers": dict(request.headers), "body": await request.json()})
        status, body, headers = script.answers.pop(0) if script.answers else (200, OK, {})
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html", headers=headers)
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_post("/admin/api/{version}/graphql.json", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", script
    await runner.cleanup()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(url: str, sleeps: Sleeps) -> ShopifyClient:
    return ShopifyClient(
        source_name="Main",
        shop_domain="demo.myshopify.com",
        token=TOKEN,
        api_version="2026-07",
        api_url=url,
        clock=lambda: 0.0,
        sleep=sleeps,
    )


async def test_sends_token_to_the_pinned_version_endpoint(server) -> None:
    url, script = server
    async with client(url, Sleeps()) as c:
        data = await c.execute(SHOP_INFO)
    assert data["shop"]["name"] == "Demo"
    assert script.requests[0]["headers"]["X-Shopify-Access-Token"] == TOKEN


async def test_401_string_body_is_an_auth_error_without_the_token(server) -> None:
    url, script = server
    script.answers.append(
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {})
    )
    with pytest.raises(BridgeError) as caught:
        async with client(url, Sleeps()) as c:
            await c.execute(SHOP_INFO)
    assert caught.value.exit_code == exit_codes.NOPERM
    assert "token rejected for Main" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_throttled_http_200_is_retried_after_exactly_the_computed_wait(server) -> None:
    url, script = server
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 500,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 100, "restoreRate": 100},
            }
        },
    }
    script.answers.append((200, throttled, {}))
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        data = await c.execute(SHOP_INFO)
    assert data["shop"]["name"] == "Demo"
    assert len(script.requests) == 2
    assert sleeps.waits[0] == 4.0  # ceil((500 - 100) / 100): not a fixed beat, not more


LOW = {  # an answer that leaves the bucket nearly empty: a guess from it would not be the server's number
    "data": OK["data"],
    "extensions": {
        "cost": {
            "requestedQueryCost": 492,
            "actualQueryCost": 169,
            "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1, "restoreRate": 100},
        }
    },
}


@pytest.mark.parametrize(
    ("body", "retry_after", "wait"),
    [
        ({"errors": "Exceeded 2 calls per second for api client."}, "3", 3.0),
        ("<html><body>429 Too Many Requests</body></html>", "7", 7.0),  # gql refuses the body: header kept
        ({"errors": "Exceeded 2 calls per second for api client."}, "6.5", 6.5),
    ],
    ids=["json-string-errors", "html-body", "fractional"],
)
async def test_429_waits_exactly_what_retry_after_says(server, body: object, retry_after: str, wait: float) -> None:
    url, script = server
    script.answers += [(200, LOW, {}), (429, body, {"Retry-After": retry_after})]
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        await c.execute(SHOP_INFO)
        sleeps.waits.clear()
        await c.execute(SHOP_INFO)
    # first the bucket's own wait for the 491 (+1) points it lacks, then — after the 429 — the server's number
    assert sleeps.waits[:2] == [4.92, wait]
    assert c.usage.throttled == 1


async def test_503_retry_after_is_a_floor_the_jitter_only_adds_to(server) -> None:
    url, script = server
    script.answers += [(503, {"errors": "Service Unavailable"}, {"Retry-After": "7"})] * 3
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        await c.execute(SHOP_INFO)
    assert len(sleeps.waits) == 3 and all(w >= 7.0 for w in sleeps.waits)


async def test_page_sizes_go_out_explicitly_with_the_callers_variables(server) -> None:
    url, script = server
    script.answers.append((200, {"data": {"orders": {"nodes": []}}, "extensions": COST}, {}))
    async with client(url, Sleeps()) as c:
        await c.execute(PAGED_ORDERS, {"query": "updated_at:>='2026-07-01T00:00:00Z'", "after": None})
    assert script.requests[0]["body"]["variables"] == {
        "query": "updated_at:>='2026-07-01T00:00:00Z'",
        "after": None,
        "first": 10,
        "lineItemsFirst": 10,
    }


async def test_another_served_api_version_is_warned_about_once(server) -> None:
    url, script = server
    script.answers += [(200, OK, {"X-Shopify-API-Version": "2026-10"})] * 2
    with capture_logs() as logs:
        async with client(url, Sleeps()) as c:
            await c.execute(SHOP_INFO)
            await c.execute(SHOP_INFO)
    warned = [e for e in logs if e["event"] == "Shopify served another API version than requested"]
    assert len(warned) == 1 and warned[0]["served"] == "2026-10"


@pytest.mark.parametrize("first", [(503, {"errors": "Service Unavailable"}, {}), (200, "<html>maintenance</html>", {})])
async def test_5xx_and_html_bodies_retry_with_backoff(server, first) -> None:
    url, script = server
    script.answers.append(first)
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        await c.execute(SHOP_INFO)
    assert len(script.requests) == 2 and len(sleeps.waits) == 1


async def test_persistent_5xx_gives_up_with_a_temporary_failure(server) -> None:
    url, script = server
    script.answers.extend([(500, {"errors": "Internal"}, {})] * 10)
    with pytest.raises(BridgeError) as caught:
        async with client(url, Sleeps()) as c:
            await c.execute(SHOP_INFO)
    assert caught.value.exit_code == exit_codes.TEMPFAIL


async def test_unreachable_shop_is_exit_69(unused_tcp_port: int) -> None:
    with pytest.raises(BridgeError) as caught:
        async with client(f"http://127.0.0.1:{unused_tcp_port}", Sleeps()) as c:
            await c.execute(SHOP_INFO)
    assert caught.value.exit_code == exit_codes.UNAVAILABLE
    assert "unreachable" in str(caught.value)


async def test_the_bucket_makes_the_client_wait_before_a_query_that_would_not_fit(server) -> None:
    url, script = server
    low = {
        "data": OK["data"],
        "extensions": {
            "cost": {
                "requestedQueryCost": 300,
                "actualQueryCost": 300,
                "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 100, "restoreRate": 100},
            }
        },
    }
    script.answers.append((200, low, {}))
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        await c.execute(SHOP_INFO)
        assert sleeps.waits == []
        await c.execute(SHOP_INFO)  # needs 300, bucket has 100: wait 2 s (and a point) first
    assert sleeps.waits and sleeps.waits[0] == pytest.approx(2.01)  # 200 (+1) missing at 100/s
    assert json.dumps(script.requests).count(TOKEN) == len(script.requests)
