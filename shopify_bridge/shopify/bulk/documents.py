"""Order documents out of a staged bulk result: each order line with its children spliced in, parsed once.

`iter_orders` reads what `assemble.stage_file` staged, a batch of orders at a time in numeric id order
(creation order), with the line items of exactly those orders: the ids and places of a batch's lines come
from the staging indexes alone, in one scan each, and each line's bytes from the lines file with one
`pread` (`staging.lines_path`). The document is spliced together in the order line's bytes — the order
line without its closing brace, each connection's array, the brace — and parsed once by orjson.

An order whose spliced document does not parse is salvaged rather than failing the backfill. That happens
for a line that msgspec accepted while staging and orjson refuses (a number beyond a double's range), or a
line item nested so deep that it parses alone but not inside its order: its lines are then parsed one by
one, those at fault go to the quarantine with the reason, and the order is built from the rest; when the
order line itself is at fault, its children are quarantined with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from typing import Any

import orjson

from shopify_bridge.decide.orderdoc import OrderDoc, normalize_refund
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify.bulk.assemble import CHILD_TYPES, ORDER_PREFIX
from shopify_bridge.shopify.bulk.jsonl import raw_head
from shopify_bridge.shopify.bulk.staging import (
    QuarantineRow,
    add_quarantine,
    ensure_schema,
    lines_reader,
    op_key,
    read_line,
    transaction,
)

log = get_logger(component="bulk")

# Orders per read: one scan of each index and a `pread` per line. Memory holds one batch (~0.7 MB of
# JSON at 200 orders); larger batches only cost memory.
ITER_BATCH = 200

# A batch's orders and their children, from the covering indexes: no row of the tables is read.
_ORDERS = (
    "SELECT order_id, at, size FROM bulk_staged_order WHERE op_key = ?1 AND order_id > ?2 AND order_id <= ?3"
    " ORDER BY order_id"
)
_CHILDREN = (
    "SELECT parent_id, child_type, at, size FROM bulk_staged_child"
    " WHERE op_key = ?1 AND parent_id > ?2 AND parent_id <= ?3 ORDER BY parent_id, child_type, child_id"
)
# Every `batch`-th order id: the upper bounds of the batches (one index scan).
_BOUNDS = (
    "SELECT order_id FROM (SELECT order_id, row_number() OVER (ORDER BY order_id) AS n"
    " FROM bulk_staged_order WHERE op_key = ?) WHERE n % ? = 0"
)
_LAST_ID = (1 << 63) - 1
# What goes between an order line (without its closing brace) and each connection's lines.
_OPENINGS = tuple(f',"{key}":['.encode() for _, key in CHILD_TYPES)

Batch = list[tuple[int, bytes]]
"""(order_id, the order's document as JSON) by order id."""


def iter_orders(
    conn: sqlite3.Connection, op_id: str, batch: int = ITER_BATCH
) -> Generator[OrderDoc, None, None]:
    """The staged orders of `op_id` as normalized order documents, by numeric order id.

    Each batch is read completely before its documents are yielded, so no cursor stays open across a
    `yield`: the caller may write to the same connection between documents.
    """
    if batch <= 0:
        raise ValueError("batch must be positive")
    ensure_schema(conn)
    key = op_key(conn, op_id)
    if key is None:
        return
    bounds = [int(row[0]) for row in conn.execute(_BOUNDS, (key, batch)).fetchall()]
    with lines_reader(conn) as fd:
        for after, upto in zip([-1, *bounds], [*bounds, _LAST_ID], strict=True):  # ids are never negative
            for order_id, raw in _fetch(conn, fd, key, after, upto):
                try:
                    doc: OrderDoc | None = _document(raw)
                except orjson.JSONDecodeError:
                    doc = _salvage(conn, fd, key, order_id)
                if doc is not None:
                    yield doc


def _fetch(conn: sqlite3.Connection, fd: int, key: int, after: int, upto: int) -> Batch:
    """The documents of the orders with `after` < id <= `upto`."""
    children: dict[int, list[list[bytes]]] = {}
    for parent, code, at, size in conn.execute(_CHILDREN, (key, after, upto)).fetchall():
        lists = children.get(parent)
        if lists is None:
            lists = children[parent] = [[] for _ in CHILD_TYPES]
        lists[code].append(read_line(fd, at, size))
    documents: Batch = []
    for order_id, at, size in conn.execute(_ORDERS, (key, after, upto)).fetchall():
        parts = [read_line(fd, at, size - 1)]  # the order line without its closing brace
        lists = children.get(order_id)
        for code, opening in enumerate(_OPENINGS):
            parts.append(opening)
            if lists is not None:
                parts.append(b",".join(lists[code]))
            parts.append(b"]")
        parts.append(b"}")
        documents.append((order_id, b"".join(parts)))
    return documents


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


def _salvage(conn: sqlite3.Connection, fd: int, key: int, order_id: int) -> OrderDoc | None:
    """The order built from its lines that parse on their own; the others quarantined. None without an order."""
    order_line, at, size = conn.execute(
        "SELECT line_no, at, size FROM bulk_staged_order WHERE op_key = ? AND order_id = ?", (key, order_id)
    ).fetchone()
    order_raw = read_line(fd, at, size)
    children = conn.execute(
        "SELECT child_type, line_no, at, size FROM bulk_staged_child WHERE op_key = ? AND parent_id = ? "
        "ORDER BY child_type, child_id", (key, order_id)
    ).fetchall()
    bad: list[QuarantineRow] = []
    order: dict[str, Any] | None = None
    try:
        order = orjson.loads(order_raw)
    except orjson.JSONDecodeError as exc:
        bad.append((order_line, f"invalid JSON: {exc}", raw_head(order_raw)))
    lists: dict[int, list[Any]] = {code: [] for code in range(len(CHILD_TYPES))}
    for code, line_no, child_at, child_size in children:
        raw = read_line(fd, child_at, child_size)
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
