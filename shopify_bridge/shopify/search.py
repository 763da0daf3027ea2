"""Shopify's search syntax (the `query:` argument of `orders`, `ordersCount` and bulk queries), built safely.

Every search term the bridge sends is made here, so a value from Shopify (a guest's email, a tag) can never
change the meaning of the search. The grammar (https://shopify.dev/docs/api/usage/search-syntax): a term is
`name:value` with an optional comparator (`:<`, `:>`, `:<=`, `:>=`); a value is a bare name — any sequence of
non-whitespace, non-special characters — or a quoted string, single or double quotes; dates must be quoted.
The special characters are `\\ : ( )`, escaped with a backslash; inside a quoted string the backslash escapes
the quote too (Shopify community answer on escaping `D'Addario`; the shopify_graphql gem's value sanitizer
does the same).

So a value is written bare only when it is a plain name (letters, digits, `@`, `.`, `-`…, not starting
with `-`, not a connective); otherwise it is single-quoted with every `\\` and `'` escaped by a backslash.
An email is always quoted (`email:'ann@example.com'`), a timestamp too (`processed_at:<'2026-05-01T10:00:00Z'`).
"""

from __future__ import annotations

import re
from datetime import datetime

from shopify_bridge.timeutil import shopify_ts

COMPARATORS = ("", "<", ">", "<=", ">=")
_PLAIN_NAME = re.compile(r"[^\s\\:()'\"]+")
_CONNECTIVES = frozenset({"AND", "OR", "NOT"})
_FIELD = re.compile(r"[a-z_]+")


def quoted(value: str) -> str:
    """`value` as a single-quoted search string: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def value(text: str, *, quote: bool = False) -> str:
    """`text` as a search value: bare when it is a plain name (and `quote` is not asked), else quoted."""
    plain = _PLAIN_NAME.fullmatch(text) and not text.startswith("-") and text.upper() not in _CONNECTIVES
    return text if plain and not quote else quoted(text)


def term(field: str, text: str, comparator: str = "", *, quote: bool = False) -> str:
    """One `field:<comparator><value>` term with its value escaped."""
    if not _FIELD.fullmatch(field):
        raise ValueError(f"not a search field name: {field!r}")
    if comparator not in COMPARATORS:
        raise ValueError(f"not a search comparator: {comparator!r}")
    return f"{field}:{comparator}{value(text, quote=quote)}"


def date_term(field: str, comparator: str, moment: datetime) -> str:
    """A quoted timestamp term, to the second (`updated_at:>='2026-05-01T10:00:00Z'`)."""
    return term(field, shopify_ts(moment), comparator, quote=True)


def all_of(*terms: str) -> str:
    """Terms ANDed (Shopify's implied connective between terms separated by a space)."""
    return " ".join(t for t in terms if t)
