"""Leases, workers and outbox claims: the rows that let several processes share one store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopify_bridge.store import Store
from shopify_bridge.store.leases import WORKER_TIMEOUT
from shopify_bridge.timeutil import iso

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
SHOP = "a.myshopify.com"


@pytest.fixture
def pair(database: Path | str) -> Iterator[tuple[Store, Store]]:
    """Two processes' stores on one database: workers "A" and "B"."""
    a = Store.open_writer(database, owner="A")
    b = Store.open_writer(database, owner="B")
    yield a, b
    a.close()
    b.close()


def add_events(store: Store, count: int, destination: str = "hook") -> list[int]:
    seqs = []
    with store.transaction():
        for number in range(count):
            (seq,) = store.sql.returning(
                "INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload) "
                "VALUES (?, ?, 'Placed Order', ?, 't', ?, '{}') RETURNING seq",
                (SHOP, f"e{number}", str(number), iso(T0)),
            ) or (0,)
            store.sql.run(
                "INSERT INTO deliveries (event_seq, destination, state, created_at, next_attempt_at) "
                "VALUES (?, ?, 'pending', ?, ?)",
                (seq, destination, iso(T0), iso(T0)),
            )
            seqs.append(seq)
    return seqs


def test_a_lease_is_one_owner_until_it_expires_or_is_given_back(pair: tuple[Store, Store]) -> None:
    a, b = pair
    assert a.leases.acquire(SHOP, T0, LEASE) is True
    assert a.leases.acquire(SHOP, T0, LEASE) is True  # already ours: renewed
    assert b.leases.acquire(SHOP, T0 + timedelta(seconds=29), LEASE) is False
    assert a.leases.renew(T0 + timedelta(seconds=20), LEASE) == {SHOP}  # now until T0 + 50 s
    assert b.leases.acquire(SHOP, T0 + timedelta(seconds=49), LEASE) is False
    assert b.leases.acquire(SHOP, T0 + timedelta(seconds=50), LEASE) is True  # expired: taken over
    assert a.leases.renew(T0 + timedelta(seconds=51), LEASE) == set()  # A learns it lost the shop
    [lease] = a.leases.all()
    assert (lease.owner, lease.expires_at) == ("B", iso(T0 + timedelta(seconds=80)))
    assert a.leases.release(SHOP) is False  # not A's to give back
    assert b.leases.release(SHOP) is True
    assert a.leases.acquire(SHOP, T0 + timedelta(seconds=52), LEASE) is True  # free again at once


def test_workers_are_live_while_they_beat_and_retiring_frees_everything(pair: tuple[Store, Store]) -> None:
    a, b = pair
    a.leases.heartbeat(T0)
    b.leases.heartbeat(T0 + timedelta(seconds=10))
    assert a.leases.live_workers(T0 + timedelta(seconds=20), WORKER_TIMEOUT) == ["A", "B"]
    assert a.leases.live_workers(T0 + timedelta(seconds=30), WORKER_TIMEOUT) == ["B"]  # A silent for 30 s
    a.leases.acquire(SHOP, T0, LEASE)
    a.leases.retire()
    assert a.leases.all() == []
    assert b.leases.live_workers(T0 + timedelta(seconds=1), WORKER_TIMEOUT) == ["B"]
    assert b.leases.forget_dead_workers(T0 + timedelta(days=2), timedelta(days=1)) == 1


def test_two_workers_claim_disjoint_rows_and_a_claim_is_marked_with_its_worker(pair: tuple[Store, Store]) -> None:
    a, b = pair
    seqs = add_events(a, 5)
    first = a.outbox.claim("hook", T0, limit=3)
    second = b.outbox.claim("hook", T0, limit=3)
    assert [d.event_seq for d in first] == seqs[:3]
    assert [d.event_seq for d in second] == seqs[3:]
    assert b.outbox.claim("hook", T0) == []
    owners = dict(a.sql.all("SELECT event_seq, claimed_by FROM deliveries WHERE state = 'in_flight'"))
    assert owners == {**dict.fromkeys(seqs[:3], "A"), **dict.fromkeys(seqs[3:], "B")}
    a.outbox.mark_delivered("hook", [seqs[0]], T0)
    assert a.sql.one("SELECT state, claimed_by FROM deliveries WHERE event_seq = ?", (seqs[0],)) == ("delivered", None)


def test_only_a_silent_workers_claims_are_taken_back_on_postgresql(postgres_url: str) -> None:
    a, b = Store.open_writer(postgres_url, owner="A"), Store.open_writer(postgres_url, owner="B")
    try:
        seqs = add_events(a, 2)
        a.leases.heartbeat(T0)
        b.leases.heartbeat(T0)
        a.outbox.claim("hook", T0, limit=1)
        b.outbox.claim("hook", T0, limit=1)
        later = T0 + timedelta(seconds=20)
        b.leases.heartbeat(later)
        assert b.outbox.recover_in_flight(later) == 0  # A beat 20 s ago: alive, its send goes on
        later += timedelta(seconds=10)
        b.leases.heartbeat(later)
        assert b.outbox.recover_in_flight(later) == 1  # A silent for 30 s: dead, its row is sent again
        [due] = b.outbox.claim("hook", later)
        assert due.event_seq == seqs[0]
    finally:
        a.close()
        b.close()


def test_at_a_single_writers_start_every_row_in_flight_is_sent_again(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "bridge.db", owner="A")
    add_events(store, 2)
    store.leases.heartbeat(T0)  # even a worker row (from a PostgreSQL past) does not protect it
    store.outbox.claim("hook", T0)
    assert store.outbox.recover_in_flight(T0) == 2
    store.close()


def test_concurrent_claimers_on_postgresql_share_the_outbox_without_overlap(postgres_url: str) -> None:
    """Four processes' connections drain one destination at once: every row is claimed exactly once."""
    seed = Store.open_writer(postgres_url, owner="seed")
    seqs = add_events(seed, 400)
    seed.close()
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def drain(owner: str) -> None:
        store = Store.open_writer(postgres_url, owner=owner)
        mine: list[int] = []
        try:
            start.wait()
            while batch := store.outbox.claim("hook", T0, limit=7):
                mine += [d.event_seq for d in batch]
                store.outbox.mark_delivered("hook", [d.event_seq for d in batch], T0)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            store.close()
            claimed[owner] = mine

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [seq for mine in claimed.values() for seq in mine]
    assert sorted(every) == seqs  # none twice, none left out
    assert sum(1 for mine in claimed.values() if mine) >= 2  # they really worked side by side
