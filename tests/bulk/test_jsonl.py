"""The streaming JSONL reader: record types, escaped slashes, malformed and truncated input, chunking."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shopify_bridge.shopify.bulk.jsonl import (
    ChildLine,
    JsonlReader,
    Malformed,
    OrderLine,
    Record,
    Truncated,
    read_records,
    typename_of,
)
from tests.bulk.builders import bulk_lines, encode, order
from tests.conftest import RECORDED

ORDER_1 = b'{"id":"gid:\\/\\/shopify\\/Order\\/1","name":"#1001"}\n'
ITEM_1 = (b'{"id":"gid:\\/\\/shopify\\/LineItem\\/11","title":"Board",'
          b'"__parentId":"gid:\\/\\/shopify\\/Order\\/1"}\n')


def records(data: bytes, chunk_size: int = 1 << 20) -> list[Record]:
    return list(read_records(io.BytesIO(data), chunk_size=chunk_size))


def test_recorded_shopify_output_decodes_escaped_slashes_and_links_children() -> None:
    path = RECORDED / "2026-04__bulk-root-count-run.raw.jsonl"
    if not path.exists():
        pytest.skip(f"reference recording {path} is absent (../shared is not checked out beside the repo)")
    assert b"gid:\\/\\/shopify" in path.read_bytes()  # the raw file really escapes slashes
    root, *children = list(read_records(path))
    assert isinstance(root, OrderLine) and root.id == "gid://shopify/Product/10243914727730"
    assert [type(child) for child in children] == [ChildLine] * 3
    assert {c.parent_id for c in children if isinstance(c, ChildLine)} == {root.id}
    typenames = [c.typename for c in children if isinstance(c, ChildLine)]
    assert typenames == ["ProductVariant", "MediaImage", "Metafield"]
    assert all("__parentId" not in c.data for c in children if isinstance(c, ChildLine))


def test_order_and_child_lines_are_typed_with_line_numbers_and_raw_bytes() -> None:
    out = records(ORDER_1 + ITEM_1)
    assert out == [
        OrderLine("gid://shopify/Order/1", {"id": "gid://shopify/Order/1", "name": "#1001"}, 1, ORDER_1[:-1]),
        ChildLine("gid://shopify/LineItem/11", "gid://shopify/Order/1", "LineItem",
                  {"id": "gid://shopify/LineItem/11", "title": "Board"}, 2, ITEM_1[:-1]),
    ]


def test_chunk_boundaries_anywhere_give_the_same_records() -> None:
    data = b"".join(bulk_lines([order(1, items=3), order(2, items=1, refunds=1)]))
    expected = records(data)
    assert len(expected) == 6
    for chunk_size in (1, 7, 64, len(data) - 1, len(data)):
        assert records(data, chunk_size) == expected


def test_malformed_lines_in_the_middle_are_reported_with_reason_and_reading_goes_on() -> None:
    data = (ORDER_1 + b'{"id": "gid://shopify/Order/2", oops\n' + b"[1, 2]\n" + b'{"name": "no id"}\n'
            + b'{"id":"gid://shopify/LineItem/3","__parentId":7}\n' + ITEM_1)
    out = records(data)
    assert [type(r) for r in out] == [OrderLine, Malformed, Malformed, Malformed, Malformed, ChildLine]
    reasons = [r.reason for r in out if isinstance(r, Malformed)]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1:] == ["not a JSON object but list", "no string `id`", "`__parentId` is not a string id"]
    bad = out[1]
    assert isinstance(bad, Malformed) and bad.line_no == 2 and bad.raw_head.startswith('{"id": "gid://shopify/Order/2"')


def test_file_cut_mid_line_is_truncated_not_malformed() -> None:
    cut = ORDER_1 + ITEM_1[:30]
    out = records(cut)
    assert isinstance(out[0], OrderLine)
    assert len(out) == 2 and isinstance(out[1], Truncated)
    assert out[1].line_no == 2 and "no final newline" in out[1].reason
    assert out[1].raw_head == ITEM_1[:30].decode()


def test_last_line_that_parses_without_newline_is_kept_and_still_flagged() -> None:
    out = records(ORDER_1 + ITEM_1[:-1])
    assert [type(r) for r in out] == [OrderLine, ChildLine, Truncated]
    assert out[2].line_no == 2


def test_unparseable_last_line_with_newline_is_truncated_but_earlier_ones_are_malformed() -> None:
    out = records(ORDER_1 + b'{"id": broken\n' + ITEM_1 + b'{"id":"gid:\\/\\/sho\n')
    assert [type(r) for r in out] == [OrderLine, Malformed, ChildLine, Truncated]
    out = records(ORDER_1 + b"{bad\n" + b"{worse\n" + b"\n")
    assert [(type(r), r.line_no) for r in out[1:]] == [(Malformed, 2), (Truncated, 3)]


def test_empty_and_blank_files_yield_nothing_and_blank_lines_still_count() -> None:
    assert records(b"") == []
    assert records(b"\n\n  \n") == []
    out = records(b"\n" + ORDER_1[:-1] + b"\r\n\n" + ITEM_1)  # a CRLF line parses too
    assert [r.line_no for r in out] == [2, 4]


def test_counters_and_progress_follow_the_chunks(tmp_path: Path) -> None:
    data = b"".join(bulk_lines([order(n, items=2) for n in range(5)]))
    path = tmp_path / "result.jsonl"
    path.write_bytes(data)
    seen: list[tuple[int, int]] = []
    reader = JsonlReader(path, chunk_size=256, progress=lambda b, n: seen.append((b, n)))
    assert len(list(reader)) == 15
    assert (reader.bytes_read, reader.lines_read) == (len(data), 15)
    assert seen[-1] == (len(data), 15)
    assert [b for b, _ in seen] == sorted(b for b, _ in seen) and len(seen) == -(-len(data) // 256)


def test_non_ascii_and_escaped_text_survive() -> None:
    line = encode({"id": "gid://shopify/Order/9", "note": "Crème brûlée \\/ 50/50 ✓"})
    (out,) = records(line)
    assert isinstance(out, OrderLine) and out.data["note"] == "Crème brûlée \\/ 50/50 ✓"


def test_typename_of() -> None:
    assert typename_of("gid://shopify/LineItem/1") == "LineItem"
    assert typename_of("gid://shopify/LineItem/1/extra") == "LineItem"
    assert typename_of("LineItem/1") == ""
    assert typename_of("12345") == ""


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        JsonlReader(io.BytesIO(b""), chunk_size=0)


def test_over_long_line_is_reported_and_skipped_without_buffering_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shopify_bridge.shopify.bulk.jsonl.MAX_LINE_BYTES", 150)  # > ITEM_1
    long_line = b'{"id":"gid://shopify/Order/2","note":"' + b"x" * 500 + b'"}\n'
    out = records(ORDER_1 + long_line + ITEM_1, chunk_size=16)
    assert [type(r) for r in out] == [OrderLine, Malformed, ChildLine]
    assert isinstance(out[1], Malformed) and out[1].line_no == 2 and "longer than 150 bytes" in out[1].reason
    assert out[2].line_no == 3
    out = records(ORDER_1 + long_line[:-1], chunk_size=16)
    assert [type(r) for r in out] == [OrderLine, Malformed, Truncated]
