"""`shopify-bridge reconcile`: every order Shopify counts is accounted for by the bridge.

Per source and shop-timezone day, over orders processed since `start_date` (when backfilled) or
since `first_connected_at`:

    Shopify's ordersCount = forwarded + excluded + held + pending + dead + history

where an order is *forwarded* when its Placed Order reached every destination, *dead* when one
delivery is dead, *pending* while deliveries are under way (or the order is not yet decided),
*held* during its upsell hold, *excluded* by a rule, and *history* when processed before the
source's first connection. On a mismatch the orders of that day are listed from Shopify and
diffed against the store, so the operator sees exactly which orders fall through.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shopify_bridge.shopify import queries, search
from shopify_bridge.store import Store

CATEGORIES = ("forwarded", "excluded", "held", "pending", "dead", "history")


def category(status: str, total: int, done: int, dead: int) -> str | None:
    if status == "released":
        if dead:
            return "dead"
        return "forwarded" if done == total else "pending"
    if status in ("excluded", "held", "history"):
        return status
    if status == "new":
        return "pending"
    return None  # gone: deleted in Shopify, which no longer counts it either


@dataclass
class DayResult:
    day: date
    shopify: int
    local: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)  # in Shopify, not accounted for here
    extra: list[str] = field(default_factory=list)  # accounted for here, not counted by Shopify

    @property
    def accounted(self) -> int:
        return sum(self.local[c] for c in CATEGORIES)

    @property
    def ok(self) -> bool:
        return self.accounted == self.shopify


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def local_by_day(store: Store, shop: str, tz: ZoneInfo, since: datetime) -> dict[date, dict[str, tuple[str, str]]]:
    """day → {order_id: (name, category)} for the orders the store accounts for."""
    out: dict[date, dict[str, tuple[str, str]]] = {}
    for order in store.reads.orders.outcomes(shop, since):
        cat = category(order.status, order.deliveries, order.delivered, order.dead)
        if cat is None:
            continue
        day = order.processed_at.astimezone(tz).date()
        out.setdefault(day, {})[order.order_id] = (order.name, cat)
    return out


def _day_search(start: datetime, end: datetime) -> str:
    # Shopify's `<` acts as `<=`: end one second early keeps the day half-open.
    last = end - timedelta(seconds=1)
    return search.all_of(search.date_term("processed_at", ">=", start), search.date_term("processed_at", "<=", last))


async def shopify_count(client: Any, start: datetime, end: datetime) -> int:
    query = _day_search(start, end)
    data = await client.execute(queries.ORDERS_COUNT, {"query": query})
    return int((data.get("ordersCount") or {}).get("count") or 0)


async def shopify_orders(client: Any, start: datetime, end: datetime) -> dict[str, str]:
    query = _day_search(start, end)
    found: dict[str, str] = {}
    after = None
    while True:
        data = await client.execute(queries.RECONCILE_ORDERS, {"query": query, "after": after})
        page = data.get("orders") or {}
        for node in page.get("nodes") or []:
            found[str(node["legacyResourceId"])] = str(node["name"])
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return found
        after = info.get("endCursor")


async def reconcile_source(
    client: Any, store: Store, shop: str, tz_name: str, since: datetime, now: datetime
) -> list[DayResult]:
    tz = ZoneInfo(tz_name)
    local = local_by_day(store, shop, tz, since)
    results: list[DayResult] = []
    day = since.astimezone(tz).date()
    last = now.astimezone(tz).date()
    while day <= last:
        start, end = day_bounds(day, tz)
        start = max(start, since)
        end = min(end, now + timedelta(seconds=1))  # the current second counts
        mine = {oid: v for oid, v in local.get(day, {}).items()}
        result = DayResult(day=day, shopify=await shopify_count(client, start, end))
        result.local = Counter(cat for _name, cat in mine.values())
        if not result.ok:
            theirs = await shopify_orders(client, start, end)
            result.missing = sorted(f"{name} ({oid})" for oid, name in theirs.items() if oid not in mine)
            result.extra = sorted(f"{name} ({oid})" for oid, (name, _c) in mine.items() if oid not in theirs)
        results.append(result)
        day += timedelta(days=1)
    return results
