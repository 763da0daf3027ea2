"""Reading staged orders back as documents: the read-ahead connection and the salvage of unparsable orders."""

from __future__ import annotations

import io
import sqlite3
import threading
from pathlib import Path

from shopify_bridge.decide.orderdoc import normalize_order
from shopify_bridge.shopify.bulk.assemble import stage_file
from shopify_bridge.shopify.bulk.documents import _BatchReader, iter_orders
from shopify_bridge.shopify.bulk.staging import ensure_schema, op_key, open_staging, quarantined
from tests.bulk.builders import bulk_lines, order, polled_node

OP = "gid://shopify/BulkOperation/1"


def read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("bulk-read-ahead")]


def test_a_file_is_read_ahead_on_a_second_connection_and_memory_in_line(tmp_path: Path) -> None:
    on_file = open_staging(tmp_path / "staging.db")
    in_memory = sqlite3.connect(":memory:", isolation_level=None)
    ensure_schema(in_memory)
    orders = [order(n, items=n % 4, refunds=n % 2) for n in range(1, 12)]
    for connection in (on_file, in_memory):
        stage_file(connection, OP, io.BytesIO(b"".join(bulk_lines(orders))))
    key = op_key(on_file, OP)
    assert key is not None
    threaded, inline = _BatchReader(on_file, key, 3), _BatchReader(in_memory, key, 3)
    assert (threaded._worker is not None, inline._worker is not None) == (True, False)
    threaded.close()
    inline.close()
    expected = [normalize_order(polled_node(o)) for o in orders]
    assert list(iter_orders(on_file, OP, batch=3)) == expected == list(iter_orders(in_memory, OP, batch=3))
    on_file.close()
    in_memory.close()


def test_stopping_early_releases_the_read_ahead_thread(tmp_path: Path) -> None:
    staging = open_staging(tmp_path / "staging.db")
    stage_file(staging, OP, io.BytesIO(b"".join(bulk_lines([order(n) for n in range(1, 10)]))))
    documents = iter_orders(staging, OP, batch=2)
    next(documents)
    assert read_ahead_threads()
    documents.close()
    assert read_ahead_threads() == []
    staging.close()


def huge_number(line: bytes) -> bytes:
    """A line msgspec accepts and orjson refuses: a number beyond a double's range."""
    return line.replace(b'{"id"', b'{"weight":1e400,"id"', 1)


def test_a_child_that_does_not_parse_is_quarantined_and_its_order_kept(conn: sqlite3.Connection) -> None:
    broken, fine = order(1, items=3), order(2, items=1)
    lines = bulk_lines([broken, fine])
    lines[2] = huge_number(lines[2])  # the second line item of order 1
    stats = stage_file(conn, OP, io.BytesIO(b"".join(lines)))
    assert (stats.malformed, stats.children) == (0, 4)  # accepted while staging
    without = dict(broken, lineItems=[broken["lineItems"][0], broken["lineItems"][2]])
    assert list(iter_orders(conn, OP)) == [normalize_order(polled_node(o)) for o in (without, fine)]
    ((line_no, reason, _),) = quarantined(conn, OP)
    assert line_no == 3 and reason.startswith("invalid JSON: number is infinity")


def test_an_order_line_that_does_not_parse_takes_its_children_to_the_quarantine(conn: sqlite3.Connection) -> None:
    broken, fine = order(1, items=2), order(2, items=1)
    lines = bulk_lines([broken, fine])
    lines[0] = huge_number(lines[0])
    stage_file(conn, OP, io.BytesIO(b"".join(lines)))
    assert list(iter_orders(conn, OP)) == [normalize_order(polled_node(fine))]
    rows = quarantined(conn, OP)
    assert [line_no for line_no, _, _ in rows] == [1, 2, 3]
    assert rows[0][1].startswith("invalid JSON")
    assert rows[1][1] == "orphan: parent gid://shopify/Order/5800000000001 (line 1) does not parse"
