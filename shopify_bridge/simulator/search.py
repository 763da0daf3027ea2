"""Shopify's order search syntax (the `query:` argument of `orders` and `ordersCount`).

Terms are separated by spaces and ANDed (`AND` itself is accepted and skipped); a leading `-`
negates a term. Dates compare with `>`, `>=`, `<`, `<=` against ISO timestamps (quoted with ' or
" or bare, or `now`) — and, as on Shopify, `>` behaves like `>=` and `<` like `<=`. A field the
orders index does not know is *ignored*, not an error: the term filters nothing and is reported
in `extensions.search` with code `invalid_field`; a bad value for a known field likewise gets
`invalid_value`. Only a malformed timestamp is an error (BAD_REQUEST), as captured from Shopify.

The parser is shared: `parse_search` takes the root's field rules (`FieldRule`) and free-text rule, the
orders index's by default (`bulk_search` holds those of `bulkOperations`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from shopify_bridge.simulator.clock import parse_wire_time

Doc = dict[str, Any]
Predicate = Callable[[Doc], bool]
SearchWarning = dict[str, str]
# (field, operator, value, now) -> (predicate or None, warning or None); a warning with a predicate still
# filters (bulkOperations' unaccepted values), a warning without one drops the term (orders).
FieldRule = Callable[[str, str, str, datetime], tuple[Predicate | None, SearchWarning | None]]

# A value: a quoted string (single or double quotes; a backslash escapes the next character, the quote too)
# or a bare name, in which a backslash escapes a special character (`\ : ( )`); Shopify's search syntax page.
_QUOTED = r"'(?:[^'\\]|\\.)*'" + "|" + r'"(?:[^"\\]|\\.)*"'
_TOKEN = re.compile(rf"""(-?)(?:(\w+):(<=|>=|<|>)?({_QUOTED}|(?:\\.|\S)*)|({_QUOTED}|(?:\\.|\S)+))""")
_ESCAPED = re.compile(r"\\(.)")
DATE_FIELDS = {"updated_at": "updatedAt", "created_at": "createdAt", "processed_at": "processedAt"}
STATUSES = ("open", "closed", "cancelled", "not_closed")
_RANGE_NAMES = {">": "range_gt", ">=": "range_gte", "<": "range_lt", "<=": "range_lte"}


class SearchError(ValueError):
    """A query Shopify refuses outright (HTTP 200 with a BAD_REQUEST error)."""


@dataclass
class SearchPlan:
    predicate: Predicate
    parsed: dict[str, Any] | None
    warnings: list[dict[str, str]] = field(default_factory=list)


def parse_search(
    query: str | None,
    now: datetime,
    field_rule: FieldRule | None = None,
    free_text: Callable[[str], Predicate] | None = None,
) -> SearchPlan:
    """The plan for `query` under one root's rules (the orders index's unless given)."""
    field_rule = field_rule or _field_predicate
    free_text = free_text or _free_text
    terms: list[Predicate] = []
    parsed: list[dict[str, Any]] = []
    warnings: list[dict[str, str]] = []
    for match in _TOKEN.finditer(query or ""):
        negated, name, op, raw, bare = match.groups()
        if bare is not None:
            if bare.upper() in ("AND", ""):
                continue
            text = _unquote(bare)
            parsed.append({"field": "default", "match_all": text})
            terms.append(_negate(free_text(text), bool(negated)))
            continue
        value = _unquote(raw)
        entry: dict[str, Any] = {"field": name, _RANGE_NAMES.get(op or "", "match_all"): value}
        parsed.append(entry)
        predicate, warning = field_rule(name, op or "", value, now)
        if warning:
            warnings.append(warning)
        if predicate is not None:
            terms.append(_negate(predicate, bool(negated)))
    shape = None if not parsed else parsed[0] if len(parsed) == 1 else {"and": parsed}

    def matches(doc: Doc) -> bool:
        return all(term(doc) for term in terms)

    return SearchPlan(matches, shape, warnings)


def _unquote(value: str) -> str:
    """A value as written → its text: quotes removed, backslash escapes resolved."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return _ESCAPED.sub(r"\1", value)


def _negate(predicate: Predicate, negated: bool) -> Predicate:
    return (lambda doc: not predicate(doc)) if negated else predicate


def invalid_value(name: str, value: str) -> SearchWarning:
    return {"field": name, "message": f"Input `{value}` is not an accepted value.", "code": "invalid_value"}


def invalid_field(name: str) -> SearchWarning:
    return {"field": name, "message": "Invalid search field for this query.", "code": "invalid_field"}


def _field_predicate(name: str, op: str, value: str, now: datetime) -> tuple[Predicate | None, SearchWarning | None]:
    if name in DATE_FIELDS:
        return date_predicate(DATE_FIELDS[name], name, op, value, now), None
    if name == "test":
        if value.lower() not in ("true", "false"):
            return None, invalid_value(name, value)
        wanted = value.lower() == "true"
        return (lambda doc: bool(doc["test"]) == wanted), None
    if name in ("tag", "tag_not"):
        has = _has_tag(value)
        return (has if name == "tag" else lambda doc: not has(doc)), None
    if name in ("id", "customer_id"):
        if not value.isdigit():
            return None, invalid_value(name, value)
        return _number_predicate(name, op, int(value)), None
    if name in ("email", "source_name", "financial_status", "fulfillment_status"):
        key = {
            "email": "email",
            "source_name": "sourceName",
            "financial_status": "displayFinancialStatus",
            "fulfillment_status": "displayFulfillmentStatus",
        }[name]
        return (lambda doc: str(doc.get(key) or "").lower() == value.lower()), None
    if name == "name":
        wanted_name = value if value.startswith("#") else f"#{value}"
        return (lambda doc: doc["name"] == wanted_name), None
    if name == "status":
        if value.lower() not in STATUSES:
            return None, invalid_value(name, value)
        return _status_predicate(value.lower()), None
    return None, invalid_field(name)


def date_predicate(key: str, name: str, op: str, value: str, now: datetime) -> Predicate:
    """`doc[key]` (a wire timestamp) against `value`; SearchError when `value` is not a timestamp."""
    moment, whole_day = _parse_moment(value, now, name)
    if op in (">", ">="):
        return lambda doc: parse_wire_time(doc[key]) >= moment
    if op in ("<", "<="):
        return lambda doc: parse_wire_time(doc[key]) <= moment
    if whole_day:
        return lambda doc: parse_wire_time(doc[key]).date() == moment.date()
    return lambda doc: parse_wire_time(doc[key]) == moment


def _parse_moment(value: str, now: datetime, name: str) -> tuple[datetime, bool]:
    if value.lower() == "now":
        return now.replace(microsecond=0), False
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC), True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SearchError(f"Invalid timestamp for query filter `{name}`.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), False


def _has_tag(tag: str) -> Predicate:
    wanted = tag.lower()
    return lambda doc: any(t.lower() == wanted for t in doc["tags"])


def _number_predicate(name: str, op: str, wanted: int) -> Predicate:
    def value_of(doc: Doc) -> int | None:
        if name == "id":
            return int(doc["legacyResourceId"])
        customer = doc.get("customer")
        return int(customer["legacyResourceId"]) if customer else None

    compare = number_comparison(op, wanted)

    def matches(doc: Doc) -> bool:
        actual = value_of(doc)
        return actual is not None and compare(actual)

    return matches


def number_comparison(op: str, wanted: int) -> Callable[[int], bool]:
    """`id:>=1234` and friends: a numeric comparison."""
    compare: dict[str, Callable[[int], bool]] = {
        ">": lambda v: v > wanted,
        ">=": lambda v: v >= wanted,
        "<": lambda v: v < wanted,
        "<=": lambda v: v <= wanted,
        "": lambda v: v == wanted,
    }
    return compare[op]


def _status_predicate(status: str) -> Predicate:
    if status == "cancelled":
        return lambda doc: doc["cancelledAt"] is not None
    if status == "closed":
        return lambda doc: doc["closedAt"] is not None
    if status == "not_closed":
        return lambda doc: doc["closedAt"] is None
    return lambda doc: doc["closedAt"] is None and doc["cancelledAt"] is None


def _free_text(text: str) -> Predicate:
    wanted = text.lower()

    def matches(doc: Doc) -> bool:
        customer = doc.get("customer") or {}
        haystack = [doc["name"], doc.get("email"), customer.get("firstName"), customer.get("lastName")]
        return any(wanted in str(item).lower() for item in haystack if item)

    return matches


def search_extension(path: list[str | int], query: str, plan: SearchPlan) -> dict[str, Any]:
    """One `extensions.search` entry, as Shopify reports ignored or invalid terms."""
    return {"path": path, "query": query, "parsed": plan.parsed, "warnings": plan.warnings}
