"""Turn pydantic's validation errors into the one-line `<file>: <key path>: <problem>` of a ConfigError.

Pydantic's messages are written for developers ("Input should be a valid list"); these are written for
someone editing a TOML file. Input values are never quoted here except for literal choices, and the
caller scrubs every known secret from the final line anyway.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from shopify_bridge.config.env import KeyedProblem, KeyPath, key_path

KnownKeys = Callable[[tuple[Any, ...]], Sequence[str]]
"""Given the raw pydantic location of a table, the keys that table accepts (empty when unknown)."""

DESTINATION_TYPES = ("jsonl", "http", "ga4", "meta_capi", "segment")
_TYPES_SHOWN = ", ".join(f'"{kind}"' for kind in DESTINATION_TYPES)

_TYPE_PROBLEMS = {
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "list_type": "must be an array",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "date_type": 'must be a date like "2026-01-01"',
    "date_parsing": 'must be a date like "2026-01-01"',
    "date_from_datetime_parsing": 'must be a date like "2026-01-01"',
    "date_from_datetime_inexact": 'must be a date without a time, like "2026-01-01"',
    "missing": "required key is missing",
    "string_too_short": "must not be empty",
}


def toml_type(value: Any) -> str:
    """What a TOML value is, in TOML's words (never the value itself: it may be a secret)."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def user_location(loc: tuple[Any, ...]) -> KeyPath:
    """Pydantic's location as the user's key path: without union tags and pydantic's `[key]` markers."""
    parts = [part for part in loc if part != "[key]"]
    if len(parts) > 2 and parts[0] == "destinations" and parts[2] in DESTINATION_TYPES:
        del parts[2]
    return tuple(parts)


def describe(error: ErrorDetails, known_keys: KnownKeys) -> tuple[KeyPath, str]:
    """The key path and the problem of one pydantic error."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    path = user_location(loc)
    if kind == "value_error" and isinstance(ctx.get("error"), KeyedProblem):
        keyed: KeyedProblem = ctx["error"]
        return keyed.path, keyed.problem
    if kind == "value_error":
        return path, error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return path, _unknown_key(str(loc[-1]), known_keys(loc[:-1]))
    if kind == "union_tag_not_found":
        return (*path, "type"), f"required key is missing (one of {_TYPES_SHOWN})"
    if kind == "union_tag_invalid":
        return (*path, "type"), f'unknown destination type {ctx.get("tag")!r}; expected one of {_TYPES_SHOWN}'
    if kind == "list_type" and path in (("sources",), ("destinations",)):
        name = path[0]
        return path, f"must be an array of tables: write [[{name}]], not [{name}]"
    if kind == "literal_error":
        got = error.get("input")
        shown = f" (got {got!r})" if isinstance(got, str) else f" (got {toml_type(got)})"
        return path, error["msg"].replace("Input should be", "must be") + shown
    if kind in _TYPE_PROBLEMS:
        problem = _TYPE_PROBLEMS[kind]
        if kind.endswith(("_type", "_parsing")) or kind == "int_from_float":
            problem += f" (got {toml_type(error.get('input'))})"
        return path, problem
    return path, error["msg"].replace("Input should be", "must be")


def _unknown_key(key: str, accepted: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    if accepted:
        return f"unknown key (accepted here: {', '.join(accepted)})"
    return "unknown key"


def first_problem(exc: ValidationError, known_keys: KnownKeys) -> tuple[str, str]:
    """The key path and problem of the first error, noting how many more there are (one line)."""
    # An unknown key is usually a misspelt one, which also explains a "missing" error for the right one.
    errors = sorted(exc.errors(), key=lambda error: error["type"] != "extra_forbidden")
    path, problem = describe(errors[0], known_keys)
    if len(errors) > 1:
        more = len(errors) - 1
        problem += f" (and {more} more problem{'s' if more > 1 else ''})"
    return key_path(path), problem
