"""Streaming reader of a bulk operation's JSONL result: one typed record per line, in flat memory.

Shopify writes one JSON object per connection node. A line without `"__parentId"` is a root node (an Order
in the bridge's bulk query); a line with it is a child (a LineItem) whose parent is that gid. Since API
2026-01 (`groupObjects: false`) children need not follow, or even be near, their parent, so this reader does
not pair anything: it only classifies lines; `assemble` stages them and `documents` links them.

The file is read in chunks and split on `\\n`; only the current chunk and one partial line live in memory.
Raw bytes escape slashes (`gid:\\/\\/shopify\\/Order\\/1`); ids in the records are JSON-decoded, so they
compare equal to the ids of any other API response.

A file that ends without `\\n`, or whose last line does not parse, was cut short (an interrupted download,
a FAILED operation's partial data): that is reported as `Truncated`, distinct from a `Malformed` line in
the middle of an otherwise complete file. A last line that parses but lacks its `\\n` is still yielded
(its data is whole) and followed by `Truncated`, because the file as a whole cannot be trusted complete.

`JsonlReader.scan` is the same walk for staging, which needs ids rather than dicts: valid lines come out as
`IdsLine` tuples (read by msgspec without building a dict), with the same Malformed/Truncated rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import msgspec
import orjson
from msgspec import Struct

CHUNK_SIZE = 1 << 20
MAX_LINE_BYTES = 16 << 20
RAW_HEAD_BYTES = 200

Progress = Callable[[int, int], None]
"""Called after every chunk with (bytes read so far, lines read so far)."""

class Readable(Protocol):
    """A binary stream as the reader uses it: `read(n)` gives the next bytes (any length), b"" at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


Source = str | os.PathLike[str] | Readable


class OrderLine(Struct):
    """A root line: in the bridge's bulk query, an Order. `raw` is the line exactly as Shopify wrote it."""

    id: str
    data: dict[str, Any]
    line_no: int = 0
    raw: bytes = b""


class ChildLine(Struct):
    """A connection node of a root (a LineItem). `data` no longer holds `__parentId`; `raw` still does."""

    id: str
    parent_id: str
    typename: str
    data: dict[str, Any]
    line_no: int = 0
    raw: bytes = b""


class Malformed(Struct):
    """A line in the middle of the file that is not a usable record, and why."""

    line_no: int
    reason: str
    raw_head: str


class Truncated(Struct):
    """The file ends mid-record (or without its final newline): its content is not known to be complete."""

    line_no: int
    reason: str
    raw_head: str


Record = OrderLine | ChildLine | Malformed | Truncated


def raw_head(raw: bytes) -> str:
    """The start of a line, printable, for quarantine rows and error messages."""
    return raw[:RAW_HEAD_BYTES].decode("utf-8", "replace")


def typename_of(gid: str) -> str:
    """`gid://shopify/LineItem/1` → `LineItem`; `""` when the id is not a Shopify global id."""
    parts = gid.split("/", 4)
    return parts[3] if len(parts) == 5 and parts[0] == "gid:" and parts[1] == "" else ""


def _record(data: Any, raw: bytes, line_no: int) -> Record:
    if type(data) is not dict:
        return Malformed(line_no, f"not a JSON object but {type(data).__name__}", raw_head(raw))
    gid = data.get("id")
    if type(gid) is not str or not gid:
        return Malformed(line_no, "no string `id`", raw_head(raw))
    parent = data.pop("__parentId", None)
    if parent is None:
        return OrderLine(gid, data, line_no, raw)
    if type(parent) is not str or not parent:
        return Malformed(line_no, "`__parentId` is not a string id", raw_head(raw))
    return ChildLine(gid, parent, typename_of(gid), data, line_no, raw)


def parse_line(raw: bytes, line_no: int) -> Record:
    """The record of one line; raises `orjson.JSONDecodeError` when the line is not JSON at all."""
    return _record(orjson.loads(raw), raw, line_no)


IdsLine = tuple[str, str | None, int, bytes]
"""(id, parent id or None, line_no, raw) of a valid line whose ids `scan` read without building its dict:
`("gid://shopify/LineItem/11", "gid://shopify/Order/1", 2, raw)`. Ids are decoded (slashes unescaped)."""


class _Ids(msgspec.Struct):
    """The two members staging needs; msgspec skips the others while still checking they are JSON."""

    id: str
    parent_id: str | None = msgspec.field(default=None, name="__parentId")


_decode_ids = msgspec.json.Decoder(_Ids).decode


def ids_or_record(raw: bytes, line_no: int) -> IdsLine | Record:
    """The `IdsLine` of a valid JSON object with a non-empty string `id`; for anything else the record of the
    full parse (`parse_line`, which raises `orjson.JSONDecodeError` when the line is not JSON at all).

    One msgspec pass validates the whole line and reads both ids wherever they are in the object, about
    three times faster than building the dict. msgspec does not check UTF-8 inside the strings it skips,
    so a line with non-ASCII bytes must also decode; the rare line one parser accepts and the other does not
    (a number beyond a double's range) is caught when `documents` parses the order document.
    """
    try:
        ids = _decode_ids(raw)
    except (msgspec.DecodeError, RecursionError):  # also a missing or non-string `id`, not an object, or
        return parse_line(raw, line_no)  # nested deeper than msgspec goes: the full parse says why
    if not ids.id or not (raw.isascii() or _is_utf8(raw)):
        return parse_line(raw, line_no)
    return ids.id, ids.parent_id, line_no, raw


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


class JsonlReader:
    """Iterate the records of one JSONL file; `bytes_read` and `lines_read` count progress as it goes."""

    def __init__(
        self, source: Source, *, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.source = source
        self.chunk_size = chunk_size
        self.progress = progress
        self.bytes_read = 0
        self.lines_read = 0

    def __iter__(self) -> Iterator[Record]:
        return self._open(parse_line)

    def scan(self) -> Iterator[IdsLine | Record]:
        """Like iterating, but a valid line with a string `id` comes out as an `IdsLine` tuple (`ids_or_record`).

        The fast path of staging: such a line is still checked to be valid JSON (a line that is not is
        `Malformed` or `Truncated`, exactly as when iterating), but no record object or dict is built for it.
        """
        return self._open(ids_or_record)

    def _open(self, classify: Callable[[bytes, int], Any]) -> Iterator[Any]:
        if isinstance(self.source, str | os.PathLike):
            with open(self.source, "rb") as stream:
                yield from self._read(stream, classify)
        else:
            yield from self._read(self.source, classify)

    def _read(self, stream: Readable, classify: Callable[[bytes, int], Any]) -> Iterator[Any]:
        decode_error = orjson.JSONDecodeError
        tail = b""
        line_no = 0
        # A line that did not parse is held back one line: if nothing follows it, the file was cut there.
        unparsed: Malformed | None = None
        skipping = False  # inside an over-long line, already reported: drop bytes up to its newline
        while chunk := stream.read(self.chunk_size):
            self.bytes_read += len(chunk)
            if skipping:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                chunk, skipping, line_no = chunk[end + 1:], False, line_no + 1
            lines = chunk.split(b"\n")
            if tail:  # the line cut at the end of the last chunk: only it is joined, not the whole chunk
                lines[0] = tail + lines[0]
            tail = lines.pop()
            for raw in lines:
                line_no += 1
                if not raw or raw.isspace():
                    continue
                try:
                    item = classify(raw, line_no)
                except decode_error as exc:
                    if unparsed is not None:
                        yield unparsed
                    unparsed = Malformed(line_no, f"invalid JSON: {exc}", raw_head(raw))
                    continue
                if unparsed is not None:
                    yield unparsed
                    unparsed = None
                yield item
            if len(tail) > MAX_LINE_BYTES:
                # Not a Shopify record (they are a few KiB): keep memory flat rather than buffer it whole.
                if unparsed is not None:
                    yield unparsed
                    unparsed = None
                yield Malformed(line_no + 1, f"line longer than {MAX_LINE_BYTES} bytes", raw_head(tail))
                tail, skipping = b"", True
            self.lines_read = line_no
            if self.progress is not None:
                self.progress(self.bytes_read, self.lines_read)
        if skipping:
            yield Truncated(line_no + 1, "file ends inside an over-long line", "")
            self.lines_read = line_no + 1
            return
        yield from self._end(tail, line_no, unparsed, classify)

    def _end(
        self, tail: bytes, line_no: int, unparsed: Malformed | None, classify: Callable[[bytes, int], Any]
    ) -> Iterator[Any]:
        if not tail or tail.isspace():
            if unparsed is not None:
                reason = f"last line does not parse: {unparsed.reason}"
                yield Truncated(unparsed.line_no, reason, unparsed.raw_head)
            return
        if unparsed is not None:
            yield unparsed
        line_no += 1
        self.lines_read = line_no
        try:
            item = classify(tail, line_no)
        except orjson.JSONDecodeError as exc:
            yield Truncated(line_no, f"file ends mid-line (no final newline): {exc}", raw_head(tail))
            return
        yield item
        yield Truncated(line_no, "file ends without its final newline; the last line parsed", raw_head(tail))


def read_records(
    source: Source, *, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None
) -> Iterator[Record]:
    """Shorthand for iterating a `JsonlReader` when the counters are not needed."""
    return iter(JsonlReader(source, chunk_size=chunk_size, progress=progress))
