"""One writer per SQLite database: an OS lock on `<database>.lock`, held for as long as the bridge runs.

Two bridges delivering from one outbox would each take the other's in-flight deliveries for crash
leftovers and send them again. `run`, `tui` and `demo` therefore hold an exclusive `flock` on the lock
file beside the database; the kernel releases it when the process ends however it ends (a crash or
SIGKILL leaves no stale lock to clean up). `flock` (not `fcntl` record locks) so that two openings
in one process conflict too, as two processes do.

The file holds the holder's pid as its first line (mode 0600): the refusal names it, and `tui
--attach` reads it to tell whether the writer still runs. A contender opens it without truncating,
so it cannot wipe the holder's pid; the file is never deleted, since deleting a lock file lets two
processes lock two different files. Readers (`events`, `explain`, `reconcile`, `tui --attach`) never
take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path

from shopify_bridge.private_files import PRIVATE_MODE

_PID = re.compile(rb"\d+")


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def read_holder(fd: int) -> int | None:
    """The pid written in the lock file (its first number), if any."""
    found = _PID.search(os.pread(fd, 64, 0))
    return int(found.group()) if found else None


class WriterBusy(Exception):
    """Another process holds the writer lock; `pid` when the lock file names it."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is locked by pid {pid}")
        self.path = path
        self.pid = pid


class WriterLock:
    """The exclusive writer lock of one database; `acquire()` raises `WriterBusy` or OSError."""

    def __init__(self, database: Path) -> None:
        self.path = lock_path(database)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.path, flags, PRIVATE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(fd)
            os.close(fd)
            raise WriterBusy(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Clear the pid (a stale one could name an unrelated process later) and let the lock go."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
