"""Refund rules: what each refund of a fetched order version becomes, given what is known of it.

A refund first seen is recorded as
- `history` when it was made before the source's first connection (never sent);
- `excluded` when its order is excluded, or is history excluded by a rule (a refund of a POS order
  from before the first connection is excluded too);
- `waiting` otherwise.

A `waiting` refund then moves on, on this version or a later one (`settling` says what it waits for):
- to `excluded` once its order is excluded;
- nowhere while its order is `new` or `held`: it waits for the Placed Order to be built;
- else by its money (`mapping_refund.build_received_refund`): still `waiting` (details not read, or a
  REFUND transaction in flight), `zero_amount_refund`, or `evented` with its Received Refund;
- to `refund_unsettled` when it still waits for its money `refund_settle_days` after it began to.

Every other status is final.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import orjson

from shopify_bridge.decide import settling
from shopify_bridge.decide.decisions import NewEvent, RefundStep, new_event
from shopify_bridge.decide.mapping_refund import build_received_refund, full_refund_id, refund_timestamp
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, refund_has_details
from shopify_bridge.decide.settling import RecordedRefund, Wait
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.timeutil import parse_ts


def refund_ids(doc: OrderDoc) -> list[str]:
    """The numeric ids of the refunds of `doc`: the ones whose recorded status the decision needs."""
    return [legacy_id(refund["id"]) for refund in doc.get("refunds") or []]


def first_status(
    timestamp: str | None, order_status: str, exclusion_rule: str | None, connected: datetime
) -> str:
    """The status a refund is recorded with when first seen."""
    if timestamp is not None and parse_ts(timestamp) < connected:
        return "history"
    if order_status == "excluded" or exclusion_rule is not None:
        return "excluded"
    return "waiting"


def settle_refunds(
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    order_status: str,
    exclusion_rule: str | None,
    known: Mapping[str, RecordedRefund],
    first_connected_at: str,
    now: datetime,
    details_read: bool = True,
    only: Collection[str] | None = None,
    skip: Collection[str] = (),
) -> tuple[RefundStep, ...]:
    """The step of each refund of `doc`, given the order's status after this version's decision.

    `known` holds the refunds already recorded, by id. `details_read` says whether the details of the
    refunds were asked of Shopify for this version (a bulk result cannot carry them). With `only`, just
    those refund ids are decided (a re-read of some refunds); the others, and those in `skip`, are left as
    they are.
    """
    if not doc.get("refunds"):
        return ()  # most orders: nothing to settle, nothing to work out for them
    connected = parse_ts(first_connected_at)
    full = full_refund_id(doc)
    recorded: dict[str, RecordedRefund] = dict(known)  # a refund listed twice sees its own first step
    steps: list[RefundStep] = []
    for refund in doc.get("refunds") or []:
        refund_id = legacy_id(refund["id"])
        if (only is not None and refund_id not in only) or refund_id in skip:
            continue
        timestamp = refund_timestamp(refund)
        before = recorded.get(refund_id)
        status = before.status if before else first_status(timestamp, order_status, exclusion_rule, connected)
        event = wait = None
        if status == "waiting":
            status, event, wait = _move_waiting(ctx, doc, refund, order_status, before, now, full, details_read)
        recorded[refund_id] = RecordedRefund(
            status, wait.waits_for if wait else None, wait.since if wait else None, wait.attempts if wait else 0
        )
        steps.append(
            RefundStep(
                refund_id=refund_id,
                gid=refund["id"],
                timestamp=timestamp,
                detail=orjson.dumps(refund).decode() if refund_has_details(refund) else None,
                first_seen=before is None,
                status=status,
                status_changed=before is not None and status != before.status,
                event=event,
                wait=wait,
            )
        )
    return tuple(steps)


def _move_waiting(
    ctx: SourceContext,
    doc: OrderDoc,
    refund: dict[str, Any],
    order_status: str,
    before: RecordedRefund | None,
    now: datetime,
    full: str | None,
    details_read: bool,
) -> tuple[str, NewEvent | None, Wait | None]:
    if order_status == "excluded":
        return "excluded", None, None
    if order_status in ("new", "held"):
        return "waiting", None, settling.waiting(before, "placed_order", now, read=details_read)
    refund_id = legacy_id(refund["id"])
    outcome = build_received_refund(
        doc, refund, store_domain=ctx.shop, currency=ctx.currency, channel_table=ctx.channel_table,
        full_refund=refund_id == full,
    )
    if outcome.status == "zero_amount_refund":
        return "zero_amount_refund", None, None
    if outcome.status == "waiting":
        assert outcome.waits_for is not None
        wait = settling.waiting(before, outcome.waits_for, now, read=details_read)
        if settling.out_of_time(wait, now, ctx.refund_settle_days):
            return settling.UNSETTLED, None, None
        return "waiting", None, wait
    assert outcome.event is not None
    return "evented", new_event(ctx, outcome.event, order_id=legacy_id(doc["id"]), refund_id=refund_id), None
