"""How the bridge's loops end: promptly on stop, all together on a fatal error, and what the process says.

`run_until_stopped` runs the loops (one per source, the delivery loops, the heartbeat) as tasks until
the stop event is set or one of them fails. Stopping first lets every loop finish what it is doing for
`grace` seconds (a delivery in flight usually completes and is recorded), then cancels what is still
running — a throttle wait, a retry sleep, a bulk poll, a download, a slow destination — so that the
process ends within 2 s of SIGTERM whatever it was doing. Cancelling is safe by construction: writes
are transactions that roll back, a delivery left `in_flight` is sent again at the next start
(at-least-once), and a backfill resumes from its stored state.

A loop that fails ends them all: a storage failure (exit 74) or a bug must not leave the other
loops running on. `Liveness` tells a service manager what it needs: when the first cycle of every
source is over (systemd's READY), and whether a cycle has been stuck for too long (no WATCHDOG ping).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from msgspec import Struct, field

from shopify_bridge import exit_codes
from shopify_bridge.errors import AuthError
from shopify_bridge.retry import Backoff
from shopify_bridge.store import StorageFailure, storage_failure

STOP_GRACE_SECONDS = 0.5
"""How long stopping waits for work in flight before cancelling it (SIGTERM to exit stays under 2 s)."""

FAILED_SOURCE_RETRY = Backoff(base=5.0, cap=300.0, jitter=False)
AUTH_FAILED_RETRY = Backoff(base=30.0, cap=3600.0, jitter=False)
"""A rejected token or a missing scope will not heal by itself in seconds: retried up to hourly."""


def retry_delay(exit_code: int, failures: int) -> float:
    """How long a source that failed `failures` times in a row (last with `exit_code`) waits to try again."""
    policy = AUTH_FAILED_RETRY if exit_code == exit_codes.NOPERM else FAILED_SOURCE_RETRY
    return policy.delay(failures)


def all_failed_authentication(failures: dict[str, tuple[int, str | None]]) -> AuthError | None:
    """The error `run` exits with (77) when every source's last cycle failed authentication; else None.

    `failures`: source name -> (exit code of its last cycle, reason). A restart cannot fix a revoked
    token, so the process ends and a service manager's `RestartPreventExitStatus=77` applies.
    """
    if not failures or any(code != exit_codes.NOPERM for code, _ in failures.values()):
        return None
    reasons = "; ".join(reason or name for name, (_, reason) in failures.items())
    return AuthError(f"every source failed authentication, stopping: {reasons}")


def _fatal(error: BaseException) -> BaseException:
    return storage_failure(error) or error


async def run_until_stopped(
    stop: asyncio.Event, loops: Iterable[Coroutine[Any, Any, None]], *, grace: float = STOP_GRACE_SECONDS
) -> None:
    """Run `loops` until `stop` is set (then `grace` seconds, then cancel) or one fails (then all stop)."""
    tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(loop) for loop in loops]
    stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        running = set(tasks)
        while running and not stop.is_set():
            done, running = await asyncio.wait(running | {stopping}, return_when=asyncio.FIRST_COMPLETED)
            running.discard(stopping)
            if any(not t.cancelled() and t.exception() is not None for t in done if t is not stopping):
                stop.set()  # one loop failed: the others wind down as on a stop signal
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
    finally:
        stopping.cancel()
        for task in tasks:  # cancelled from outside (the dashboard quitting): nothing is left running
            task.cancel()
    errors = [_fatal(error) for t in tasks if not t.cancelled() and (error := t.exception()) is not None]
    if errors:  # a storage failure first: it explains the others
        raise next((e for e in errors if isinstance(e, StorageFailure)), errors[0])


class Liveness(Struct):
    """Per source: has its first cycle ended, and since when has the cycle in progress made no progress."""

    sources: tuple[str, ...]
    monotonic: Callable[[], float] = time.monotonic
    first_cycle_over: set[str] = field(default_factory=set)
    busy_since: dict[str, float] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def cycle_started(self, source: str) -> None:
        self.busy_since[source] = self.monotonic()

    def progressed(self, source: str) -> None:
        """A long cycle moved on (a backfill step): it is not stuck, and the service is up."""
        if source in self.busy_since:
            self.busy_since[source] = self.monotonic()
        self._over(source)

    def cycle_ended(self, source: str) -> None:
        self.busy_since.pop(source, None)
        self._over(source)

    def _over(self, source: str) -> None:
        self.first_cycle_over.add(source)
        if self.first_cycle_over.issuperset(self.sources):
            self.ready.set()

    def stuck(self, limit: float) -> list[str]:
        """Sources whose cycle in progress has not moved for more than `limit` seconds."""
        now = self.monotonic()
        return sorted(name for name, since in self.busy_since.items() if now - since > limit)
