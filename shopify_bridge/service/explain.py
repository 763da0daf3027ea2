"""`shopify-bridge explain ORDER`: everything the bridge knows and decided about one order.

ORDER is a name (`#1001` or `1001`), a numeric id, or a gid. Reads only (a reader connection).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from shopify_bridge.errors import BridgeError
from shopify_bridge.exit_codes import USAGE


class OrderNotFound(BridgeError):
    exit_code = USAGE


@dataclass
class Explanation:
    shop: str
    source_name: str | None
    order: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def find_orders(conn: sqlite3.Connection, ref: str, source: str | None = None) -> list[dict[str, Any]]:
    ref = ref.strip()
    numeric = ref.rsplit("/", 1)[-1] if ref.startswith("gid://") else ref
    name = ref if ref.startswith("#") else f"#{ref}"
    rows = _rows(
        conn,
        "SELECT o.*, s.name AS source_name FROM orders o LEFT JOIN sources s ON s.shop = o.shop "
        "WHERE o.order_id = ? OR o.name = ? OR o.gid = ?",
        (numeric, name, ref),
    )
    if source is not None:
        rows = [r for r in rows if source in (r["source_name"], r["shop"])]
    return rows


def explain(conn: sqlite3.Connection, ref: str, source: str | None = None) -> Explanation:
    matches = find_orders(conn, ref, source)
    if not matches:
        raise OrderNotFound(f"no stored order matches {ref!r}" + (f" in source {source!r}" if source else ""))
    if len(matches) > 1:
        names = ", ".join(sorted({str(m["source_name"] or m["shop"]) for m in matches}))
        raise OrderNotFound(f"{ref!r} matches orders in several sources ({names}); pass --source NAME")
    order = matches[0]
    shop, order_id = order["shop"], order["order_id"]
    versions = _rows(
        conn,
        "SELECT version, updated_at, fetched_at, origin, doc FROM order_versions "
        "WHERE shop = ? AND order_id = ? ORDER BY version",
        (shop, order_id),
    )
    for version in versions:
        doc = orjson.loads(version.pop("doc"))
        version["total"] = ((doc.get("currentTotalPriceSet") or {}).get("shopMoney") or {}).get("amount")
        version["line_items"] = len(doc.get("lineItems") or [])
        version["tags"] = doc.get("tags")
        version["refunds"] = len(doc.get("refunds") or [])
    refunds = _rows(
        conn,
        "SELECT refund_id, timestamp, status FROM refunds WHERE shop = ? AND order_id = ? ORDER BY refund_id",
        (shop, order_id),
    )
    events = _rows(
        conn,
        "SELECT seq, event_id, event_name, created_at, payload FROM events "
        "WHERE shop = ? AND order_id = ? ORDER BY seq",
        (shop, order_id),
    )
    for event in events:
        event["payload"] = orjson.loads(event["payload"])
        event["deliveries"] = _rows(
            conn,
            "SELECT destination, state, attempts, last_status, last_error, delivered_at, next_attempt_at "
            "FROM deliveries WHERE event_seq = ? ORDER BY destination",
            (event.pop("seq"),),
        )
    return Explanation(shop, order.get("source_name"), order, versions, refunds, events)


def edited_after_release(exp: Explanation) -> str | None:
    """'edited after release: Δ total' when versions after the built one changed the total."""
    built = exp.order.get("built_version")
    if built is None or not exp.versions:
        return None
    base = next((v for v in exp.versions if v["version"] == built), None)
    last = exp.versions[-1]
    if base is None or last["version"] == built:
        return None
    try:
        from decimal import Decimal

        delta = Decimal(str(last["total"])) - Decimal(str(base["total"]))
    except Exception:
        return "edited after release"
    sign = "+" if delta >= 0 else ""
    return f"edited after release: Δ total {sign}{delta}"


def as_dict(exp: Explanation) -> dict[str, Any]:
    return {
        "source": exp.source_name,
        "shop": exp.shop,
        "order": {k: v for k, v in exp.order.items() if k != "source_name"},
        "versions": exp.versions,
        "refunds": exp.refunds,
        "events": exp.events,
        "note": edited_after_release(exp),
    }
