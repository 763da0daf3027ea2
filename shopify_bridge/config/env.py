"""`${VAR}` expansion over the raw TOML tree, and key paths as users write them.

Expansion runs before validation so that every string of the file can use it (numbers and booleans
too: pydantic parses "600" and "true"). Every substituted value is recorded because it is a secret
by contract: the config hides it and the log redactor masks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KeyPart = str | int
KeyPath = tuple[KeyPart, ...]

# `$$` is a literal dollar; `${` opens a reference that must close on the same string.
_REFERENCE = re.compile(r"\$\$|\$\{(?P<name>[^}]*)(?P<close>\}?)")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
SECRET_KEYS = frozenset({"access_token", "signing_secret", "api_secret", "write_key"})
SECRET_TABLES = frozenset({"headers"})


class KeyedProblem(ValueError):
    """A problem at a key path; validators raise it where pydantic's own location would be wrong."""

    def __init__(self, path: KeyPath, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def key_path(parts: Sequence[KeyPart]) -> str:
    """`sources[0].exclude.tags`, `destinations[1].headers."X Odd"`: the TOML spelling of a location."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            segment = part if _BARE_KEY.match(part) else json.dumps(part)
            text += f".{segment}" if text else segment
    return text


@dataclass
class Expansion:
    """The raw tree with every `${VAR}` replaced, and the values that came from the environment."""

    data: dict[str, Any]
    substituted: set[str] = field(default_factory=set)


def expand_tree(data: Mapping[str, Any], env: Mapping[str, str]) -> Expansion:
    """Replace `${VAR}` in every string of `data`; a missing or malformed reference is a KeyedProblem."""
    substituted: set[str] = set()
    expanded = _expand(dict(data), env, (), substituted)
    return Expansion(expanded, {value for value in substituted if value})


def _expand(node: Any, env: Mapping[str, str], path: KeyPath, substituted: set[str]) -> Any:
    if isinstance(node, str):
        return expand_string(node, env, path, substituted)
    if isinstance(node, dict):
        return {key: _expand(value, env, (*path, key), substituted) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand(value, env, (*path, index), substituted) for index, value in enumerate(node)]
    return node


def expand_string(text: str, env: Mapping[str, str], path: KeyPath, substituted: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name = match["name"]
        if not match["close"]:
            raise KeyedProblem(path, "unterminated ${ (write $$ for a literal dollar sign)")
        if not _VARIABLE_NAME.match(name):
            raise KeyedProblem(path, f"${{{name}}} is not a variable reference; only ${{NAME}} is supported")
        if name not in env:
            raise KeyedProblem(path, f"environment variable {name} is not set")
        substituted.add(env[name])
        return env[name]

    return _REFERENCE.sub(replace, text)


def literal_secrets(node: Any, parent_key: str | None = None) -> set[str]:
    """Values at secret keys (tokens, signing secrets, header values) anywhere in a raw tree."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and value and (key in SECRET_KEYS or parent_key in SECRET_TABLES):
                found.add(value)
            else:
                found |= literal_secrets(value, key)
    elif isinstance(node, list):
        for value in node:
            found |= literal_secrets(value, parent_key)
    return found
