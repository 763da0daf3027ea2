"""Order-independent reassembly of a bulk result, in flat memory, through SQLite staging tables.

Children (line items) may come before, after or far from their order, so nothing is paired while reading:
every line is upserted by its id into the staging tables of `staging` (a repeated line replaces, never
duplicates), and once the whole file is in, `iter_orders` joins orders with their line items batch by
batch. Memory stays bounded by one read chunk plus one write batch while staging, and one order batch
while iterating, whatever the file size.

Lines that cannot become part of an order go to `bulk_quarantine` with a reason: malformed lines, lines of
an unexpected type or id, a cut-off last line, and children whose order never appears (orphans, found
once the whole file is staged). A truncated file is also flagged in `StageStats.truncated`; a backfill must
not treat such a file as complete.

Documents come out in `orderdoc` shape (what `normalize_order` gives for a polled order): the order line's
fields, `lineItems` as a plain list ordered by numeric line-item id (creation order, the same for any
permutation of the file) and `refunds` as a plain list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from shopify_bridge.bulk.jsonl import (
    CHUNK_SIZE,
    ChildLine,
    JsonlReader,
    Malformed,
    OrderLine,
    Progress,
    Source,
)
from shopify_bridge.bulk.staging import clear, ensure_schema, op_key, staged_counts, transaction
from shopify_bridge.orderdoc import OrderDoc, normalize_order

ORDER_PREFIX = "gid://shopify/Order/"
# Child connection type → the list key of the order document it fills.
CHILD_LIST_KEYS = {"LineItem": "lineItems"}
_CHILD_PREFIXES = {typename: f"gid://shopify/{typename}/" for typename in CHILD_LIST_KEYS}

STAGE_BATCH = 5_000
ITER_BATCH = 500

_INSERT_ORDER = (
    "INSERT OR REPLACE INTO bulk_staged_order (op_key, order_id, gid, line_no, json) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_CHILD = (
    "INSERT OR REPLACE INTO bulk_staged_child (op_key, typename, child_id, parent_id, gid, parent_gid, line_no,"
    " json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_QUARANTINE = (
    "INSERT OR REPLACE INTO bulk_quarantine (op_key, line_no, reason, raw_head) VALUES (?, ?, ?, ?)"
)
_ORPHANS = """
    SELECT c.typename, c.child_id, c.line_no, c.parent_gid, c.json FROM bulk_staged_child c
    WHERE c.op_key = ? AND NOT EXISTS (
        SELECT 1 FROM bulk_staged_order o WHERE o.op_key = c.op_key AND o.order_id = c.parent_id)
"""


@dataclass(slots=True)
class StageStats:
    """What one `stage_file` did. `orders`/`children` are distinct staged rows after upserts and orphans."""

    op_id: str
    bytes_read: int = 0
    lines: int = 0
    order_lines: int = 0
    child_lines: int = 0
    orders: int = 0
    children: int = 0
    duplicates: int = 0
    malformed: int = 0
    orphans: int = 0
    truncated: bool = False
    truncated_reason: str | None = None

    @property
    def quarantined(self) -> int:
        return self.malformed + self.orphans + (1 if self.truncated else 0)


def numeric_id(gid: str, prefix: str) -> int | None:
    """`gid://shopify/Order/123` with prefix `gid://shopify/Order/` → 123; None for anything else."""
    if not gid.startswith(prefix):
        return None
    tail = gid[len(prefix):]
    return int(tail) if tail.isascii() and tail.isdigit() else None


def _head(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace")


class _Rows:
    """Rows waiting for the next executemany; each flush is one transaction."""

    def __init__(self, conn: sqlite3.Connection, key: int) -> None:
        self.conn, self.key = conn, key
        self.orders: list[tuple[Any, ...]] = []
        self.children: list[tuple[Any, ...]] = []
        self.quarantine: list[tuple[Any, ...]] = []

    def quarantine_line(self, line_no: int, reason: str, head: str) -> None:
        self.quarantine.append((self.key, line_no, reason, head))

    def flush(self) -> None:
        with transaction(self.conn):
            self.conn.executemany(_INSERT_ORDER, self.orders)
            self.conn.executemany(_INSERT_CHILD, self.children)
            self.conn.executemany(_INSERT_QUARANTINE, self.quarantine)
        self.orders.clear()
        self.children.clear()
        self.quarantine.clear()


def stage_file(
    conn: sqlite3.Connection,
    op_id: str,
    source: Source,
    progress: Progress | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    batch: int = STAGE_BATCH,
) -> StageStats:
    """Stage a bulk result file (path or binary stream) for `op_id`, replacing any earlier staging of it."""
    clear(conn, op_id)
    with transaction(conn):
        key = op_key(conn, op_id, create=True)
    assert key is not None
    stats = StageStats(op_id)
    reader = JsonlReader(source, chunk_size=chunk_size, progress=progress)
    rows = _Rows(conn, key)
    pending = 0
    for record in reader:
        if isinstance(record, ChildLine):
            prefix = _CHILD_PREFIXES.get(record.typename)
            child_id = None if prefix is None else numeric_id(record.id, prefix)
            parent_id = numeric_id(record.parent_id, ORDER_PREFIX)
            if child_id is None:
                stats.malformed += 1
                rows.quarantine_line(record.line_no, f"unexpected child id {record.id!r} (the query selects "
                                     f"only {', '.join(CHILD_LIST_KEYS)})", _head(record.raw))
            elif parent_id is None:
                stats.malformed += 1
                reason = f"parent {record.parent_id!r} is not an Order"
                rows.quarantine_line(record.line_no, reason, _head(record.raw))
            else:
                stats.child_lines += 1
                rows.children.append((key, record.typename, child_id, parent_id, record.id, record.parent_id,
                                      record.line_no, record.raw))
        elif isinstance(record, OrderLine):
            order_id = numeric_id(record.id, ORDER_PREFIX)
            if order_id is None:
                stats.malformed += 1
                reason = f"root line {record.id!r} is not an Order"
                rows.quarantine_line(record.line_no, reason, _head(record.raw))
            else:
                stats.order_lines += 1
                # Stripped so that iteration can splice line items in before the closing brace.
                rows.orders.append((key, order_id, record.id, record.line_no, record.raw.strip()))
        elif isinstance(record, Malformed):
            stats.malformed += 1
            rows.quarantine_line(record.line_no, record.reason, record.raw_head)
        else:
            stats.truncated, stats.truncated_reason = True, record.reason
            rows.quarantine_line(record.line_no, f"truncated: {record.reason}", record.raw_head)
        pending += 1
        if pending >= batch:
            rows.flush()
            pending = 0
    rows.flush()
    stats.bytes_read, stats.lines = reader.bytes_read, reader.lines_read
    stats.orphans = _quarantine_orphans(conn, key)
    stats.orders, stats.children = staged_counts(conn, key)
    stats.duplicates = stats.order_lines - stats.orders + stats.child_lines - stats.children - stats.orphans
    return stats


def _quarantine_orphans(conn: sqlite3.Connection, key: int) -> int:
    """Move children whose parent order is not staged to the quarantine; their count."""
    orphans: list[tuple[int, str, int]] = []
    with transaction(conn):
        found = conn.execute(_ORPHANS, (key,))
        while rows := found.fetchmany(STAGE_BATCH):
            orphans.extend((key, typename, child_id) for typename, child_id, _, _, _ in rows)
            conn.executemany(_INSERT_QUARANTINE, [
                (key, line_no, f"orphan: parent {parent} is not in the file", _head(raw))
                for _, _, line_no, parent, raw in rows
            ])
        conn.executemany(
            "DELETE FROM bulk_staged_child WHERE op_key = ? AND typename = ? AND child_id = ?", orphans
        )
    return len(orphans)


def iter_orders(conn: sqlite3.Connection, op_id: str, batch: int = ITER_BATCH) -> Iterator[OrderDoc]:
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
    after = -1  # numeric ids are never negative
    while True:
        orders = conn.execute(
            "SELECT order_id, json FROM bulk_staged_order WHERE op_key = ? AND order_id > ? "
            "ORDER BY order_id LIMIT ?",
            (key, after, batch),
        ).fetchall()
        if not orders:
            return
        children: dict[int, dict[str, list[bytes]]] = {}
        for parent_id, typename, raw in conn.execute(
            "SELECT parent_id, typename, json FROM bulk_staged_child WHERE op_key = ? "
            "AND parent_id BETWEEN ? AND ? ORDER BY parent_id, child_id",
            (key, orders[0][0], orders[-1][0]),
        ).fetchall():
            children.setdefault(parent_id, {}).setdefault(typename, []).append(raw)
        for order_id, raw in orders:
            yield _document(raw, children.get(order_id, {}))
        after = int(orders[-1][0])


def _document(order_raw: bytes, children: dict[str, list[bytes]]) -> OrderDoc:
    # One parse per order: the child lines are spliced into the order line as JSON arrays.
    parts = [order_raw[:-1]]
    for typename, list_key in CHILD_LIST_KEYS.items():
        parts.append(b',"' + list_key.encode() + b'":[' + b",".join(children.get(typename, ())) + b"]")
    parts.append(b"}")
    order: dict[str, Any] = orjson.loads(b"".join(parts))
    for list_key in CHILD_LIST_KEYS.values():
        for child in order[list_key]:
            del child["__parentId"]
    return normalize_order(order)
