"""`Store`: one database connection and the typed API of each table family over it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlite_utils

from shopify_bridge import exit_codes
from shopify_bridge.store.alerts import AlertLog
from shopify_bridge.store.db import Sql, StoreError, sqlite_path
from shopify_bridge.store.events import Events
from shopify_bridge.store.identity import DatabaseIdentity, Witness, refuse_lost_sources, witness_path
from shopify_bridge.store.operator import Operator
from shopify_bridge.store.orders import Orders
from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads import Reads
from shopify_bridge.store.refunds import Refunds
from shopify_bridge.store.schema import open_reader, open_writer
from shopify_bridge.store.sources import Sources
from shopify_bridge.store.sqlite_file import writable_problem
from shopify_bridge.store.writer_lock import WriterBusy, WriterLock


class Store:
    """The bridge's database through domain-named methods; `transaction()` groups writes into one commit."""

    def __init__(self, db: sqlite_utils.Database, *, writable: bool) -> None:
        self.db = db
        self.lock: WriterLock | None = None
        self.identity: DatabaseIdentity | None = None
        self.conn: sqlite3.Connection = db.conn
        self.writable = writable
        self.sql = Sql(self.conn)
        self.sources = Sources(self.sql)
        self.events = Events(self.sql)
        self.refunds = Refunds(self.sql)
        self.orders = Orders(self.sql, self.events, self.refunds)  # records decisions with their events
        self.outbox = Outbox(self.sql)
        self.reads = Reads(self.conn)
        self.operator = Operator(self.conn, self.outbox)  # hand-made changes: release now, replay
        self.alerts = AlertLog(self.sql)  # when the last alert of each kind and source went out

    @classmethod
    def open_writer(cls, path: Path | str, synchronous: str = "full", *, exclusive: bool = False) -> Store:
        """A writing connection (WAL, migrated).

        `exclusive`: the bridge's own writer (`run`, `tui`, `demo`), which holds the writer lock for as long
        as it is open (a second one is refused with 75, naming the holder's pid) and watches the identity of
        the database file (`check_identity`). Short-lived writers (`replay`) leave both to the running bridge.
        """
        if not exclusive:
            return cls(open_writer(path, synchronous), writable=True)
        database = Path(sqlite_path(path))
        lock = _acquire_writer_lock(database)
        try:
            if not database.exists():  # refuse before creating a database that would forget a witnessed source
                refuse_lost_sources(database, Witness.read(witness_path(database)), {})
            db = open_writer(database, synchronous)
            try:
                identity = DatabaseIdentity.establish(database, db.conn)
            except BaseException:
                db.conn.close()
                raise
        except BaseException:
            lock.release()
            raise
        store = cls(db, writable=True)
        store.lock, store.identity = lock, identity
        db.conn.before_commit = identity.before_commit  # type: ignore[attr-defined]
        return store

    @classmethod
    def open_reader(cls, path: Path | str) -> Store:
        """A read-only connection; never blocks the writer."""
        return cls(open_reader(path), writable=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` … COMMIT; nested use joins the outer transaction; rolled back on any exception."""
        with self.sql.transaction():
            yield

    def check_identity(self) -> None:
        """Exit 74 (StoreError) when the database file was removed or replaced since it was opened."""
        if self.identity is not None:
            self.identity.check()

    def close(self) -> None:
        if self.identity is not None:
            with suppress(StoreError):  # a last update of the witness: `run --once` connects and exits
                self.identity.sync_witness()
        self.conn.close()
        if self.lock is not None:
            self.lock.release()  # after the connection: the next writer finds the database closed


def _acquire_writer_lock(database: Path) -> WriterLock:
    lock = WriterLock(database)
    try:
        lock.acquire()
    except WriterBusy as busy:
        holder = f"another shopify-bridge (pid {busy.pid})" if busy.pid else "another shopify-bridge"
        raise StoreError(
            f"{holder} is already writing {database}; watch it with `shopify-bridge tui --attach`, or stop it first",
            exit_code=exit_codes.TEMPFAIL,
        ) from None
    except OSError as exc:
        problem = writable_problem(database) or f"cannot create the lock file {lock.path}: {exc.strerror or exc}"
        raise StoreError(problem, exit_code=exit_codes.CONFIG) from None
    return lock
