"""One migration list, two engines: the same tables and columns, an old store migrated keeping its rows,
a newer one refused, and processes that start together migrate one after the other."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from shopify_bridge.store import Store, StoreError, postgres
from shopify_bridge.store.copy import TABLES
from shopify_bridge.store.customers import KeptAnswer
from shopify_bridge.store.dialect import POSTGRESQL
from shopify_bridge.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.backend_sql import schema_at

EVERY_TABLE = (*TABLES, "workers", "leases")


def columns(store: Store, table: str) -> list[str]:
    return [d[0] for d in store.sql.cursor(f"SELECT * FROM {table} LIMIT 0").description]


def test_both_engines_get_the_same_tables_and_columns(tmp_path: Path, postgres_url: str) -> None:
    sqlite, pg = Store.open_writer(tmp_path / "bridge.db"), Store.open_writer(postgres_url)
    try:
        for table in EVERY_TABLE:
            assert columns(pg, table) == columns(sqlite, table), table
        # 64-bit keys, doubles and byte-wise text on PostgreSQL: what SQLite's INTEGER, REAL and TEXT are.
        kinds = dict(pg.sql.all(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'sources'"
        ))
        assert (kinds["bucket_max"], kinds["shop"]) == ("double precision", "text")
        assert pg.sql.one(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'orders' AND column_name = 'release_at'"
        ) == ("C",)
        assert pg.sql.one("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() "
                          "AND table_name = 'events' AND column_name = 'seq'") == ("bigint",)
    finally:
        sqlite.close()
        pg.close()


def test_a_version_1_postgresql_store_is_migrated_keeping_its_rows(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for statement in POSTGRESQL.ddl(MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
        conn.execute("INSERT INTO sources (shop, name, cursor) VALUES ('a.myshopify.com', 'A', '2026-05-01T00:00:00Z')")
    store = Store.open_writer(postgres_url)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        assert store.sql.one("SELECT name, cursor, progress FROM sources") == ("A", "2026-05-01T00:00:00Z", None)
    finally:
        store.close()


def test_a_version_4_store_gets_the_settling_step_keeping_its_rows(database: Path | str) -> None:
    """Version 4 (leases) was the last before refund settling; step 5 adds the settling columns, the granted
    scopes and `customer_orders`, on either engine, and the rows already stored stay as they were."""
    with schema_at(database, 4) as sql:
        sql.run("INSERT INTO sources (shop, name, cursor) VALUES ('a.myshopify.com', 'A', '2026-05-01T00:00:00Z')")
        sql.run("INSERT INTO refunds (shop, refund_id, order_id, gid, status, detail) "
                "VALUES ('a.myshopify.com', '7', '1', 'gid://shopify/Refund/7', 'evented', '{}')")
        sql.run("INSERT INTO leases (shop, owner, acquired_at, expires_at) "
                "VALUES ('a.myshopify.com', 'h:1:x', 't', 't')")
    store = Store.open_writer(database)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        assert len(MIGRATIONS) == SCHEMA_VERSION
        assert store.sql.one("SELECT name, cursor, access_scopes FROM sources") == (
            "A", "2026-05-01T00:00:00Z", None)
        assert store.sql.one(
            "SELECT status, detail, waits_for, waiting_since, read_attempts, next_read_at FROM refunds"
        ) == ("evented", "{}", None, None, 0, None)
        assert store.sql.one("SELECT shop, owner FROM leases") == ("a.myshopify.com", "h:1:x")
        assert store.sources.scopes("a.myshopify.com") is None
        store.customers.note("a.myshopify.com", {"customer:1": datetime(2026, 4, 1, tzinfo=UTC)})
        assert store.customers.earliest("a.myshopify.com", ["customer:1"]) == {
            "customer:1": datetime(2026, 4, 1, tzinfo=UTC)}
    finally:
        store.close()


def test_a_version_5_store_gets_the_polling_memory_step_keeping_its_rows(database: Path | str) -> None:
    """Version 5 (refund settling) was the last before lag-sized poll windows; step 6 adds what polling
    learned (the largest lags measured, when the last sweep ran), on either engine, and the rows already
    stored stay as they were."""
    with schema_at(database, 5) as sql:
        sql.run("INSERT INTO sources (shop, name, cursor, access_scopes) "
                "VALUES ('a.myshopify.com', 'A', '2026-05-01T00:00:00Z', 'read_orders')")
        sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
                "release_at) VALUES ('a.myshopify.com', '1', 'gid://shopify/Order/1', '#1001', 't', 't', 't', "
                "'held', '2026-05-01T00:10:00Z')")
    store = Store.open_writer(database)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        assert len(MIGRATIONS) == SCHEMA_VERSION
        assert store.sql.one("SELECT name, cursor, access_scopes, lag_seconds, lag_previous_seconds, lag_since, "
                             "swept_at FROM sources") == ("A", "2026-05-01T00:00:00Z", "read_orders", None, None,
                                                         None, None)
        assert store.sql.one("SELECT status, release_at FROM orders") == ("held", "2026-05-01T00:10:00Z")
        memory = store.sources.poll_memory("a.myshopify.com")
        assert (memory.lags.current, memory.swept_at) == (0, None)  # nothing measured yet: the 60 s floor
    finally:
        store.close()


def test_a_version_6_store_gets_the_new_customer_answers_step_keeping_its_holds(database: Path | str) -> None:
    """Step 7 keeps `$is_new_customer` as looked up for a held order; a hold stored before it has none yet
    (it is looked up while it still waits), on either engine."""
    with schema_at(database, 6) as sql:
        sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
                "release_at) VALUES ('a.myshopify.com', '1', 'gid://shopify/Order/1', '#1001', 't', 't', 't', "
                "'held', '2026-05-01T00:10:00Z')")
        sql.run("INSERT INTO order_versions (shop, order_id, version, updated_at, fetched_at, origin, content_hash, "
                "doc) VALUES ('a.myshopify.com', '1', 1, 't', 't', 'poll', 'h', ?)",
                ('{"id": "gid://shopify/Order/1", "email": "ann@example.com", "processedAt": "2026-05-01T00:00:00Z"}',))
    store = Store.open_writer(database)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        assert store.sql.one("SELECT status, new_customer, new_customer_key FROM orders") == ("held", None, None)
        [waiting] = store.customers.awaiting_answer("a.myshopify.com", 10)
        assert waiting["id"] == "gid://shopify/Order/1"
        store.customers.keep_answers("a.myshopify.com", [("1", "email:ann@example.com", True)])
        assert store.customers.awaiting_answer("a.myshopify.com", 10) == []
        assert store.customers.answer("a.myshopify.com", "1", "email:ann@example.com") == KeptAnswer(True)
        assert store.customers.answer("a.myshopify.com", "1", "email:bo@example.com") is None  # another customer
    finally:
        store.close()


def test_a_newer_postgresql_store_is_refused_and_a_reader_needs_the_current_version(postgres_url: str) -> None:
    Store.open_writer(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999 is newer") as newer:
        Store.open_writer(postgres_url)
    assert newer.value.exit_code == 78                                  # as on SQLite: a configuration error
    with pytest.raises(StoreError, match="has schema version 999, expected"):
        Store.open_reader(postgres_url)


def test_processes_starting_together_migrate_one_after_the_other(postgres_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            postgres.open_writer(postgres_url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    reader = Store.open_reader(postgres_url)
    assert reader.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
    reader.close()


def test_a_reader_cannot_write_on_postgresql(postgres_url: str) -> None:
    Store.open_writer(postgres_url).close()
    reader = Store.open_reader(postgres_url)
    try:
        with pytest.raises(psycopg.Error, match="read-only"):
            reader.sql.run("INSERT INTO sources (shop, name) VALUES ('a', 'b')")
    finally:
        reader.close()


def _index_definitions(store: Store) -> dict[str, str]:
    """The orders table's index definitions by name, spaces collapsed and lower-cased (either engine)."""
    if store.sql.dialect.postgres:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL"
    return {str(name): " ".join(str(text).lower().split()) for name, text in store.sql.all(query)}


def test_a_version_7_store_gets_the_narrow_order_indexes_keeping_its_rows(database: Path | str) -> None:
    """Step 8 indexes only the orders searched by status (held, excluded) or by their Placed Order; every
    lookup finds what it found before, on either engine."""
    shop = "a.myshopify.com"
    with schema_at(database, 7) as sql:
        for order_id, status, release_at, placed in [
            ("1", "held", "2026-05-01T00:10:00Z", None),
            ("2", "history", None, None),
            ("3", "excluded", None, None),
            ("4", "released", None, 41),
        ]:
            sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
                    "release_at, placed_event_seq, exclusion_rule) VALUES (?, ?, ?, ?, ?, 't', 't', ?, ?, ?, ?)",
                    (shop, order_id, f"gid://shopify/Order/{order_id}", f"#100{order_id}",
                     f"2026-05-0{order_id}T00:00:00Z", status, release_at, placed,
                     "tag" if status == "excluded" else None))
    store = Store.open_writer(database)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        indexes = _index_definitions(store)
        assert "orders_status" not in indexes
        assert "where (status = 'held')" in indexes["orders_held"].replace("'held'::text", "'held'").replace(
            "where status = 'held'", "where (status = 'held')")
        assert "status = 'excluded'" in indexes["orders_excluded"].replace("'excluded'::text", "'excluded'")
        assert "is not null" in indexes["orders_placed"]
        now = datetime(2026, 5, 2, tzinfo=UTC)
        assert [ref.order_id for ref in store.orders.due_holds(shop, now)] == ["1"]
        assert store.orders.next_release_at(shop) == datetime(2026, 5, 1, 0, 10, tzinfo=UTC)
        assert store.reads.orders.held_count(shop) == 1
        assert [row.order_id for row in store.reads.dashboard._exclusions(10)] == ["3"]
        assert store.sql.one("SELECT order_id FROM orders WHERE placed_event_seq = ?", (41,)) == ("4",)
        assert store.sql.one("SELECT COUNT(*) FROM orders") == (4,)
    finally:
        store.close()
