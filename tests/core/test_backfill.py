"""The bulk backfill lifecycle against a scripted Shopify: every outcome, resume, handover."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide.new_customer import known_keys
from shopify_bridge.decide.windows import SETTLE_SECONDS
from shopify_bridge.errors import AuthError, TemporaryFailure
from shopify_bridge.service import backfill_ingest, backfill_result
from shopify_bridge.service.backfill import Backfill
from shopify_bridge.service.backfill_job import BackfillStopped
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.shopify.bulk.download import ResultSink
from shopify_bridge.shopify.client import operation_name
from shopify_bridge.store import Store
from tests.core.test_poller_holds import SHOP, context
from tests.fakes import FakeClock, make_order

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
START = datetime(2026, 4, 1, tzinfo=UTC)


def bulk_jsonl(orders: list[dict[str, Any]]) -> bytes:
    """Shopify's format: children on their own lines with __parentId, after all parents, slashes escaped."""
    parents, children = [], []
    for order in orders:
        line = {k: v for k, v in order.items() if k != "lineItems"}
        parents.append(line)
        children += [{**item, "__parentId": order["id"]} for item in order["lineItems"]]
    lines = [json.dumps(x).replace("/", "\\/") for x in parents + children]
    return ("\n".join(lines) + "\n").encode()


class ScriptedBulk:
    def __init__(self, clock: FakeClock, orders: list[dict[str, Any]]) -> None:
        self.clock = clock
        self.orders = orders
        self.outcomes: list[dict[str, Any]] = []  # popped per run: {"status":..., "errorCode":..., "url":...}
        self.run_errors: list[list[dict[str, Any]]] = []
        self.runs: list[str] = []
        self.cancelled: list[str] = []
        self.ops: dict[str, dict[str, Any]] = {}
        self.polls = 0
        self.count_searches: list[str] = []
        self.earlier_orders = 0  # what ordersCount answers for every new-customer lookup
        self.scopes = ["read_orders", "read_customers", "read_products", "read_customer_events"]

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        name = operation_name(document)
        if name == "BridgeBulkRunQuery":
            if self.run_errors:
                return {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": self.run_errors.pop(0)}}
            self.runs.append(variables["query"])
            op_id = f"gid://shopify/BulkOperation/{len(self.runs)}"
            outcome = self.outcomes.pop(0) if self.outcomes else {"status": "COMPLETED", "url": "https://x/signed"}
            self.ops[op_id] = {
                "id": op_id,
                "objectCount": "0",
                "fileSize": None,
                "errorCode": None,
                "url": None,
                "partialDataUrl": None,
                **outcome,
                "_polls": 0,
            }
            return {
                "bulkOperationRunQuery": {
                    "bulkOperation": {"id": op_id, "status": "CREATED"},
                    "userErrors": [],
                }
            }
        if name == "BridgeBulkOperation":
            self.polls += 1
            op = self.ops.get(variables["id"])
            if op is None:
                return {"bulkOperation": None}
            op["_polls"] += 1
            if op["_polls"] == 1:
                return {"bulkOperation": {**op, "status": "RUNNING", "url": None}}
            return {"bulkOperation": op}
        if name == "BridgeOrdersCount":
            self.count_searches.append(variables["query"])
            return {"ordersCount": {"count": self.earlier_orders, "precision": "EXACT"}}
        if name.startswith("BridgeEarlierOrders"):
            self.count_searches += list(variables.values())
            return {f"c{i}": {"count": self.earlier_orders, "precision": "EXACT"} for i in range(len(variables))}
        if name == "BridgeBulkCancel":
            self.cancelled.append(variables["id"])
            return {"bulkOperationCancel": {"bulkOperation": None, "userErrors": []}}
        if name == "BridgeShopInfo":
            return {
                "shop": {},
                "currentAppInstallation": {"accessScopes": [{"handle": s} for s in self.scopes]},
            }
        raise AssertionError(name)

    async def download(self, url: str, sink: ResultSink) -> int:
        data = bulk_jsonl(self.orders)
        await sink.write(data)
        return len(data)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def setup(
    tmp_path: Path, n: int = 5, database: Path | str | None = None, **ctx: Any
) -> tuple[Backfill, ScriptedBulk, Any, Sleeps, FakeClock]:
    """A backfill of `n` orders into `database` (default: an SQLite file in `tmp_path`)."""
    clock = FakeClock(T0)
    orders = [make_order(i, datetime(2026, 4, 10 + i, tzinfo=UTC)) for i in range(n)]
    fake = ScriptedBulk(clock, orders)
    store = Store.open_writer(database or tmp_path / "b.db")
    store.sql.run("INSERT INTO sources (shop, name) VALUES ('demo.myshopify.com', 'Demo')")
    sleeps = Sleeps()
    backfill = Backfill(
        context(delay=None, **ctx) if not ctx.get("forward") else context(delay=None),
        fake,
        store,
        clock=clock,
        sleep=sleeps,
        data_dir=tmp_path / "data",
        download=fake.download,
    )
    return backfill, fake, store, sleeps, clock


async def test_backfill_stores_history_and_hands_over_the_cursor_at_the_snapshot(tmp_path: Path) -> None:
    backfill, fake, store, sleeps, _ = setup(tmp_path)
    state = await backfill.run(START)
    assert state["status"] == "complete" and state["orders"] == 5
    assert store.conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'history'").fetchone()[0] == 5
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    first, cursor = store.conn.execute("SELECT first_connected_at, cursor FROM sources").fetchone()
    assert first == cursor == "2026-05-01T10:00:00+00:00"
    assert "processed_at:>='2026-04-01T00:00:00Z'" in fake.runs[0]
    assert "groupObjects" not in fake.runs[0]  # the query travels as a variable
    assert sleeps.waits  # polled with a wait, not a tight loop


async def test_rerunning_the_backfill_creates_no_second_event(tmp_path: Path) -> None:
    backfill, _fake, store, _, _ = setup(tmp_path)
    backfill.ctx = replace(backfill.ctx, forward_history=True)
    await backfill.run(START)
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5
    store.conn.execute("UPDATE sources SET backfill_state = NULL")
    await backfill.run(START)
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5


async def test_completed_without_url_is_an_empty_window(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path)
    fake.outcomes.append({"status": "COMPLETED", "url": None})
    state = await backfill.run(START)
    assert state["status"] == "complete" and state["orders"] == 0


async def test_operation_in_progress_waits_then_runs(tmp_path: Path) -> None:
    backfill, fake, _db, sleeps, _ = setup(tmp_path)
    fake.run_errors.append(
        [
            {
                "field": None,
                "code": "OPERATION_IN_PROGRESS",
                "message": "A bulk query operation for this app and shop is already in progress: "
                "gid://shopify/BulkOperation/1.",
            }
        ]
    )
    state = await backfill.run(START)
    assert state["status"] == "complete" and 30.0 in sleeps.waits


async def test_timeout_splits_the_window(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path)
    fake.outcomes.append({"status": "FAILED", "errorCode": "TIMEOUT", "partialDataUrl": "https://x/partial"})
    state = await backfill.run(START)
    assert len(fake.runs) == 3 and state["status"] == "complete"
    assert state["orders"] == 5  # each order in exactly one half


async def test_internal_error_with_partial_data_is_never_marked_complete(tmp_path: Path) -> None:
    backfill, fake, store, _, _ = setup(tmp_path)
    fake.outcomes += [{"status": "FAILED", "errorCode": "INTERNAL_SERVER_ERROR", "partialDataUrl": "https://x/p"}] * 6
    with pytest.raises(TemporaryFailure, match="failed 6 times"):
        await backfill.run(START)
    assert store.sources.backfill_state("demo.myshopify.com")["status"] == "running"
    assert store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


async def test_canceled_or_expired_runs_the_window_again(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path)
    fake.outcomes += [{"status": "CANCELED", "url": "https://x/not-a-success"}, {"status": "EXPIRED"}]
    state = await backfill.run(START)
    assert len(fake.runs) == 3 and state["orders"] == 5


async def test_access_denied_names_the_scope(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path)
    fake.outcomes.append({"status": "FAILED", "errorCode": "ACCESS_DENIED"})
    fake.scopes.remove("read_customers")
    with pytest.raises(AuthError, match="read_customers"):
        await backfill.run(START)


async def test_restart_resumes_the_recorded_operation(tmp_path: Path) -> None:
    backfill, fake, store, _, _ = setup(tmp_path)

    class Crash(Exception):
        pass

    async def crash(_seconds: float) -> None:
        raise Crash

    backfill.sleep = crash
    with pytest.raises(Crash):
        await backfill.run(START)
    assert store.sources.backfill_state("demo.myshopify.com")["op_id"] == "gid://shopify/BulkOperation/1"
    backfill.sleep = Sleeps()
    await backfill.run(START)
    assert len(fake.runs) == 1  # resumed, not started again


async def test_truncated_result_is_detected_and_a_new_operation_is_run(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path)
    cuts = {"n": 0}

    async def truncated_once(url: str, sink: ResultSink) -> int:
        data = bulk_jsonl(fake.orders)
        if cuts["n"] == 0:
            data = data[:-40]
        cuts["n"] += 1
        await sink.write(data)
        return len(data)

    backfill.download = truncated_once
    state = await backfill.run(START)
    assert len(fake.runs) == 2  # the cut file was not downloaded again
    assert state["status"] == "complete" and state["orders"] == 5


async def test_a_result_cut_every_time_gives_up_without_marking_complete(tmp_path: Path) -> None:
    backfill, fake, store, _, _ = setup(tmp_path)

    async def truncated(url: str, sink: ResultSink) -> int:
        data = bulk_jsonl(fake.orders)[:-40]
        await sink.write(data)
        return len(data)

    backfill.download = truncated
    with pytest.raises(TemporaryFailure, match="failed 6 times"):
        await backfill.run(START)
    assert store.sources.backfill_state("demo.myshopify.com")["status"] == "running"


async def test_polling_after_backfill_has_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    backfill, fake, store, _, clock = setup(tmp_path)
    await backfill.run(START)
    from tests.fakes import FakeShopify

    shop = FakeShopify(clock)
    for order in fake.orders:  # the same orders, seen again by the poll
        shop.orders[order["id"]] = order
    clock.advance(30)
    shop.put(make_order(50, clock()))  # processed after the snapshot
    poller = SourcePoller(backfill.ctx, shop, store, clock)
    clock.advance(SETTLE_SECONDS)  # the poll window ends that long before now
    await poller.cycle()
    assert store.conn.execute("SELECT COUNT(*) FROM order_versions").fetchone()[0] == 6
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


async def test_the_event_loop_runs_other_work_between_ingest_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_ingest, "INGEST_BATCH", 2)
    backfill, _fake, _db, _, _ = setup(tmp_path, n=7)
    ticks = 0
    seen: list[tuple[int, int]] = []  # (orders ingested, ticks of the other task) at each progress report
    backfill.progress = lambda p: seen.append((p.done, ticks)) if p.phase == "ingesting" else None

    async def other_task() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_task())
    state = await backfill.run(START)
    ticker.cancel()
    assert state["orders"] == 7
    batches = [ticks_then for done, ticks_then in seen if done in (2, 4, 6)]
    assert len(batches) == 3 and batches[0] < batches[1] < batches[2]


def customers_backfill(tmp_path: Path, database: Path | str) -> tuple[Backfill, ScriptedBulk, Any]:
    backfill, fake, store, _, _ = setup(tmp_path, n=0, database=database)
    ann, bob = {"id": "gid://shopify/Customer/1"}, {"id": "gid://shopify/Customer/2"}
    fake.orders = [
        make_order(1, datetime(2026, 4, 10, tzinfo=UTC), customer=ann),
        make_order(2, datetime(2026, 4, 11, tzinfo=UTC), customer=ann),
        make_order(3, datetime(2026, 4, 12, tzinfo=UTC), customer=bob),
        make_order(4, datetime(2026, 4, 13, tzinfo=UTC), customer=None, email="guest@example.com"),
        make_order(5, datetime(2026, 4, 14, tzinfo=UTC), customer=None, email="Guest@Example.com "),
        make_order(6, datetime(2026, 4, 15, tzinfo=UTC), customer=None, email="tester@example.com", test=True),
        make_order(7, datetime(2026, 4, 16, tzinfo=UTC), customer=None, email="tester@example.com"),
    ]
    backfill.ctx = replace(backfill.ctx, forward_history=True, rules=replace(backfill.ctx.rules, test_orders=False))
    return backfill, fake, store


def new_customer_of(store: Any) -> dict[str, Any]:
    rows = store.sql.all("SELECT order_id, payload FROM events ORDER BY order_id")
    return {order_id[-1]: json.loads(payload)["properties"].get("$is_new_customer") for order_id, payload in rows}


async def test_forwarded_history_gets_is_new_customer_from_one_more_bulk_operation(
    tmp_path: Path, database: Path | str
) -> None:
    backfill, fake, store = customers_backfill(tmp_path, database)
    fake.scopes.append("read_all_orders")
    await backfill.run(START)
    assert new_customer_of(store) == {"1": True, "2": False, "3": True, "4": True, "5": False, "6": True, "7": True}
    assert fake.count_searches == []                         # never a request per order or per customer
    earlier, window = fake.runs
    assert earlier.startswith("# shopify-bridge: earlier orders") and "customer { id }" in earlier
    assert "processed_at:<'2026-05-01T10:00:00Z'" in earlier  # every order before the snapshot
    assert window.startswith("# shopify-bridge: orders backfill")
    await backfill.run(START)                                # complete: nothing runs again
    assert len(fake.runs) == 2


async def test_without_read_all_orders_forwarded_history_is_only_ever_returning_or_omitted(
    tmp_path: Path, database: Path | str
) -> None:
    backfill, _fake, store = customers_backfill(tmp_path, database)
    await backfill.run(START)
    assert new_customer_of(store) == {"1": None, "2": False, "3": None, "4": None, "5": False, "6": None, "7": None}


async def test_a_restart_resumes_the_bulk_operation_over_earlier_orders(tmp_path: Path, database: Path | str) -> None:
    backfill, fake, store = customers_backfill(tmp_path, database)
    fake.scopes.append("read_all_orders")
    fake.outcomes = [{"status": "FAILED", "errorCode": "INTERNAL_SERVER_ERROR", "url": None}]
    with pytest.raises(TemporaryFailure, match="earlier orders"):
        await backfill.run(START)
    await backfill.run(START)                                # a failed one runs again, once
    assert [run.split("\n")[0] for run in fake.runs] == [
        "# shopify-bridge: earlier orders (new customers)", "# shopify-bridge: earlier orders (new customers)",
        "# shopify-bridge: orders backfill"]
    assert new_customer_of(store)["2"] is False


async def test_staging_reports_lines_read_against_the_object_count(tmp_path: Path) -> None:
    backfill, fake, _db, _, _ = setup(tmp_path, n=3)
    fake.outcomes.append({"status": "COMPLETED", "url": "https://x/signed", "objectCount": "6"})
    seen: list[tuple[str, int, int | None]] = []
    backfill.progress = lambda p: seen.append((p.phase, p.done, p.total))
    await backfill.run(START)
    staging = [(done, total) for phase, done, total in seen if phase == "staging"]
    assert staging and staging[-1] == (6, 6)  # 3 order lines + 3 line-item lines
    phases = [phase for phase, _, _ in seen]
    assert phases.index("downloading") < phases.index("staging") < phases.index("ingesting")


async def test_two_sources_backfilling_at_once_keep_their_own_results(tmp_path: Path) -> None:
    first, _, store, _, _ = setup(tmp_path, n=4)
    store.conn.execute("INSERT INTO sources (shop, name) VALUES ('other.myshopify.com', 'Other')")
    (tmp_path / "b").mkdir()
    second, fake_b, _, _, _ = setup(tmp_path / "b", n=0)
    second.ctx = replace(second.ctx, shop="other.myshopify.com", name="Other")
    second.store, second.data_dir = store, first.data_dir  # one store, one data folder, as in the bridge
    fake_b.orders = [make_order(100 + i, datetime(2026, 4, 20, tzinfo=UTC)) for i in range(3)]
    # Both fakes number their operations from 1: only the source in the file names keeps them apart.
    await asyncio.gather(first.run(START), second.run(START))
    rows = store.conn.execute("SELECT shop, COUNT(*), MIN(order_id) FROM orders GROUP BY shop ORDER BY shop").fetchall()
    assert rows == [("demo.myshopify.com", 4, "5800000000000"), ("other.myshopify.com", 3, "5800000000100")]
    assert list(first.data_dir.iterdir()) == []  # results and staging files are gone once ingested


async def test_quarantined_lines_keep_the_staging_files_for_inspection(tmp_path: Path) -> None:
    """A line that cannot be part of an order does not fail the backfill: the others are stored, and the
    staging database with its lines file stays, the line in its quarantine with the reason."""
    backfill, fake, store, _, _ = setup(tmp_path, n=2)

    async def with_a_broken_line(url: str, sink: ResultSink) -> int:
        data = b'{"id": "gid:\\/\\/shopify\\/Order\\/9", "name": \n' + bulk_jsonl(fake.orders)
        await sink.write(data)
        return len(data)

    backfill.download = with_a_broken_line
    state = await backfill.run(START)
    assert state["status"] == "complete" and state["orders"] == 2
    assert store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2
    assert sorted(p.name for p in backfill.data_dir.iterdir()) == ["staging-demo-1.db", "staging-demo-1.db-lines"]
    kept = sqlite3.connect(backfill.data_dir / "staging-demo-1.db")
    [(line_no, reason, head)] = kept.execute("SELECT line_no, reason, raw_head FROM bulk_quarantine").fetchall()
    kept.close()
    assert (line_no, reason.split(":")[0]) == (1, "invalid JSON") and head.startswith('{"id": "gid:')


async def test_a_stop_between_ingest_batches_pauses_and_the_next_start_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_ingest, "INGEST_BATCH", 2)
    backfill, fake, store, _, _ = setup(tmp_path, n=7)
    stop = backfill.stop = asyncio.Event()
    backfill.progress = lambda p: stop.set() if p.phase == "ingesting" and p.done == 2 else None
    with pytest.raises(BackfillStopped):
        await backfill.run(START)
    assert store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2  # the first batch is in
    state = store.sources.backfill_state("demo.myshopify.com")
    assert state is not None and state["status"] == "running" and state["op_id"] == "gid://shopify/BulkOperation/1"
    assert list(backfill.data_dir.iterdir()) == []  # the download and staging are re-made on resume
    backfill.stop = None
    state = await backfill.run(START)
    assert state["status"] == "complete" and len(fake.runs) == 1  # the same operation, resumed
    assert store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM orders").fetchone() == (7, 7)
    assert store.conn.execute("SELECT COUNT(*) FROM order_versions").fetchone()[0] == 7


async def test_a_transaction_takes_several_decide_batches_in_and_a_stop_waits_for_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_ingest, "INGEST_BATCH", 4)
    monkeypatch.setattr(backfill_ingest, "DECIDE_BATCH", 2)
    backfill, _fake, store, _, _ = setup(tmp_path, n=9)
    decided: list[int] = []
    ingest_orders = backfill_ingest.ingest.ingest_orders

    def failing_second_time(store_: Store, ctx: Any, docs: Any, **kwargs: Any) -> list[int]:
        decided.append(len(docs))
        if len(decided) == 2:
            raise RuntimeError("the second decide batch fails")
        return ingest_orders(store_, ctx, docs, **kwargs)

    monkeypatch.setattr(backfill_ingest.ingest, "ingest_orders", failing_second_time)
    with pytest.raises(RuntimeError, match="second decide batch"):
        await backfill.run(START)
    assert decided == [2, 2] and store.sql.one("SELECT COUNT(*) FROM orders") == (0,), "one transaction, undone"
    monkeypatch.setattr(backfill_ingest.ingest, "ingest_orders", ingest_orders)
    reports: list[int] = []
    stop = backfill.stop = asyncio.Event()
    backfill.progress = lambda p: (reports.append(p.done), stop.set()) if p.phase == "ingesting" and p.done else None
    with pytest.raises(BackfillStopped):
        await backfill.run(START)
    assert reports == [4] and store.sql.one("SELECT COUNT(*) FROM orders") == (4,), "stopped after a commit"
    backfill.stop = None
    assert (await backfill.run(START))["status"] == "complete"
    assert store.sql.one("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM orders") == (9, 9)


async def test_a_backfill_writes_its_orders_customers_in_a_few_writes_and_all_of_them_after_a_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill_ingest, "INGEST_BATCH", 2)
    monkeypatch.setattr(backfill_ingest, "CUSTOMERS_PER_WRITE", 5)
    backfill, fake, store, _, _ = setup(tmp_path, n=7)
    keys = {key for doc in fake.orders for key in known_keys(doc)}
    assert len(keys) == 7 * len(known_keys(fake.orders[0])) >= 7, "a customer of its own for each order"
    writes: list[int] = []
    note = store.customers.note

    def counted(shop: str, earliest: dict[str, Any]) -> None:
        writes.append(len(earliest))
        note(shop, earliest)

    monkeypatch.setattr(store.customers, "note", counted)
    stop = backfill.stop = asyncio.Event()
    backfill.progress = lambda p: stop.set() if p.phase == "ingesting" and p.done == 2 else None
    with pytest.raises(BackfillStopped):
        await backfill.run(START)
    assert store.sql.one("SELECT COUNT(*) FROM orders") == (2,)
    assert store.customers.earliest(SHOP, keys) == {} and writes == [], "the first batch's customers wait"
    backfill.stop = None
    assert (await backfill.run(START))["status"] == "complete"
    noted = store.customers.earliest(SHOP, keys)
    assert set(noted) == keys, "the resumed backfill took every order in again, noting its customer"
    assert len(writes) < 7 and all(n >= 5 for n in writes[:-1]) and sum(writes) == len(keys)


async def test_a_cancelled_backfill_lets_the_staging_thread_finish_before_closing_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backfill, _fake, _db, _, _ = setup(tmp_path, n=2)
    entered, order = threading.Event(), []

    def endless_staging(conn: Any, op_id: str, source: Any, progress: Any) -> None:
        entered.set()
        try:
            for lines in range(10**9):  # ends only when the progress callback says stop
                progress(0, lines)
                threading.Event().wait(0.001)
        finally:
            order.append("staging ended")

    class Staging:
        def close(self) -> None:
            order.append("connection closed")

    monkeypatch.setattr(backfill_result.assemble, "stage_file", endless_staging)
    monkeypatch.setattr(backfill_result, "open_staging", lambda path: Staging())
    task = asyncio.create_task(backfill.run(START))
    assert await asyncio.to_thread(entered.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert order == ["staging ended", "connection closed"]
