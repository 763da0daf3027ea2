"""Turning stored values into model rows: timestamps, exact money, delivery states, order JSON.

Pure functions, shared by the dashboard's reads (`reads_dashboard`); nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopify_bridge.store.dashboard_rows import Delivery, LineItem
from shopify_bridge.timeutil import parse_ts


def ts(value: str | None) -> datetime | None:
    return parse_ts(value) if value else None


def money(value: Any) -> Decimal | None:
    """A JSON number as its original text (SQLite `->` keeps it), or a decimal string → Decimal."""
    if value is None:
        return None
    text = str(value).strip().strip('"')
    if text in ("", "null"):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def delivery(row: Sequence[Any]) -> Delivery:
    state, attempts = str(row[2]), int(row[3])
    if state == "pending" and attempts > 0:
        state = "retrying"
    elif state == "in_flight":
        state = "sending"
    return Delivery(
        destination=str(row[1]),
        state=state,
        attempts=attempts,
        last_status=row[4],
        last_error=row[5],
        next_attempt_at=ts(row[6]),
        delivered_at=ts(row[7]),
        reason=row[8],
    )


def item_count(doc: dict[str, Any]) -> int:
    """Units in the order as it stands (current quantities; `quantity` when a doc lacks them)."""
    total = 0
    for item in doc.get("lineItems") or []:
        quantity = item.get("currentQuantity", item.get("quantity"))
        total += int(quantity or 0)
    return total


def day_start(now: datetime, timezone: str | None) -> datetime:
    try:
        zone = ZoneInfo(timezone) if timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def line_item(item: dict[str, Any]) -> LineItem:
    price = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    quantity = item.get("currentQuantity", item.get("quantity"))
    return LineItem(
        title=str(item.get("title") or item.get("name") or "?"),
        quantity=int(quantity or 0),
        unit_price=money(price),
    )
