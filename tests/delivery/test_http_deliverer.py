"""The delivery loop driving the http destination over a real outbox in a temp SQLite store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.deliver.destinations.http import HttpDestination
from shopify_bridge.deliver.loop import DELIVERY_RETRY, DeadLetter, Deliverer
from shopify_bridge.deliver.routing import Router
from shopify_bridge.store import Store
from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso
from tests.delivery.receiver import Receiver, Reply
from tests.fake_clock import FakeClock

SHOP = "convergestore.myshopify.com"
START = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    opened = Store.open_writer(database)
    yield opened
    opened.close()


@pytest.fixture
def conn(store: Store) -> Sql:
    """The store's statement runner (SQLite or PostgreSQL): the tests write their rows through it."""
    return store.sql


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def deliverer(store: Store, clock: FakeClock, receiver: Receiver) -> AsyncIterator[Deliverer]:
    destination = HttpDestination("hook", receiver.url, clock=lambda: clock().timestamp())
    loop = Deliverer(store.outbox, [destination], clock)
    await loop.open()
    yield loop
    await loop.close()


def add_event(conn: Sql, event_id: str, order_id: str, refund_id: str | None = None) -> int:
    name = "Received Refund" if refund_id else "Placed Order"
    payload = json.dumps({"event_name": name, "event_id": event_id, "properties": {}})
    with conn.transaction():
        (seq,) = conn.returning(
            "INSERT INTO events (shop, event_id, event_name, order_id, refund_id, timestamp, created_at, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (SHOP, event_id, name, order_id, refund_id, iso(START), iso(START), payload),
        ) or (0,)
        conn.run(
            "INSERT INTO deliveries (event_seq, destination, state, next_attempt_at, created_at) "
            "VALUES (?, 'hook', 'pending', ?, ?)",
            (seq, iso(START), iso(START)),
        )
    return seq


def add_order(conn: Sql, order_id: str, placed_event_seq: int) -> None:
    with conn.transaction():
        conn.run(
            "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status, "
            "placed_event_seq) VALUES (?, ?, ?, ?, ?, ?, ?, 'released', ?)",
            (SHOP, order_id, f"gid://shopify/Order/{order_id}", "#1001", iso(START), iso(START), iso(START),
             placed_event_seq),
        )


def delivery(conn: Sql, seq: int) -> dict[str, Any]:
    [row] = conn.dicts(
        "SELECT state, attempts, last_status, last_error, next_attempt_at FROM deliveries WHERE event_seq = ?",
        (seq,),
    )
    return row


async def test_retry_then_delivered(
    conn: Sql, clock: FakeClock, receiver: Receiver, deliverer: Deliverer
) -> None:
    seq = add_event(conn, "5801", "5801")
    receiver.script("5801", Reply(status=500, body="busy"), Reply(status=200))

    stats = await deliverer.deliver_once()
    assert (stats.delivered, stats.retried, stats.dead) == (0, 1, 0)
    row = delivery(conn, seq)
    assert row["state"] == "pending" and row["attempts"] == 1
    assert (row["last_status"], row["last_error"]) == (500, "HTTP 500: busy")
    assert row["next_attempt_at"] > iso(clock())

    await deliverer.deliver_once()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    clock.advance(DELIVERY_RETRY.base)  # the first retry waits at most the base delay
    stats = await deliverer.deliver_once()
    assert stats.delivered == 1
    assert delivery(conn, seq)["state"] == "delivered" and delivery(conn, seq)["attempts"] == 2
    assert [r.body for r in receiver.requests] == [receiver.requests[0].body] * 2


async def test_server_retry_after_schedules_the_next_attempt(
    conn: Sql, clock: FakeClock, receiver: Receiver, deliverer: Deliverer
) -> None:
    seq = add_event(conn, "5801", "5801")
    receiver.script("5801", Reply(status=429, headers={"Retry-After": "30"}), Reply(status=200))
    await deliverer.deliver_once()
    assert delivery(conn, seq)["next_attempt_at"] == iso(START + timedelta(seconds=30))
    clock.advance(29)
    await deliverer.deliver_once()
    assert len(receiver.requests) == 1
    clock.advance(1)
    await deliverer.deliver_once()
    assert delivery(conn, seq)["state"] == "delivered"


async def test_404_is_dead_with_its_status_and_does_not_block_other_orders(
    conn: Sql, receiver: Receiver, deliverer: Deliverer
) -> None:
    gone = add_event(conn, "5801", "5801")
    other = add_event(conn, "5802", "5802")
    receiver.script("5801", Reply(status=404, body="no such hook"))
    stats = await deliverer.deliver_once()
    assert (stats.delivered, stats.dead) == (1, 1)
    row = delivery(conn, gone)
    assert (row["state"], row["last_status"], row["last_error"]) == ("dead", 404, "HTTP 404: no such hook")
    assert delivery(conn, other)["state"] == "delivered"
    await deliverer.deliver_once()
    assert len(receiver.requests) == 2  # dead is final until a replay


async def test_refund_waits_until_its_placed_order_is_delivered(
    conn: Sql, clock: FakeClock, receiver: Receiver, deliverer: Deliverer
) -> None:
    placed = add_event(conn, "5801", "5801")
    refund = add_event(conn, "5801-refund-77", "5801", refund_id="77")
    add_order(conn, "5801", placed)
    receiver.script("5801", Reply(status=503), Reply(status=200))

    await deliverer.deliver_once()
    assert receiver.ids() == ["5801"]
    assert delivery(conn, refund)["state"] == "pending" and delivery(conn, refund)["attempts"] == 0

    clock.advance(DELIVERY_RETRY.base)
    await deliverer.deliver_once()
    assert receiver.ids() == ["5801", "5801", "5801-refund-77"]
    assert delivery(conn, placed)["state"] == delivery(conn, refund)["state"] == "delivered"


async def test_refund_goes_dead_with_its_dead_placed_order(
    conn: Sql, receiver: Receiver, deliverer: Deliverer
) -> None:
    placed = add_event(conn, "5801", "5801")
    refund = add_event(conn, "5801-refund-77", "5801", refund_id="77")
    add_order(conn, "5801", placed)
    receiver.script("5801", Reply(status=410, body="gone"))

    await deliverer.deliver_once()
    await deliverer.deliver_once()
    assert receiver.ids() == ["5801"]
    assert delivery(conn, placed)["state"] == "dead"
    row = delivery(conn, refund)
    assert (row["state"], row["last_error"]) == ("dead", "placed_order_dead")


def envelope(event_id: str, name: str = "Placed Order", **properties: Any) -> str:
    props = {"id": event_id, "currency": "CAD", "$sales_channel_type": "web", "total_price": 10, **properties}
    return json.dumps({"event_name": name, "event_id": event_id, "timestamp": iso(START), "properties": props,
                       "profile_properties": {}, "aliases": [f"urn:shopify_order_id:{event_id}"]})


async def test_the_router_keeps_out_before_sending_and_a_refund_then_goes_on_its_own(
    store: Store, conn: Sql, clock: FakeClock, receiver: Receiver
) -> None:
    """Keys applied again at send time (a replay after the operator changed them, say): never sent, recorded."""
    from tests.deliver.payloads import config_entries

    placed = add_event(conn, "5801", "5801")
    refund = add_event(conn, "5801-refund-77", "5801", refund_id="77")
    add_order(conn, "5801", placed)
    conn.run("UPDATE events SET payload = ? WHERE seq = ?", (envelope("5801"), placed))
    refund_payload = envelope("5801-refund-77", "Received Refund", order_id="5801", total_refunded=5)
    conn.run("UPDATE events SET payload = ? WHERE seq = ?", (refund_payload, refund))
    router = Router([config_entries.http(name="hook", events=["Received Refund"])])
    loop = Deliverer(store.outbox, [HttpDestination("hook", receiver.url)], clock, router=router)
    await loop.open()
    try:
        stats = await loop.deliver_once()
    finally:
        await loop.close()
    assert (stats.delivered, stats.kept_out) == (1, 1)
    assert receiver.ids() == ["5801-refund-77"]  # the refund did not wait for a Placed Order never to be sent
    row = conn.one("SELECT state, reason, last_error, attempts FROM deliveries WHERE event_seq = ?", (placed,))
    assert row == ("filtered", "events", "kept out by its events = ['Received Refund']", 0)


async def test_what_cannot_be_judged_and_what_a_destination_refuses_go_dead_and_are_reported(
    store: Store, conn: Sql, clock: FakeClock, receiver: Receiver
) -> None:
    from tests.deliver.payloads import config_entries

    unjudged = add_event(conn, "5801-refund-1", "5801", refund_id="1")  # a refund and no order tags stored
    conn.run("UPDATE events SET payload = ? WHERE seq = ?",
             (envelope("5801-refund-1", "Received Refund", order_id="5801", total_refunded=5), unjudged))
    refused = add_event(conn, "5802", "5802")
    conn.run("UPDATE events SET payload = ? WHERE seq = ?", (envelope("5802", tags=[]), refused))
    receiver.script("5802", Reply(status=422, body="unprocessable"))
    reported: list[DeadLetter] = []
    router = Router([config_entries.http(name="hook", exclude_tags=["wholesale"])])
    loop = Deliverer(store.outbox, [HttpDestination("hook", receiver.url)], clock, router=router,
                     on_dead=reported.append)
    await loop.open()
    try:
        stats = await loop.deliver_once()
    finally:
        await loop.close()
    assert stats.dead == 2 and receiver.ids() == ["5802"]
    assert [(d.destination, d.shop, d.event_id, d.status) for d in reported] == [
        ("hook", SHOP, "5801-refund-1", None), ("hook", SHOP, "5802", 422)]
    assert reported[0].error.startswith("cannot be sent: Received Refund 5801-refund-1 carries no tags")
    assert delivery(conn, unjudged)["state"] == "dead"
