"""Is anyone writing the store `tui --attach` looks at? The writer's pid and last heartbeat.

Two witnesses, both optional: the writer lock beside the database (`<database>.lock`, which holds the
pid of the bridge that has the store open for writing) and the heartbeat the bridge stores every few
seconds (`meta.writer_heartbeat`, pid and time). The lock file is only read, never locked: taking it,
even for a moment, could make a bridge that starts just then exit as a second writer.

- alive: the pid runs and the heartbeat is fresh;
- silent: the pid runs, but no heartbeat for `STALE_AFTER` (a hung bridge, or the pid was reused);
- gone: the pid no longer runs;
- unknown: no lock file names a pid and no heartbeat was ever written (a store of an older bridge).
A silent or gone writer makes the screen stale: what it shows no longer moves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rich.text import Text

from shopify_bridge.store.writer_heartbeat import Heartbeat
from tui.format import age

STALE_AFTER = timedelta(seconds=30)  # six missed beats of the bridge's 5 s heartbeat
_PID = re.compile(rb"\d+")


def pid_running(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def lock_holder(database: Path) -> int | None:
    """The pid the writer lock file names, if there is one (its first number)."""
    try:
        found = _PID.search(lock_path(database).read_bytes()[:64])
    except OSError:
        return None
    return int(found.group()) if found else None


@dataclass(frozen=True)
class WriterStatus:
    state: str  # alive | silent | gone | unknown
    pid: int | None
    heartbeat_at: datetime | None

    @property
    def stale(self) -> bool:
        return self.state in ("silent", "gone")

    def line(self, now: datetime) -> Text:
        beat = f"last heartbeat {age(self.heartbeat_at, now)}" if self.heartbeat_at else "no heartbeat yet"
        pid = f"pid {self.pid}" if self.pid is not None else "no pid"
        if self.state == "alive":
            return Text.assemble(("● writer alive", "green"), f" · {pid} · {beat}")
        if self.state == "silent":
            return Text.assemble(("▲ STALE", "bold yellow"), f" · writer {pid} runs but is silent · {beat}")
        if self.state == "gone":
            return Text.assemble(("✖ STALE", "bold red"), f" · writer not running ({pid} gone) · {beat}")
        return Text.assemble(("? writer unknown", "yellow"), " · no lock and no heartbeat in this store")


def writer_status(
    database: Path | str,
    heartbeat: Heartbeat | None,
    now: datetime,
    *,
    running: Callable[[int], bool] = pid_running,
) -> WriterStatus:
    if isinstance(database, str):
        # A PostgreSQL store: no lock file, and the writers may run on other machines (their pids mean
        # nothing here), so the heartbeat alone tells.
        return _by_heartbeat_alone(heartbeat, now)
    holder = lock_holder(database)
    pid = holder if holder is not None else (heartbeat.pid if heartbeat else None)
    at = heartbeat.at if heartbeat else None
    if pid is None:
        return WriterStatus("unknown", None, at)
    if not running(pid):
        return WriterStatus("gone", pid, at)
    if at is not None and now - at > STALE_AFTER:
        return WriterStatus("silent", pid, at)
    if at is None and holder is None:
        return WriterStatus("unknown", pid, at)
    return WriterStatus("alive", pid, at)


def _by_heartbeat_alone(heartbeat: Heartbeat | None, now: datetime) -> WriterStatus:
    if heartbeat is None:
        return WriterStatus("unknown", None, None)
    state = "silent" if now - heartbeat.at > STALE_AFTER else "alive"
    return WriterStatus(state, heartbeat.pid, heartbeat.at)
