"""Orders, refunds and events written from lifecycle decisions, and the facts read back for the next one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.decisions import LatestVersion, OrderFacts, StoredOrder
from shopify_bridge.decide.settling import RecordedRefund
from shopify_bridge.store import Store
from tests.backend_sql import fail_inserts
from tests.decide.orders import CONNECTED, SHOP, T0, context, order, refund, with_refunds

ORDER_ID = "5800000000001"
LATER = T0 + timedelta(minutes=30)


def fetch(store: Store, doc, now, delay: int | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    facts = store.orders.facts(SHOP, ORDER_ID, [r["id"].rsplit("/", 1)[-1] for r in doc["refunds"]])
    decision = lifecycle.on_fetch(facts, context(delay), doc, origin="poll", now=now, first_connected_at=CONNECTED)
    return store.orders.record(decision)


def test_a_released_order_is_written_with_its_version_and_its_placed_order_for_each_destination(
    store: Store,
) -> None:
    doc = order()
    [seq] = fetch(store, doc, T0 + timedelta(seconds=10))
    row = store.sql.one(
        "SELECT status, built_version, placed_event_seq, released_at, first_seen_at, total FROM orders"
    )
    assert row == ("released", 1, seq, "2026-05-01T10:00:10+00:00", "2026-05-01T10:00:10+00:00", "20.0")
    assert store.sql.all("SELECT version, origin FROM order_versions") == [(1, "poll")]
    deliveries = store.sql.all("SELECT destination, state FROM deliveries WHERE event_seq = ?", (seq,))
    assert sorted(deliveries) == [("events-file", "pending"), ("hook", "pending")]
    facts = store.orders.facts(SHOP, ORDER_ID)
    assert facts.order == StoredOrder("released", None) and facts.latest is not None and facts.latest.number == 1
    assert store.events.summaries([seq, 999])[0].order_name == "#1001"


def test_a_held_order_keeps_its_deadline_and_is_found_due_then(store: Store) -> None:
    fetch(store, order(), T0 + timedelta(seconds=10), delay=600)
    assert store.sql.one("SELECT status, release_at FROM orders") == (
        "held", "2026-05-01T10:10:05+00:00")
    assert store.orders.due_holds(SHOP, T0 + timedelta(minutes=10)) == []
    [due] = store.orders.due_holds(SHOP, T0 + timedelta(minutes=11))
    assert (due.order_id, due.gid) == (ORDER_ID, "gid://shopify/Order/5800000000001")
    store.orders.record(lifecycle.on_gone(context(), ORDER_ID, LATER))
    assert store.orders.status(SHOP, ORDER_ID) == "gone"


def test_an_event_id_that_exists_is_not_created_twice(store: Store) -> None:
    decision = lifecycle.on_fetch(OrderFacts(), context(None), order(), origin="poll", now=LATER,
                                  first_connected_at=CONNECTED)
    [seq] = store.orders.record(decision)
    again = lifecycle.on_release(
        OrderFacts(StoredOrder("held"), LatestVersion(1, "x")), context(None), order(), now=LATER,
        first_connected_at=CONNECTED, is_new_customer=None)
    assert store.orders.record(again) == []
    assert store.sql.one("SELECT COUNT(*) FROM events")[0] == 1
    assert store.sql.one("SELECT COUNT(*) FROM deliveries")[0] == 2
    assert store.sql.one("SELECT placed_event_seq FROM orders")[0] is None   # as before
    assert seq == 1


def test_refunds_are_recorded_then_moved_with_their_details_and_event(store: Store) -> None:
    fetch(store, order(), T0 + timedelta(seconds=10))
    pending = with_refunds(order(), refund(77, LATER, status="PENDING"))
    pending["updatedAt"] = "2026-05-01T10:30:00Z"
    assert fetch(store, pending, LATER) == []
    assert store.refunds.recorded(SHOP, ["77", "78"]) == {
        "77": RecordedRefund("waiting", "pending", "2026-05-01T10:30:00+00:00", 1)}
    [stored] = store.refunds.of_order(SHOP, ORDER_ID)
    assert stored.read_later(LATER + timedelta(seconds=59)) and not stored.read_later(LATER + timedelta(minutes=1))
    assert store.refunds.due(SHOP, LATER + timedelta(seconds=59), 10) == []
    [due] = store.refunds.due(SHOP, LATER + timedelta(minutes=1), 10)  # the first re-read: one minute later
    assert (due.refund_id, due.gid, due.order_id) == ("77", "gid://shopify/Refund/77", ORDER_ID)
    settled = with_refunds(pending, refund(77, LATER))
    [seq] = fetch(store, settled, LATER + timedelta(minutes=1))
    row = store.sql.one("SELECT status, event_seq, timestamp, waits_for, waiting_since, next_read_at FROM refunds")
    assert row == ("evented", seq, "2026-05-01T10:30:00Z", None, None, None)
    [stored] = store.refunds.of_order(SHOP, ORDER_ID)
    assert stored.detail is not None and stored.detail["transactions"][0]["status"] == "SUCCESS"
    assert store.refunds.due(SHOP, LATER + timedelta(days=1), 10) == []
    assert store.orders.latest_doc(SHOP, ORDER_ID) == settled


def test_a_decision_is_written_whole_or_not_at_all(store: Store) -> None:
    doc = with_refunds(order(), refund(77, LATER))
    decision = lifecycle.on_fetch(OrderFacts(), context(None), doc, origin="poll", now=LATER,
                                  first_connected_at=CONNECTED)
    fail_inserts(store, "refunds", "boom")
    with pytest.raises(store.sql.errors, match="boom"):
        store.orders.record(decision)
    for table in ("orders", "order_versions", "events", "deliveries"):
        assert store.sql.one(f"SELECT COUNT(*) FROM {table}")[0] == 0


# -- batches: a bulk result is taken in hundreds of orders at a time ---------------------------------
def test_facts_many_reads_each_order_as_facts_does(store: Store) -> None:
    fetch(store, with_refunds(order(), refund(77, LATER, status="PENDING")), LATER)
    newer = {**order(), "updatedAt": "2026-05-01T10:40:00Z", "name": "#1001-b"}
    fetch(store, newer, LATER + timedelta(minutes=10))
    wanted = {ORDER_ID: ["77", "78"], "5800000000002": ["79"]}
    many = store.orders.facts_many(SHOP, wanted)
    assert many == {order_id: store.orders.facts(SHOP, order_id, ids) for order_id, ids in wanted.items()}
    assert many[ORDER_ID].latest is not None and many[ORDER_ID].latest.number == 2, "the newest version"
    assert {refund_id: r.status for refund_id, r in many[ORDER_ID].refunds.items()} == {"77": "waiting"}
    assert many["5800000000002"] == OrderFacts()


def test_facts_of_orders_never_stored_take_one_statement(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backfill into an empty store asks only whether its orders are stored: versions and refunds are
    written with their order's row, so an order not stored has none to look up."""
    read = store.sql.all

    def tables_read(wanted: dict[str, list[str]]) -> tuple[dict[str, OrderFacts], list[str]]:
        tables: list[str] = []

        def counted(sql: str, params: Sequence[Any] = ()) -> list[Any]:
            tables.append(re.findall(r"\bFROM\s+(\w+)", sql, re.IGNORECASE)[0])
            return read(sql, params)

        with monkeypatch.context() as patch:
            patch.setattr(store.sql, "all", counted)
            return store.orders.facts_many(SHOP, wanted), tables

    unknown = {"5800000000005": ["80"], "5800000000006": []}
    assert tables_read(unknown) == ({order_id: OrderFacts() for order_id in unknown}, ["orders"])
    fetch(store, with_refunds(order(), refund(77, LATER, status="PENDING")), LATER)
    facts, tables = tables_read({ORDER_ID: ["77"], **unknown})
    assert tables == ["orders", "order_versions", "refunds"]
    assert facts[ORDER_ID].latest is not None and list(facts[ORDER_ID].refunds) == ["77"]


def test_facts_many_reads_more_orders_than_one_statement_lists(store: Store) -> None:
    docs = [order(n) for n in range(1, 1203)]
    decisions = [lifecycle.on_fetch(OrderFacts(), context(None), doc, origin="bulk", now=LATER,
                                    first_connected_at=CONNECTED) for doc in docs]
    store.orders.record_many(decisions)
    facts = store.orders.facts_many(SHOP, {d.order_id: [] for d in decisions})
    assert len(facts) == 1202 and all(f.order == StoredOrder("released") for f in facts.values())


def test_record_many_writes_what_record_writes_for_each_decision(store: Store, tmp_path: Path) -> None:
    docs = [with_refunds(order(1), refund(77, LATER)), order(2, processed=T0 - timedelta(days=1)), order(3)]
    decisions = [lifecycle.on_fetch(OrderFacts(), context(None), doc, origin="bulk", now=LATER,
                                    first_connected_at=CONNECTED) for doc in docs]
    one_by_one = Store.open_writer(tmp_path / "one-by-one.db")  # SQLite: its rows read as PostgreSQL's do
    expected = [seq for decision in decisions for seq in one_by_one.orders.record(decision)]
    assert store.orders.record_many(decisions) == expected
    for table in ("orders", "order_versions", "refunds", "events", "deliveries"):
        query = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert store.sql.all(query) == one_by_one.sql.all(query), table
    one_by_one.close()


def test_record_many_takes_one_decision_per_order(store: Store) -> None:
    decision = lifecycle.on_fetch(OrderFacts(), context(None), order(), origin="bulk", now=LATER,
                                  first_connected_at=CONNECTED)
    with pytest.raises(AssertionError, match="one decision per order"):
        store.orders.record_many([decision, decision])
    assert store.sql.one("SELECT COUNT(*) FROM orders") == (0,)
