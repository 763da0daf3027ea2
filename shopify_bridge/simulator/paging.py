"""Relay connections the way Shopify pages them: keyset cursors, exact windows, Shopify's errors.

A cursor is base64 of `{"last_id": <numeric id>, "last_value": <sort value>}` (the format of the
captured cursors; dates as epoch milliseconds). Items are ordered by (sort value, id), so a page
boundary is exact: the next page starts strictly after the last item of this one — nothing is
skipped or repeated while the underlying set does not change.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

MAX_PAGE_SIZE = 250
SortKey = tuple[Any, int]


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


def encode_cursor(last_id: int, last_value: Any) -> str:
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> SortKey:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return data["last_value"], int(data["last_id"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request(f"Invalid cursor for current pagination sort: {cursor!r}") from None


def check_window(first: int | None, last: int | None) -> None:
    if first is None and last is None:
        raise bad_request("you must provide one of first or last")
    if first is not None and last is not None:
        raise bad_request("providing both first and last is not supported")
    for name, size in (("first", first), ("last", last)):
        if size is not None and size > MAX_PAGE_SIZE:
            raise bad_request(
                f"{name} cannot exceed {MAX_PAGE_SIZE}. To query larger amounts of data with fewer limits, "
                "bulk operations should be used instead."
            )
        if size is not None and size < 0:
            raise bad_request(f"{name} must be a non-negative integer")


@dataclass
class Window:
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None
    reverse: bool = False


def connection(
    items: Sequence[Any],
    key: Callable[[Any], SortKey],
    window: Window,
    render: Callable[[Any], Any] = lambda item: item,
) -> dict[str, Any]:
    """A connection page over `items`, ordered by `key` (reversed with `window.reverse`)."""
    check_window(window.first, window.last)
    ordered = sorted(items, key=lambda item: comparable(key(item)), reverse=window.reverse)
    keys = [comparable(key(item)) for item in ordered]

    def is_after(item_key: tuple[Any, ...], bound: tuple[Any, ...]) -> bool:
        return item_key < bound if window.reverse else item_key > bound

    start, stop = 0, len(ordered)
    if window.after is not None:
        bound = comparable(decode_cursor(window.after))
        start = next((i for i, k in enumerate(keys) if is_after(k, bound)), len(ordered))
    if window.before is not None:
        bound = comparable(decode_cursor(window.before))
        stop = next((i for i, k in enumerate(keys) if not is_after(bound, k)), len(ordered))
        stop = max(stop, start)
    if window.first is not None:
        stop = min(stop, start + window.first)
    elif window.last is not None:
        start = max(start, stop - window.last)
    page = ordered[start:stop]
    cursors = [encode_cursor(key(item)[1], key(item)[0]) for item in page]
    nodes = [render(item) for item in page]
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": stop < len(ordered),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def comparable(key: SortKey) -> tuple[Any, ...]:
    value, ident = key
    # Mixed value types (None from a missing date) sort first instead of breaking the comparison.
    return (value is not None, value if value is not None else 0, ident)


def by_id(item: dict[str, Any]) -> SortKey:
    number = int(str(item["id"]).rsplit("/", 1)[-1])
    return number, number
