"""A stored event envelope read the way destination payloads need it, plus the order facts it lacks.

The envelope is the exact JSON the bridge stores and sends for both events (`mapping.py`):
`{"event_name", "event_id", "timestamp", "properties", "profile_properties", "aliases"}`. Its amounts
are `Decimal` (as built, or read back with `money.loads_event`) or `int` (a JSON number without a
fraction). A `float` means the JSON went through a float parser and may already have drifted, so it
is refused rather than passed on.

Some facts a destination needs are not in the envelope; they come from the stored order as
`OrderFacts`:

- `processed_at`: GA4's fallback client id `"<order id>.<processedAt unix seconds>"`. A Placed
  Order's timestamp *is* its `processedAt`; a Received Refund's is the refund's time, so a refund
  needs the order's.
- `custom_attributes`: the order's `customAttributes` (`[{"key", "value"}]`), for GA4's `_ga` and
  `google_client_id` (selected by `shopify/queries.py` `ORDER_SCALARS`; `deliver.routing` stores the ones
  GA4 reads with each event).
- `tags`: `exclude_tags` for a Received Refund, whose properties carry no `tags`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from msgspec import Struct

from shopify_bridge.decide.mapping_common import PLACED_ORDER, RECEIVED_REFUND
from shopify_bridge.decide.money import parse_amount
from shopify_bridge.timeutil import parse_ts

Envelope = Mapping[str, Any]


class PayloadError(ValueError):
    """The envelope or the order facts cannot give what a destination payload needs."""


def amount(value: Any, name: str) -> Decimal:
    """An amount of the envelope as an exact `Decimal`; floats (drifted) and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PayloadError(f"{name} is not an exact amount: {value!r} ({type(value).__name__})")
    return parse_amount(value)


class OrderFacts(Struct, frozen=True):
    """What a payload needs from the order beyond the envelope (see the module docstring)."""

    processed_at: str | None = None
    """The order's `processedAt` as Shopify writes it (`2026-05-01T10:00:00Z`)."""

    custom_attributes: Sequence[Mapping[str, Any]] = ()
    """The order's `customAttributes`: `[{"key": "_ga", "value": "GA1.1.123.456"}, …]`."""

    tags: Sequence[str] | None = None
    """The order's `tags`; None when not known (then a refund cannot be judged by `exclude_tags`)."""

    @classmethod
    def from_order_doc(cls, doc: Mapping[str, Any]) -> OrderFacts:
        """The facts of a normalized order document (`orderdoc.py`)."""
        return cls(
            processed_at=doc.get("processedAt"),
            custom_attributes=tuple(doc.get("customAttributes") or ()),
            tags=tuple(doc["tags"]) if doc.get("tags") is not None else None,
        )

    def attribute(self, key: str) -> str | None:
        """The stripped value of the first custom attribute named `key`; None when absent or blank."""
        for attribute in self.custom_attributes:
            if attribute.get("key") == key and attribute.get("value") is not None:
                text = str(attribute["value"]).strip()
                if text:
                    return text
        return None


@dataclass(frozen=True)
class EventView:
    """Read-only accessors over one envelope; `of` checks the parts every payload relies on."""

    envelope: Envelope

    @classmethod
    def of(cls, envelope: Envelope) -> EventView:
        name = envelope.get("event_name")
        if name not in (PLACED_ORDER, RECEIVED_REFUND):
            raise PayloadError(f"event_name {name!r} is neither {PLACED_ORDER!r} nor {RECEIVED_REFUND!r}")
        if not isinstance(envelope.get("event_id"), str) or not envelope["event_id"]:
            raise PayloadError("event_id is missing or not a string")
        if not isinstance(envelope.get("timestamp"), str):
            raise PayloadError("timestamp is missing or not a string")
        if not isinstance(envelope.get("properties"), Mapping):
            raise PayloadError("properties is missing or not an object")
        view = cls(envelope)
        _ = view.at  # parsed now, so that a bad timestamp fails here, named
        return view

    @property
    def name(self) -> str:
        return str(self.envelope["event_name"])

    @property
    def event_id(self) -> str:
        return str(self.envelope["event_id"])

    @property
    def is_refund(self) -> bool:
        return self.name == RECEIVED_REFUND

    @cached_property
    def at(self) -> datetime:
        """The event's instant: `processedAt` for a Placed Order, the refund's time for a refund."""
        try:
            return parse_ts(self.envelope["timestamp"])
        except ValueError as exc:
            raise PayloadError(f"timestamp {self.envelope['timestamp']!r} is not ISO 8601") from exc

    @property
    def properties(self) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.envelope["properties"]
        return props

    @property
    def profile(self) -> Mapping[str, Any]:
        profile: Mapping[str, Any] = self.envelope.get("profile_properties") or {}
        return profile

    def text(self, key: str) -> str | None:
        """A property as text, None when absent, null or blank."""
        value = self.properties.get(key)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    def required_text(self, key: str) -> str:
        text = self.text(key)
        if text is None:
            raise PayloadError(f"{self.name} {self.event_id} has no {key!r} property")
        return text

    def money(self, key: str) -> Decimal | None:
        """A money property as `Decimal`, None when the event omits it."""
        value = self.properties.get(key)
        return None if value is None else amount(value, key)

    def required_money(self, key: str) -> Decimal:
        value = self.money(key)
        if value is None:
            raise PayloadError(f"{self.name} {self.event_id} has no {key!r} amount")
        return value

    @property
    def order_id(self) -> str:
        """The numeric order id: `id` of a Placed Order, `order_id` of a Received Refund."""
        return self.required_text("order_id" if self.is_refund else "id")

    @property
    def value(self) -> Decimal:
        """A purchase's `total_price`, a refund's `total_refunded` (the contract's `value`)."""
        return self.required_money("total_refunded" if self.is_refund else "total_price")

    @property
    def currency(self) -> str:
        return self.required_text("currency")

    def alias(self, kind: str) -> str | None:
        """The value of the first `urn:<kind>:…` alias."""
        prefix = f"urn:{kind}:"
        for alias in self.envelope.get("aliases") or []:
            if isinstance(alias, str) and alias.startswith(prefix) and len(alias) > len(prefix):
                return alias[len(prefix) :]
        return None

    @property
    def customer_id(self) -> str | None:
        # A Received Refund carries no customer_id property, but its aliases hold `urn:user_id:<id>`.
        return self.text("customer_id") or self.alias("user_id")

    @property
    def checkout_token(self) -> str | None:
        return self.text("checkout_token") or self.alias("checkout_token")

    @property
    def sales_channel_type(self) -> str | None:
        return self.text("$sales_channel_type")

    def product_items(self) -> list[Mapping[str, Any]]:
        """The event's items without custom line items (no product and no variant: nothing to identify)."""
        items = self.properties.get("items") or []
        return [item for item in items if item.get("product_id") is not None or item.get("variant_id") is not None]


def unix_seconds(instant: datetime) -> int:
    """Whole seconds since the epoch, in integer arithmetic (events have one-second resolution)."""
    return calendar.timegm(instant.utctimetuple())
