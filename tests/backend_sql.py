"""What a test needs to say differently to SQLite and PostgreSQL: a trigger, a row's version.

The product's SQL is portable (store/dialect.py); these are only the tests' own probes.
"""

from __future__ import annotations

from shopify_bridge.store import Store


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
