"""Which database is this? Its id (in `meta`), and a witness beside it that outlives the database file.

A database removed while the bridge runs, or replaced by another file, must stop the bridge (exit 74)
before anything is committed into a file nobody will read again. `DatabaseIdentity.check` runs each
cycle and `before_commit` before every commit: the device and inode the path names (`FileIdentity`)
must still be those of the opened file. (A file copied over the database in place keeps the inode;
in WAL mode SQLite keeps reading its own WAL and cache then, so no in-process check can see it reliably.)

The harder case is the restart after such a loss: a new, empty database would take the time of its
first poll as each source's `first_connected_at`, so every order placed since the old database went
away would count as history and never be sent — silently. The witness `<database>.identity` (JSON,
0600) records the database id (`meta.database_id`, made at the first exclusive opening) and each source's
`first_connected_at`. Opening a database that lacks
the state of a source the witness knows (a new file, or another database) is refused with exit 74,
naming the sources and the way out: restore the database from a backup, or delete the witness to
start over on purpose (orders placed meanwhile then count as history). Opening another database that
does know those sources (a restored backup) is accepted; the witness then follows it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from shopify_bridge.private_files import open_private_text
from shopify_bridge.store.db import StorageFailure
from shopify_bridge.store.sqlite_file import FileIdentity

DATABASE_ID_KEY = "database_id"


def witness_path(database: Path) -> Path:
    return database.with_name(database.name + ".identity")


class Witness(Struct, frozen=True):
    database_id: str
    sources: dict[str, str] = field(default_factory=dict)
    """shop -> first_connected_at (UTC ISO) of every source the database had connected."""

    @classmethod
    def read(cls, path: Path) -> Witness | None:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["database_id"]), {str(k): str(v) for k, v in dict(data["sources"]).items()})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StorageFailure(f"{path} cannot be read ({exc}); restore it, or delete it to start over") from None

    def write(self, path: Path) -> None:
        """Replace the witness atomically (a crash leaves the old one or the new one, never half of one)."""
        partial = path.with_name(f".{path.name}.partial")
        text = json.dumps({"database_id": self.database_id, "sources": self.sources}, indent=2, sort_keys=True)
        with open_private_text(partial, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)


def ensure_database_id(conn: sqlite3.Connection) -> str:
    """The database's id, created on first use (a new database, or one from before ids existed)."""
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                 (DATABASE_ID_KEY, str(uuid.uuid4())))
    return stored_database_id(conn) or ""


def stored_database_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (DATABASE_ID_KEY,)).fetchone()
    return str(row[0]) if row else None


def connected_sources(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT shop, first_connected_at FROM sources WHERE first_connected_at IS NOT NULL")
    return {str(shop): str(at) for shop, at in rows}


def refuse_lost_sources(database: Path, witness: Witness | None, stored: dict[str, str]) -> None:
    """Exit 74 when the witness knows a connected source whose state this database does not hold."""
    if witness is None:
        return
    lost = {shop: at for shop, at in witness.sources.items() if shop not in stored}
    if not lost:
        return
    names = ", ".join(f"{shop} (connected since {at})" for shop, at in sorted(lost.items()))
    raise StorageFailure(
        f"database {database} does not hold the state of {names}, which a previous database here had "
        f"(see {witness_path(database)}): orders placed since it was lost would count as history and never be "
        f"sent. Restore that database from a backup, or delete {witness_path(database)} to start over on purpose"
    )


class DatabaseIdentity:
    """The identity of the writer's database file, checked each cycle and before each commit."""

    def __init__(self, database: Path, conn: sqlite3.Connection, file: FileIdentity, database_id: str) -> None:
        self.database = database
        self.conn = conn
        self.file = file
        self.database_id = database_id
        self.witness = witness_path(database)
        self._witnessed: dict[str, str] | None = None

    @classmethod
    def establish(cls, database: Path, conn: sqlite3.Connection) -> DatabaseIdentity:
        """After opening and migrating: refuse a database that lost a witnessed source; else record it."""
        refuse_lost_sources(database, Witness.read(witness_path(database)), connected_sources(conn))
        identity = cls(database, conn, FileIdentity.of(database), ensure_database_id(conn))
        identity.sync_witness()
        return identity

    def before_commit(self) -> None:
        """Refuse to commit into a file that is no longer the database (removed or replaced)."""
        problem = self.file.problem()
        if problem is not None:
            raise StorageFailure(f"{problem}; stopping (nothing committed is lost)")

    def check(self, *, witness: bool = True) -> None:
        """Each cycle: the path still names the opened file; the witness follows the sources connected since
        (with `witness`: it reads every source's row)."""
        self.before_commit()
        if witness:
            self.sync_witness()

    def sync_witness(self) -> None:
        sources = connected_sources(self.conn)
        if sources == self._witnessed:
            return
        try:
            Witness(self.database_id, sources).write(self.witness)
        except OSError as exc:
            raise StorageFailure(f"cannot write {self.witness}: {exc.strerror or exc}") from None
        self._witnessed = sources
