"""`/healthz` and `/metrics`: the HTTP face of a headless `run`, served on the bridge's own event loop.

A source is healthy while its last successful cycle (or backfill progress: a backfill can run for
hours without a cycle finishing) is younger than its staleness window, by default three poll
intervals plus a minute, so one slow or failed poll does not flap the check. A source that has
not succeeded yet is judged from the moment the process started. `/healthz` answers 200 when every
source is healthy, else 503 naming the stale sources; the body is JSON either way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.log import get_logger, redact
from shopify_bridge.observe.metrics import BridgeMetrics
from shopify_bridge.timeutil import iso

if TYPE_CHECKING:
    from shopify_bridge.service.bridge import Bridge

log = get_logger(component="health")

DEFAULT_METRICS_HOST = "127.0.0.1"
# What `generate_latest` writes, named here because prometheus-client < 0.22 has no constant for it.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
STALE_INTERVALS = 3
STALE_GRACE_SECONDS = 60.0


def default_stale_after(poll_interval_seconds: float) -> float:
    """The staleness window of a source polled every `poll_interval_seconds`."""
    return STALE_INTERVALS * poll_interval_seconds + STALE_GRACE_SECONDS


@dataclass(frozen=True)
class SourceHealth:
    name: str
    healthy: bool
    last_success: datetime | None
    silent_seconds: float
    """Seconds since the last sign of life (since the process started when there was none)."""
    stale_after_seconds: float
    state: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "last_success": iso(self.last_success) if self.last_success else None,
            "silent_seconds": round(self.silent_seconds, 1),
            "stale_after_seconds": self.stale_after_seconds,
            "state": self.state,
            "reason": redact(self.reason) if self.reason else None,
        }


@dataclass(frozen=True)
class HealthReport:
    sources: tuple[SourceHealth, ...]

    @property
    def healthy(self) -> bool:
        return all(source.healthy for source in self.sources)

    @property
    def stale(self) -> list[str]:
        return [source.name for source in self.sources if not source.healthy]

    def summary(self) -> str:
        if self.healthy:
            return "ok"
        parts = [f"{s.name} (no successful poll for {s.silent_seconds:.0f} s, limit {s.stale_after_seconds:.0f} s)"
                 for s in self.sources if not s.healthy]
        return "stale: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "stale",
            "detail": self.summary(),
            "stale": self.stale,
            "sources": {source.name: source.as_dict() for source in self.sources},
        }


def evaluate(
    windows: Mapping[str, float],
    last_alive: Mapping[str, datetime],
    last_success: Mapping[str, datetime],
    started_at: datetime,
    now: datetime,
    states: Mapping[str, tuple[str, str | None]] | None = None,
) -> HealthReport:
    """Judge every source of `windows` (name -> staleness window in seconds)."""
    judged = []
    for name, window in windows.items():
        since = last_alive.get(name, started_at)
        silent = max(0.0, (now - since).total_seconds())
        state, reason = (states or {}).get(name, (None, None))
        judged.append(SourceHealth(name, silent <= window, last_success.get(name), silent, window, state, reason))
    return HealthReport(tuple(judged))


class HealthCheck:
    """Health of the sources of a running bridge, from its metrics' record of successes."""

    def __init__(
        self,
        metrics: BridgeMetrics,
        windows: Mapping[str, float],
        states: Callable[[], Mapping[str, tuple[str, str | None]]] | None = None,
        polled: Callable[[], Mapping[str, datetime]] | None = None,
    ) -> None:
        self.metrics = metrics
        self.windows = dict(windows)
        self.states = states or dict
        # Several processes on one store: the sources this one polls now, each judged from when it took
        # it over (the others are the business of the process holding their lease). None: every source.
        self.polled = polled

    def report(self) -> HealthReport:
        m = self.metrics
        windows, alive = self.windows, dict(m.last_alive)
        if self.polled is not None:
            mine = self.polled()
            windows = {name: window for name, window in windows.items() if name in mine}
            for name, since in mine.items():
                alive[name] = max(alive.get(name, m.started_at), since)
        return evaluate(windows, alive, m.last_success, m.started_at, m.clock(), self.states())


class ObservabilityServer:
    """`async with ObservabilityServer(metrics, health, host, port):` serves /metrics and /healthz."""

    def __init__(self, metrics: BridgeMetrics, health: HealthCheck, host: str = DEFAULT_METRICS_HOST,
                 port: int = 0) -> None:
        self.metrics = metrics
        self.health = health
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        # The store part of a scrape reads SQLite: off the loop, so polling and delivery never wait on it.
        body = await asyncio.to_thread(self.metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": PROMETHEUS_TEXT})

    async def _healthz(self, request: web.Request) -> web.Response:
        report = self.health.report()
        return web.Response(text=json.dumps(report.as_dict()), status=200 if report.healthy else 503,
                            content_type="application/json")

    async def start(self) -> ObservabilityServer:
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("serving /metrics and /healthz", url=self.url)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ObservabilityServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@asynccontextmanager
async def serving(
    bridge: Bridge, metrics: BridgeMetrics, *, host: str = DEFAULT_METRICS_HOST, port: int = 0,
    stale_after: float | None = None,
) -> AsyncIterator[ObservabilityServer]:
    """/metrics and /healthz of `bridge` while the block runs; `stale_after` overrides every window."""
    windows = {
        source.name: stale_after if stale_after is not None else default_stale_after(source.poll_interval_seconds)
        for source in bridge.config.sources
    }

    def states() -> dict[str, tuple[str, str | None]]:
        return {name: (status.state, status.reason) for name, status in bridge.status.items()}

    polled = bridge.polled_sources if bridge.leases is not None else None
    server = ObservabilityServer(metrics, HealthCheck(metrics, windows, states, polled), host, port)
    try:
        await server.start()
    except OSError as exc:
        raise BridgeError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
                          exit_code=exit_codes.UNAVAILABLE) from None
    try:
        yield server
    finally:
        await server.stop()
        metrics.close()
