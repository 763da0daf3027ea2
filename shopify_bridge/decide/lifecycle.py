"""The order lifecycle: stored facts + a fetched version + the source's context + now → a decision.

Order states: new → held → released | excluded | gone, or history (processed before the source's
first connection). A fetched version is stored when its content differs from the newest stored one
(content dedupe by hash). A new order is held until `processedAt + upsell delay`, or released at once
when that time has passed (or there is no delay); the release decides the exclusion on the version it
sees and builds the Placed Order from it, once. Later versions are stored but never re-sent. Refunds
follow their order (`refunds`).

Pure: the caller reads the facts from the store before and writes the decision after, in one
transaction; all network reads (refund details, the re-read at release, `$is_new_customer`) happen
before that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache

import orjson

from shopify_bridge.decide.decisions import (
    DECIDED,
    Exclude,
    Gone,
    Hold,
    LatestVersion,
    NewOrder,
    NewVersion,
    OrderDecision,
    OrderFacts,
    OrderRefresh,
    Release,
    Transition,
    new_event,
)
from shopify_bridge.decide.exclusions import decide_exclusion
from shopify_bridge.decide.mapping import build_placed_order
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.refunds import settle_refunds
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.timeutil import parse_ts


def release_at(ctx: SourceContext, doc: OrderDoc) -> datetime:
    """When a new order may be released: `processedAt` plus the upsell delay (none: at once)."""
    return parse_ts(doc["processedAt"]) + timedelta(seconds=ctx.upsell_delay_seconds or 0)


def is_history(doc: OrderDoc, first_connected_at: str) -> bool:
    return parse_ts(doc["processedAt"]) < _moment(first_connected_at)


@lru_cache(maxsize=16)
def _moment(value: str) -> datetime:
    """`parse_ts`, remembered: a source's first connection is the same moment for every order it decides."""
    return parse_ts(value)


def needs_new_customer_lookup(
    status: str | None, ctx: SourceContext, doc: OrderDoc, first_connected_at: str, now: datetime
) -> bool:
    """Whether taking `doc` in now may release it (then `$is_new_customer` is looked up first).

    `status` is the order's stored status, None when it was never stored.
    """
    if status in DECIDED or is_history(doc, first_connected_at):
        return False
    return not held_until_later(ctx, doc, now)


def held_until_later(ctx: SourceContext, doc: OrderDoc, now: datetime) -> bool:
    """Whether a new order waits for its upsell window; without a delay it goes at once, even when its
    `processedAt` is ahead of our clock."""
    return bool(ctx.upsell_delay_seconds) and release_at(ctx, doc) > now


def new_version(latest: LatestVersion | None, doc: OrderDoc, origin: str) -> NewVersion | None:
    """`doc` as the next version, or None when its content equals the newest stored version's."""
    canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)  # hashed and stored: one serialization
    digest = hashlib.sha256(canonical).hexdigest()
    if latest is not None and latest.content_hash == digest:
        return None
    number = 1 if latest is None else latest.number + 1
    return NewVersion(number, doc["updatedAt"], origin, digest, canonical.decode())


def _total(doc: OrderDoc) -> str | None:
    """The current total in shop money, as Shopify sent it (a decimal string), for display."""
    amount: str | None = ((doc.get("currentTotalPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return amount


def _release(
    ctx: SourceContext, doc: OrderDoc, built_version: int | None, is_new_customer: bool | None
) -> Exclude | Release:
    """Decide the exclusion on this version, or build the Placed Order from it."""
    exclusion = decide_exclusion(doc, ctx.rules, ctx.channel_table)
    if exclusion is not None:
        return Exclude(exclusion.rule, exclusion.value, built_version)
    event = build_placed_order(
        doc,
        store_domain=ctx.shop,
        currency=ctx.currency,
        channel_table=ctx.channel_table,
        is_new_customer=is_new_customer,
    )
    return Release(new_event(ctx, event, order_id=legacy_id(doc["id"]), refund_id=None), built_version)


def _after(transition: Transition, status: str, exclusion_rule: str | None) -> tuple[str, str | None]:
    """The order's status and exclusion rule once `transition` is applied."""
    if isinstance(transition, Hold):
        return "held", exclusion_rule
    if isinstance(transition, Exclude):
        return "excluded", transition.rule
    if isinstance(transition, Release):
        return "released", exclusion_rule
    return "gone", exclusion_rule


def on_fetch(
    facts: OrderFacts,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    origin: str,
    now: datetime,
    first_connected_at: str,
    is_new_customer: bool | None = None,
    deferred: Collection[str] = (),
) -> OrderDecision:
    """A polled, read or bulk version of an order: store it if new, hold or release a new order, settle refunds.

    `deferred` refunds (numeric ids) wait for a read that has not come yet: they are left as they are."""
    order_id = legacy_id(doc["id"])
    version = new_version(facts.latest, doc, origin)
    new_order = refresh = None
    if facts.order is None:
        history = is_history(doc, first_connected_at)
        exclusion = decide_exclusion(doc, ctx.rules, ctx.channel_table) if history else None
        new_order = NewOrder(
            gid=doc["id"],
            name=doc["name"],
            processed_at=doc["processedAt"],
            updated_at=doc["updatedAt"],
            total=_total(doc),
            status="history" if history else "new",
            exclusion_rule=exclusion.rule if exclusion else None,
            exclusion_value=exclusion.value if exclusion else None,
        )
        status, exclusion_rule = new_order.status, new_order.exclusion_rule
    else:
        status, exclusion_rule = facts.order.status, facts.order.exclusion_rule
        if version is not None:
            refresh = OrderRefresh(doc["updatedAt"], _total(doc), doc["name"])
    transition: Transition | None = None
    if status == "new":
        due = release_at(ctx, doc)
        if held_until_later(ctx, doc, now):
            transition = Hold(due)
        else:
            built = version.number if version is not None else facts.latest.number if facts.latest else None
            transition = _release(ctx, doc, built, is_new_customer)
        status, exclusion_rule = _after(transition, status, exclusion_rule)
    refunds = settle_refunds(
        ctx, doc, order_status=status, exclusion_rule=exclusion_rule, known=facts.refunds,
        first_connected_at=first_connected_at, now=now, details_read=origin != "bulk", skip=deferred,
    )
    return OrderDecision(ctx.shop, order_id, now, version, new_order, refresh, transition, refunds)


def on_release(
    facts: OrderFacts,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    now: datetime,
    first_connected_at: str,
    is_new_customer: bool | None,
) -> OrderDecision:
    """A held order whose time has come, re-read by id: store the read, release it from it, settle refunds.

    The order's display fields keep the held version's values, as they always have (see `on_fetch`).
    """
    version = new_version(facts.latest, doc, "read")
    built = version.number if version is not None else facts.latest.number if facts.latest else None
    transition = _release(ctx, doc, built, is_new_customer)
    stored_rule = facts.order.exclusion_rule if facts.order else None
    status, exclusion_rule = _after(transition, "held", stored_rule)
    refunds = settle_refunds(
        ctx, doc, order_status=status, exclusion_rule=exclusion_rule, known=facts.refunds,
        first_connected_at=first_connected_at, now=now,
    )
    return OrderDecision(ctx.shop, legacy_id(doc["id"]), now, version, transition=transition, refunds=refunds)


def on_refunds_read(
    facts: OrderFacts,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    now: datetime,
    first_connected_at: str,
    read: Collection[str],
) -> OrderDecision:
    """Some waiting refunds of a decided order, read again: `doc` is the order's newest stored version with
    their fresh details (a refund Shopify did not return has none). Only those refunds move; no version is
    stored, because the order itself was not read."""
    assert facts.order is not None, "refunds are read again only for stored orders"
    refunds = settle_refunds(
        ctx, doc, order_status=facts.order.status, exclusion_rule=facts.order.exclusion_rule,
        known=facts.refunds, first_connected_at=first_connected_at, now=now, only=read,
    )
    return OrderDecision(ctx.shop, legacy_id(doc["id"]), now, refunds=refunds)


def on_gone(ctx: SourceContext, order_id: str, now: datetime) -> OrderDecision:
    """A held order that no longer exists when its time came: gone, no event."""
    return OrderDecision(ctx.shop, order_id, now, transition=Gone())


def history_cutoff(
    forward_history: bool, first_connected_at: str | None, start: str | None, snapshot: str | None, window: list[str]
) -> str:
    """The cut-off a backfill ingests against: orders processed before it are history.

    The source's first connection once it has one; before that the backfill's snapshot, or its start when
    history is to be forwarded (then every backfilled order is new). `window` stands in for a missing state.
    """
    if first_connected_at is not None:
        return first_connected_at
    if forward_history:
        return start or window[0]
    return snapshot or window[1]
