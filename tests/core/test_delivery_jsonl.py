"""The jsonl destination through the delivery loop: order, durability bookkeeping, no doubles."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopify_bridge.deliver import loop as loop_module
from shopify_bridge.deliver.destinations.base import Outgoing
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import Deliverer, retry_delay
from shopify_bridge.store import Store
from shopify_bridge.store.schema import transaction
from shopify_bridge.store.sql import StoreUnavailable
from tests.fakes import FakeClock

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def seed(conn, n: int, destination: str = "file") -> None:  # type: ignore[no-untyped-def]
    with transaction(conn):
        for i in range(n):
            conn.execute(
                "INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload) "
                "VALUES ('s', ?, 'Placed Order', ?, 't', 't', ?)",
                (str(i), str(i), json.dumps({"event_id": str(i)})),
            )
            conn.execute(
                "INSERT INTO deliveries (event_seq, destination, state, created_at, next_attempt_at) "
                "VALUES (?, ?, 'pending', 't', '2026-01-01T00:00:00+00:00')",
                (i + 1, destination),
            )


async def test_jsonl_appends_in_order_and_marks_delivered(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "b.db")
    seed(store.conn, 1200)
    out = tmp_path / "events.jsonl"
    deliverer = Deliverer(store.outbox, [JsonlDestination("file", out)], FakeClock(T0))
    await deliverer.open()
    stats = await deliverer.deliver_once()
    assert stats.delivered == 1200
    lines = [json.loads(line)["event_id"] for line in out.read_text().splitlines()]
    assert lines == [str(i) for i in range(1200)]
    # A second pass sends nothing again.
    assert (await deliverer.deliver_once()).delivered == 0
    assert out.read_text().count("\n") == 1200


async def test_unwritable_file_is_retried_later_not_lost(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "b.db")
    seed(store.conn, 3)
    blocker = tmp_path / "dir-not-file"
    blocker.mkdir()
    clock = FakeClock(T0)
    deliverer = Deliverer(store.outbox, [JsonlDestination("file", blocker)], clock)
    stats = await deliverer.deliver_once()
    assert stats.delivered == 0 and stats.retried >= 1
    row = store.conn.execute("SELECT state, attempts, last_error FROM deliveries WHERE event_seq = 1").fetchone()
    assert row[0] == "pending" and row[1] == 1 and "cannot write" in row[2]


def test_retry_schedule_grows_and_is_capped() -> None:
    assert retry_delay(1, rng=lambda: 1.0) == 2.0
    assert retry_delay(4, rng=lambda: 1.0) == 16.0
    assert retry_delay(40, rng=lambda: 1.0) == 3600.0
    assert retry_delay(3, rng=lambda: 0.0) == 4.0


async def test_deliveries_in_flight_at_a_crash_are_sent_again_at_start(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "b.db")
    seed(store.conn, 3)
    store.outbox.mark_in_flight("file", [1, 2])  # the process died while sending these
    assert [d.event_seq for d in store.outbox.due("file", T0)] == [3]
    out = tmp_path / "events.jsonl"
    deliverer = Deliverer(store.outbox, [JsonlDestination("file", out)], FakeClock(T0))
    await deliverer.open()  # start-up recovers them
    assert (await deliverer.deliver_once()).delivered == 3
    assert [json.loads(line)["event_id"] for line in out.read_text().splitlines()] == ["0", "1", "2"]


async def test_a_stop_ends_the_drain_after_the_batch_in_flight(tmp_path: Path) -> None:
    import asyncio

    store = Store.open_writer(tmp_path / "b.db")
    seed(store.conn, 1200)                                       # three batches of 500
    stop = asyncio.Event()
    destination = JsonlDestination("file", tmp_path / "events.jsonl")
    original = destination.send

    async def send_then_stop(items):  # type: ignore[no-untyped-def]
        results = await original(items)
        stop.set()                                            # SIGTERM arrives while the first batch is sent
        return results

    destination.send = send_then_stop  # type: ignore[method-assign]
    stats = await Deliverer(store.outbox, [destination], FakeClock(T0)).drain(destination, stop)
    assert stats.delivered == 500                             # finished and recorded, nothing more started
    states = dict(store.conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
    assert states == {"delivered": 500, "pending": 700}


async def test_a_torn_last_line_from_a_killed_write_is_cut_before_appending(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    out.write_bytes(b'{"event_id": "0"}\n{"event_id": "1"}\n{"event_id": "2", "prop')   # killed mid-write
    destination = JsonlDestination("file", out)
    [result] = await destination.send([Outgoing("2", b'{"event_id": "2"}')])
    assert result.outcome == "delivered"
    assert [json.loads(line)["event_id"] for line in out.read_text().splitlines()] == ["0", "1", "2"]
    out.write_bytes(b'{"event_id": "x')                                                   # torn first line
    await destination.send([Outgoing("3", b'{"event_id": "3"}')])
    assert out.read_text() == '{"event_id": "3"}\n'


async def test_a_new_file_is_made_durable_in_its_directory_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The first batch is marked delivered after it: the file's name must be on disk too, not only its bytes.
    import os
    import stat

    synced: list[bool] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    destination = JsonlDestination("file", tmp_path / "out" / "events.jsonl")
    await destination.open()
    await destination.send([Outgoing("1", b'{"n":1}')])
    assert synced == [False, True]  # the file, then its directory
    await destination.send([Outgoing("2", b'{"n":2}')])
    assert synced == [False, True, False]  # an existing file: its bytes only
    assert (tmp_path / "out" / "events.jsonl").read_bytes() == b'{"n":1}\n{"n":2}\n'


class LosesTheConnectionOnce:
    """`Outbox.mark_delivered` failing as a PostgreSQL store does when its server connection is killed."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real, self.failed = real, False

    def __call__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise StoreUnavailable("lost the connection to the database server")
        self.real(*args, **kwargs)


async def losing_the_first_record(tmp_path: Path) -> tuple[Store, Path, Deliverer]:
    """Three events for a jsonl file, on a store whose first `mark_delivered` loses its connection."""
    store = Store.open_writer(tmp_path / "b.db")
    seed(store.conn, 3)
    out = tmp_path / "events.jsonl"
    store.outbox.mark_delivered = LosesTheConnectionOnce(store.outbox.mark_delivered)  # type: ignore[method-assign]
    deliverer = Deliverer(store.outbox, [JsonlDestination("file", out)], FakeClock(T0))
    await deliverer.open()
    return store, out, deliverer


async def test_a_send_whose_record_was_lost_with_the_connection_is_recorded_not_sent_again(tmp_path: Path) -> None:
    store, out, deliverer = await losing_the_first_record(tmp_path)
    with pytest.raises(StoreUnavailable):
        await deliverer.deliver_once()  # written to the file, then the record of it was lost
    assert out.read_text().count("\n") == 3
    assert (await deliverer.deliver_once()).delivered == 0  # recorded now, and nothing is sent twice
    assert [json.loads(line)["event_id"] for line in out.read_text().splitlines()] == ["0", "1", "2"]
    states = store.conn.execute("SELECT DISTINCT state FROM deliveries").fetchall()
    assert states == [("delivered",)]


async def test_the_delivery_loop_records_what_it_sent_before_handing_claims_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop_module, "IDLE_WAIT_SECONDS", 0.0)  # each round yields, and never waits on the clock
    store, out, deliverer = await losing_the_first_record(tmp_path)
    stop = asyncio.Event()
    loop = asyncio.create_task(deliverer.run(stop))
    for _ in range(1000):  # the first drain fails; a later round settles (the file is written on a thread)
        await asyncio.sleep(0.005)
        if store.conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0] == 3:
            break
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert [json.loads(line)["event_id"] for line in out.read_text().splitlines()] == ["0", "1", "2"]
    assert store.conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0] == 3
