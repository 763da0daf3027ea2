"""Staging of a bulk result for order-independent reassembly, in flat memory: SQLite rows and a lines file.

Children (line items) may come before, after or far from their order, so nothing is paired while reading:
every line is appended to the lines file of `staging` and its ids and place to the staging tables, in
batches of one transaction each (`staging.append_rows`). Once the whole file is in, the lookup indexes are
built, repeated lines are resolved by id (the last line of an id replaces the earlier ones, never
duplicates them) and `documents.iter_orders` joins orders with their line items batch by batch. Memory
stays bounded by one read chunk plus one batch while staging, whatever the file size.

Staging needs only ids, so no dict is built for a valid line: `jsonl.ids_or_record` validates it and reads
its ids in one msgspec pass, and the order document is parsed once, at iteration. A line of an unexpected
shape gets the full parse and its exact quarantine reason.

Lines that cannot become part of an order go to `bulk_quarantine` with a reason: malformed lines, lines of
an unexpected type or id, a cut-off last line, and children whose order never appears (orphans, found
once the whole file is staged). A truncated file is also flagged in `StageStats.truncated`; a backfill must
not treat such a file as complete.

Documents come out of `documents.iter_orders` in `orderdoc` shape (what `normalize_order` gives for a
polled order): the order line's fields, `lineItems` as a plain list ordered by numeric line-item id
(creation order, the same for any permutation of the file) and `refunds` as a plain list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import orjson
from msgspec import Struct

from shopify_bridge.shopify.bulk.jsonl import (
    CHUNK_SIZE,
    RAW_HEAD_BYTES,
    ChildLine,
    IdsLine,
    JsonlReader,
    Malformed,
    OrderLine,
    Progress,
    Record,
    Source,
    parse_line,
    raw_head,
)
from shopify_bridge.shopify.bulk.staging import (
    ChildRow,
    OrderRow,
    QuarantineRow,
    add_quarantine,
    append_rows,
    build_indexes,
    clear,
    drop_indexes,
    drop_repeats,
    lines_reader,
    op_key,
    packed_rows,
    read_line,
    staged_counts,
    transaction,
)

ORDER_PREFIX = "gid://shopify/Order/"
# The child connections of the bulk query: (node type, list key of the order document it fills). A child's
# position here is its `child_type` in the staging table: append, never reorder.
CHILD_TYPES = (("LineItem", "lineItems"),)
_CHILD_CODES = {name: (code, f"gid://shopify/{name}/") for code, (name, _) in enumerate(CHILD_TYPES)}
_CHILD_PREFIX_CODES = {f"gid://shopify/{name}/": code for code, (name, _) in enumerate(CHILD_TYPES)}

# Lines per write transaction. The load only appends, so a batch costs the memory of its own rows (copied
# once when packed) and its commit writes only new pages. The larger the batch, the longer the sorted runs
# and the fewer pages `iter_orders` reads per order batch; 2,000 lines (~7 MB) measured as fast as 5,000
# with 25 MB less at the peak.
STAGE_BATCH = 2_000

# Children whose order is not staged; completed as `SELECT … FROM` or `DELETE FROM`.
_ORPHANS = """
    bulk_staged_child WHERE op_key = ? AND NOT EXISTS (
        SELECT 1 FROM bulk_staged_order o
        WHERE o.op_key = bulk_staged_child.op_key AND o.order_id = bulk_staged_child.parent_id)
"""


class StageStats(Struct):
    """What one `stage_file` did.

    `orders`/`children` are the distinct rows left staged; `duplicates` counts lines replaced by a later
    line of the same id; `malformed` + `orphans` (+ 1 when `truncated`) lines are in the quarantine.
    """

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
    return int(tail) if _is_number(tail) else None


def _is_number(text: str) -> bool:
    """1 to 18 ASCII digits: the tail of a Shopify gid, and always within SQLite's 64-bit integers."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def _full_record(raw: bytes, line_no: int) -> Record:
    """The record of `parse_line`, or `Malformed` when orjson rejects what msgspec accepted."""
    try:
        return parse_line(raw, line_no)
    except orjson.JSONDecodeError as exc:
        return Malformed(line_no, f"invalid JSON: {exc}", raw_head(raw))


class _Stager:
    """Turns lines into staged or quarantined rows, written a batch (one transaction) at a time.

    Each batch is sorted by its lookup key before it is written: the table then holds sorted runs, so the
    rows of consecutive orders (how `iter_orders` reads) lie together in every run instead of one random
    page each. Within a key, rows keep file order, so the greatest rowid of a key is still its last line.
    """

    def __init__(self, conn: sqlite3.Connection, key: int, stats: StageStats, batch: int) -> None:
        self.conn, self.key, self.stats, self.batch = conn, key, stats, batch
        self.orders: list[OrderRow] = []
        self.children: list[ChildRow] = []
        self.quarantine: list[QuarantineRow] = []

    def stage(self, items: Iterator[IdsLine | Record]) -> None:
        """Route every line of the reader's `scan`, flushing a batch every `batch` lines."""
        orders, children, batch, codes = self.orders, self.children, self.batch, _CHILD_PREFIX_CODES
        order_lines = child_lines = pending = 0
        for item in items:
            if isinstance(item, tuple):
                gid, parent, line_no, raw = item
                at = gid.rfind("/") + 1
                num = gid[at:]
                # `_is_number` inlined, twice: this loop runs once per line of files of millions of lines.
                if not (0 < len(num) <= 18 and num.isascii() and num.isdigit()):
                    self.add(_full_record(raw, line_no))
                elif parent is None:
                    if at == len(ORDER_PREFIX) and gid.startswith(ORDER_PREFIX):
                        # Stripped so that iteration can splice line items in before the closing brace.
                        orders.append((int(num), line_no, raw if raw[-1] == 0x7D else raw.strip()))
                        order_lines += 1
                    else:
                        self.add(_full_record(raw, line_no))
                else:
                    code = codes.get(gid[:at])
                    parent_num = parent[len(ORDER_PREFIX):]
                    if (code is not None and parent.startswith(ORDER_PREFIX) and 0 < len(parent_num) <= 18
                            and parent_num.isascii() and parent_num.isdigit()):
                        # Kept whole, `__parentId` included: `documents` drops it after parsing.
                        children.append((int(parent_num), code, int(num), line_no, raw))
                        child_lines += 1
                    else:  # an unexpected shape: the full record says why it is quarantined
                        self.add(_full_record(raw, line_no))
            else:
                self.add(item)
            pending += 1
            if pending >= batch:
                self.flush()
                orders, children, pending = self.orders, self.children, 0
        self.flush()
        self.stats.order_lines += order_lines
        self.stats.child_lines += child_lines

    def add(self, record: Record) -> None:
        stats = self.stats
        if isinstance(record, ChildLine):
            code, prefix = _CHILD_CODES.get(record.typename, (-1, ""))
            child_id = numeric_id(record.id, prefix) if prefix else None
            parent_id = numeric_id(record.parent_id, ORDER_PREFIX)
            if child_id is None:
                self._quarantine(record.line_no, f"unexpected child {record.id!r} (the query selects "
                                 f"{', '.join(t for t, _ in CHILD_TYPES)} only)", raw_head(record.raw))
            elif parent_id is None:
                self._quarantine(record.line_no, f"parent {record.parent_id!r} is not an Order",
                                 raw_head(record.raw))
            else:
                stats.child_lines += 1
                self.children.append((parent_id, code, child_id, record.line_no, record.raw))
        elif isinstance(record, OrderLine):
            order_id = numeric_id(record.id, ORDER_PREFIX)
            if order_id is None:
                reason = f"root line {record.id!r} is not an Order"
                self._quarantine(record.line_no, reason, raw_head(record.raw))
            else:
                stats.order_lines += 1
                # Stripped so that iteration can splice line items in before the closing brace.
                self.orders.append((order_id, record.line_no, record.raw.strip()))
        elif isinstance(record, Malformed):
            self._quarantine(record.line_no, record.reason, record.raw_head)
        else:
            stats.truncated, stats.truncated_reason = True, record.reason
            self.quarantine.append((record.line_no, f"truncated: {record.reason}", record.raw_head))

    def _quarantine(self, line_no: int, reason: str, head: str) -> None:
        self.stats.malformed += 1
        self.quarantine.append((line_no, reason, head))

    def flush(self) -> None:
        self.orders.sort()
        self.children.sort()
        append_rows(self.conn, self.key, packed_rows(self.orders), packed_rows(self.children), self.quarantine)
        self.orders, self.children, self.quarantine = [], [], []


def stage_file(
    conn: sqlite3.Connection,
    op_id: str,
    source: Source,
    progress: Progress | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    batch: int = STAGE_BATCH,
) -> StageStats:
    """Stage a bulk result file (path or binary stream) for `op_id`, replacing any earlier staging of it.

    Check `truncated` on the result before trusting the file as complete. Iterate with `documents.iter_orders` only
    after this returned: a staging interrupted half-way is re-done, not resumed.
    """
    clear(conn, op_id)
    drop_indexes(conn)  # rebuilt, sorted, once the file is in (see `staging`)
    with transaction(conn):
        key = op_key(conn, op_id, create=True)
    assert key is not None
    stats = StageStats(op_id)
    reader = JsonlReader(source, chunk_size=chunk_size, progress=progress)
    _Stager(conn, key, stats, batch).stage(reader.scan())
    stats.bytes_read, stats.lines = reader.bytes_read, reader.lines_read
    build_indexes(conn)
    with transaction(conn):
        stats.duplicates = drop_repeats(conn, "bulk_staged_order", "order_id", key)
        stats.duplicates += drop_repeats(conn, "bulk_staged_child", "parent_id, child_type, child_id", key)
    stats.orphans = _quarantine_orphans(conn, key)
    stats.orders, stats.children = staged_counts(conn, key)
    return stats


def _quarantine_orphans(conn: sqlite3.Connection, key: int) -> int:
    """Move children whose parent order is not staged to the quarantine; their count."""
    orphans = 0
    with transaction(conn), lines_reader(conn) as fd:
        found = conn.execute(f"SELECT line_no, parent_id, at, size FROM {_ORPHANS}", (key,))
        while rows := found.fetchmany(STAGE_BATCH):
            orphans += len(rows)
            add_quarantine(conn, key, [
                (line_no, f"orphan: parent {ORDER_PREFIX}{parent} is not in the file",
                 raw_head(read_line(fd, at, min(size, RAW_HEAD_BYTES))))
                for line_no, parent, at, size in rows
            ])
        if orphans:
            conn.execute(f"DELETE FROM {_ORPHANS}", (key,))
    return orphans
