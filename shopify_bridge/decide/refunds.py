"""Refund rules: what each refund of a fetched order version becomes, given what is known of it.

A refund first seen is recorded as
- `history` when it was made before the source's first connection (never sent);
- `excluded` when its order is excluded, or is history excluded by a rule (a refund of a POS order
  from before the first connection is excluded too);
- `waiting` otherwise.

A `waiting` refund then moves on, on this version or a later one:
- to `excluded` once its order is excluded;
- nowhere while its order is `new` or `held`: it waits for the Placed Order to be built;
- else by its money (`mapping_refund.build_received_refund`): still `waiting` (details not read or
  no successful REFUND transaction yet), `zero_amount_refund`, or `evented` with its Received Refund.

Every other status is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from shopify_bridge.decide.decisions import NewEvent, RefundStep, new_event
from shopify_bridge.decide.mapping_refund import build_received_refund
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.timeutil import parse_ts


def refund_timestamp(refund: Mapping[str, Any]) -> str | None:
    stamp = refund.get("createdAt") or refund.get("processedAt")
    return None if stamp is None else str(stamp)


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
    known: Mapping[str, str],
    first_connected_at: str,
) -> tuple[RefundStep, ...]:
    """The step of each refund of `doc`, given the order's status after this version's decision.

    `known` maps the ids of the refunds already recorded to their status.
    """
    order_id = legacy_id(doc["id"])
    connected = parse_ts(first_connected_at)
    statuses = dict(known)  # a refund listed twice sees its own first step
    steps: list[RefundStep] = []
    for refund in doc.get("refunds") or []:
        refund_id = legacy_id(refund["id"])
        timestamp = refund_timestamp(refund)
        recorded = statuses.get(refund_id)
        status = recorded or first_status(timestamp, order_status, exclusion_rule, connected)
        event = None
        if status == "waiting":
            status, event = _move_waiting(ctx, doc, refund, order_status, order_id, refund_id)
        statuses[refund_id] = status
        steps.append(
            RefundStep(
                refund_id=refund_id,
                gid=refund["id"],
                timestamp=timestamp,
                detail=orjson.dumps(refund).decode() if "transactions" in refund else None,
                first_seen=recorded is None,
                status=status,
                status_changed=recorded is not None and status != recorded,
                event=event,
            )
        )
    return tuple(steps)


def _move_waiting(
    ctx: SourceContext, doc: OrderDoc, refund: dict[str, Any], order_status: str, order_id: str, refund_id: str
) -> tuple[str, NewEvent | None]:
    if order_status == "excluded":
        return "excluded", None
    if order_status in ("new", "held"):
        return "waiting", None  # waits for the Placed Order to be built
    outcome = build_received_refund(
        doc, refund, store_domain=ctx.shop, currency=ctx.currency, channel_table=ctx.channel_table
    )
    if outcome.status == "waiting":
        return "waiting", None
    if outcome.status == "zero_amount_refund":
        return "zero_amount_refund", None
    assert outcome.event is not None
    return "evented", new_event(ctx, outcome.event, order_id=order_id, refund_id=refund_id)
