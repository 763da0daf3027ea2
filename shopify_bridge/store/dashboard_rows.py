"""Plain, immutable rows the dashboard reads (`reads_dashboard`) hand to the TUI's widgets.

The widgets never see database rows or JSON: every value here is already parsed (times as aware
`datetime`, money as `Decimal`), so formatting is the only thing left for the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from shopify_bridge.store.writer_heartbeat import Heartbeat

# Display states of one (event, destination) delivery. `retrying` is a pending delivery that has
# already failed at least once; the store keeps both as state 'pending'. `filtered` and `skipped`: the
# destination does not take the event (its `reason` says which key or rule).
DELIVERY_STATES = ("delivered", "retrying", "pending", "dead", "filtered", "skipped")
EVENT_NAMES = ("Placed Order", "Received Refund")


@dataclass(frozen=True)
class SourceRow:
    shop: str
    name: str
    state: str
    state_reason: str | None
    last_poll_ok_at: datetime | None
    cursor: str | None
    orders_today: int  # orders processed today in the shop's timezone that the bridge has stored
    bucket_available: float | None
    bucket_max: float | None
    pending_deliveries: int
    dead_deliveries: int
    progress: str | None = None  # the running backfill in one line (`sources.progress`)
    last_poll_at: datetime | None = None  # the last poll attempt, successful or not

    @property
    def paused(self) -> bool:
        return self.state == "paused"


@dataclass(frozen=True)
class HoldRow:
    shop: str
    order_id: str
    name: str
    total: Decimal | None
    currency: str | None
    item_count: int
    release_at: datetime | None
    versions: int

    @property
    def edited(self) -> bool:
        """More than one stored version since the order was first seen: edited during its hold."""
        return self.versions > 1


@dataclass(frozen=True)
class Delivery:
    destination: str
    state: str  # one of DELIVERY_STATES, or "sending" while in flight
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    reason: str | None = None  # filtered: the destination's key that matched; skipped: the payload rule


@dataclass(frozen=True)
class EventRow:
    seq: int
    shop: str
    event_id: str
    event_name: str
    order_id: str
    order_name: str | None
    total: Decimal | None
    currency: str | None
    created_at: datetime
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True)
class EventDetail:
    event: EventRow
    timestamp: str
    payload: str  # the exact JSON text that went on the wire


@dataclass(frozen=True)
class ExclusionRow:
    shop: str
    order_id: str
    name: str
    rule: str | None
    value: str | None
    processed_at: datetime | None


@dataclass(frozen=True)
class ErrorRow:
    at: datetime | None
    shop: str | None
    kind: str
    message: str


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    unit_price: Decimal | None


@dataclass(frozen=True)
class OrderVersion:
    version: int
    updated_at: str
    fetched_at: str
    origin: str


@dataclass(frozen=True)
class OrderDetail:
    shop: str
    order_id: str
    name: str
    status: str
    total: Decimal | None
    currency: str | None
    release_at: datetime | None
    items: tuple[LineItem, ...]
    versions: tuple[OrderVersion, ...]


@dataclass(frozen=True)
class EventFilter:
    """What the events table shows; `None` means "any"."""

    shop: str | None = None
    event_name: str | None = None
    state: str | None = None
    before_seq: int | None = None  # keyset paging: only events older than this


@dataclass(frozen=True)
class Snapshot:
    """Everything one refresh tick read, from one consistent read transaction."""

    sources: tuple[SourceRow, ...]
    holds: tuple[HoldRow, ...]
    events: tuple[EventRow, ...]
    exclusions: tuple[ExclusionRow, ...]
    errors: tuple[ErrorRow, ...]
    destinations: tuple[str, ...] = field(default=())
    event_filter: EventFilter = field(default_factory=EventFilter)
    recent_events: tuple[EventRow, ...] = ()  # the newest events, whatever `event_filter` picks
    dead_letters: tuple[EventRow, ...] = ()  # events with a dead delivery, newest first
    holds_total: int = 0  # every held order, also those past the `holds` page
    # Events created per minute over the last hour, oldest first; the last entry is the current minute.
    events_per_minute: tuple[int, ...] = ()
    heartbeat: Heartbeat | None = None

    @property
    def backlog(self) -> int:
        """Deliveries waiting to go out (pending, retrying or in flight), over every source."""
        return sum(s.pending_deliveries for s in self.sources)

    @property
    def dead(self) -> int:
        return sum(s.dead_deliveries for s in self.sources)
