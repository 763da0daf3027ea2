"""`Store`: one database connection and the typed API of each table family over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shopify_bridge.store import postgres
from shopify_bridge.store.db import SqliteSql
from shopify_bridge.store.events import Events
from shopify_bridge.store.leases import Leases, new_owner
from shopify_bridge.store.operator import Operator
from shopify_bridge.store.orders import Orders
from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads import Reads
from shopify_bridge.store.refunds import Refunds
from shopify_bridge.store.schema import open_reader, open_writer
from shopify_bridge.store.sources import Sources
from shopify_bridge.store.sql import Sql, is_postgres_url


class Store:
    """The bridge's database through domain-named methods; `transaction()` groups writes into one commit.

    `owner` names this process among the others that share a PostgreSQL store: its leases, its claims
    on outbox rows and its heartbeat in `workers` carry it.
    """

    def __init__(self, sql: Sql, *, writable: bool, owner: str | None = None) -> None:
        self.sql = sql
        self.writable = writable
        self.owner = owner or new_owner()
        self.sources = Sources(self.sql)
        self.events = Events(self.sql)
        self.refunds = Refunds(self.sql)
        self.orders = Orders(self.sql, self.events, self.refunds)  # records decisions with their events
        self.outbox = Outbox(self.sql, self.owner)
        self.leases = Leases(self.sql, self.owner)
        self.reads = Reads(self.sql)
        self.operator = Operator(self.sql, self.outbox)  # hand-made changes: release now, replay

    @property
    def conn(self) -> Any:
        """The driver's connection, for the few callers (and tests) that need it raw."""
        return self.sql.conn

    @property
    def shared(self) -> bool:
        """Several processes may write this store at once (PostgreSQL); SQLite has one writer."""
        return self.sql.dialect.postgres

    @classmethod
    def open_writer(cls, database: Path | str, synchronous: str = "full", *, owner: str | None = None) -> Store:
        """A writing connection, migrated: the one writer of an SQLite file (WAL), or one of several
        processes on a PostgreSQL server (`synchronous` is SQLite's alone)."""
        if is_postgres_url(database):
            return cls(postgres.open_writer(str(database)), writable=True, owner=owner)
        return cls(SqliteSql(open_writer(database, synchronous).conn), writable=True, owner=owner)

    @classmethod
    def open_reader(cls, database: Path | str) -> Store:
        """A read-only connection; never blocks a writer."""
        if is_postgres_url(database):
            return cls(postgres.open_reader(str(database)), writable=False)
        return cls(SqliteSql(open_reader(database).conn), writable=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT; nested use joins the outer transaction; rolled back on any exception."""
        with self.sql.transaction():
            yield

    def close(self) -> None:
        self.sql.close()
