"""The `--json` documents of `check`, `events`, `explain` and `reconcile`: one model per document.

Each command builds its document through these models, so its keys are exactly the fields below:
every key is always present (null when unknown), and a key cannot appear that is not described
here (`extra="forbid"`). `scripts/gen_docs.py` writes the key tables of docs/commands.md from the
same fields and docstrings, and tests/e2e/test_cli_json.py compares those tables with the keys of
real output. Add keys freely; renaming or removing one breaks the scripts of the people using it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from shopify_bridge.service.reconcile import SourceReconcile


class JsonDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


# -- check ----------------------------------------------------------------------------------------
class CheckLineJson(JsonDoc):
    label: str
    """What was checked: "shop answers", "token accepted", "scope read_orders", "verdict"."""
    ok: bool
    """Whether this check passed."""
    detail: str
    """The finding in words (empty when there is nothing to add)."""


class SourceCheckJson(JsonDoc):
    name: str
    """The source's `name` from the config."""
    shop: str
    """Its canonical `<shop>.myshopify.com`."""
    ok: bool
    """Whether every check of this source passed."""
    exit_code: int
    """0, or the exit code this source's problem maps to (69, 75, 77, 78)."""
    shop_name: str | None
    """The shop's name, as Shopify reports it (null when the shop did not answer)."""
    currency: str | None
    """The shop's currency code, as Shopify reports it."""
    timezone: str | None
    """The shop's IANA timezone."""
    rate_limit: str | None
    """The shop's API cost bucket, e.g. "2000 points, restores 100/s"."""
    checks: list[CheckLineJson]
    """Each check in order."""


class DestinationCheckJson(JsonDoc):
    name: str
    """The destination's `name` from the config."""
    type: str
    """"jsonl", "http", …"""
    target: str
    """The file, or the scheme, host and port probed (never a path or query: they may hold secrets)."""
    ok: bool
    """Whether the destination can be reached (written, for a file)."""
    exit_code: int
    """0, 69 (unreachable: network, TLS, timeout) or 78 (a file path that cannot be written)."""
    detail: str
    """What the probe found: the HEAD status and time, or why it failed."""


class CheckJson(JsonDoc):
    ok: bool
    """True when the exit code is 0."""
    exit_code: int
    """The process exit code: the most severe over every source and destination."""
    sources: list[SourceCheckJson]
    """One per configured source, in config order."""
    destinations: list[DestinationCheckJson]
    """One per configured destination, in config order."""
    credentials: list[CheckLineJson]
    """Each destination's credential shape (and, with `--send-test`, GA4's verdict on a sample purchase)."""


# -- events ---------------------------------------------------------------------------------------
class DeliveryJson(JsonDoc):
    destination: str
    """The destination's name."""
    state: str
    """pending | in_flight | delivered | dead | filtered (the destination's `events`/`channels`/`exclude_tags`
    keep it out) | skipped (a rule of its payload, e.g. too_old_for_destination)."""
    reason: str | None
    """For filtered: the key that matched; for skipped: the rule; else null."""
    attempts: int
    """Attempts made so far (a replay starts again from 0)."""
    last_status: int | None
    """HTTP status of the last attempt, when there was one."""
    last_error: str | None
    """Why the last attempt failed (for a dead delivery: the status and the head of the body)."""


class EventJson(JsonDoc):
    seq: int
    """The event's position in the outbox (increasing; newest first in the list)."""
    event_id: str
    """The event's stable id: the order id, or "<order id>-refund-<refund id>"."""
    event_name: str
    """"Placed Order" or "Received Refund"."""
    timestamp: str
    """The event's timestamp (ISO 8601, UTC), as on the wire."""
    created_at: str
    """When the bridge created the event (ISO 8601, UTC)."""
    source: str | None
    """The source's name (null when the store no longer knows the shop)."""
    shop: str
    """The source's canonical `<shop>.myshopify.com`."""
    order: str | None
    """The order's name (#1001), when the order is stored."""
    deliveries: list[DeliveryJson]
    """One per destination of the event's source."""


# -- explain --------------------------------------------------------------------------------------
class OrderJson(JsonDoc):
    shop: str
    """The source's canonical `<shop>.myshopify.com`."""
    order_id: str
    """The numeric order id (legacyResourceId)."""
    gid: str
    """The order's GraphQL id."""
    name: str
    """The order's name (#1001)."""
    processed_at: str
    """Shopify's processedAt."""
    updated_at: str
    """The newest stored version's updatedAt."""
    first_seen_at: str
    """When the bridge first stored the order."""
    total: str | None
    """The newest version's current total (shop money, decimal text)."""
    status: str
    """new | held | released | excluded | history | gone."""
    release_at: str | None
    """End of the upsell hold (processedAt + delay)."""
    released_at: str | None
    """When the order was decided (released, excluded or found gone)."""
    built_version: int | None
    """The version the Placed Order (or the exclusion) was decided on."""
    exclusion_rule: str | None
    """The exclusion rule that matched (channel, tag, test_order, cancelled…)."""
    exclusion_value: str | None
    """What matched the rule (the channel, the tag…)."""
    placed_event_seq: int | None
    """The outbox position of its Placed Order, when one was built."""


class VersionJson(JsonDoc):
    version: int
    """1 for the first stored version, then increasing."""
    updated_at: str
    """Shopify's updatedAt of this version."""
    fetched_at: str
    """When the bridge read it."""
    origin: str
    """poll | read | bulk."""
    total: str | None
    """Current total (shop money, decimal text)."""
    line_items: int
    """Number of line items."""
    tags: list[str] | None
    """The order's tags in this version."""
    refunds: int
    """Number of refunds in this version."""


class RefundJson(JsonDoc):
    refund_id: str
    """The numeric refund id."""
    timestamp: str | None
    """The refund's createdAt (else processedAt)."""
    status: str
    """waiting | evented | zero_amount_refund | refund_unsettled | excluded | history."""
    waits_for: str | None
    """While it waits: placed_order (its order is held), details (not read yet) or pending (a REFUND transaction
    is still pending); null otherwise."""
    waiting_since: str | None
    """When it started waiting (ISO 8601, UTC); null unless it waits."""
    read_attempts: int
    """Reads that found it still waiting (the backoff doubles from 1 minute to 1 hour with each)."""
    next_read_at: str | None
    """When it is read again (ISO 8601, UTC); null when not scheduled (waiting for its Placed Order, or not
    waiting)."""


class ExplainDeliveryJson(DeliveryJson):
    delivered_at: str | None
    """When the destination accepted it."""
    next_attempt_at: str | None
    """When the next attempt is due."""


class ExplainEventJson(JsonDoc):
    event_id: str
    """The event's stable id."""
    event_name: str
    """"Placed Order" or "Received Refund"."""
    created_at: str
    """When the bridge created the event."""
    payload: Any
    """The event exactly as sent (the envelope)."""
    deliveries: list[ExplainDeliveryJson]
    """One per destination."""


class ExplainJson(JsonDoc):
    source: str | None
    """The source's name."""
    shop: str
    """The source's canonical `<shop>.myshopify.com`."""
    order: OrderJson
    """The order as stored, with what was decided about it."""
    versions: list[VersionJson]
    """Every stored version, oldest first."""
    refunds: list[RefundJson]
    """The order's refunds as the bridge tracks them."""
    events: list[ExplainEventJson]
    """The order's events (Placed Order, Received Refunds) in creation order."""
    note: str | None
    """"edited after release: Δ total …" when the order changed after its Placed Order was built."""
    destination_payloads: dict[str, dict[str, Any]]
    """event_id → destination → the request it gets (method, url, headers, body; credentials redacted), or
    `{"filtered" | "skipped": reason, "detail": …}` when the destination keeps the event out."""


# -- reconcile ------------------------------------------------------------------------------------
class CountsJson(JsonDoc):
    forwarded: int
    """Placed Order delivered to every destination."""
    excluded: int
    """Excluded by a rule."""
    held: int
    """In their upsell hold."""
    pending: int
    """Deliveries under way, or not decided yet."""
    dead: int
    """A delivery of the Placed Order is dead."""
    history: int
    """Processed before the source's first connection."""


class DayJson(JsonDoc):
    day: str
    """The shop-timezone day (YYYY-MM-DD)."""
    shopify: int
    """Shopify's own ordersCount for the day."""
    accounted: int
    """The sum of `counts`."""
    counts: CountsJson
    """The bridge's orders of the day by outcome."""
    ok: bool
    """`shopify` equals `accounted`."""
    missing: list[str]
    """Orders Shopify counts that the bridge cannot account for ("#1001 (5801234500001)")."""
    extra: list[str]
    """Orders the bridge accounts for that Shopify does not count."""


class ReconcileSourceJson(JsonDoc):
    name: str
    """The source's `name` from the config."""
    shop: str
    """The source's canonical `<shop>.myshopify.com`."""
    connected: bool
    """False until the source's first successful poll (then `days` is empty)."""
    timezone: str | None
    """The shop's IANA timezone, which the days follow."""
    since: str | None
    """First moment covered: start of `start_date` in the shop's timezone, else `first_connected_at`."""
    until: str | None
    """The last day covered (YYYY-MM-DD): yesterday in the shop's timezone unless --until said otherwise."""
    ok: bool
    """True when every day balances."""
    days: list[DayJson]
    """One per day covered, oldest first."""


class ReconcileJson(JsonDoc):
    ok: bool
    """True when every source balances."""
    exit_code: int
    """0, or 65 on a mismatch."""
    sources: list[ReconcileSourceJson]
    """One per source reconciled, in config order."""


def reconcile_json(results: Sequence[SourceReconcile], exit_code: int) -> ReconcileJson:
    return ReconcileJson(
        ok=all(result.ok for result in results),
        exit_code=exit_code,
        sources=[
            ReconcileSourceJson(
                name=result.name,
                shop=result.shop,
                connected=result.connected,
                timezone=result.timezone,
                since=result.since.isoformat() if result.since else None,
                until=result.until.isoformat() if result.until else None,
                ok=result.ok,
                days=[
                    DayJson(
                        day=day.day.isoformat(), shopify=day.shopify, accounted=day.accounted,
                        counts=CountsJson(**{category: day.local[category] for category in CountsJson.model_fields}),
                        ok=day.ok, missing=day.missing, extra=day.extra,
                    )
                    for day in result.days
                ],
            )
            for result in results
        ],
    )


def dump(model: BaseModel) -> dict[str, Any]:
    """The document as plain JSON values, every key present."""
    return model.model_dump(mode="json")


# The documented shape of each command's `--json` output: (command, model, "object" | "array").
DOCUMENTS: tuple[tuple[str, type[JsonDoc], str], ...] = (
    ("check", CheckJson, "object"),
    ("events", EventJson, "array"),
    ("explain", ExplainJson, "object"),
    ("reconcile", ReconcileJson, "object"),
)
