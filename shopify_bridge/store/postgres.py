"""The PostgreSQL backend: connections (psycopg 3), its statement runner `PgSql`, migrations.

`database = "postgresql://user@host/dbname"` puts the store on a PostgreSQL server that several
bridge processes share (see docs/scale.md). The schema is the SQLite one, turned into PostgreSQL's
words by `Dialect.ddl` (64-bit integers, doubles, text compared byte-wise), so every migration in
`schema.MIGRATIONS` applies to both. Times stay ISO-8601 UTC text, compared as strings, as on SQLite.

Connections run in autocommit mode with explicit transactions, like the SQLite ones: a write
transaction is `BEGIN` … `COMMIT` at READ COMMITTED (row claims use `FOR UPDATE SKIP LOCKED`), a
consistent read `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`. A reader's session is read-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq

from shopify_bridge import exit_codes
from shopify_bridge.store.dialect import POSTGRESQL
from shopify_bridge.store.schema import SCHEMA_VERSION, apply_migrations
from shopify_bridge.store.sql import Sql, StoreError, safe_url

LOCK_TIMEOUT = "10s"  # as SQLite's busy timeout: a writer waits this long for a row another one holds
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
    """Runs the portable statements on one psycopg connection."""

    dialect = POSTGRESQL
    errors = (psycopg.Error,)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn: psycopg.Connection[Any] = conn

    def cursor(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(to_pyformat(sql), tuple(params))

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        batch = [tuple(params) for params in rows]
        if not batch:
            return 0
        with self.conn.cursor() as cursor:
            cursor.executemany(to_pyformat(sql), batch)  # pipelined; rowcount sums every row's
            return max(cursor.rowcount, 0)

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != pq.TransactionStatus.IDLE

    @contextmanager
    def _begin(self, begin: str) -> Iterator[None]:
        if self.in_transaction:
            yield  # nested use joins the outer transaction: one commit for ingest, events and cursor
            return
        self.conn.execute(begin)
        try:
            yield
        except BaseException:
            if not self.conn.closed:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def transaction(self) -> Any:
        return self._begin("BEGIN")

    def snapshot(self) -> Any:
        return self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def copy_rows(self, table: str, columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> None:
        """Append rows to `table` with COPY (a bulk load, in the caller's transaction)."""
        with self.conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
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
        self.conn.close()


def connect(url: str, *, read_only: bool = False) -> PgSql:
    try:
        conn = psycopg.connect(url, autocommit=True, application_name="shopify-bridge")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot connect to PostgreSQL at {safe_url(url)}: {reason}",
                         exit_code=exit_codes.TEMPFAIL) from exc
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return PgSql(conn)


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
