"""The outbox API: due order, refunds behind their Placed Order, outcomes, recovery and the one requeue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopify_bridge.store import Store
from shopify_bridge.timeutil import iso

SHOP = "demo.myshopify.com"
T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def add_event(store: Store, event_id: str, order_id: str, destinations: tuple[str, ...] = ("hook", "file"),
              refund_id: str | None = None) -> int:
    """An event and its pending deliveries, due at T0 (raw rows: the outbox is what is under test)."""
    name = "Received Refund" if refund_id else "Placed Order"
    with store.transaction():
        (seq,) = store.sql.returning(
            "INSERT INTO events (shop, event_id, event_name, order_id, refund_id, timestamp, created_at, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (SHOP, event_id, name, order_id, refund_id, iso(T0), iso(T0), f'{{"event_id":"{event_id}"}}'),
        ) or (None,)
        for destination in destinations:
            store.sql.run(
                "INSERT INTO deliveries (event_seq, destination, state, created_at, next_attempt_at) "
                "VALUES (?, ?, 'pending', ?, ?)",
                (seq, destination, iso(T0), iso(T0)),
            )
    assert seq is not None
    return seq


def add_order(store: Store, order_id: str, placed_seq: int | None) -> None:
    store.sql.run(
        "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
        "placed_event_seq) VALUES (?, ?, ?, '#1', ?, ?, ?, ?, ?)",
        (SHOP, order_id, f"gid://shopify/Order/{order_id}", iso(T0), iso(T0), iso(T0),
         "released" if placed_seq else "history", placed_seq),
    )


def delivery(store: Store, seq: int, destination: str = "hook") -> tuple[str, int, str | None, str | None]:
    row = store.sql.one(
        "SELECT state, attempts, next_attempt_at, last_error FROM deliveries WHERE event_seq = ? AND destination = ?",
        (seq, destination),
    )
    return tuple(row)


def test_due_is_in_event_order_and_only_what_is_due_now(store: Store) -> None:
    first, second = add_event(store, "1", "1"), add_event(store, "2", "2")
    store.outbox.mark_retry("hook", first, T0 + timedelta(minutes=5), "HTTP 503", 503)
    assert [d.event_seq for d in store.outbox.due("hook", T0)] == [second]
    assert [d.event_seq for d in store.outbox.due("hook", T0 + timedelta(minutes=5))] == [first, second]
    [due] = store.outbox.due("file", T0, limit=1)
    assert (due.event_id, due.event_name, due.attempts, due.created_at) == ("1", "Placed Order", 0, iso(T0))
    assert store.outbox.next_attempt_at("hook") == T0


def test_a_refund_waits_for_its_placed_order_at_each_destination(store: Store) -> None:
    placed = add_event(store, "5801", "5801")
    refund = add_event(store, "5801-refund-7", "5801", refund_id="7")
    add_order(store, "5801", placed)
    store.outbox.mark_delivered("file", [placed], T0)
    assert [d.event_seq for d in store.outbox.due("hook", T0)] == [placed]   # the refund waits at hook
    assert [d.event_seq for d in store.outbox.due("file", T0)] == [refund]   # and goes at file


def test_a_refund_of_an_order_without_a_placed_order_goes_on_its_own(store: Store) -> None:
    refund = add_event(store, "5802-refund-8", "5802", refund_id="8")
    add_order(store, "5802", None)
    assert [d.event_seq for d in store.outbox.due("hook", T0)] == [refund]


def test_refunds_of_a_dead_placed_order_go_dead_with_it_at_that_destination_only(store: Store) -> None:
    placed = add_event(store, "5801", "5801")
    refund = add_event(store, "5801-refund-7", "5801", refund_id="7")
    add_order(store, "5801", placed)
    assert store.outbox.bury_refunds_of_dead_orders("hook") == 0
    store.outbox.mark_dead("hook", placed, "HTTP 404: not found", 404)
    assert store.outbox.bury_refunds_of_dead_orders("hook") == 1
    assert delivery(store, refund) == ("dead", 0, None, "placed_order_dead")
    assert delivery(store, refund, "file")[0] == "pending"


def test_outcomes_count_attempts_and_in_flight_rows_come_back_at_start(store: Store) -> None:
    one, two = add_event(store, "1", "1"), add_event(store, "2", "2")
    store.outbox.mark_in_flight("hook", [one, two])
    assert store.outbox.due("hook", T0) == []
    store.outbox.mark_delivered("hook", [one], T0, status=200)
    assert delivery(store, one) == ("delivered", 1, None, None)
    later = T0 + timedelta(minutes=1)
    assert store.outbox.recover_in_flight(later) == 1
    assert delivery(store, two) == ("pending", 0, iso(later), None)
    store.outbox.mark_dead("hook", two, "x" * 600, 410)
    assert delivery(store, two)[:2] == ("dead", 1) and len(delivery(store, two)[3] or "") == 500


def test_requeue_restarts_the_attempts_of_the_named_rows_at_one_destination(store: Store) -> None:
    dead, delivered, other = add_event(store, "1", "1"), add_event(store, "2", "2"), add_event(store, "3", "3")
    for _ in range(3):
        store.outbox.mark_retry("hook", dead, T0, "HTTP 503", 503)
    store.outbox.mark_dead("hook", dead, "gave up", 503)
    store.outbox.mark_delivered("hook", [delivered], T0)
    later = T0 + timedelta(hours=1)
    assert store.outbox.requeue("hook", [dead, delivered, 999], later) == 2
    assert delivery(store, dead) == ("pending", 0, iso(later), None)
    assert delivery(store, delivered) == ("pending", 0, iso(later), None)
    assert delivery(store, other) == ("pending", 0, iso(T0), None)           # not named
    assert delivery(store, dead, "file") == ("pending", 0, iso(T0), None)    # another destination


def test_requeue_can_keep_the_attempts_and_requeues_nothing_for_no_seqs(store: Store) -> None:
    seq = add_event(store, "1", "1")
    store.outbox.mark_dead("hook", seq, "HTTP 404", 404)
    assert store.outbox.requeue("hook", [seq], T0, reset_attempts=False) == 1
    assert delivery(store, seq) == ("pending", 1, iso(T0), None)
    assert store.outbox.requeue("hook", [], T0) == 0


def reason(store: Store, seq: int, destination: str = "hook") -> str | None:
    row = store.sql.one("SELECT reason FROM deliveries WHERE event_seq = ? AND destination = ?", (seq, destination))
    return None if row is None or row[0] is None else str(row[0])


def test_a_kept_out_delivery_is_never_due_and_says_why(store: Store) -> None:
    seq = add_event(store, "1", "1")
    store.outbox.mark_kept_out("hook", seq, "filtered", "channels", "pos is not one of ['web']")
    assert store.outbox.due("hook", T0) == []
    assert store.outbox.next_attempt_at("hook") is None
    assert delivery(store, seq) == ("filtered", 0, None, "pos is not one of ['web']")
    assert reason(store, seq) == "channels"
    assert [d.event_seq for d in store.outbox.due("file", T0)] == [seq]     # another destination takes it


def test_requeue_of_a_kept_out_delivery_clears_its_reason(store: Store) -> None:
    seq = add_event(store, "1", "1")
    store.outbox.mark_kept_out("hook", seq, "skipped", "too_old_for_destination", "older than 72 h")
    assert store.outbox.requeue("hook", [seq], T0) == 1
    assert delivery(store, seq) == ("pending", 0, iso(T0), None) and reason(store, seq) is None


def test_a_refund_goes_on_its_own_when_its_placed_order_is_kept_out_of_that_destination(store: Store) -> None:
    for state in ("filtered", "skipped"):
        order_id = f"58{len(state)}"
        placed = add_event(store, order_id, order_id)
        refund = add_event(store, f"{order_id}-refund-7", order_id, refund_id="7")
        add_order(store, order_id, placed)
        assert [d.event_seq for d in store.outbox.due("hook", T0)] == [placed]   # waits behind its order
        store.outbox.mark_kept_out("hook", placed, state, "events", "takes Received Refund only")
        assert [d.event_seq for d in store.outbox.due("hook", T0)] == [refund], state
        assert [d.event_seq for d in store.outbox.claim("hook", T0)] == [refund], state   # claims alike
        store.outbox.mark_delivered("hook", [refund], T0)


def test_due_carries_the_shop_and_the_order_facts_stored_with_the_event(store: Store) -> None:
    seq = add_event(store, "1", "1")
    store.sql.run("UPDATE events SET facts = ? WHERE seq = ?", ('{"tags":["vip"]}', seq))
    [due] = store.outbox.due("hook", T0)
    assert (due.shop, due.facts) == (SHOP, '{"tags":["vip"]}')
    assert store.outbox.claim("hook", T0) == [due]                     # a claim hands over the same
    assert delivery(store, seq)[0] == "in_flight"


def test_the_last_alert_of_each_kind_and_source_is_kept(store: Store) -> None:
    assert store.alerts.last_sent() == {}
    store.alerts.record_sent("source_failed", "Main", T0)
    store.alerts.record_sent("source_failed", "Main", T0 + timedelta(minutes=20))
    store.alerts.record_sent("dead_letters", "Main", T0)
    assert store.alerts.last_sent() == {("source_failed", "Main"): T0 + timedelta(minutes=20),
                                        ("dead_letters", "Main"): T0}
