"""The SQLite database as a file: can it be opened for writing, is it ours, is it still the one we opened.

The SQLite-specific half of opening the store (a PostgreSQL backend has no file): before the driver
touches the path, `writable_problem` names the usual operator mistakes in one line (a directory, a
missing or unwritable directory, a read-only file, a file that is not an SQLite database), which
`db.connect_writer` and `check` report with exit 78.
`FileIdentity` remembers the device and inode of the opened file: a database removed or replaced
while the bridge runs is noticed before the next commit instead of written into a deleted file.
`read_only_uri` lets the read-only commands open a database on a read-only directory or file system.
"""

from __future__ import annotations

import os
from pathlib import Path

from msgspec import Struct

SQLITE_HEADER = b"SQLite format 3\x00"


def looks_like_sqlite(path: Path) -> bool:
    """Whether `path` is empty (a database SQLite will initialise) or starts with SQLite's header."""
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    return head in (b"", SQLITE_HEADER)


def writable_problem(path: Path) -> str | None:
    """Why the bridge could not write a database at `path` (touches nothing), or None."""
    if path.is_dir():
        return f"database = {path} is a directory; name a file (e.g. {path / 'shopify-bridge.db'})"
    directory = path.parent
    if not directory.is_dir():
        return f"database = {path}: the directory {directory} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        # SQLite writes its WAL and SHM files beside the database: a writable file alone is not enough.
        return f"database = {path}: the directory {directory} is not writable"
    if not path.exists():
        return None
    if not os.access(path, os.R_OK | os.W_OK):
        return f"database = {path} is not writable"
    try:
        if not looks_like_sqlite(path):
            return f"database = {path} is not a shopify-bridge database (not an SQLite file)"
    except OSError as exc:
        return f"database = {path}: {exc.strerror or exc}"
    return None


def read_only_uri(path: Path, *, probe: bool = False) -> str:
    """The URI a read-only connection opens `path` with.

    SQLite reads a WAL database through its SHM file, which it must create when it is missing. Where it
    cannot (a read-only directory or file system) and no WAL file exists — so no writer has the database
    open, and none can — the database is opened as immutable: read without the SHM and without locks.
    `probe` (a quick look by `check`) does the same whenever no writer has the database open, so that
    looking leaves no WAL and SHM files behind.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    writer_files = Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()
    if not writer_files and (probe or not os.access(path.parent, os.W_OK)):
        uri += "&immutable=1"
    return uri


class FileIdentity(Struct, frozen=True):
    """The device and inode of the database file as opened."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        st = os.stat(path)
        return cls(path, st.st_dev, st.st_ino)

    def problem(self) -> str | None:
        """Why the path no longer names the opened file (removed, replaced), or None while it does."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return f"the database file {self.path} was removed while running"
        except OSError as exc:
            return f"the database file {self.path} cannot be checked: {exc.strerror or exc}"
        if (st.st_dev, st.st_ino) != (self.device, self.inode):
            return f"the database file {self.path} was replaced by another file while running"
        return None
