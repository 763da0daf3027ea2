"""The console script's start-up: no cyclic garbage collection until the command's modules are in.

Start-up makes hundreds of thousands of objects that live as long as the process: modules, classes,
the typer app, the config, the bridge. While they are being made, every few hundred allocations the
cyclic garbage collector walks the young ones and now and then all of them, finding nothing to free: a
quarter of `run --once`'s start-up CPU. The console script (`entry.main`) therefore starts with the
collector off (`defer_collection`); `startup_done` — called once the command's modules are imported and,
for `run`, the bridge is built — freezes everything alive (left out of later collections too) and turns
it back on. Called from anywhere else (tests, programs that call `app.main`), `startup_done` does nothing.

A stop asked for while the interpreter is still importing the app (`stop_before_start_is_clean`) ends the
process with 0: nothing has started, so nothing is lost. Without it SIGTERM's default action killed a
`run` that was told to stop within its first second (exit -15, which supervisors count as a crash).
`run` replaces it with its graceful stop handlers (`signals.install_stop_signals`) before any work.
"""

from __future__ import annotations

import gc
import signal
from types import FrameType

_deferred = False


def defer_collection() -> None:
    """Turn the collector off until `startup_done` (when it is on)."""
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def startup_done() -> None:
    """Start-up is over: collect from now on, leaving out what start-up made (a no-op unless deferred)."""
    global _deferred
    if _deferred:
        _deferred = False
        gc.freeze()
        gc.enable()


def _stopped_before_start(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_before_start_is_clean() -> None:
    """Until a command installs its own stop handling, SIGTERM ends the process with exit code 0."""
    signal.signal(signal.SIGTERM, _stopped_before_start)
