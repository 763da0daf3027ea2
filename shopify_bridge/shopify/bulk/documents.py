"""Order documents out of a staged bulk result: each order line with its children spliced in, parsed once.

`iter_orders` reads what `assemble.stage_file` staged, a batch of orders at a time in numeric id order
(creation order), with the line items of exactly those orders. When the staging database is a file, the
next batches are read on read-only connections of their own, on threads, while the current one is parsed:
SQLite builds a whole batch in one statement with the GIL released, so the reads (about half of the
iteration's work) overlap with parsing. An in-memory database has no second connection and is read in
line.

An order whose spliced document does not parse is salvaged rather than failing the backfill. That happens
for a line that msgspec accepted while staging and orjson refuses (a number beyond a double's range), or a
line item nested so deep that it parses alone but not inside its order: its lines are then parsed one by
one, those at fault go to the quarantine with the reason, and the order is built from the rest; when the
order line itself is at fault, its children are quarantined with it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson

from shopify_bridge.decide.orderdoc import OrderDoc, normalize_refund
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify.bulk.assemble import CHILD_TYPES, ORDER_PREFIX
from shopify_bridge.shopify.bulk.jsonl import raw_head
from shopify_bridge.shopify.bulk.staging import QuarantineRow, add_quarantine, ensure_schema, op_key, transaction

log = get_logger(component="bulk")

# Orders per read. Up to READERS + 1 batches are in memory at once (each ~0.7 MB of JSON at 200 orders, held
# twice while it is split); smaller batches cost a GIL hand-over each, larger ones memory and cache misses.
ITER_BATCH = 200



def _children_array(code: int, key: str) -> str:
    # A correlated subquery per connection: the order's child lines, by numeric id, as a JSON array.
    # Its inner ORDER BY holds because SQLite never flattens an ordered subquery into an aggregate.
    return (
        f""" || ',"{key}":[' || coalesce((SELECT group_concat(json, ',') FROM (SELECT c.json AS json"""
        f" FROM bulk_staged_child c WHERE c.op_key = ?1 AND c.parent_id = o.order_id AND c.child_type = {code}"
        " ORDER BY c.child_id)), '') || ']'"
    )


# One statement, one row per batch: the ids, and the documents spliced together (the order line without its
# closing brace, each connection's array, the brace) one per line. SQLite builds it with the GIL released,
# which is what lets the read-ahead thread run beside the parsing; a row per order would take the GIL back
# after every row and wait for the parser's switch interval each time.
_BATCH = (
    "SELECT json_group_array(order_id), CAST(group_concat(doc, char(10)) AS BLOB) FROM ("
    " SELECT o.order_id AS order_id, substr(o.json, 1, length(o.json) - 1)"
    + "".join(_children_array(code, key) for code, (_, key) in enumerate(CHILD_TYPES))
    + " || '}' AS doc FROM bulk_staged_order o WHERE o.op_key = ?1 AND o.order_id > ?2 AND o.order_id <= ?3"
    " ORDER BY o.order_id)"
)
# Every `batch`-th order id: the upper bounds of the batches, known before any is read, so that several
# can be read at once (one index scan, no document read).
_BOUNDS = (
    "SELECT order_id FROM (SELECT order_id, row_number() OVER (ORDER BY order_id) AS n"
    " FROM bulk_staged_order WHERE op_key = ?) WHERE n % ? = 0"
)
_LAST_ID = (1 << 63) - 1

Batch = list[tuple[int, bytes]]
"""(order_id, the order's document as JSON) by order id."""


def iter_orders(
    conn: sqlite3.Connection, op_id: str, batch: int = ITER_BATCH
) -> Generator[OrderDoc, None, None]:
    """The staged orders of `op_id` as normalized order documents, by numeric order id.

    Each batch is fetched completely before its documents are yielded, so no cursor stays open across a
    `yield`: the caller may write to the same connection between documents.
    """
    if batch <= 0:
        raise ValueError("batch must be positive")
    ensure_schema(conn)
    key = op_key(conn, op_id)
    if key is None:
        return
    batches = _BatchReader(conn, key, batch)
    try:
        for documents in batches:
            for order_id, raw in documents:
                try:
                    doc: OrderDoc | None = _document(raw)
                except orjson.JSONDecodeError:
                    doc = _salvage(conn, key, order_id)
                if doc is not None:
                    yield doc
    finally:
        batches.close()


def _fetch(conn: sqlite3.Connection, key: int, after: int, upto: int) -> Batch:
    """The documents of the orders with `after` < id ≤ `upto`."""
    ids, joined = conn.execute(_BATCH, (key, after, upto)).fetchone()
    if joined is None:
        return []
    order_ids: list[int] = orjson.loads(ids)
    documents = list(zip(order_ids, joined.split(b"\n"), strict=True))
    if order_ids != sorted(order_ids):
        documents.sort()  # never seen: SQLite feeds the aggregate in the subquery's order
    return documents


def _database_file(conn: sqlite3.Connection) -> str:
    """The file of `conn`'s main database; empty for an in-memory or temporary one."""
    for _, name, path in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(path or "")
    return ""


class _BatchReader:
    """The batches of one operation; when the database is a file, read `READERS` ahead on threads.

    Each read thread has its own connection. One of them: a thread that finishes its statement waits for the
    GIL (up to the interpreter's switch interval) while the caller parses, and a second thread would hide
    some of that wait, but every hand-over of the GIL costs CPU in both threads. With two, a 20k-order
    backfill spent ~0.1 CPU s more for no shorter ingest (`bench/backfill.py --whole`); the goal is CPU.
    """

    READERS = 1

    def __init__(self, conn: sqlite3.Connection, key: int, batch: int) -> None:
        self.conn, self.key = conn, key
        bounds = [int(row[0]) for row in conn.execute(_BOUNDS, (key, batch)).fetchall()]
        self._ranges = list(zip([-1, *bounds], [*bounds, _LAST_ID], strict=True))  # ids are never negative
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._path = _database_file(conn)
        self._worker: ThreadPoolExecutor | None = None
        if self._path:
            self._worker = ThreadPoolExecutor(self.READERS, thread_name_prefix="bulk-read-ahead")
        self._pending: deque[Future[Batch]] = deque()
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Batch]:
        ranges = iter(self._ranges)
        for _ in range(self.READERS):
            self._request(next(ranges, None))
        while self._pending:
            documents = self._pending.popleft().result()
            self._request(next(ranges, None))
            if documents:  # the last range is empty when the count is a multiple of the batch
                yield documents

    def _request(self, bounds: tuple[int, int] | None) -> None:
        if bounds is None:
            return
        if self._worker is None:
            done: Future[Batch] = Future()
            done.set_result(_fetch(self.conn, self.key, *bounds))
            self._pending.append(done)
        else:
            self._pending.append(self._worker.submit(self._read, *bounds))

    def _read(self, after: int, upto: int) -> Batch:
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            reader.execute("PRAGMA query_only = ON")
            self._local.reader = reader
            with self._lock:
                self._readers.append(reader)
        return _fetch(reader, self.key, after, upto)

    def close(self) -> None:
        """Wait for the reads still running, then release the threads and their connections."""
        for pending in self._pending:
            pending.cancel()
        if self._worker is not None:
            self._worker.shutdown()  # waits for a read already started
            self._worker = None
        self._pending.clear()
        for reader in self._readers:
            reader.close()
        self._readers.clear()


def _document(raw: bytes) -> OrderDoc:
    order: dict[str, Any] = orjson.loads(raw)
    for _, list_key in CHILD_TYPES:  # staged whole: their lines' `__parentId` is not part of the order
        for child in order[list_key]:
            child.pop("__parentId", None)
    return _finish(order)


def _finish(order: dict[str, Any]) -> OrderDoc:
    # What `normalize_order` does, minus its copies: the dict is fresh, and the staging query already
    # gives line items in creation (numeric id) order. Tests compare with `normalize_order` itself.
    refunds = order.get("refunds")
    order["refunds"] = [normalize_refund(refund) for refund in refunds] if refunds else []
    return order


def _salvage(conn: sqlite3.Connection, key: int, order_id: int) -> OrderDoc | None:
    """The order built from its lines that parse on their own; the others quarantined. None without an order."""
    order_line, order_raw = conn.execute(
        "SELECT line_no, json FROM bulk_staged_order WHERE op_key = ? AND order_id = ?", (key, order_id)
    ).fetchone()
    children = conn.execute(
        "SELECT child_type, line_no, json FROM bulk_staged_child WHERE op_key = ? AND parent_id = ? "
        "ORDER BY child_type, child_id", (key, order_id)
    ).fetchall()
    bad: list[QuarantineRow] = []
    order: dict[str, Any] | None = None
    try:
        order = orjson.loads(order_raw)
    except orjson.JSONDecodeError as exc:
        bad.append((order_line, f"invalid JSON: {exc}", raw_head(order_raw)))
    lists: dict[int, list[Any]] = {code: [] for code in range(len(CHILD_TYPES))}
    for code, line_no, raw in children:
        if order is None:
            reason = f"orphan: parent {ORDER_PREFIX}{order_id} (line {order_line}) does not parse"
            bad.append((line_no, reason, raw_head(raw)))
            continue
        try:
            child = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad.append((line_no, f"invalid JSON: {exc}", raw_head(raw)))
            continue
        child.pop("__parentId", None)
        lists[code].append(child)
    with transaction(conn):
        add_quarantine(conn, key, bad)
    log.warning("bulk lines quarantined while assembling", order_id=order_id, lines=len(bad))
    if order is None:
        return None
    for code, (_, list_key) in enumerate(CHILD_TYPES):
        order[list_key] = lists[code]
    return _finish(order)
