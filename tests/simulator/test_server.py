"""Running the simulator: the context manager, `serve_forever`, and the bridge's own client against it."""

from __future__ import annotations

import asyncio

import pytest

from shopify_bridge.errors import AuthError
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.queries import API_VERSION_DEFAULT, SHOP_INFO
from shopify_bridge.simulator import SimulatorServer, serve_forever
from tests.paged_orders import PAGED_ORDERS


async def test_the_server_exposes_url_token_and_state_and_hides_the_token() -> None:
    server = SimulatorServer(orders=3, token="shpat_sim_secret_value")
    with pytest.raises(RuntimeError):
        _ = server.url
    async with server as sim:
        assert sim.url.startswith("http://127.0.0.1:") and sim.port > 0
        assert sim.token == "shpat_sim_secret_value" and len(sim.state.orders()) == 3
        assert "secret" not in repr(sim)
        assert sim.graphql_url() == f"{sim.url}/admin/api/2026-07/graphql.json"
    assert not server.port


async def test_a_generated_token_is_unguessable() -> None:
    first, second = SimulatorServer(orders=0), SimulatorServer(orders=0)
    assert first.token != second.token and first.token.startswith("shpat_sim_") and len(first.token) > 30


async def test_serve_forever_announces_itself_and_stops_when_told() -> None:
    stop = asyncio.Event()
    seen: list[str] = []

    def ready(server: SimulatorServer) -> None:
        seen.append(server.url)
        stop.set()

    await asyncio.wait_for(serve_forever(port=0, orders=0, on_ready=ready, stop=stop), timeout=5)
    assert seen and seen[0].startswith("http://127.0.0.1:")


async def test_the_default_announcement_prints_url_and_token(capsys: pytest.CaptureFixture[str]) -> None:
    from shopify_bridge.simulator.server import announce

    async with SimulatorServer(orders=0) as sim:
        announce(sim)
    printed = capsys.readouterr().out
    assert sim.token in printed and "/admin/api/2026-07/graphql.json" in printed


async def test_the_bridges_client_talks_to_the_simulator_through_api_url() -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    # An idle neighbour: this client skips its pacing waits (no_sleep), and the test is about the api_url.
    async with SimulatorServer(orders=12, seed=2, competing_app_share=0) as sim:
        client = ShopifyClient(
            source_name="sim",
            shop_domain="sim-snowboards.myshopify.com",
            token=sim.token,
            api_version=API_VERSION_DEFAULT,
            api_url=sim.url,
            sleep=no_sleep,
        )
        async with client:
            shop = await client.execute(SHOP_INFO)
            assert shop["shop"]["myshopifyDomain"] == "sim-snowboards.myshopify.com"
            page = await client.execute(PAGED_ORDERS, {"query": "updated_at:>='2020-01-01T00:00:00Z'"})
            assert len(page["orders"]["nodes"]) == 10 and page["orders"]["pageInfo"]["hasNextPage"]
            sim.state.inject("http_401")
            with pytest.raises(AuthError):
                await client.execute(SHOP_INFO)
