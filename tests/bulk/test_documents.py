"""Reading staged orders back as documents: batches, the lines file, and the salvage of unparsable orders."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
from pathlib import Path

import pytest

from shopify_bridge.decide.orderdoc import normalize_order
from shopify_bridge.shopify.bulk.assemble import stage_file
from shopify_bridge.shopify.bulk.documents import iter_orders
from shopify_bridge.shopify.bulk.staging import ensure_schema, lines_path, open_staging, quarantined
from tests.bulk.builders import bulk_lines, order, polled_node

OP = "gid://shopify/BulkOperation/1"


def test_documents_are_read_in_batches_of_any_size(tmp_path: Path) -> None:
    staging = open_staging(tmp_path / "staging.db")
    orders = [order(n, items=n % 4, refunds=n % 2) for n in range(1, 12)]
    stage_file(staging, OP, io.BytesIO(b"".join(bulk_lines(orders))))
    expected = [normalize_order(polled_node(o)) for o in orders]
    for batch in (1, 3, 11, 12, 200):
        assert list(iter_orders(staging, OP, batch=batch)) == expected
    staging.close()


def test_a_staging_database_must_be_a_file() -> None:
    """The lines are kept in a file beside the database: an in-memory one has nowhere to keep them."""
    in_memory = sqlite3.connect(":memory:", isolation_level=None)
    ensure_schema(in_memory)
    with pytest.raises(ValueError, match="a staging database must be a file"):
        stage_file(in_memory, OP, io.BytesIO(b"".join(bulk_lines([order(1)]))))
    in_memory.close()


def test_stopping_early_closes_the_lines_file(tmp_path: Path) -> None:
    staging = open_staging(tmp_path / "staging.db")
    stage_file(staging, OP, io.BytesIO(b"".join(bulk_lines([order(n) for n in range(1, 10)]))))
    lines = str(lines_path(tmp_path / "staging.db"))
    documents = iter_orders(staging, OP, batch=2)
    next(documents)
    assert lines in open_files()
    documents.close()
    assert lines not in open_files()
    staging.close()


def open_files() -> set[str]:
    """The files this process has open (Linux: /proc/self/fd)."""
    folder = Path("/proc/self/fd")
    found = set()
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            found.add(os.readlink(entry))
    return found


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
