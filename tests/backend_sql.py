"""What a test needs to say differently to SQLite and PostgreSQL: a trigger, a row's version, an old
schema, every row of the store.

The product's SQL is portable (store/dialect.py); these are only the tests' own probes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from shopify_bridge.store import Store
from shopify_bridge.store.db import SqliteSql
from shopify_bridge.store.postgres import PgSql
from shopify_bridge.store.schema import MIGRATIONS
from shopify_bridge.store.sql import Sql, is_postgres_url


def fail_inserts(store: Store, table: str, message: str) -> None:
    """Make every INSERT into `table` fail with `message` (to prove a transaction is all or nothing)."""
    if store.sql.dialect.postgres:
        store.sql.run(
            f"CREATE FUNCTION fail_{table}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        store.sql.run(
            f"CREATE TRIGGER no_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_{table}()"
        )
    else:
        store.sql.run(f"CREATE TRIGGER no_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")


def row_version(store: Store, table: str) -> object:
    """Something that changes whenever a row of `table` is written (even with the same values)."""
    if store.sql.dialect.postgres:
        return store.sql.all(f"SELECT xmin::text FROM {table} ORDER BY 1")
    return store.conn.total_changes


@contextmanager
def schema_at(database: Path | str, version: int) -> Iterator[Sql]:
    """`database` (an SQLite file or a PostgreSQL URL) as an older shopify-bridge left it: the migrations up
    to `version` and nothing after. Rows put in through the runner are committed when the block ends."""
    sql: Sql
    if is_postgres_url(database):
        sql = PgSql(psycopg.connect(str(database), autocommit=True))
    else:
        sql = SqliteSql(sqlite3.connect(database, isolation_level=None))
    try:
        with sql.transaction():
            for step in MIGRATIONS[:version]:
                for statement in sql.dialect.ddl(step):
                    sql.run(statement)
            sql.run("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),))
            yield sql
    finally:
        sql.close()


def every_row(store: Store) -> str:
    """The text of every row of every table of the store (what a dump of the database would show)."""
    if store.sql.dialect.postgres:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    tables = sorted(str(name) for (name,) in store.sql.all(query))
    return "\n".join(f"{table}: {row!r}" for table in tables for row in store.sql.all(f"SELECT * FROM {table}"))
