"""Many independent shops in one process: one server, one path prefix per shop.

`SimulatorFleet(count=1000)` serves shop `shop-0007` at `http://host:port/shops/shop-0007`, so the bridge
is configured with `api_url = fleet.url("shop-0007")` and that shop's own token. Each shop is a full
`SimulatorState` — its own orders, cost bucket, token, faults, bulk operations and clock options — mounted
as an aiohttp sub-application, so the `/admin/api/…`, `/_sim/…` and `/_bulk/…` paths of a single
simulator all exist under each prefix. Shops differ by seed (`options.seed + index`) and domain.
PRODUCT.md "Several stores": each store has its own token, cursor and rate-limit budget.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shopify_bridge.simulator.app import create_app, listen
from shopify_bridge.simulator.clock import Clock
from shopify_bridge.simulator.options import SimulatorOptions
from shopify_bridge.simulator.shop import SimulatorState, new_token

SHOPS_PREFIX = "/shops/"


def shop_name(index: int) -> str:
    return f"shop-{index:04d}"


class SimulatorFleet:
    def __init__(
        self,
        count: int,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        options: SimulatorOptions | None = None,
        clock: Clock | None = None,
        **overrides: Any,
    ) -> None:
        if count < 1:
            raise ValueError("a fleet needs at least one shop")
        base = (options or SimulatorOptions()).with_changes(**overrides)
        self.host = host
        self._port = port
        self.port = 0
        self.shops: dict[str, SimulatorState] = {}
        for index in range(count):
            name = shop_name(index)
            self.shops[name] = SimulatorState(
                token=new_token(),
                options=base.with_changes(seed=base.seed + index),
                clock=clock,
                shop_domain=f"{name}.myshopify.com",
            )
        self._runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        """The base URL of one shop (its `api_url`)."""
        if not self.port:
            raise RuntimeError("the fleet is not running")
        if name not in self.shops:
            raise KeyError(f"no shop {name!r} in this fleet")
        return f"http://{self.host}:{self.port}{SHOPS_PREFIX}{name}"

    def token(self, name: str) -> str:
        return self.shops[name].token

    def application(self) -> web.Application:
        root = web.Application()
        for name, state in self.shops.items():
            prefix = f"{SHOPS_PREFIX}{name}"
            root.add_subapp(prefix, create_app(state, prefix=prefix))
        return root

    async def start(self) -> SimulatorFleet:
        self._runner, self.port = await listen(self.application(), self.host, self._port)
        return self

    async def stop(self) -> None:
        for state in self.shops.values():
            state.faults.release_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.port = 0

    async def __aenter__(self) -> SimulatorFleet:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
