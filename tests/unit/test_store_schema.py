import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopify_bridge.store.schema import SCHEMA_VERSION, StoreError, open_reader, open_writer, transaction


def test_writer_creates_a_versioned_wal_database(tmp_path: Path) -> None:
    db = open_writer(tmp_path / "s.db")
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert {"orders", "order_versions", "events", "deliveries", "refunds", "sources"} <= set(db.table_names())
    db.conn.close()
    # Re-opening migrates nothing and keeps data.
    again = open_writer(tmp_path / "s.db")
    assert again.conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = open_writer(tmp_path / "s.db")
    db.conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.conn.close()
    with pytest.raises(StoreError, match="newer"):
        open_writer(tmp_path / "s.db")


def test_transaction_rolls_back_everything_on_error(tmp_path: Path) -> None:
    db = open_writer(tmp_path / "s.db")
    with pytest.raises(RuntimeError), transaction(db.conn):
        db.conn.execute("INSERT INTO sources (shop, name) VALUES ('a.myshopify.com', 'A')")
        raise RuntimeError("crash mid-transaction")
    assert db.conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 0


def test_reader_is_read_only_and_names_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        open_reader(tmp_path / "missing.db")
    open_writer(tmp_path / "s.db").conn.close()
    reader = open_reader(tmp_path / "s.db")
    with pytest.raises(sqlite3.OperationalError):
        reader.conn.execute("INSERT INTO sources (shop, name) VALUES ('a', 'b')")


def test_a_version_1_store_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    from shopify_bridge.store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO sources (shop, name, cursor) VALUES ('a.myshopify.com', 'A', '2026-05-01T00:00:00Z')")
    conn.commit()
    conn.close()
    db = open_writer(path)
    assert db.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert db.conn.execute("SELECT name, cursor, progress FROM sources").fetchone() == (
        "A", "2026-05-01T00:00:00Z", None)


def test_a_version_3_store_from_before_the_leases_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    """Version 3 (destinations: `reason`, `facts`, `alerts_sent`) shipped before the PostgreSQL backend's
    step (4: workers, leases, deliveries.claimed_by); a store at 3 gets that step (and the later ones)."""
    from shopify_bridge.store import Store
    from shopify_bridge.store.schema import MIGRATIONS

    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:3]:
        conn.executescript(step)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '3')")
    conn.execute("INSERT INTO sources (shop, name) VALUES ('a.myshopify.com', 'A')")
    conn.execute("INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload, facts) "
                 "VALUES ('a.myshopify.com', '1', 'Placed Order', '1', 't', '2026-05-01T00:00:00Z', '{}', '{}')")
    conn.execute("INSERT INTO deliveries (event_seq, destination, state, reason, created_at, next_attempt_at) "
                 "VALUES (1, 'meta', 'filtered', 'channels', '2026-05-01T00:00:00Z', NULL), "
                 "(1, 'hook', 'in_flight', NULL, '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z')")
    conn.execute("INSERT INTO alerts_sent (kind, source, sent_at) VALUES ('source_failed', 'A', '2026-05-01T00:00Z')")
    conn.commit()
    conn.close()
    store = Store.open_writer(path, exclusive=True)
    try:
        assert store.sql.one("SELECT value FROM meta WHERE key = 'schema_version'") == (str(SCHEMA_VERSION),)
        assert store.sql.all("SELECT destination, state, reason, claimed_by FROM deliveries ORDER BY destination") == [
            ("hook", "in_flight", None, None), ("meta", "filtered", "channels", None)]
        assert store.sql.one("SELECT COUNT(*) FROM workers") == (0,) and store.leases.all() == []
        assert list(store.alerts.last_sent()) == [("source_failed", "A")]
        assert store.outbox.recover_in_flight(datetime(2026, 5, 1, tzinfo=UTC)) == 1  # the crash leftover
        [due] = store.outbox.claim("hook", datetime(2026, 5, 1, tzinfo=UTC))
        assert (due.event_seq, due.facts) == (1, "{}")
        assert store.sql.one("SELECT claimed_by FROM deliveries WHERE destination = 'hook'") == (store.owner,)
    finally:
        store.close()
