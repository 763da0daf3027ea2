"""`shopify-bridge reconcile`: every order Shopify counts is accounted for by the bridge.

Per source and shop-timezone day, over orders processed since `start_date` (when backfilled) or
since `first_connected_at`, up to and including the day `until` (by default yesterday: today is not
over, and its orders are still arriving, held and on their way, so counting it would report
differences that are nothing but timing):

    Shopify's ordersCount = forwarded + excluded + held + pending + dead + history

where an order is *forwarded* when its Placed Order reached every destination, *dead* when one
delivery is dead, *pending* while deliveries are under way (or the order is not yet decided),
*held* during its upsell hold, *excluded* by a rule, and *history* when processed before the
source's first connection. On a mismatch the orders of that day are listed from Shopify and
diffed against the store, so the operator sees exactly which orders fall through.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shopify_bridge.shopify import queries, search
from shopify_bridge.store import Store

if TYPE_CHECKING:
    from shopify_bridge.config import Source

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


def last_whole_day(now: datetime, tz_name: str) -> date:
    """Yesterday in the shop's timezone: the last day that is over."""
    return now.astimezone(ZoneInfo(tz_name)).date() - timedelta(days=1)


async def reconcile_source(
    client: Any, store: Store, shop: str, tz_name: str, since: datetime, now: datetime, until: date | None = None
) -> list[DayResult]:
    """One result per shop day from `since`'s day to `until` (default: today); a day not over yet counts up
    to `now`."""
    tz = ZoneInfo(tz_name)
    local = local_by_day(store, shop, tz, since)
    results: list[DayResult] = []
    day = since.astimezone(tz).date()
    today = now.astimezone(tz).date()
    last = today if until is None else min(until, today)
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


@dataclass
class SourceReconcile:
    """One source's reconcile: the days covered (none before its first connection)."""

    name: str
    shop: str
    connected: bool
    timezone: str | None = None
    since: datetime | None = None
    until: date | None = None
    days: list[DayResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(day.ok for day in self.days)


async def reconcile_sources(
    store: Store, sources: Sequence[Source], until: date | None, now: datetime
) -> list[SourceReconcile]:
    """Each source from `start_date` (when backfilled) or its first connection, up to `until` (default:
    yesterday in its shop's timezone)."""
    from shopify_bridge.service.clients import client_for

    results = []
    for source in sources:
        connection = store.reads.orders.source_connection(source.shop_domain)
        if connection is None or connection.first_connected_at is None:
            results.append(SourceReconcile(source.name, source.shop_domain, connected=False))
            continue
        tz = connection.timezone or "UTC"
        since = connection.first_connected_at
        if source.start_date is not None:
            since = datetime.combine(source.start_date, time.min, tzinfo=ZoneInfo(tz))
        last = until if until is not None else last_whole_day(now, tz)
        result = SourceReconcile(source.name, source.shop_domain, True, tz, since, last)
        if since.astimezone(ZoneInfo(tz)).date() <= last:
            async with client_for(source) as client:
                result.days = await reconcile_source(client, store, source.shop_domain, tz, since, now, last)
        results.append(result)
    return results
