"""Telling systemd how the bridge is doing: sd_notify(3) over `$NOTIFY_SOCKET` (`Type=notify` units).

A few lines of socket code instead of a dependency: one datagram per message to the Unix socket systemd
names (a leading `@` is the abstract namespace). Nothing happens without `NOTIFY_SOCKET`, and a
message that cannot be sent is logged once and never stops the bridge.

`keep_informed` is the protocol as the bridge uses it:
- `READY=1` once every source has finished its first cycle (or started its backfill): `systemctl start`
  returns when the bridge really works, and a unit ordered after it starts then;
- `WATCHDOG=1` every half `WatchdogSec` (systemd passes it as `$WATCHDOG_USEC`), but only while no
  source's cycle has been stuck — without progress — for a whole `WatchdogSec`, the event loop turns,
  and the store takes writes; otherwise the pings stop and systemd restarts the service;
- `STATUS=` a one-line summary; `STOPPING=1` on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Mapping

from shopify_bridge.observe.log import get_logger

log = get_logger(component="systemd")

STATUS_EVERY_SECONDS = 30.0  # without a watchdog: how often STATUS= is refreshed


class SystemdNotifier:
    """Sends sd_notify messages to `address`; `watchdog_seconds` is systemd's WatchdogSec, if any."""

    def __init__(self, address: str, watchdog_seconds: float | None = None) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds = watchdog_seconds
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SystemdNotifier | None:
        """The notifier systemd asked for, or None when the bridge does not run under `Type=notify`."""
        address = env.get("NOTIFY_SOCKET")
        if not address:
            return None
        watchdog: float | None = None
        usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        if usec and usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = int(usec) / 1_000_000
        return cls(address, watchdog)

    def send(self, *fields: str) -> bool:
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self.address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd", socket=self.address, error=exc.strerror or str(exc))
            return False
        return True


async def keep_informed(
    notifier: SystemdNotifier,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event,
    stuck: Callable[[float], list[str]],
    store_problem: Callable[[], str | None],
    status: Callable[[], str],
) -> None:
    """READY once `ready` is set, WATCHDOG while nothing is stuck, STATUS lines, STOPPING at the end."""
    watchdog = notifier.watchdog_seconds
    tick = watchdog / 2 if watchdog else STATUS_EVERY_SECONDS
    announced = False
    try:
        while not stop.is_set():
            fields = []
            if ready.is_set() and not announced:
                announced = True
                fields.append("READY=1")
            text = status()
            if watchdog is not None:
                hung, problem = stuck(watchdog), store_problem()
                if not hung and problem is None:
                    fields.append("WATCHDOG=1")
                else:  # no ping: systemd restarts the service after WatchdogSec
                    text = f"no progress: {', '.join(hung)}" if hung else f"store: {problem}"
                    log.warning("withholding the watchdog ping", reason=text)
            fields.append(f"STATUS={text}")
            notifier.send(*fields)
            waits = [asyncio.ensure_future(stop.wait())]
            if not announced:
                waits.append(asyncio.ensure_future(ready.wait()))
            await asyncio.wait(waits, timeout=tick, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
    finally:
        with contextlib.suppress(Exception):
            notifier.send("STOPPING=1", "STATUS=stopping")
