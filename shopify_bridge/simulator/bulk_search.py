"""`bulkOperations(query:, sortKey:, reverse:)`: which of the app's bulk operations a search keeps, in which order.

From the notes (§1.3, [SDL-2026-07]) and the recorded `bulk-operations-read-arg-validation` capture:

- filters `created_at` (time; compared as in the orders search: `>` like `>=`, `<` like `<=`, whole days,
  `now`), `id`, `operation_type` (`query` / `mutation`) and `status` (`canceled`, `canceling`, `completed`,
  `created`, `failed`, `running`), values case-insensitive as Shopify's search values are; terms ANDed;
- `created_at:not-a-date` → BAD_REQUEST "Invalid timestamp for query filter `created_at`." (`data: null`);
- `status:EXPIRED`, `status:NOT_A_STATUS`, `operation_type:EXPORT` → an `invalid_value` warning in
  `extensions.search` and `nodes: []` (recorded; `EXPIRED` is a status but not a filter value);
- an unknown field (`made_up:value`) is not an error: the term filters nothing, `invalid_field` warning;
- sort keys `COMPLETED_AT` / `CREATED_AT` (default `CREATED_AT`), `reverse` flips the order.

Inferred (not in the notes or the recordings):

- the list runs newest first unless `reverse: true` (Shopify's reference for `bulkOperations`: "Defaults to
  sorting by created_at, with newest operations first"; the upstream `root-count-and-search-filters` capture's
  `first: 1` answers are the newest operation) — taken to hold for `COMPLETED_AT` too, with operations that
  have no `completedAt` after the completed ones (before them with `reverse: true`);
- an unaccepted value matches nothing (the recording shows `nodes: []` but not whether the shop had any
  operations then); a non-numeric `id:` value is such an unaccepted value;
- a bare word (no `field:`) matches no operation; `id:` compares the numeric part of the GID and takes
  `>`, `>=`, `<`, `<=` (the reference's examples show `id:1234`, `id:>=1234`, `id:<=1234`);
- cursors carry the sort value as the orders' cursors do (epoch milliseconds, `null` for no `completedAt`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from shopify_bridge.simulator.clock import epoch_ms
from shopify_bridge.simulator.orders import Doc, gid_number
from shopify_bridge.simulator.paging import SortKey, Window, comparable
from shopify_bridge.simulator.search import (
    Predicate,
    SearchPlan,
    SearchWarning,
    date_predicate,
    invalid_field,
    invalid_value,
    number_comparison,
    parse_search,
)

STATUS_VALUES = ("canceled", "canceling", "completed", "created", "failed", "running")
OPERATION_TYPES = ("query", "mutation")
SORT_FIELDS = {"CREATED_AT": "createdAt", "COMPLETED_AT": "completedAt"}
DEFAULT_SORT = "CREATED_AT"


def _nothing(_: Doc) -> bool:
    return False


def _field_rule(name: str, op: str, value: str, now: datetime) -> tuple[Predicate | None, SearchWarning | None]:
    if name == "created_at":
        return date_predicate("createdAt", name, op, value, now), None  # raises SearchError when not a time
    if name == "id":
        if not value.isdigit():
            return _nothing, invalid_value(name, value)  # (inferred) matches nothing
        compare = number_comparison(op, int(value))
        return (lambda doc: compare(gid_number(doc["id"]))), None
    if name in ("status", "operation_type"):
        key, accepted = ("status", STATUS_VALUES) if name == "status" else ("type", OPERATION_TYPES)
        if value.lower() not in accepted:
            return _nothing, invalid_value(name, value)  # (inferred) matches nothing; recorded: nodes []
        wanted = value.upper()
        return (lambda doc: doc[key] == wanted), None
    return None, invalid_field(name)  # ignored, reported


def _free_text(_: str) -> Predicate:
    return _nothing  # (inferred) a bare word matches no operation


def parse_bulk_search(query: str | None, now: datetime) -> SearchPlan:
    """The plan for a `bulkOperations(query:)` string; SearchError for a malformed `created_at`."""
    return parse_search(query, now, _field_rule, _free_text)


def sort_key(name: str | None) -> Callable[[Doc], SortKey]:
    """(sort value, id number) of an operation under `sortKey` (`CREATED_AT` when not given)."""
    field = SORT_FIELDS[name or DEFAULT_SORT]

    def key(operation: Doc) -> SortKey:
        stamp = operation.get(field)
        return (epoch_ms(stamp) if stamp else None), gid_number(operation["id"])

    return key


def newest_first(window: Window) -> Window:
    """The page window over the ascending list: `reverse: false` reads it backwards (inferred, see above)."""
    return Window(window.first, window.last, window.after, window.before, not window.reverse)


def matching(operations: Iterable[Doc], plan: SearchPlan) -> list[Doc]:
    return [operation for operation in operations if plan.predicate(operation)]


def ordered(operations: Iterable[Doc], arguments: dict[str, Any]) -> list[Doc]:
    """`operations` in the order `bulkOperations(sortKey:, reverse:)` lists them (no paging)."""
    key = sort_key(arguments.get("sortKey"))
    return sorted(operations, key=lambda op: comparable(key(op)), reverse=not arguments.get("reverse"))
