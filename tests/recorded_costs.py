"""The priced requests of shared/shopify/recorded: each response carrying `extensions.cost`, with its document.

Both cost models are held against these — the client's (tests/shopify/test_cost_model.py) and the
simulator's (tests/simulator/test_cost_recorded.py) — so both read the recordings the same way. A document
sits next to its response (`query`, `request.query`), comes from the caller (`documents`: ones the recording
ran but did not store), or is the same request replayed in the file's `upstreamCalls` (same answer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import RECORDED

# (page size, multiplier) of the notes' §3.1: a connection's page size costs by buckets, not linearly.
PAGE_MULTIPLIERS = [
    (0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (7, 3), (8, 4), (12, 4), (13, 5), (20, 5), (21, 6),
    (39, 6), (40, 7), (59, 7), (60, 8), (79, 8), (80, 9), (99, 9), (100, 10), (149, 10), (150, 11),
    (249, 11), (250, 12),
]  # fmt: skip


@dataclass
class Recorded:
    file: str
    path: str
    document: str | None
    variables: dict[str, Any]
    requested: int


def _cost(response: Any) -> dict[str, Any] | None:
    if not isinstance(response, dict):
        return None
    for holder in (response, response.get("body"), response.get("payload")):
        if isinstance(holder, dict) and isinstance(holder.get("extensions"), dict):
            cost = holder["extensions"].get("cost")
            if isinstance(cost, dict) and "requestedQueryCost" in cost:
                return cost
    return None


def _body(response: dict[str, Any]) -> Any:
    return response.get("body") or response.get("payload") or response


def _replayed(root: dict[str, Any], node: dict[str, Any]) -> str | None:
    """The document of the same request replayed in the file's `upstreamCalls` (same response body)."""
    if not isinstance(node.get("response"), dict):
        return None
    body = _body(node["response"])
    for call in root.get("upstreamCalls") or []:
        if call is not node and call.get("query") and _body(call.get("response") or {}) == body:
            return str(call["query"])
    return None


def _walk(
    name: str, node: Any, path: str, root: dict[str, Any], documents: Mapping[tuple[str, str], str]
) -> Iterator[Recorded]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(name, item, f"{path}[{index}]", root, documents)
        return
    if not isinstance(node, dict):
        return
    cost = _cost(node.get("response")) or (_cost(node) if node is root and "request" in node else None)
    if cost is not None:
        where = path or "(file)"
        document = node.get("query") or (node.get("request") or {}).get("query")
        document = document or documents.get((name, where)) or _replayed(root, node)
        yield Recorded(name, where, document, node.get("variables") or {}, int(cost["requestedQueryCost"]))
    for key, value in node.items():
        if key not in ("response", "request", "variables"):
            yield from _walk(name, value, f"{path}.{key}" if path else key, root, documents)


def recorded_requests(documents: Mapping[tuple[str, str], str] | None = None) -> list[Recorded]:
    """Every priced request of every recording; skips (fails under CI) when ../shared is absent."""
    files = sorted(RECORDED.glob("*.json"))
    if not files:
        pytest.skip(f"no recordings in {RECORDED} (../shared is not checked out beside the repo)")
    found: list[Recorded] = []
    for path in files:
        root = json.loads(path.read_text())
        found += _walk(path.name, root, "", root, documents or {})
    return found
