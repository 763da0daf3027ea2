from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from shopify_bridge.service.event_log import EventQuery, list_events, replay
from shopify_bridge.store import Store

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _db(database: Path | str) -> Store:
    db = Store.open_writer(database)
    with db.transaction():
        db.sql.run("INSERT INTO sources (shop, name) VALUES ('s.myshopify.com', 'Main')")
        for i, name in enumerate(["Placed Order", "Placed Order", "Received Refund"], start=1):
            db.sql.run(
                "INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload) "
                "VALUES ('s.myshopify.com', ?, ?, ?, 't', ?, ?)",
                (f"e{i}", name, str(i), f"2026-05-01T1{i}:00:00+00:00", json.dumps({"event_id": f"e{i}"})),
            )
            for dest in ("file", "hook"):
                db.sql.run(
                    "INSERT INTO deliveries (event_seq, destination, state, created_at, next_attempt_at) "
                    "VALUES (?, ?, 'delivered', 't', NULL)",
                    (i, dest),
                )
    return db


def test_list_events_filters_and_shows_states(database: Path | str) -> None:
    db = _db(database)
    db.outbox.mark_dead("hook", 2, "HTTP 404: not found", 404)
    events = list_events(db, EventQuery())
    assert [e["event_id"] for e in events] == ["e3", "e2", "e1"]
    dead = list_events(db, EventQuery(dead=True))
    assert [e["event_id"] for e in dead] == ["e2"]
    assert {d["destination"]: d["state"] for d in dead[0]["deliveries"]} == {
        "file": "delivered",
        "hook": "dead",
    }
    assert [e["event_id"] for e in list_events(db, EventQuery(name="Received Refund"))] == ["e3"]
    assert [e["event_id"] for e in list_events(db, EventQuery(source="Main", limit=1))] == ["e3"]


def test_replay_dead_requeues_only_dead_deliveries(database: Path | str) -> None:
    db = _db(database)
    db.outbox.mark_dead("hook", 2, "HTTP 404", 404)
    assert replay(db, EventQuery(dead=True), NOW) == 1
    assert [d.event_id for d in db.outbox.due("hook", NOW)] == ["e2"]
    assert db.outbox.due("file", NOW) == []


def test_replay_by_id_and_since_and_destination(database: Path | str) -> None:
    db = _db(database)
    assert replay(db, EventQuery(event_ids=("e1",)), NOW) == 2
    assert replay(db, EventQuery(since=datetime(2026, 5, 1, 12, 30, tzinfo=UTC)), NOW, destination="hook") == 1
    assert [d.event_id for d in db.outbox.due("hook", NOW)] == ["e1", "e3"]


def test_replay_restarts_the_attempts_of_a_dead_delivery(database: Path | str) -> None:
    db = _db(database)
    db.outbox.mark_dead("hook", 2, "HTTP 404", 404)
    db.outbox.mark_dead("hook", 2, "HTTP 404", 404)
    assert replay(db, EventQuery(dead=True), NOW) == 1
    (hook,) = [d for d in list_events(db, EventQuery(event_ids=("e2",)))[0]["deliveries"] if d["destination"] == "hook"]
    assert (hook["state"], hook["attempts"], hook["last_error"]) == ("pending", 0, None)
    assert [(d.event_id, d.attempts) for d in db.outbox.due("hook", NOW)] == [("e2", 0)]


def test_requeue_can_keep_the_attempts(database: Path | str) -> None:
    db = _db(database)
    db.outbox.mark_dead("hook", 1, "HTTP 500", 500)
    assert db.outbox.requeue("hook", [1, 3], NOW, reset_attempts=False) == 2
    assert [(d.event_id, d.attempts) for d in db.outbox.due("hook", NOW)] == [("e1", 1), ("e3", 0)]
    assert db.outbox.requeue("hook", [99], NOW) == 0  # no such delivery: nothing put back


def test_list_events_names_the_order_and_orders_deliveries_by_destination(database: Path | str) -> None:
    db = _db(database)
    with db.transaction():
        db.conn.execute(
            "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status) "
            "VALUES ('s.myshopify.com', '1', 'gid://shopify/Order/1', '#1001', 't', 't', 't', 'released')"
        )
    (first,) = list_events(db, EventQuery(event_ids=("e1",)))
    assert (first["order"], first["seq"], first["shop"]) == ("#1001", 1, "s.myshopify.com")
    assert [d["destination"] for d in first["deliveries"]] == ["file", "hook"]
    assert list_events(db, EventQuery(source="nobody")) == []
