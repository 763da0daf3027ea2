"""`Store`: one database connection and the typed API of each table family over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from shopify_bridge import exit_codes
from shopify_bridge.store.alerts import AlertLog
from shopify_bridge.store.customers import Customers
from shopify_bridge.store.db import SqliteSql, StoreError, sqlite_path
from shopify_bridge.store.events import Events
from shopify_bridge.store.identity import DatabaseIdentity, Witness, refuse_lost_sources, witness_path
from shopify_bridge.store.leases import Leases, new_owner
from shopify_bridge.store.operator import Operator
from shopify_bridge.store.orders import Orders
from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads import Reads
from shopify_bridge.store.refunds import Refunds
from shopify_bridge.store.schema import reader_connection, writer_connection
from shopify_bridge.store.sources import Sources
from shopify_bridge.store.sql import Sql, is_postgres_url
from shopify_bridge.store.sqlite_file import writable_problem
from shopify_bridge.store.writer_lock import WriterBusy, WriterLock


class Store:
    """The bridge's database through domain-named methods; `transaction()` groups writes into one commit.

    `owner` names this process among the others that share a PostgreSQL store: its leases, its claims
    on outbox rows and its heartbeat in `workers` carry it.
    """

    def __init__(self, sql: Sql, *, writable: bool, owner: str | None = None) -> None:
        self.sql = sql
        self.lock: WriterLock | None = None  # SQLite's exclusive writer only
        self.identity: DatabaseIdentity | None = None  # SQLite's exclusive writer only
        self.writable = writable
        self.owner = owner or new_owner()
        self.sources = Sources(self.sql)
        self.events = Events(self.sql)
        self.refunds = Refunds(self.sql)
        self.orders = Orders(self.sql, self.events, self.refunds)  # records decisions with their events
        self.outbox = Outbox(self.sql, self.owner)
        self.customers = Customers(self.sql)  # by when each customer had an order: `$is_new_customer`
        self.leases = Leases(self.sql, self.owner)
        self.reads = Reads(self.sql)
        self.operator = Operator(self.sql, self.outbox)  # hand-made changes: release now, replay
        self.alerts = AlertLog(self.sql)  # when the last alert of each kind and source went out

    @property
    def conn(self) -> Any:
        """The driver's connection, for the few callers (and tests) that need it raw."""
        return self.sql.conn

    @property
    def shared(self) -> bool:
        """Several processes may write this store at once (PostgreSQL); SQLite has one writer."""
        return self.sql.dialect.postgres

    @classmethod
    def open_writer(
        cls, database: Path | str, synchronous: str = "full", *, exclusive: bool = False, owner: str | None = None
    ) -> Store:
        """A writing connection, migrated: the one writer of an SQLite file (WAL), or one of several
        processes on a PostgreSQL server (`synchronous` is SQLite's alone).

        `exclusive`: the bridge's own writer (`run`, `tui`, `demo`). On SQLite it holds the writer lock for
        as long as it is open (a second one is refused with 75, naming the holder's pid) and watches the
        identity of the database file (`check_identity`); short-lived writers (`replay`) leave both to the
        running bridge. A PostgreSQL store has neither a lock file nor a file identity: several processes
        share it on purpose, and leases per shop and row claims (`leases`, `Outbox.claim`) keep them apart.
        """
        if is_postgres_url(database):
            from shopify_bridge.store import postgres  # psycopg: imported by PostgreSQL stores alone

            return cls(postgres.open_writer(str(database)), writable=True, owner=owner)
        if not exclusive:
            return cls(SqliteSql(writer_connection(database, synchronous)), writable=True, owner=owner)
        path = Path(sqlite_path(database))
        lock = _acquire_writer_lock(path)
        try:
            if not path.exists():  # refuse before creating a database that would forget a witnessed source
                refuse_lost_sources(path, Witness.read(witness_path(path)), {})
            conn = writer_connection(path, synchronous)
            try:
                identity = DatabaseIdentity.establish(path, conn)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            lock.release()
            raise
        store = cls(SqliteSql(conn), writable=True, owner=owner)
        store.lock, store.identity = lock, identity
        conn.before_commit = identity.before_commit
        return store

    @classmethod
    def open_reader(cls, database: Path | str) -> Store:
        """A read-only connection; never blocks a writer."""
        if is_postgres_url(database):
            from shopify_bridge.store import postgres

            return cls(postgres.open_reader(str(database)), writable=False)
        return cls(SqliteSql(reader_connection(database)), writable=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT; nested use joins the outer transaction; rolled back on any exception."""
        with self.sql.transaction():
            yield

    def check_identity(self, *, witness: bool = True) -> None:
        """Exit 74 (StoreError) when the database file was removed or replaced since it was opened; with
        `witness`, also bring the witness file up to date with the sources connected since."""
        if self.identity is not None:
            self.identity.check(witness=witness)

    def close(self) -> None:
        if self.identity is not None:
            with suppress(StoreError):  # a last update of the witness: `run --once` connects and exits
                self.identity.sync_witness()
        self.sql.close()
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
