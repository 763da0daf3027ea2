"""Two processes deciding on one shop's orders take turns on PostgreSQL, as SQLite's one writer makes them.

A `resync` runs beside the bridge that polls the shop: both may take the same order in at once. At READ
COMMITTED each would read the order's facts before the other's commit, decide it new and write version 1
and the Placed Order twice — the second transaction then fails on the unique version. Reading the facts
inside a transaction takes the shop's transaction lock (`Orders.facts_many`), so the second waits, reads
what the first committed, and finds nothing new.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from shopify_bridge.service import ingest
from shopify_bridge.store import Store
from tests.decide.orders import CONNECTED, SHOP, T0, context, order

WAIT_LIMIT = 30.0  # seconds: only ever reached when the second transaction never blocks (a failure)


@pytest.fixture
def pair(postgres_url: str) -> Iterator[tuple[Store, Store]]:
    a = Store.open_writer(postgres_url, owner="A")
    b = Store.open_writer(postgres_url, owner="B")
    a.sources.ensure(SHOP, "Shop")
    yield a, b
    a.close()
    b.close()


def blocked_on_a_lock(url: str, application_pids: set[int]) -> bool:
    with psycopg.connect(url, autocommit=True) as probe:
        rows = probe.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = ANY(%s)",
            (list(application_pids),),
        ).fetchall()
    return bool(rows)


def test_the_same_order_taken_in_by_two_processes_at_once_is_stored_and_sent_once(
    pair: tuple[Store, Store], postgres_url: str
) -> None:
    a, b = pair
    doc = order(1)
    a_decided, a_may_commit = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with a.transaction():
                ingest.ingest_orders(a, context(None), [doc], origin="poll", now=T0, first_connected_at=CONNECTED)
                a_decided.set()
                a_may_commit.wait(WAIT_LIMIT)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
            a_decided.set()

    def second() -> None:
        try:
            with b.transaction():
                created.extend(ingest.ingest_orders(b, context(None), [doc], origin="read", now=T0,
                                                    first_connected_at=CONNECTED))
        except BaseException as exc:
            failures.append(exc)

    created: list[int] = []
    a_thread, b_thread = threading.Thread(target=first), threading.Thread(target=second)
    a_thread.start()
    assert a_decided.wait(WAIT_LIMIT) and not failures
    row = b.sql.one("SELECT pg_backend_pid()")
    assert row is not None
    b_pid = int(row[0])
    b_thread.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while not blocked_on_a_lock(postgres_url, {b_pid}):  # B waits for A before A commits
        assert time.monotonic() < deadline and b_thread.is_alive(), "the second process never waited for the first"
        time.sleep(0.01)
    a_may_commit.set()
    a_thread.join(WAIT_LIMIT)
    b_thread.join(WAIT_LIMIT)
    assert failures == []
    assert created == []  # B found the order stored, decided and sent by A
    versions = a.sql.all("SELECT version, origin FROM order_versions WHERE shop = ?", (SHOP,))
    events = a.sql.all("SELECT event_name FROM events WHERE shop = ?", (SHOP,))
    assert versions == [(1, "poll")] and events == [("Placed Order",)]
