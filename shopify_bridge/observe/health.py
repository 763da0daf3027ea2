"""`/healthz` and `/metrics`: the HTTP face of a headless `run`, served on the bridge's own event loop.

`/healthz` answers 200 only while every source's last poll succeeded within its window — max(3 ×
`poll_interval_seconds`, 60 s) — and the store is writable; otherwise 503. The body is JSON either way
and names each unhealthy source and why: `never polled` (since the process started), `failed: <reason>`
(its last cycle failed: a revoked token, Shopify unreachable, …), or `stale since <time>` (no success
within the window: a hung poll). A backfill counts as polling while it reports progress: it can run
for hours before the first incremental poll, and it is the source doing its work.

Several processes sharing a PostgreSQL store each judge only the sources whose lease they hold, by
their own polls since they took it (`polled`): a source just taken over is `never polled` until its
first cycle here (the lease keeper wakes it at once).
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
MIN_WINDOW_SECONDS = 60.0


def default_stale_after(poll_interval_seconds: float) -> float:
    """The window within which a source polled every `poll_interval_seconds` must have succeeded."""
    return max(STALE_INTERVALS * poll_interval_seconds, MIN_WINDOW_SECONDS)


@dataclass(frozen=True)
class SourceHealth:
    name: str
    why: str | None
    """Why the source is unhealthy (never polled, failed: …, stale since …); None when it is healthy."""
    last_success: datetime | None
    window_seconds: float
    state: str | None = None

    @property
    def healthy(self) -> bool:
        return self.why is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "why": self.why,
            "state": self.state,
            "last_success": iso(self.last_success) if self.last_success else None,
            "window_seconds": self.window_seconds,
        }


@dataclass(frozen=True)
class HealthReport:
    sources: tuple[SourceHealth, ...]
    store_problem: str | None = None

    @property
    def healthy(self) -> bool:
        return self.store_problem is None and all(source.healthy for source in self.sources)

    @property
    def unhealthy(self) -> dict[str, str]:
        """Source name -> why, for every unhealthy source."""
        return {source.name: source.why for source in self.sources if source.why is not None}

    def summary(self) -> str:
        if self.healthy:
            return "ok"
        parts = [f"{name}: {why}" for name, why in self.unhealthy.items()]
        if self.store_problem is not None:
            parts.append(f"store: {self.store_problem}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "detail": self.summary(),
            "unhealthy": self.unhealthy,
            "store": {"writable": self.store_problem is None, "problem": self.store_problem},
            "sources": {source.name: source.as_dict() for source in self.sources},
        }


def judge_source(
    name: str, window: float, last_alive: datetime | None, last_success: datetime | None, now: datetime,
    state: str | None = None, reason: str | None = None,
) -> SourceHealth:
    """One source: failed beats stale beats never polled; `last_alive` is its last success or backfill step."""
    if state == "failed":
        why: str | None = f"failed: {redact(reason) if reason else 'unknown reason'}"
    elif last_alive is None:
        why = "never polled"
    elif (now - last_alive).total_seconds() > window:
        why = f"stale since {iso(last_alive)} (no successful poll for {(now - last_alive).total_seconds():.0f} s, " \
              f"limit {window:.0f} s)"
    else:
        why = None
    return SourceHealth(name, why, last_success, window, state)


def evaluate(
    windows: Mapping[str, float],
    last_alive: Mapping[str, datetime],
    last_success: Mapping[str, datetime],
    now: datetime,
    states: Mapping[str, tuple[str, str | None]] | None = None,
    store_problem: str | None = None,
) -> HealthReport:
    """Judge every source of `windows` (name -> window in seconds) and the store."""
    judged = tuple(
        judge_source(name, window, last_alive.get(name), last_success.get(name), now, *(states or {}).get(
            name, (None, None)))
        for name, window in windows.items()
    )
    return HealthReport(judged, redact(store_problem) if store_problem else None)


class HealthCheck:
    """Health of the sources of a running bridge (from its metrics' record of successes) and of its store."""

    def __init__(
        self,
        metrics: BridgeMetrics,
        windows: Mapping[str, float],
        states: Callable[[], Mapping[str, tuple[str, str | None]]] | None = None,
        store_problem: Callable[[], str | None] | None = None,
        polled: Callable[[], Mapping[str, datetime]] | None = None,
    ) -> None:
        self.metrics = metrics
        self.windows = dict(windows)
        self.states = states or dict
        self.store_problem = store_problem or (lambda: None)
        # Several processes on one store: the sources this one polls now, each judged by its polls since
        # it took the lease (the others are the business of the process holding their lease). None: every
        # source.
        self.polled = polled

    def report(self) -> HealthReport:
        m = self.metrics
        windows, alive = self.windows, dict(m.last_alive)
        if self.polled is not None:
            mine = self.polled()
            windows = {name: window for name, window in windows.items() if name in mine}
            # A poll from before this process (re)took the lease says nothing about the source now.
            alive = {name: at for name, at in alive.items() if name in mine and at >= mine[name]}
        return evaluate(windows, alive, m.last_success, m.clock(), self.states(), self.store_problem())


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

    def store_problem() -> str | None:
        return bridge.store_problem

    polled = bridge.polled_sources if bridge.leases is not None else None
    server = ObservabilityServer(metrics, HealthCheck(metrics, windows, states, store_problem, polled), host, port)
    try:
        await server.start()
    except OSError as exc:  # a port in use or not ours to take: the config (or the command line) must change
        raise BridgeError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
                          exit_code=exit_codes.CONFIG) from None
    try:
        yield server
    finally:
        await server.stop()
        metrics.close()
