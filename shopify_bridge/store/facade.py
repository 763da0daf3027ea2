"""`Store`: one database connection and the typed API of each table family over it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from shopify_bridge.store.alerts import AlertLog
from shopify_bridge.store.db import Sql
from shopify_bridge.store.events import Events
from shopify_bridge.store.operator import Operator
from shopify_bridge.store.orders import Orders
from shopify_bridge.store.outbox import Outbox
from shopify_bridge.store.reads import Reads
from shopify_bridge.store.refunds import Refunds
from shopify_bridge.store.schema import open_reader, open_writer
from shopify_bridge.store.sources import Sources


class Store:
    """The bridge's database through domain-named methods; `transaction()` groups writes into one commit."""

    def __init__(self, db: sqlite_utils.Database, *, writable: bool) -> None:
        self.db = db
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
    def open_writer(cls, path: Path | str, synchronous: str = "full") -> Store:
        """The one writing connection (WAL, migrated)."""
        return cls(open_writer(path, synchronous), writable=True)

    @classmethod
    def open_reader(cls, path: Path | str) -> Store:
        """A read-only connection; never blocks the writer."""
        return cls(open_reader(path), writable=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` … COMMIT; nested use joins the outer transaction; rolled back on any exception."""
        with self.sql.transaction():
            yield

    def close(self) -> None:
        self.conn.close()
