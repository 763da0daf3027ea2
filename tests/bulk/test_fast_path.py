"""Staging's fast path: ids read by one validating msgspec pass, sorted batches, multi-row appends."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import orjson
import pytest

from shopify_bridge.decide.orderdoc import normalize_order
from shopify_bridge.shopify.bulk.assemble import StageStats, stage_file
from shopify_bridge.shopify.bulk.documents import iter_orders
from shopify_bridge.shopify.bulk.jsonl import ChildLine, JsonlReader, Malformed, OrderLine, Truncated, ids_or_record
from shopify_bridge.shopify.bulk.staging import (
    APPEND_ROWS_PER_STATEMENT,
    ChildRow,
    OrderRow,
    QuarantineRow,
    append_rows,
    lines_path,
    open_staging,
    packed_rows,
    quarantined,
    staging_file,
)
from tests.bulk.builders import bulk_lines, encode, order, polled_node

OP = "gid://shopify/BulkOperation/1"
ORDER = b'{"id":"gid:\\/\\/shopify\\/Order\\/1","name":"#1001"}'
ITEM = b'{"id":"gid:\\/\\/shopify\\/LineItem\\/11","title":"Board","__parentId":"gid:\\/\\/shopify\\/Order\\/1"}'


def stage(conn: sqlite3.Connection, lines: list[bytes], batch: int = 5_000) -> StageStats:
    return stage_file(conn, OP, io.BytesIO(b"".join(lines)), batch=batch)


def test_ids_of_valid_lines_are_read_without_a_dict() -> None:
    assert ids_or_record(ORDER, 3) == ("gid://shopify/Order/1", None, 3, ORDER)
    assert ids_or_record(ITEM, 4) == ("gid://shopify/LineItem/11", "gid://shopify/Order/1", 4, ITEM)


@pytest.mark.parametrize("line", [
    b'{"id": "gid:\\/\\/shopify\\/Order\\/1", "__parentId": "gid://shopify/Order/2"}',  # not compact
    b'{"__parentId":"gid://shopify/Order/2","name":"#1","id":"gid:\\/\\/shopify\\/Order\\/1"}',  # any order
    b'{"id":"gid://shopify/Order/1","__parentId":"gid://shopify/Order/2","x":1} ',  # trailing blank
])
def test_the_layout_of_a_line_does_not_matter(line: bytes) -> None:
    assert ids_or_record(line, 1) == ("gid://shopify/Order/1", "gid://shopify/Order/2", 1, line)


@pytest.mark.parametrize(("line", "parent"), [
    (b'{"id":"gid://shopify/Order/1","x":{"__parentId":"gid://shopify/Order/2"}}', None),  # nested
    (b'{"id":"gid://shopify/Order/1","note":",\\"__parentId\\":\\"x\\""}', None),  # inside a string
    (b'{"id":"gid://shopify/LineItem/1","__parentId":null}', None),
])
def test_only_a_top_level_parent_id_makes_a_child(line: bytes, parent: str | None) -> None:
    item = ids_or_record(line, 1)
    assert isinstance(item, tuple) and item[1] == parent


@pytest.mark.parametrize(("line", "expected"), [
    (b'{"name":"#1"}', "no string `id`"),
    (b'{"id":7}', "no string `id`"),
    (b'{"id":""}', "no string `id`"),
    (b'["gid://shopify/Order/1"]', "not a JSON object but list"),
])
def test_lines_without_a_string_id_get_the_reason_of_the_full_parse(line: bytes, expected: str) -> None:
    record = ids_or_record(line, 1)
    assert isinstance(record, Malformed) and record.reason == expected


@pytest.mark.parametrize("line", [
    b'{"id":"gid://shopify/Order/1","name":}',
    b'{"id":"gid://shopify/Order/1","name":"\xff"}',  # msgspec skips strings without checking UTF-8
    b'{"id":"gid://shopify/Order/1","name":"\xed\xa0\x80"}',  # an encoded surrogate is not UTF-8
])
def test_invalid_json_is_rejected_as_by_the_full_parse(line: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        ids_or_record(line, 1)


def test_scan_still_rejects_invalid_json_as_malformed_or_truncated() -> None:
    broken = b'{"id":"gid:\\/\\/shopify\\/Order\\/2","name":}'
    data = b"\n".join([ORDER, broken, ITEM, broken]) + b"\n"
    scanned = list(JsonlReader(io.BytesIO(data)).scan())
    assert [type(item) for item in scanned] == [tuple, Malformed, tuple, Truncated]
    assert [r.line_no for r in scanned if isinstance(r, Malformed | Truncated)] == [2, 4]
    assert [type(r) for r in JsonlReader(io.BytesIO(data))] == [OrderLine, Malformed, ChildLine, Truncated]


def test_lines_of_unexpected_types_get_the_reasons_of_the_full_parse(conn: sqlite3.Connection) -> None:
    lines = [encode({"id": "gid://shopify/Metafield/6", "__parentId": "gid://shopify/Order/1"}),
             encode({"id": "gid://shopify/LineItem/7", "__parentId": "gid://shopify/Product/5"}),
             encode({"id": "gid://shopify/LineItem/8"}),
             b'{"id":"gid:\\/\\/shopify\\/LineItem\\/9","__parentId":"gid:\\/\\/shopify\\/Order\\/1",}\n',
             b'{"id":"gid:\\/\\/shopify\\/Order\\/3"}\n']
    stats = stage(conn, lines)
    reasons = [reason for _, reason, _ in quarantined(conn, OP)]
    assert reasons[0].startswith("unexpected child 'gid://shopify/Metafield/6'")
    assert reasons[1:3] == ["parent 'gid://shopify/Product/5' is not an Order",
                            "root line 'gid://shopify/LineItem/8' is not an Order"]
    assert reasons[3].startswith("invalid JSON")
    assert (stats.malformed, stats.orders, stats.children) == (4, 1, 0)


def test_children_lose_parent_id_and_keep_creation_order_whatever_their_layout(conn: sqlite3.Connection) -> None:
    each = order(4, items=4, refunds=1)
    lines = bulk_lines([each])
    # The second child is written unusually (its parent first, blanks): the layout does not matter.
    parent = b'"__parentId":"gid:\\/\\/shopify\\/Order\\/5800000000004"'
    assert lines[2].count(parent) == 1
    lines[2] = b'{ ' + parent + b', ' + lines[2].replace(b"," + parent, b"")[1:]
    stats = stage(conn, lines[::-1], batch=2)
    assert list(iter_orders(conn, OP)) == [normalize_order(polled_node(each))]
    assert (stats.orders, stats.children, stats.order_lines, stats.child_lines) == (1, 4, 1, 4)


def test_sorted_batches_keep_the_last_line_of_an_id_within_one_batch(conn: sqlite3.Connection) -> None:
    first, edited = order(2, items=1), order(2, items=1)
    edited["name"] = "#1002-edited"
    edited["lineItems"][0]["currentQuantity"] = 0
    other = order(1, items=1)
    lines = [*bulk_lines([first]), *bulk_lines([other]), *bulk_lines([edited])]
    stats = stage(conn, lines, batch=100)
    docs = list(iter_orders(conn, OP))
    assert docs == [normalize_order(polled_node(o)) for o in (other, edited)]
    assert stats.duplicates == 2


def append(connection: sqlite3.Connection, orders: list[OrderRow], children: list[ChildRow],
           quarantine: list[QuarantineRow]) -> None:
    append_rows(connection, 1, packed_rows(orders), packed_rows(children), quarantine)


def test_batches_append_their_lines_in_turn_and_rows_that_point_at_them(tmp_path: Path) -> None:
    connection = open_staging(tmp_path / "staging.db")
    append(connection, [(5, 1, b'{"id":"x"}')], [(5, 0, 6, 2, b"{}")], [(3, "why", "head")])
    append(connection, [(7, 4, b'{"id":"y"}')], [], [])
    # The rows say where their lines are in the lines file, which holds each batch's lines in turn.
    assert connection.execute("SELECT order_id, line_no, at, size FROM bulk_staged_order").fetchall() == [
        (5, 1, 0, 10), (7, 4, 12, 10)]
    assert connection.execute("SELECT parent_id, child_type, child_id, line_no, at, size "
                              "FROM bulk_staged_child").fetchall() == [(5, 0, 6, 2, 10, 2)]
    assert connection.execute("SELECT op_key, line_no, reason, raw_head FROM bulk_quarantine").fetchall() == [
        (1, 3, "why", "head")]
    assert lines_path(staging_file(connection)).read_bytes() == b'{"id":"x"}{}{"id":"y"}'
    connection.close()


def test_a_batch_of_several_statements_is_appended_whole_and_in_order(tmp_path: Path) -> None:
    connection = open_staging(tmp_path / "staging.db")
    count = 2 * APPEND_ROWS_PER_STATEMENT + 37  # two full statements and a shorter one per table
    lines = [b'{"id":%d}' % n for n in range(count)]
    append(connection, [(n, n + 1, line) for n, line in enumerate(lines)],
           [(n, 0, n + 1000, count + n + 1, line) for n, line in enumerate(lines[5:], 5)], [])
    blob = lines_path(staging_file(connection)).read_bytes()
    orders = connection.execute("SELECT op_key, order_id, line_no, at, size FROM bulk_staged_order ORDER BY rowid")
    assert [(key, order_id, line_no) for key, order_id, line_no, _, _ in orders.fetchall()] == [
        (1, n, n + 1) for n in range(count)]
    children = connection.execute("SELECT op_key, parent_id, child_type, child_id, line_no FROM bulk_staged_child "
                                  "ORDER BY rowid").fetchall()
    assert children == [(1, n, 0, n + 1000, count + n + 1) for n in range(5, count)]
    # Each row points at its own line: the orders' lines first, then the children's.
    for table, first in (("bulk_staged_order", 0), ("bulk_staged_child", 5)):
        spans = connection.execute(f"SELECT at, size FROM {table} ORDER BY rowid").fetchall()
        assert [blob[at : at + size] for at, size in spans] == lines[first:]
    connection.close()


def test_a_batch_that_fails_keeps_none_of_its_rows(tmp_path: Path) -> None:
    connection = open_staging(tmp_path / "staging.db")
    connection.execute("DROP TABLE bulk_staged_child")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        append(connection, [(5, 1, b"{}")], [(5, 0, 6, 2, b"{}")], [])
    assert connection.execute("SELECT count(*) FROM bulk_staged_order").fetchone() == (0,)
    connection.close()


def test_a_line_nested_deeper_than_msgspec_goes_is_judged_by_the_full_parse(conn: sqlite3.Connection) -> None:
    deep = b'{"id":"gid://shopify/Order/3","x":' + b"[" * 1020 + b"]" * 1020 + b"}\n"
    deeper = b'{"id":"gid://shopify/Order/2","x":' + b"[" * 2000 + b"]" * 2000 + b"}\n"
    stats = stage(conn, [deep, deeper, ORDER + b"\n"])
    assert stats.orders == 1 + 1 and stats.malformed == 1  # orjson takes 1020 levels, not 2000
    assert [reason.split(":")[0] for _, reason, _ in quarantined(conn, OP)] == ["invalid JSON"]
