"""Running the simulator: an async context manager for tests and a `serve_forever` for the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from shopify_bridge.simulator.app import create_app, listen
from shopify_bridge.simulator.clock import Clock
from shopify_bridge.simulator.fleet import SimulatorFleet
from shopify_bridge.simulator.options import SimulatorOptions
from shopify_bridge.simulator.shop import SimulatorState, new_token

DEFAULT_PORT = 8787


class SimulatorServer:
    """`async with SimulatorServer(orders=20) as sim:` — a running simulated shop at `sim.url`.

    The bridge talks to it with `api_url = sim.url` and `access_token = sim.token`; tests change
    the shop through `sim.state` (or the `/_sim` control API). `options` (a `SimulatorOptions`, e.g.
    `SimulatorOptions.harsh()`) says how harsh the shop is; keywords override single options.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        *,
        options: SimulatorOptions | None = None,
        clock: Clock | None = None,
        **overrides: Any,
    ) -> None:
        self.host = host
        self._port = port
        self.state = SimulatorState(token=token or new_token(), options=options, clock=clock, **overrides)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the simulator is not running")
        return f"http://{self.host}:{self.port}"

    def graphql_url(self, version: str = "2026-07") -> str:
        return f"{self.url}/admin/api/{version}/graphql.json"

    async def start(self) -> SimulatorServer:
        self._runner, self.port = await listen(create_app(self.state), self.host, self._port)
        return self

    async def stop(self) -> None:
        self.state.faults.release_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.port = 0

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        where = self.url if self.port else "not running"
        return f"SimulatorServer({where}, orders={len(self.state.store)})"


def announce(server: SimulatorServer) -> None:
    print(f"Shopify simulator listening on {server.url}")
    print(f"  GraphQL: {server.graphql_url()}")
    print(f"  access token: {server.token}")
    print(f"  control API: {server.url}/_sim/state (same token)")


def announce_fleet(fleet: SimulatorFleet) -> None:
    print(f"Shopify simulator serving {len(fleet.shops)} shops on http://{fleet.host}:{fleet.port}")
    for name in fleet.shops:
        print(f"  {fleet.url(name)}  access token: {fleet.token(name)}")


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[SimulatorServer], None] = announce,
    stop: asyncio.Event | None = None,
    shops: int = 1,
    **options: Any,
) -> None:
    """Run a simulator until `stop` is set (or the task is cancelled); `on_ready` prints URL and token.

    With `shops` > 1 it serves a fleet, one path prefix per shop, and prints each shop's URL and token.
    """
    if shops > 1:
        async with SimulatorFleet(shops, host, port, **options) as fleet:
            announce_fleet(fleet)
            await (stop or asyncio.Event()).wait()
        return
    async with SimulatorServer(host=host, port=port, **options) as server:
        on_ready(server)
        await (stop or asyncio.Event()).wait()
