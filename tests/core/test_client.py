"""The gql-based client against a scripted local HTTP server: the wire quirks it must survive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.queries import SHOP_INFO

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


async def test_throttled_http_200_is_retried_after_a_computed_wait(server) -> None:
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
    assert sleeps.waits and all(w >= 1.0 for w in sleeps.waits)


async def test_429_honours_retry_after(server) -> None:
    url, script = server
    script.answers.append((429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "3"}))
    sleeps = Sleeps()
    async with client(url, sleeps) as c:
        await c.execute(SHOP_INFO)
    assert 3.0 in sleeps.waits


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
        await c.execute(SHOP_INFO)  # needs 300, bucket has 100: wait ~2 s first
    assert sleeps.waits and sleeps.waits[0] == pytest.approx(2.0)
    assert json.dumps(script.requests).count(TOKEN) == len(script.requests)
