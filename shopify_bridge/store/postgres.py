"""The PostgreSQL backend: connections (psycopg 3), its statement runner `PgSql`, migrations.

`database = "postgresql://user@host/dbname"` puts the store on a PostgreSQL server that several
bridge processes share (see docs/scale.md). The schema is the SQLite one, turned into PostgreSQL's
words by `Dialect.ddl` (64-bit integers, doubles, text compared byte-wise), so every migration in
`schema.MIGRATIONS` applies to both. Times stay ISO-8601 UTC text, compared as strings, as on SQLite.

A lost connection is a temporary condition: `PgSql` hands it back to its pool (psycopg_pool, one
connection, in `pg_connections`), which reconnects in the background, and raises `StoreUnavailable` (75).

Connections run in autocommit mode with explicit transactions, like the SQLite ones: a write
transaction is `BEGIN` … `COMMIT` at READ COMMITTED (row claims use `FOR UPDATE SKIP LOCKED`), a
consistent read `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`. A reader's session is read-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq

from shopify_bridge.store.dialect import POSTGRESQL
from shopify_bridge.store.pg_connections import Connections, first_line
from shopify_bridge.store.schema import SCHEMA_VERSION, apply_migrations
from shopify_bridge.store.sql import Sql, StoreError, StoreUnavailable, safe_url

# pg_advisory_xact_lock key: processes starting together migrate one after the other.
MIGRATION_LOCK_KEY = 0x5B_0D6E_17

_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|%")


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled); quoted text is left alone."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return "%s" if token == "?" else "%%" if token == "%" else token

    return _TOKEN.sub(swap, sql)


class PgSql(Sql):
    """Runs the portable statements on the one connection it holds from its pool (`pg_connections`).

    A statement that finds that connection lost (server restarted, network cut, backend terminated)
    hands it back to the pool, which drops it and connects anew in the background, and raises
    `StoreUnavailable` (75); the transaction it was in died with the connection, rolled back by the
    server. The next statement takes the new connection (or raises `StoreUnavailable` again).
    """

    dialect = POSTGRESQL
    errors = (psycopg.Error, StoreUnavailable)

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self._conn: psycopg.Connection[Any] | None = None
        self._sessions = 0  # connections taken so far: `session` numbers them
        self._lost: StoreUnavailable | None = None  # the outage we are in, until a statement succeeds

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            try:
                self._conn = self.connections.take(outage=self._lost is not None)
            except StoreUnavailable as exc:
                raise self._outage(exc) from None
            self._sessions += 1
        return self._conn

    @property
    def session(self) -> int:
        return self._sessions if self._conn is not None else 0

    @contextmanager
    def _guard(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        """A statement on `conn`: a lost connection comes out as StoreUnavailable, success ends an outage."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if not (conn.closed or conn.broken):
                raise  # a lock timeout, a cancelled statement: the connection is fine
            if self._conn is conn:
                self._conn = None
                self.connections.give_back(conn)
            raise self._outage(StoreUnavailable(
                f"lost the connection to PostgreSQL at {self.connections.where}: {first_line(exc)}")) from exc
        if self._lost is not None:
            self._lost = None
            if self.on_outage is not None:
                self.on_outage(None)

    def _outage(self, error: StoreUnavailable) -> StoreUnavailable:
        self._lost = error
        if self.on_outage is not None:
            self.on_outage(error)
        return error

    def cursor(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        conn = self.conn
        with self._guard(conn):
            return conn.execute(to_pyformat(sql), tuple(params))

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        batch = [tuple(params) for params in rows]
        if not batch:
            return 0
        conn = self.conn
        with self._guard(conn), conn.cursor() as cursor:
            cursor.executemany(to_pyformat(sql), batch)  # pipelined; rowcount sums every row's
            return max(cursor.rowcount, 0)

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.info.transaction_status != pq.TransactionStatus.IDLE

    @contextmanager
    def _begin(self, begin: str) -> Iterator[None]:
        if self.in_transaction:
            yield  # nested use joins the outer transaction: one commit for ingest, events and cursor
            return
        conn = self.conn
        with self._guard(conn):
            conn.execute(begin)
        try:
            yield
        except BaseException:
            if self._conn is conn:  # else the connection was lost, and its transaction with it
                with suppress(StoreUnavailable), self._guard(conn):
                    conn.execute("ROLLBACK")
            raise
        # A connection lost during COMMIT leaves it unknown whether it committed: every write of the
        # bridge is keyed (event ids, versions, cursors), so doing the cycle again is safe either way.
        with self._guard(conn):
            conn.execute("COMMIT")

    def transaction(self) -> Any:
        return self._begin("BEGIN")

    def snapshot(self) -> Any:
        return self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def copy_rows(self, table: str, columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> None:
        """Append rows to `table` with COPY (a bulk load, in the caller's transaction)."""
        conn = self.conn
        with self._guard(conn), conn.cursor() as cursor, \
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)

    def restart_identity(self, table: str, column: str) -> None:
        """New rows of `table` get keys above every copied one."""
        self.run(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) "
            f"FROM {table}"
        )

    def change_counter(self) -> int:
        """The server's WAL position: it moves with every commit (and now and then without one)."""
        row = self.one("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
        return int(row[0]) if row else 0

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        self.connections.close()


def connect(url: str, *, read_only: bool = False) -> PgSql:
    """A runner on `url`; a server it cannot reach now is StoreUnavailable (75), naming host and port only."""
    sql = PgSql(Connections.open(url, read_only=read_only))
    try:
        sql.conn  # noqa: B018 -- the first connection, now: an unreachable server fails the start
    except BaseException:
        sql.close()
        raise
    return sql


def current_version(sql: PgSql) -> int:
    (table,) = sql.one("SELECT to_regclass('meta') IS NOT NULL") or (False,)
    if not table:
        return 0
    row = sql.one("SELECT value FROM meta WHERE key = 'schema_version'")
    return int(row[0]) if row else 0


def migrate(sql: PgSql) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction (DDL is transactional); refuse a newer one."""
    with sql.transaction():
        sql.run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
        return apply_migrations(current_version(sql), POSTGRESQL, sql.run)


def open_writer(url: str) -> PgSql:
    sql = connect(url)
    try:
        migrate(sql)
    except BaseException:
        sql.close()
        raise
    return sql


def open_reader(url: str) -> PgSql:
    sql = connect(url, read_only=True)
    version = current_version(sql)
    if version != SCHEMA_VERSION:
        sql.close()
        raise StoreError(f"database {safe_url(url)} has schema version {version}, expected {SCHEMA_VERSION}")
    return sql
