"""Running the dashboard: over the store alone (`tui --attach`) or beside an in-process bridge.

With a bridge, the bridge's loops and the dashboard share one event loop: quitting the
dashboard stops the bridge, and a `stop` set elsewhere (SIGTERM, the demo's duration) closes the
dashboard. A bridge that dies is shown in the errors view, not swallowed: the operator keeps
looking at a store that no longer moves and must know why.

Quitting must not wait for slow work: the bridge notices `stop` only between its steps, and a
step can be a poll waiting on Shopify (30 s timeout, retried), a bulk operation being waited out
or a send waiting on a destination, which left the operator before a blank screen for a minute
or more. After `STOP_GRACE` the bridge is cancelled instead: its open transaction rolls back (a
poll's orders and cursor are read again at the next start) and a delivery that was in flight is
re-sent then, as after a crash — at least once, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from shopify_bridge.timeutil import system_clock
from tui.actions import DashboardActions
from tui.app import DashboardApp

STOP_GRACE = 0.5  # seconds the bridge gets to finish by itself once the dashboard has quit
CANCEL_GRACE = 0.4  # then, for its cancellation to unwind (closing destinations, rolling back)


class _HasDatabase(Protocol):
    @property
    def database(self) -> Path | str: ...


class _Runs(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


async def run_dashboard(
    config: _HasDatabase,
    *,
    bridge: _Runs | None = None,
    stop: asyncio.Event | None = None,
    actions: DashboardActions | None = None,
    clock: Callable[[], datetime] = system_clock,
    refresh_seconds: float = 1.0,
    headless: bool = False,
) -> None:
    """Show the dashboard for `config.database` until the operator quits or `stop` is set."""
    app = DashboardApp(config.database, actions=actions, clock=clock, refresh_seconds=refresh_seconds)
    await run_beside(app, bridge=bridge, stop=stop or asyncio.Event(), headless=headless)


async def run_beside(app: DashboardApp, *, bridge: _Runs | None, stop: asyncio.Event, headless: bool = False) -> None:
    """Run `app` (and `bridge`, if any) on this loop; either side ending ends both."""
    bridge_task = asyncio.create_task(bridge.run(stop), name="bridge") if bridge is not None else None

    def bridge_ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            app.report_error("bridge stopped", task.exception())

    if bridge_task is not None:
        bridge_task.add_done_callback(bridge_ended)

    async def close_on_stop() -> None:
        await stop.wait()
        app.exit()

    closer = asyncio.create_task(close_on_stop(), name="dashboard-closer")
    try:
        await app.run_async(headless=headless)
    finally:
        stop.set()
        closer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closer
        if bridge_task is not None:
            await stop_bridge(bridge_task)


async def stop_bridge(task: asyncio.Task[None]) -> None:
    """Give the bridge `STOP_GRACE` to stop by itself, then cancel it; a failure of its own is raised
    (the command maps it to an exit code), a cancellation is not."""
    done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
    if done and not task.cancelled():
        task.result()
