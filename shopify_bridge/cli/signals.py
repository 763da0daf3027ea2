"""Stop signals of the long-running commands (`run`, `demo --headless`, `simulate`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from shopify_bridge import exit_codes
from shopify_bridge.observe.log import get_logger

log = get_logger(component="cli")


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT set `stop` once (graceful); a second signal exits at once."""
    loop = asyncio.get_running_loop()
    hits = {"n": 0}

    def handler() -> None:
        hits["n"] += 1
        if hits["n"] > 1:
            log.warning("second signal: exiting now")
            sys.exit(exit_codes.OK)
        log.info("stopping: finishing the current work (send the signal again to exit at once)")
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not the main thread, or a platform without signal handlers: Ctrl-C still raises.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)
