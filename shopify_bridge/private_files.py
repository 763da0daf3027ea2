"""Files the bridge creates hold personal data (orders, customers' e-mails) or secrets: they are born 0600.

Every file the bridge writes — the database (SQLite gives its WAL and SHM the database file's mode), the
writer lock, JSONL destination files, cassettes, log files, bulk result and staging files — is created
through `open_private` (or `create_private` when another library opens it afterwards), so the mode is
right from the first byte instead of fixed up by a later chmod. An existing file keeps its mode: `check`
reports one that is wider (`wider_than_private`) rather than changing an operator's choice behind their back.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO, cast

PRIVATE_MODE = 0o600


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_MODE)


def open_private(path: Path | str, mode: str = "ab") -> BinaryIO:
    """`open(path, mode)` in binary, except that a file it creates gets mode 0600 (the umask can only narrow it)."""
    assert "b" in mode, mode
    return cast(BinaryIO, open(path, mode, opener=_private_opener))


def open_private_text(path: Path | str, mode: str = "a") -> TextIO:
    """`open(path, mode, encoding="utf-8")`, except that a file it creates gets mode 0600."""
    assert "b" not in mode, mode
    return cast(TextIO, open(path, mode, encoding="utf-8", opener=_private_opener))


def create_private(path: Path | str) -> bool:
    """Create `path` empty with mode 0600 unless it exists; whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def wider_than_private(path: Path | str) -> str | None:
    """The octal mode of `path` when group or others may read or write it (e.g. "0644"); None otherwise."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return f"{mode:04o}" if mode & 0o077 else None
