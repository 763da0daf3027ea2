"""The values the order lifecycle works on: the stored facts it reads and the decision it returns.

`lifecycle` and `refunds` turn `OrderFacts` (what the store knows of one order), a fetched version,
the source's context and `now` into an `OrderDecision`; the store writes that decision as it is, in
the caller's transaction. Nothing here reads or writes anything: a decision is plain data, so every
rule can be tested by comparing values.

The records are frozen `msgspec.Struct`s, not frozen dataclasses: as immutable, hashed and compared field by
field, but built in 0.08 µs instead of 0.9 µs (a frozen dataclass sets each field through `object.__setattr__`;
a backfill builds four records per order) and defined in 10 µs instead of ~450 µs at start-up.
Change one with `msgspec.structs.replace`, not `dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from shopify_bridge.decide.kept_out import KeptOut
from shopify_bridge.decide.money import dumps_event
from shopify_bridge.decide.settling import RecordedRefund, Wait
from shopify_bridge.decide.source_context import SourceContext

# An order in one of these states never produces a Placed Order again.
DECIDED = ("released", "excluded", "history", "gone")


# -- facts: what the store knows ---------------------------------------------------------------
class StoredOrder(Struct, frozen=True):
    status: str  # new | held | released | excluded | history | gone
    exclusion_rule: str | None = None


class LatestVersion(Struct, frozen=True):
    """The newest stored version of an order: its number and content hash (not the document)."""

    number: int
    content_hash: str


class OrderFacts(Struct, frozen=True):
    order: StoredOrder | None = None  # None: the order was never stored
    latest: LatestVersion | None = None
    refunds: Mapping[str, RecordedRefund] = field(default_factory=dict)  # by refund id, the refunds recorded


# -- the decision: what to store ---------------------------------------------------------------
class NewEvent(Struct, frozen=True):
    """An event to create once (per shop and event_id), with one pending delivery per destination."""

    shop: str
    event_id: str
    event_name: str
    order_id: str
    refund_id: str | None
    timestamp: str
    payload: str  # the exact JSON sent on the wire
    destinations: tuple[str, ...]
    facts: str | None = None  # JSON: the few order facts the destination payloads need beyond the envelope
    kept_out: tuple[tuple[str, KeptOut], ...] = ()  # destinations that do not take it, and why

    def kept_out_of(self, destination: str) -> KeptOut | None:
        return next((why for name, why in self.kept_out if name == destination), None)


def new_event(ctx: SourceContext, event: dict[str, Any], *, order_id: str, refund_id: str | None) -> NewEvent:
    return NewEvent(
        shop=ctx.shop,
        event_id=event["event_id"],
        event_name=event["event_name"],
        order_id=order_id,
        refund_id=refund_id,
        timestamp=event["timestamp"],
        payload=dumps_event(event).decode(),
        destinations=ctx.destinations,
    )


class NewVersion(Struct, frozen=True):
    """A fetched version whose content differs from the newest stored one."""

    number: int
    updated_at: str
    origin: str  # poll | read | bulk
    content_hash: str
    doc: str  # the canonical JSON that was hashed


class NewOrder(Struct, frozen=True):
    """An order seen for the first time: `new` (to be held or released) or `history`."""

    gid: str
    name: str
    processed_at: str
    updated_at: str
    total: str | None
    status: str
    exclusion_rule: str | None = None  # history is never sent, but its exclusion still decides its refunds
    exclusion_value: str | None = None


class OrderRefresh(Struct, frozen=True):
    """The display fields of a stored order, from its newer version."""

    updated_at: str
    total: str | None
    name: str


class Hold(Struct, frozen=True):
    release_at: datetime


class Exclude(Struct, frozen=True):
    rule: str
    value: str
    built_version: int | None  # the version the exclusion was decided on


class Release(Struct, frozen=True):
    placed: NewEvent  # the Placed Order, built once from `built_version`
    built_version: int | None


class Gone(Struct, frozen=True):
    """The held order no longer exists in Shopify: no event, ever."""


Transition = Hold | Exclude | Release | Gone


class RefundStep(Struct, frozen=True):
    """What happens to one refund of the version: recorded, its details kept, its status moved."""

    refund_id: str
    gid: str
    timestamp: str | None  # createdAt, else processedAt
    detail: str | None  # the READ_REFUND node (JSON) when this version carries the details
    first_seen: bool  # recorded now, with `status`
    status: str  # waiting | history | excluded | zero_amount_refund | refund_unsettled | evented
    status_changed: bool  # a recorded refund moves to `status`
    event: NewEvent | None = None  # the Received Refund to create (status `evented`)
    wait: Wait | None = None  # while `waiting`: what for, since when, reads so far, the next read


class OrderDecision(Struct, frozen=True):
    shop: str
    order_id: str
    now: datetime  # fetched_at, first_seen_at, released_at and the events' created_at
    version: NewVersion | None = None
    new_order: NewOrder | None = None
    refresh: OrderRefresh | None = None
    transition: Transition | None = None
    refunds: tuple[RefundStep, ...] = ()

    @property
    def creates_events(self) -> bool:
        """Whether writing it creates an event (a Placed Order or a Received Refund)."""
        return isinstance(self.transition, Release) or any(step.event is not None for step in self.refunds)

    def map_events(self, change: Callable[[NewEvent], NewEvent]) -> OrderDecision:
        """The same decision with each event it creates (the Placed Order, the Received Refunds) changed."""
        transition = self.transition
        if isinstance(transition, Release):
            transition = replace(transition, placed=change(transition.placed))
        refunds = tuple(replace(step, event=change(step.event)) if step.event is not None else step
                        for step in self.refunds)
        return replace(self, transition=transition, refunds=refunds)
