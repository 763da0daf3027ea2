"""What `check` says about the bridge's own files: can the database be used, and who else can read them.

The database, its WAL and SHM, the writer lock, the identity witness, the dashboard's log and the JSONL
destination files hold orders and customers' data. The bridge creates them 0600; one that already
exists with a wider mode (created by hand, by an older version, or copied with another umask) is
reported, not changed: the operator may share it on purpose (a group that reads the events file).
"""

from __future__ import annotations

from pathlib import Path

from shopify_bridge.config import Config
from shopify_bridge.private_files import wider_than_private
from shopify_bridge.store.identity import witness_path
from shopify_bridge.store.schema import database_problem
from shopify_bridge.store.writer_lock import lock_path


def bridge_files(config: Config) -> list[Path]:
    """The files the bridge writes for this config (whether they exist yet or not)."""
    files: list[Path] = []
    if isinstance(config.database, Path):
        database = config.database
        files += [database, Path(f"{database}-wal"), Path(f"{database}-shm"), lock_path(database),
                  witness_path(database)]
    files.append(config.local_path(".log"))  # the dashboard's log: beside the SQLite file, or the config file
    files += [destination.path for destination in config.destinations if destination.type == "jsonl"]
    return files


def storage_problem(config: Config) -> str | None:
    """Why the configured database cannot be used by `run` (a directory, unwritable, not ours), or None."""
    if not isinstance(config.database, Path):
        return None  # a PostgreSQL URL: no local file
    return database_problem(config.database)


def wide_mode_warnings(config: Config) -> list[str]:
    """One line per existing bridge file that group or others may read."""
    lines = []
    for path in bridge_files(config):
        mode = wider_than_private(path)
        if mode is not None:
            lines.append(f"warning: {path} has mode {mode}: it holds order data; `chmod 600 {path}` keeps it private")
    return lines
