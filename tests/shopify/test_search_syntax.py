"""Search terms the bridge builds: every value escaped, read back by a Shopify-syntax parser as sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopify_bridge.shopify import search
from shopify_bridge.simulator.search import parse_search

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOSTILE = [
    "o'brien@example.com",
    "a\\'b@example.com",
    'quote"mark@example.com',
    "back\\slash@example.com",
    "space d@example.com",
    "x' OR email:'y@example.com",
    "(paren):colon@example.com",
    "trailing\\",
    "-dash@example.com",
]


def matches(query: str, **doc: object) -> bool:
    base = {"email": None, "tags": [], "test": False, "name": "#1", "customer": None}
    return parse_search(query, NOW).predicate({**base, **doc})


@pytest.mark.parametrize("email", HOSTILE)
def test_a_hostile_email_matches_exactly_its_own_orders(email: str) -> None:
    wanted = search.term("email", email, quote=True)
    assert matches(wanted, email=email)
    assert not matches(wanted, email="y@example.com")
    assert not matches(wanted, email=email + "x")
    # ANDed with the other terms of a lookup, it still filters only on itself.
    lookup = search.all_of(wanted, search.term("test", "false"))
    assert matches(lookup, email=email) and not matches(lookup, email=email, test=True)


@pytest.mark.parametrize("tag", ["it's", "VIP (gold)", "a:b", "back\\slash", 'say "hi"', "AND", "-neg", "plain"])
def test_a_hostile_tag_matches_exactly_its_own_orders(tag: str) -> None:
    wanted = search.term("tag", tag)
    assert matches(wanted, tags=[tag])
    assert not matches(wanted, tags=["other"])


def test_values_are_bare_only_when_they_are_plain_names() -> None:
    assert search.term("customer_id", "77") == "customer_id:77"
    assert search.term("tag", "vip") == "tag:vip"
    assert search.term("tag", "it's") == "tag:'it\\'s'"
    assert search.term("tag", "a\\b") == "tag:'a\\\\b'"
    assert search.term("tag", "OR") == "tag:'OR'"                       # a connective is never bare
    assert search.term("tag", "-x") == "tag:'-x'"                       # nor what would read as a negation
    assert search.term("email", "ann@example.com", quote=True) == "email:'ann@example.com'"


def test_timestamps_are_quoted_to_the_second() -> None:
    moment = datetime(2026, 5, 1, 10, 0, 7, 900_000, tzinfo=UTC)
    assert search.date_term("processed_at", "<", moment) == "processed_at:<'2026-05-01T10:00:07Z'"
    assert search.all_of("a:1", "", "b:2") == "a:1 b:2"


def test_field_names_and_comparators_are_checked() -> None:
    with pytest.raises(ValueError, match="field"):
        search.term("email' OR x", "a")
    with pytest.raises(ValueError, match="comparator"):
        search.term("processed_at", "x", "=<")
